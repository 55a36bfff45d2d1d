export const BUDGETS: { tarball: number; bundleGzip: number };
export interface Sizes {
  tarball: number;
  unpacked: number;
  files: number;
  bundle: number;
  bundleGzip: number;
}
export function measure(): Promise<Sizes>;
export function report(sizes: Sizes): string[];
