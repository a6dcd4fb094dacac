/**
 * Reduction 'none' output as an Arrow IPC file: Float64 columns, one record batch per write.
 * Streams to disk: each write's bytes go to the file before `write()` resolves, so the caller
 * may reuse its arrays afterwards and memory does not grow with the output.
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

export async function createArrowFileWriter(path: string, columnNames: string[]): Promise<ArrowRowWriter> {
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

  return {
    async write(columns: Float64Array[], rows: number): Promise<void> {
      if (closed) throw new Error('ArrowRowWriter is closed');
      if (columns.length !== fields.length) throw new RangeError(`expected ${fields.length} columns, got ${columns.length}`);
      const children: Data[] = columns.map((c, i) => {
        if (c.length < rows) throw new RangeError(`column ${columnNames[i]} has ${c.length} values for ${rows} rows`);
        return makeData({ type: new Float64(), length: rows, nullCount: 0, data: c.subarray(0, rows) });
      });
      const data = makeData({ type: new Struct(fields), length: rows, nullCount: 0, children });
      writer.write(new RecordBatch(schema, data));
      await flush();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        writer.close(); // footer
        await flush();
      } finally {
        await fh.close();
      }
    },
  };
}
