// Reads an Arrow input with losseval's reader (dist/read/arrow.js) in a worker thread with a small
// heap (the test sets resourceLimits): hostile metadata must be refused without building large
// structures. Reports the error's name and message, or 'read' with the rows read. The typed arrays
// and ArrayBuffers the reader allocates are counted too (a heap limit does not cover their bytes).
import { parentPort, workerData } from 'node:worker_threads';

let allocated = 0;
for (const name of ['ArrayBuffer', 'Float64Array', 'Float32Array', 'Int32Array', 'Uint32Array', 'Int16Array', 'Uint16Array',
  'Int8Array', 'Uint8Array', 'BigInt64Array', 'BigUint64Array']) {
  const Orig = globalThis[name];
  globalThis[name] = new Proxy(Orig, {
    construct(target, args, newTarget) {
      const made = Reflect.construct(target, args, newTarget);
      allocated += made.byteLength;
      return made;
    },
  });
}

const { openArrow } = await import(workerData.arrowUrl);
const { bytes, path, chunkBytes, columns } = workerData;
const pieces = async function* () {
  for (let i = 0; i < bytes.length; i += chunkBytes) yield bytes.slice(i, i + chunkBytes);
};
let result;
try {
  const src = await openArrow(path !== null ? { path } : { stream: pieces(), name: '<stdin>' });
  await src.widths(columns);
  let rows = 0;
  for await (const slices of src.chunks(columns, 1000)) rows += slices[0].rows;
  result = { name: 'read', message: `${rows} rows` };
} catch (e) {
  result = { name: e?.name ?? 'unknown', message: String(e?.message ?? e) };
}
parentPort.postMessage({ ...result, allocated });
