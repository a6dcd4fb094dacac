/**
 * Test-only fault injection into the worker pool, with nothing in src/:
 *
 *   LOSSEVAL_FAULT=throw:3 node --import ./test/helpers/fault-hooks.mjs bin/losseval.js …
 *
 * registers a module resolve hook (fault-loader.mjs) that hands piscina's workers
 * test/helpers/fault-worker.mjs instead of dist/pool/worker.js. piscina's worker threads inherit
 * the process's execArgv, so this preload runs, and the hook applies, in every worker too.
 * LOSSEVAL_FAULT is a comma-separated list (see fault-worker.mjs).
 */
import { register } from 'node:module';

register('./fault-loader.mjs', import.meta.url);
