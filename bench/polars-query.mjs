// Run one Polars (nodejs-polars) query and print {"value": mean |pred - target|, "queryMs": time of
// the query alone (reading the CSV included, loading the binding not)} as JSON.
// Usage: node bench/polars-query.mjs csv1 FILE            (one CSV with columns pred,target)
//        node bench/polars-query.mjs csv2 PREDS TARGETS   (two CSV files paired by position)
// Optional like DuckDB: npm i --no-save -E nodejs-polars@0.25.2 nodejs-polars-linux-x64-gnu@0.25.2
// (the native part is not pulled in by itself; newer releases break `npm ci`).
const { default: pl } = await import('nodejs-polars');
const [mode, a, b] = process.argv.slice(2);
const t0 = performance.now();
let df;
const expr = pl.col('pred').sub(pl.col('target')).abs().mean().alias('v');
if (mode === 'csv1') {
  df = pl.scanCSV(a).select(expr).collect();
} else if (mode === 'csv2') {
  // horizontal concat of the two files (positional pairing), then the same expression
  const both = pl.concat([pl.scanCSV(a), pl.scanCSV(b)], { how: 'horizontal' });
  df = both.select(expr).collect();
} else {
  throw new Error(`unknown mode ${mode}`);
}
if (df instanceof Promise) df = await df;
const queryMs = performance.now() - t0;
console.log(JSON.stringify({ value: Number(df.getColumn('v').get(0)), queryMs }));
