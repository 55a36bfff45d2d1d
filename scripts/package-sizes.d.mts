export const BUDGETS: { tarball: number; bundleGzip: number; bundleTotalGzip: number };
export interface BundleFile {
  file: string;
  bytes: number;
  gzip: number;
}
export interface Sizes {
  tarball: number;
  unpacked: number;
  files: number;
  bundle: number;
  bundleGzip: number;
  bundleTotalGzip: number;
  chunks: BundleFile[];
}
export function bundleFiles(dir?: string): Promise<BundleFile[]>;
export function measure(): Promise<Sizes>;
export function report(sizes: Sizes): string[];
