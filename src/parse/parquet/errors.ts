/**
 * A malformed Parquet file, found while decoding: the caller adds file, column and row group
 * (see read/parquet/table.ts) to make it a DataError.
 */
export class ParquetFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParquetFormatError';
  }
}
