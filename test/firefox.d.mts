/** Preferences on top of puppeteer's own Firefox profile, for a closed network. */
export declare const FIREFOX_PREFS: Record<string, string | number | boolean>;
/** FIREFOX_PATH, else Debian's firefox-esr (or firefox); throws with what to install when there is none. */
export declare function firefoxPath(): string;
