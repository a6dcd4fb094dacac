/**
 * Test-only preload that simulates a full disk, with no mount and nothing in src/:
 *
 *   LOSSEVAL_ENOSPC_AFTER=4096 node --import ./test/helpers/enospc.mjs bin/losseval.js …
 *
 * Writes to files (not to standard input, output or error) fail with ENOSPC once
 * LOSSEVAL_ENOSPC_AFTER bytes have been written in all; a write that would cross the limit
 * writes nothing. Patches what losseval's output paths use: fs.write / fs.writev (write
 * streams) and FileHandle write / writev (the Arrow writer, fs.promises.writeFile).
 */
import fs from 'node:fs';

const limit = Number(process.env.LOSSEVAL_ENOSPC_AFTER ?? Infinity);
let written = 0;

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
const size = (data) => (Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
/** Whether this write, to `fd`, is refused (and, if not, count it). */
const full = (fd, data) => {
  if (fd <= 2) return false;
  const n = size(data);
  if (written + n > limit) return true;
  written += n;
  return false;
};

for (const name of ['write', 'writev']) {
  const orig = fs[name];
  fs[name] = function (fd, data, ...rest) {
    if (full(fd, data)) {
      const cb = rest[rest.length - 1];
      process.nextTick(cb, enospc());
      return;
    }
    return orig.call(this, fd, data, ...rest);
  };
}

const probe = await fs.promises.open(process.execPath, 'r');
const FileHandle = Object.getPrototypeOf(probe);
await probe.close();
for (const name of ['write', 'writev']) {
  const orig = FileHandle[name];
  FileHandle[name] = function (data, ...rest) {
    if (full(this.fd, data)) return Promise.reject(enospc());
    return orig.call(this, data, ...rest);
  };
}
