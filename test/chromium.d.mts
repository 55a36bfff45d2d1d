/** Flags for headless Chromium as root on a closed network. */
export declare const CHROMIUM_ARGS: string[];
/** CHROME_PATH, else Debian's chromium; throws with what to install when there is none. */
export declare function chromiumPath(): string;
