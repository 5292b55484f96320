// Types of build-client.mjs, for the tests that build the bundles into a temporary directory.

/** The bundle file names, by format. */
export declare const BUNDLE_FILES: { esm: string; iife: string };

/** Minified and gzipped byte counts of a file. */
export interface BundleSize {
  minified: number;
  gzipped: number;
}

/** One built bundle. */
export interface BuiltBundle extends BundleSize {
  format: "esm" | "iife";
  file: string;
}

/** Options of buildClientBundles(). */
export interface BuildClientOptions {
  /** Entry module (default src/client/index.ts). */
  entry?: string;
  /** Output directory (default dist/client). */
  outdir?: string;
  /** Where the size lines go (default console.log). */
  log?: (line: string) => void;
}

/** Builds the ESM and IIFE bundles; rejects with esbuild's errors in the message. */
export declare function buildClientBundles(options?: BuildClientOptions): Promise<BuiltBundle[]>;

/** Minified and gzipped sizes of `file`. */
export declare function measure(file: string): BundleSize;

/** The printed size line. */
export declare function sizeLine(label: string, size: BundleSize): string;
