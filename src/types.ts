/**
 * The run's own data types, below every stage: what a reduction and a NaN policy
 * are, and the raw input data of one chunk as the readers cut it and the
 * workers parse it. Plain, structured-clone-safe data; no imports.
 */

/** PyTorch's reductions; `batchmean` is kl_div's sum / rows. */
export type Reduction = 'mean' | 'sum' | 'none' | 'batchmean';
export type NanPolicy = 'propagate' | 'omit' | 'raise';

/** Raw CSV rows of one input file for one chunk: parsed in the worker. */
export interface CsvPart {
  readonly kind: 'csv';
  readonly bytes: Uint8Array;
  readonly delimiter: number;
  readonly fieldCount: number;
  /**
   * 1-based physical line of the chunk's first row; null when not known yet (CSV cut by bytes):
   * lines in errors are then relative (1 = the chunk's first line, TaskError.relativeLine) and
   * the caller, which knows the earlier chunks' line counts, makes them absolute.
   */
  readonly firstLine: number | null;
  /** Field indices to parse, in the order of the part's value positions. */
  readonly fields: readonly number[];
  /** --group-by: field indices whose text is a group key (see parse/csv.ts, keySpans). */
  readonly keyFields?: readonly number[];
  /** Hand `bytes.buffer` back with the result, for reuse (cut by size: see read/spare.ts). */
  readonly recycle?: true;
}

/** Raw Arrow column data of one input file for one chunk: converted in the worker. */
export interface ArrowPart {
  readonly kind: 'arrow';
  readonly slices: readonly ColumnSlice[];
  /** --group-by: the key columns' data for the same rows. */
  readonly keys?: readonly KeySlice[];
  /** Hand the slices' value buffers back with the result, for reuse (read straight from the file: see read/spare.ts). */
  readonly recycle?: true;
}

/**
 * One group-key column for a run of rows, as raw data (transferable); the worker makes each
 * row's key from it (pool/groups.ts). Text is the column's UTF-8 bytes, as stored.
 */
export type KeySlice =
  | {
      readonly kind: 'text';
      readonly rows: number;
      /** rows + 1 offsets into `data`, from 0 */
      readonly offsets: Int32Array;
      readonly data: Uint8Array;
      /** bit i = row i valid (LSB first), or null when no nulls */
      readonly validity: Uint8Array | null;
    }
  | {
      readonly kind: 'int';
      readonly rows: number;
      readonly values: Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;
      readonly validity: Uint8Array | null;
    }
  | {
      readonly kind: 'bool';
      readonly rows: number;
      /** bit i = row i's value */
      readonly bits: Uint8Array;
      readonly validity: Uint8Array | null;
    };

/** How one Parquet leaf column's physical values become numbers (read/parquet/schema.ts makes it). */
export interface LeafDesc {
  /** Parquet physical type: BOOLEAN, INT32, INT64, FLOAT, DOUBLE, FIXED_LEN_BYTE_ARRAY, BYTE_ARRAY. */
  readonly physical: string;
  /** FIXED_LEN_BYTE_ARRAY width in bytes (else 0). */
  readonly typeLength: number;
  /** Kind of the decoded typed array (DECIMAL: f64, BOOLEAN: u8, FLOAT16: f16). */
  readonly kind: NumericKind;
  /** DECIMAL: value = unscaled / 10^scale, rounded once to float64; null otherwise. */
  readonly decimalScale: number | null;
  readonly maxDef: number;
  /** 0 (one value per row) or 1 (a list per row). */
  readonly maxRep: number;
  /** Lists: the definition level of the repeated node (a slot exists at ≥ this level). */
  readonly repDef: number;
  /** A --group-by text key (BYTE_ARRAY): values decode to byte strings, not numbers (`kind` is then i32, their indices). */
  readonly text?: true;
}

/** One selected Parquet column of a ParquetPart. */
export interface ParquetColumnPart {
  readonly desc: LeafDesc;
  /** For messages. */
  readonly column: string;
  readonly isList: boolean;
  /** Values per row (lists: the length of the first non-null row, at 1-based row `widthRow`). */
  readonly width: number;
  readonly widthRow: number;
}

