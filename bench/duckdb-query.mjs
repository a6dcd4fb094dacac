// Run one DuckDB query in a fresh in-memory database (threads = available cores) and print
// {"value": first cell, "queryMs": time of the query alone} as JSON.
// Usage: node bench/duckdb-query.mjs "SELECT ..."
import { availableParallelism } from 'node:os';

const { DuckDBInstance } = await import('@duckdb/node-api');
const inst = await DuckDBInstance.create(':memory:', { threads: String(availableParallelism()) });
const con = await inst.connect();
const t0 = performance.now();
const r = await con.runAndReadAll(process.argv[2]);
const queryMs = performance.now() - t0;
const v = r.getRows()[0][0];
console.log(JSON.stringify({ value: typeof v === 'bigint' ? Number(v) : Number(v), queryMs }));
