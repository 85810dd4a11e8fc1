export declare const ROOT: string;
export declare const STAMP: string;
export declare function sourceHash(): string;
