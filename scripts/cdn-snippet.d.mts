export function cdnSnippet(): Promise<{ url: string; integrity: string; html: string }>;
export function readmeSnippet(readme: string): { url: string | null; integrity: string | null } | null;
export function withSnippet(readme: string, snippet: { html: string }): string | null;
export function snippetProblems(readme: string, snippet: { url: string; integrity: string }): string[];
