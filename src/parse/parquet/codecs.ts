/**
 * Page decompression for Parquet (worker-safe: no file access). Every codec is given the
 * page's claimed uncompressed size, which the caller has already capped (see MAX_PAGE_BYTES),
 * and must produce exactly that many bytes: a page whose data does not is corrupt.
 *
 * gzip and brotli: node:zlib with `maxOutputLength` (no decompression bomb); snappy: hysnappy
 * (WASM) after checking the length in its preamble; zstd: fzstd into a buffer of the claimed
 * size; LZ4 (Hadoop framing or raw) and LZ4_RAW: hyparquet-compressors.
 */
import { gunzipSync, brotliDecompressSync, inflateSync } from 'node:zlib';
import { snappyUncompressor } from 'hysnappy';
import { decompress as zstdDecompress } from 'fzstd';
import { decompressLz4, decompressLz4Raw } from 'hyparquet-compressors/src/lz4.js';
import { ParquetFormatError } from './errors.js';
import { POW2, POW2_BIAS } from '../../math/bits.js';

export const SUPPORTED_CODECS: ReadonlySet<string> = new Set([
  'UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD', 'LZ4', 'LZ4_RAW',
]);

let snappy: ((input: Uint8Array, outputLength: number) => Uint8Array) | null = null;

/** The uncompressed length in a snappy block's varint preamble, or -1. */
function snappyLength(input: Uint8Array): number {
  let result = 0;
  for (let i = 0, shift = 0; i < 5 && i < input.length; i++, shift += 7) {
    const b = input[i]!;
    result += (b & 0x7f) * POW2[shift + POW2_BIAS]!;
    if (b < 0x80) return result;
  }
  return -1;
}

export function decompress(codec: string, input: Uint8Array, size: number): Uint8Array {
  let out: Uint8Array;
  switch (codec) {
    case 'UNCOMPRESSED':
      if (input.length !== size) throw new ParquetFormatError(`uncompressed page of ${input.length} bytes, its header says ${size}`);
      return input;
    case 'SNAPPY': {
      const n = snappyLength(input);
      if (n !== size) throw new ParquetFormatError(`snappy data holds ${n < 0 ? 'no valid length' : `${n} bytes`}, the page header says ${size}`);
      if (size === 0) return new Uint8Array(0);
      snappy ??= snappyUncompressor();
      out = wrap('snappy', () => snappy!(input, size));
      break;
    }
    case 'GZIP':
      // a zlib stream instead of gzip is accepted as well (some writers did that)
      out = wrap('gzip', () => (input[0] === 0x1f && input[1] === 0x8b
        ? gunzipSync(input, { maxOutputLength: Math.max(1, size) })
        : inflateSync(input, { maxOutputLength: Math.max(1, size) })));
      break;
    case 'BROTLI':
      out = wrap('brotli', () => brotliDecompressSync(input, { maxOutputLength: Math.max(1, size) }));
      break;
    case 'ZSTD': {
      const buf = new Uint8Array(size);
      out = wrap('zstd', () => zstdDecompress(input, buf));
      break;
    }
    case 'LZ4':
      out = wrap('lz4', () => decompressLz4(input, size));
      break;
    case 'LZ4_RAW':
      out = wrap('lz4', () => decompressLz4Raw(input, size));
      break;
    default:
      throw new ParquetFormatError(`compression codec ${codec} is not supported`);
  }
  if (out.length !== size) throw new ParquetFormatError(`page decompresses to ${out.length} bytes, the page header says ${size}`);
  return out;
}

function wrap(codec: string, f: () => Uint8Array): Uint8Array {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParquetFormatError) throw e;
    const msg = (e as Error).message ?? String(e);
    if (/maxOutputLength|Cannot create a Buffer larger/i.test(msg)) {
      throw new ParquetFormatError(`${codec} data decompresses to more than the page header's size`);
    }
    throw new ParquetFormatError(`corrupt ${codec} data (${msg})`);
  }
}
