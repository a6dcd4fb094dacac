/**
 * apache-arrow's reader, loaded from the package's single-file bundle (Arrow.esnext.min.js):
 * ~15 ms instead of ~90 ms for resolving and compiling the ~200 ES modules of its Node entry
 * (measured here; it was most of the start-up of an Arrow run). The same library and version;
 * the Node entry only adds Node stream adapters, which the reader does not use. Types still come
 * from 'apache-arrow' (`import type`, erased at build time).
 *
 * Reading only: the bundle's minifier renames non-public members, so subclassing (as the Arrow
 * output writer does, src/write/arrow.ts) needs the package's regular entry.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const arrow = require(join(dirname(require.resolve('apache-arrow')), 'Arrow.esnext.min.js')) as typeof import('apache-arrow');

export const { RecordBatchReader, DataType, Type } = arrow;
