// Types for import-boundaries.js, so TypeScript files (its tests) can import it without allowJs.
import type { ESLint, Rule } from 'eslint';

export declare const DEFAULT_ROOT: string;
export declare const ANYTHING: '*';
export declare const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[] | '*'>>;
export declare const ELECTRON_ALLOWED: readonly string[];
export declare const BROWSER_FOLDERS: Readonly<Record<string, string>>;
export declare const NODE_ONLY_PACKAGES: readonly string[];
export declare const ASSET_FOLDERS: readonly string[];

export type Location =
  | { kind: 'folder'; folder: string; segments: string[] }
  | { kind: 'root'; segments: string[] }
  | { kind: 'outside' };

export interface CheckOptions {
  root?: string;
  allowed?: Readonly<Record<string, readonly string[] | '*'>>;
  assetFolders?: readonly string[];
  nodeOnlyPackages?: readonly string[];
}

export interface Problem {
  messageId: 'forbiddenEdge' | 'unknownFolder' | 'outsideRepo' | 'assetCode' | 'electron' | 'nodeBuiltin' | 'nodeOnlyPackage';
  data: Record<string, string>;
}

export declare function isNodeBuiltin(specifier: string): boolean;
export declare function packageName(specifier: string): string;
export declare function locate(absPath: string, root: string): Location;
export declare function checkImport(filename: string, specifier: string, options?: CheckOptions): Problem | null;

export declare const importBoundaries: Rule.RuleModule;
declare const plugin: ESLint.Plugin & { rules: { 'import-boundaries': Rule.RuleModule } };
export default plugin;
