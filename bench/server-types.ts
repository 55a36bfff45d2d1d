// The IPC messages of bench/server-child.mjs (plain JavaScript, so that it runs without a TypeScript loader).

export type ServerKind = 'ref' | 'count' | 'disk' | 'http' | 'tus';

export interface ChildReady {
  type: 'ready';
  origin: string;
  /** Where the contender sends: a ws:// URL or an http:// endpoint. */
  endpoint: string;
}

export interface ChildReport {
  type: 'report';
  cpuSeconds: number;
  /** The kernel's part of cpuSeconds (system time: syscalls, copies, the page cache). */
  systemSeconds: number;
  /** Peak resident set size of this process over its life, in bytes (kernel high-water mark, VmHWM). */
  maxRss: number;
}
