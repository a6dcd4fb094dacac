// Floor: read the files' bytes and throw them away (`cat files > /dev/null` in Node), one after
// the other, with the same 1 MiB reads losseval's CSV path uses. Prints the byte count.
import { openSync, readSync, closeSync } from 'node:fs';

const buf = Buffer.allocUnsafe(1 << 20);
let total = 0;
for (const p of process.argv.slice(2)) {
  const fd = openSync(p, 'r');
  for (;;) {
    const k = readSync(fd, buf, 0, buf.length, null);
    if (k === 0) break;
    total += k;
  }
  closeSync(fd);
}
console.log(total);
