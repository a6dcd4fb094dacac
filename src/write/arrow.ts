/**
 * Reduction 'none' output as an Arrow IPC file: Float64 columns in record batches of a fixed
 * BATCH_ROWS rows, so the file is byte-identical for any chunking. Streams to disk: each full
 * batch goes to the file before `write()` resolves, the caller may reuse its arrays afterwards,
 * and memory does not grow with the output (one batch of buffered rows).
 */
import { promises as fsp } from 'node:fs';
import {
  RecordBatchFileWriter,
  RecordBatch,
  Schema,
  Field,
  Float64,
  Struct,
  makeData,
  type Data,
} from 'apache-arrow';

export interface ArrowRowWriter {
  write(columns: Float64Array[], rows: number): Promise<void>;
  close(): Promise<void>;
}

/** arrow-js's file writer, with its byte output collected for us instead of queued in memory. */
class CollectingFileWriter extends RecordBatchFileWriter {
  out: Uint8Array[] = [];
  protected override _write(chunk: unknown): this {
    if (this._started && ArrayBuffer.isView(chunk) && chunk.byteLength > 0) {
      this.out.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this._position += chunk.byteLength;
    }
    return this;
  }
}

/** Rows per record batch of the output. */
export const BATCH_ROWS = 65536;

export async function createArrowFileWriter(path: string, columnNames: string[], batchRows = BATCH_ROWS): Promise<ArrowRowWriter> {
  const fields = columnNames.map((n) => new Field(n, new Float64(), true));
  const schema = new Schema(fields);
  const fh = await fsp.open(path, 'w');
  const writer = new CollectingFileWriter();
  writer.reset(undefined, schema); // writes the magic now, so an empty output is still a valid file
  let closed = false;

  const flush = async () => {
    const bufs = writer.out;
    writer.out = [];
    if (bufs.length > 0) await fh.writev(bufs);
  };

  // Record batches hold batchRows rows each (the last fewer), whatever the writes' sizes:
  // the file's bytes depend on the rows only, never on the run's chunking or worker count.
  const pending = columnNames.map(() => new Float64Array(batchRows));
  let filled = 0;
  const writeBatch = async (rows: number): Promise<void> => {
    const children: Data[] = pending.map((c) => makeData({ type: new Float64(), length: rows, nullCount: 0, data: c.subarray(0, rows) }));
    const data = makeData({ type: new Struct(fields), length: rows, nullCount: 0, children });
    writer.write(new RecordBatch(schema, data));
    await flush();
    filled = 0;
  };

  return {
    async write(columns: Float64Array[], rows: number): Promise<void> {
      if (closed) throw new Error('ArrowRowWriter is closed');
      if (columns.length !== fields.length) throw new RangeError(`expected ${fields.length} columns, got ${columns.length}`);
      columns.forEach((c, i) => {
        if (c.length < rows) throw new RangeError(`column ${columnNames[i]} has ${c.length} values for ${rows} rows`);
      });
      let at = 0;
      while (at < rows) {
        const n = Math.min(rows - at, batchRows - filled);
        columns.forEach((c, i) => pending[i]!.set(c.subarray(at, at + n), filled));
        filled += n;
        at += n;
        if (filled === batchRows) await writeBatch(batchRows);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        if (filled > 0) await writeBatch(filled);
        writer.close(); // footer
        await flush();
      } finally {
        await fh.close();
      }
    },
  };
}
