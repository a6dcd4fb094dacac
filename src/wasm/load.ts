/**
 * Loading the project's WebAssembly modules (built by `npm run build` from asm/*.ts into dist/).
 * A module that is missing or does not instantiate gives null: every user keeps a JS path.
 */
import { readFileSync } from 'node:fs';

/** The part of the WebAssembly API used here (the project's TypeScript lib has no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** wasm-feature-detect's SIMD probe: () -> v128 { i8x16.popcnt(i8x16.splat(0)) } */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Is WebAssembly SIMD available in this runtime? */
export function wasmSimdSupported(): boolean {
  try {
    return WA !== undefined && WA.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * Instantiate dist/`file` (e.g. 'parse/scan.wasm'): found next to this compiled module in dist/,
 * or, run from the sources (tests), in the built dist/. Null when WebAssembly (or SIMD, when
 * `simd`) is missing, the file is not built, or it does not instantiate.
 */
export function loadWasm<T>(file: string, simd: boolean): T | null {
  if (WA === undefined || (simd && !wasmSimdSupported())) return null;
  for (const rel of [`../${file}`, `../../dist/${file}`]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(new URL(rel, import.meta.url));
    } catch {
      continue;
    }
    try {
      return new WA.Instance(new WA.Module(bytes), {}).exports as T;
    } catch {
      return null;
    }
  }
  return null;
}
