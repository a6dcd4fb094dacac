/** The printed result of a mean/sum run: one value, `name<TAB>value` lines, or --json. */
import type { RunConfig } from '../config.js';
import { lossDef } from '../losses/registry.js';
import { lossValue, type RunSummary } from '../run.js';
import { formatNumber, jsonNumber } from './format.js';

export function formatResult(config: RunConfig, s: RunSummary): string {
  const reduction = config.reduction === 'none' ? 'mean' : config.reduction;
  if (config.json) return JSON.stringify(resultJson(config, s)) + '\n';
  if (s.losses.length === 1) return formatNumber(lossValue(s.losses[0]!, reduction)) + '\n';
  return s.losses.map((l) => `${l.spec.name}\t${formatNumber(lossValue(l, reduction))}\n`).join('');
}

export function resultJson(config: RunConfig, s: RunSummary): Record<string, unknown> {
  const reduction = config.reduction === 'none' ? 'mean' : config.reduction;
  return {
    reduction: config.reduction,
    rows: s.rows,
    nan_values: s.nanValues,
    nan_policy: config.nanPolicy,
    omitted_rows: s.omittedRows,
    losses: s.losses.map((l) => ({
      name: l.spec.name,
      torch: lossDef(l.spec.name).torch,
      params: l.spec.params,
      ...(config.reduction === 'none' ? {} : { value: jsonNumber(lossValue(l, reduction)) }),
      elements: l.elements,
      ignored_rows: l.ignored,
    })),
    inputs: s.inputs.map((i) => ({ file: i.file, format: i.format, gzip: i.gzip, bytes: i.bytes, columns: i.columns })),
  };
}
