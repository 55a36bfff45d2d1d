export function cdnSnippet(): Promise<{ url: string; integrity: string; html: string }>;
export function readmeSnippet(readme: string): { url: string | null; integrity: string | null } | null;
