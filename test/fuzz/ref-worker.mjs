// Runs the reference (transpiled test/helpers/reference.ts) in a worker thread with a small heap,
// so that hostile Arrow metadata that makes apache-arrow build millions of objects cannot take the
// fuzz driver down: the parent treats an out-of-memory worker or a timeout as "invalid input".
import { parentPort, workerData } from 'node:worker_threads';
const { reference, ReferenceBug } = await import(workerData.url);
parentPort.on('message', ({ id, c }) => {
  try {
    for (const inp of c.inputs) inp.bytes = new Uint8Array(inp.bytes.buffer, inp.bytes.byteOffset, inp.bytes.byteLength);
    parentPort.postMessage({ id, result: reference(c) });
  } catch (e) {
    parentPort.postMessage({ id, bug: e instanceof ReferenceBug || !(e instanceof Error) ? String(e?.message ?? e) : (e.stack ?? String(e)) });
  }
});
parentPort.postMessage({ ready: true });
