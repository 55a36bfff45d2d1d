export function textPerSource(
  code: string,
  map: { mappings: string; sources: string[] },
): Map<string, string>;
export function breakdown(
  bundlePath: string,
): Promise<{ module: string; bytes: number; gzipAlone: number }[]>;
