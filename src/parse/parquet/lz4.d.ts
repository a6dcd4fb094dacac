// hyparquet-compressors ships types for its index only; its LZ4 module is imported alone so that
// loading the codecs does not load its brotli and gzip decoders (their tables cost start-up)
declare module 'hyparquet-compressors/src/lz4.js' {
  export function decompressLz4(input: Uint8Array, outputLength: number): Uint8Array;
  export function decompressLz4Raw(input: Uint8Array, outputLength: number): Uint8Array;
}
