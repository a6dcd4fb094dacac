/**
 * The printed result: one value, `name<TAB>value` lines, or --json. Printed
 * from the exact state, so a single run and a merge of its shards print the
 * same bytes.
 */
import { lossDef } from '../losses/registry.js';
import { roundQuotient, roundSum } from '../reduce/exact-sum.js';
import type { LossevalState, LossStateData } from '../reduce/state.js';
import { formatNumber, jsonNumber } from './format.js';
import { formatGroups, groupsJson } from './groups.js';

/** The correctly rounded result of one loss's exact state. */
export function lossValue(l: Pick<LossStateData, 'num' | 'den'>, reduction: 'mean' | 'sum' | 'batchmean'): number {
  return reduction === 'sum' ? roundSum(l.num) : roundQuotient(l.num, l.den);
}

/**
 * What the CLI prints for a state: the value, `name<TAB>value` lines for several losses, or the
 * --json object; a grouped state (not `overallOnly`) prints its group table (write/groups.ts).
 */
export function formatResult(s: LossevalState, json: boolean, opts: { aligned?: boolean; overallOnly?: boolean } = {}): string {
  const reduction = s.config.reduction;
  if (json) return JSON.stringify(resultJson(s, true, opts.overallOnly !== true)) + '\n';
  if (s.groups && !opts.overallOnly) return formatGroups(s, opts.aligned === true);
  if (s.losses.length === 1) return formatNumber(lossValue(s.losses[0]!, reduction)) + '\n';
  return s.losses.map((l) => `${l.name}\t${formatNumber(lossValue(l, reduction))}\n`).join('');
}

/** Options under PyTorch's argument names (`ignoreIndex` → `ignore_index`). */
function torchNames(params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] = v;
  return out;
}

/** The --json object. `values: false` leaves the values out (reduction none). */
export function resultJson(s: LossevalState, values = true, groups = true): Record<string, unknown> {
  return {
    ...(s.config.group_by ? { group_by: s.config.group_by, ...(s.config.per_class ? { per_class: true } : {}) } : {}),
    reduction: values ? s.config.reduction : 'none',
    rows: s.rows,
    nan_values: s.nan_values,
    nan_policy: s.config.nan_policy,
    omitted_rows: s.omitted_rows,
    columns: s.config.columns,
    losses: s.losses.map((l, i) => ({
      name: l.name,
      torch: lossDef(l.name).torch,
      params: torchNames(s.config.losses[i]!.params),
      ...(values ? { value: jsonNumber(lossValue(l, s.config.reduction)) } : {}),
      elements: l.elements,
      ignored_rows: l.ignored_rows,
    })),
    inputs: s.provenance.flatMap((p) => p.inputs),
    ...(s.groups && values && groups ? { groups: groupsJson(s) } : {}),
  };
}