/** Where one column's rows of one ParquetPiece are: absolute byte ranges in the file. */
export interface ParquetPieceColumn {
  readonly codec: string;
  /** The column chunk's dictionary page, [start, length], or null. */
  readonly dict: readonly [number, number] | null;
  /** The data pages to decode, [start, length]: from the page holding the piece's first row. */
  readonly data: readonly [number, number];
  /** Rows to skip at the start of `data`. */
  readonly skip: number;
  /** `data` reaches the column chunk's end and the piece its row group's: check nothing is left. */
  readonly last: boolean;
  /** `data` is the whole column chunk: also check its value count (else null). */
  readonly numValues: number | null;
}

/** Rows of one row group within a ParquetPart. */
export interface ParquetPiece {
  /** 0-based, for messages. */
  readonly rowGroup: number;
  readonly rowGroupRows: number;
  readonly rows: number;
  readonly columns: readonly ParquetPieceColumn[];
  /** --group-by: where the part's key columns' rows are, parallel to ParquetPart.keys. */
  readonly keyColumns?: readonly ParquetPieceColumn[];
}

/**
 * Rows of one Parquet input for one chunk, as byte ranges: read and decoded in the worker. The
 * descriptor is the main thread's (worker threads share the process's descriptors; it stays open
 * until every chunk has run).
 */
export interface ParquetPart {
  readonly kind: 'parquet';
  readonly fd: number;
  /** For messages: the file name and its number of row groups. */
  readonly file: string;
  readonly rowGroups: number;
  /** 1-based row number in the file of the chunk's first row. */
  readonly firstRow: number;
  readonly rows: number;
  readonly columns: readonly ParquetColumnPart[];
  readonly pieces: readonly ParquetPiece[];
  /** --group-by: the key columns, decoded to KeySlices in this order (see ParquetKeyPart). */
  readonly keys?: readonly ParquetKeyPart[];
}

/** One --group-by key column of a ParquetPart: flat (never a list). */
export interface ParquetKeyPart {
  readonly desc: LeafDesc;
  readonly column: string;
  readonly keyKind: 'text' | 'int' | 'bool';
}

export type InputPart = CsvPart | ArrowPart | ParquetPart;


export type NumericKind = 'f16' | 'f32' | 'f64' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'u64';

/** Raw data of one column for a contiguous run of rows; transferable. */
export interface ColumnSlice {
  kind: NumericKind;
  rows: number;
  /** Values per row: 1 for a plain column, the list size for FixedSizeList, the uniform length for List. */
  width: number;
  /**
   * Typed array of the column's (child) values for exactly these rows, own buffer, offset 0.
   * Plain and FixedSizeList: rows*width elements. List: the child values of these rows as stored
   * (a null row may hold any number of values, usually 0), placed by `listOffsets`.
   */
  values: ArrayBufferView;
  /** Row-level validity bitmap (bit i = row i, LSB first), own buffer, or null when no nulls. */
  validity: Uint8Array | null;
  /** Value-level validity for list children (bit j = values[j]), or null. */
  childValidity: Uint8Array | null;
  /** 1-based row number in the file of row 0 (for messages). */
  firstRow: number;
  /**
   * List columns only (else null): the raw Arrow offsets of the record-batch pieces this slice was
   * cut from, concatenated: piece p contributes listPieces[p] + 1 offsets (not rebased). The worker
   * checks every non-null row's length against `width`.
   */
  listOffsets: Int32Array | null;
  /** List columns only: rows per piece (sums to `rows`). */
  listPieces: Int32Array | null;
  /** List columns only: the 1-based row whose length fixed `width` (for messages); else 0. */
  widthRow: number;
  /** For messages: the file name and the column name. */
  file: string;
  column: string;
  /** The values are big-endian (a `.npy` written so): the worker decodes them so. Else little-endian, as Arrow's. */
  bigEndian?: true;
}

