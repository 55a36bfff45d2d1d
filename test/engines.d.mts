export declare const ENGINES: ('chromium' | 'firefox' | 'webkit')[];
/** The engines asked for by BROWSERS (comma or space separated), else all; throws on an unknown name. */
export declare function selectedEngines(value?: string): ('chromium' | 'firefox' | 'webkit')[];
