/**
 * The pages of one column chunk, found by reading their headers only (main thread): where each
 * data page starts and, when its header tells, its first row. A chunk's rows can then be read
 * from the page holding a given row on, instead of from the chunk's start.
 */
import { parquetHeader } from 'hyparquet/src/column.js';
import { ParquetFormatError } from '../../parse/parquet/errors.js';
import type { RandomAccess } from './file.js';
import type { ChunkRange } from './footer.js';

export interface PageStart {
  /** Absolute offset of the page header. */
  readonly start: number;
  /** 0-based row of the row group at which the page starts (null: unknown, lists on v1 pages). */
  readonly firstRow: number | null;
}

export interface ChunkPages {
  /** The dictionary page, [start, length], or null. */
  readonly dict: readonly [number, number] | null;
  readonly pages: readonly PageStart[];
}

const HEADER_TRY = 1 << 12;
const HEADER_MAX = 16 << 20;

export function scanPages(file: RandomAccess, range: ChunkRange, isList: boolean): ChunkPages {
  const end = range.start + range.length;
  let pos = range.start;
  let dict: [number, number] | null = null;
  const pages: PageStart[] = [];
  let row: number | null = 0;
  while (pos < end) {
    let n = Math.min(end - pos, HEADER_TRY);
    let h: ReturnType<typeof parquetHeader>;
    let hdrLen: number;
    for (;;) {
      const b = file.read(pos, n);
      const reader = { view: new DataView(b.buffer, b.byteOffset, b.byteLength), offset: 0 };
      try {
        h = parquetHeader(reader);
        hdrLen = reader.offset;
        break;
      } catch (e) {
        if (n < end - pos && n < HEADER_MAX) {
          n = Math.min(end - pos, HEADER_MAX, n * 16);
          continue;
        }
        throw new ParquetFormatError(`corrupt page header at byte ${pos - range.start} of the column chunk (${(e as Error).message})`);
      }
    }
    const csize = h.compressed_page_size;
    if (!Number.isSafeInteger(csize) || csize < 0 || pos + hdrLen + csize > end) {
      throw new ParquetFormatError(`page of ${csize} bytes at byte ${pos - range.start} runs past the column chunk (${range.length} bytes)`);
    }
    if (h.type === 'DICTIONARY_PAGE') {
      if (dict === null && pages.length === 0) dict = [pos, hdrLen + csize];
    } else if (h.type === 'DATA_PAGE' || h.type === 'DATA_PAGE_V2') {
      pages.push({ start: pos, firstRow: row });
      const count = h.type === 'DATA_PAGE'
        ? (isList ? null : h.data_page_header?.num_values)
        : (isList ? h.data_page_header_v2?.num_rows : h.data_page_header_v2?.num_values);
      row = row !== null && typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? row + count : null;
    }
    pos += hdrLen + csize;
  }
  return { dict, pages };
}
