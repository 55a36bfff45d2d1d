/** WEBKIT_MINIBROWSER, else Debian's MiniBrowser; throws with what to install. */
export declare function miniBrowserPath(): string;
/** WEBKIT_WEBDRIVER, else /usr/bin/WebKitWebDriver; throws with what to install. */
export declare function webKitDriverPath(): string;
/** W3C capabilities that make WebKitWebDriver start MiniBrowser in automation mode. */
export declare function webKitCapabilities(): Record<string, unknown>;
export interface StartedProcess {
  pid: number;
  stop(): Promise<void>;
}
/** An Xvfb display of its own (the display number Xvfb picked). */
export declare function startXvfb(): Promise<StartedProcess & { display: string }>;
/** WebKitWebDriver on 127.0.0.1 at a port picked at run time, its browsers shown on `display`. */
export declare function startWebKitDriver(display: string): Promise<StartedProcess & { port: number }>;
/** Xvfb plus WebKitWebDriver, stopped together. */
export declare function startWebKitStack(): Promise<{ display: string; port: number; stop(): Promise<void> }>;
