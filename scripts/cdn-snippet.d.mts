export interface PinnedFile {
  url: string;
  integrity: string;
}
export function cdnSnippet(): Promise<{ url: string; integrity: string; chunks: PinnedFile[]; html: string }>;
export function readmeSnippet(
  readme: string,
): { url: string | null; integrity: string | null; chunks: PinnedFile[] } | null;
export function withSnippet(readme: string, snippet: { html: string }): string | null;
export function snippetProblems(
  readme: string,
  snippet: { url: string; integrity: string; chunks: PinnedFile[] },
): string[];
