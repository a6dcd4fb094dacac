/**
 * Reduction 'none' output as a Parquet file (hyparquet-writer): REQUIRED DOUBLE columns,
 * PLAIN pages, snappy. Rows are gathered into row groups of ROW_GROUP_ROWS and each row group
 * goes to disk when it is full, so memory does not grow with the output.
 */
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { ArrowRowWriter } from './arrow.js';

const ROW_GROUP_ROWS = 1 << 17;

export async function createParquetFileWriter(path: string, columnNames: string[]): Promise<ArrowRowWriter> {
  const schema = [
    { name: 'schema', num_children: columnNames.length },
    ...columnNames.map((name) => ({ name, type: 'DOUBLE' as const, repetition_type: 'REQUIRED' as const })),
  ];
  const writer = new ParquetWriter({ writer: fileWriter(path), schema, codec: 'SNAPPY', statistics: false, createdBy: 'losseval' });
  let buf = columnNames.map(() => new Float64Array(ROW_GROUP_ROWS));
  let have = 0;
  let closed = false;
  const flush = async (): Promise<void> => {
    if (have === 0) return;
    const columnData = columnNames.map((name, i) => ({
      name, data: buf[i]!.subarray(0, have), type: 'DOUBLE' as const, nullable: false, encoding: 'PLAIN' as const, offsetIndex: false,
    }));
    await writer.write({ columnData, rowGroupSize: have });
    have = 0;
  };
  return {
    async write(columns: Float64Array[], rows: number): Promise<void> {
      if (closed) throw new Error('Parquet row writer is closed');
      if (columns.length !== columnNames.length) throw new RangeError(`expected ${columnNames.length} columns, got ${columns.length}`);
      let at = 0;
      while (at < rows) {
        const take = Math.min(rows - at, ROW_GROUP_ROWS - have);
        columns.forEach((c, i) => buf[i]!.set(c.subarray(at, at + take), have));
        have += take;
        at += take;
        if (have === ROW_GROUP_ROWS) await flush();
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await flush();
      buf = [];
      await writer.finish();
    },
  };
}
