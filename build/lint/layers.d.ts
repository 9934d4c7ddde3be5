/** Types of build/lint/layers.js (plain JS so eslint.config.js loads it without a TypeScript loader). */
export declare const LAYERS: readonly { from: string; may: readonly string[] }[];
export declare function layerOf(file: string): { from: string; may: readonly string[] } | undefined;
export declare function layerViolation(file: string, target: string, typeOnly: boolean): string | undefined;
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
