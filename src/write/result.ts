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
  if (s.config.bootstrap) {
    const rows = s.losses.map((l) => {
      const b = bootStats(l, reduction, s.ci ?? 0.95);
      return [l.name, lossValue(l, reduction), b.se, b.low, b.high].map((v) => (typeof v === 'string' ? v : formatNumber(v))).join('\t');
    });
    return ['loss\tvalue\tse\tci_low\tci_high', ...rows].join('\n') + '\n';
  }
  if (s.losses.length === 1) return formatNumber(lossValue(s.losses[0]!, reduction)) + '\n';
  return s.losses.map((l) => `${l.name}\t${formatNumber(lossValue(l, reduction))}\n`).join('');
}

/** A loss's bootstrap standard error and percentile interval at level `ci` (see bootStats). */
export interface BootStats {
  readonly se: number;
  readonly low: number;
  readonly high: number;
  /** replicates whose value is defined (a replicate that drew no row of a group has none) */
  readonly used: number;
}

/**
 * From the exact replicate values v_r (each the correctly rounded quotient of its exact sums):
 * the standard error sqrt(Σ (v_r − mean)² / (R − 1)) and the percentile interval [q(α/2), q(1 − α/2)],
 * α = 1 − ci, quantiles by linear interpolation between order statistics (numpy's default).
 * Replicates with an undefined value (NaN: no weight in the denominator) are left out unless
 * every one is NaN. The float arithmetic here runs in a fixed order on exact inputs, so the
 * figures are the same for any chunking, worker count or merge.
 */
export function bootStats(l: Pick<LossStateData, 'num' | 'den' | 'boot'>, reduction: 'mean' | 'sum' | 'batchmean', ci: number): BootStats {
  const b = l.boot!;
  const all = b.num.map((n, r) => lossValue({ num: n, den: b.den[r]! }, reduction));
  const vs = all.filter((v) => v === v);
  const R = vs.length;
  if (R < 2) return { se: NaN, low: NaN, high: NaN, used: R };
  let mean = 0;
  for (const v of vs) mean += v;
  mean /= R;
  let ss = 0;
  for (const v of vs) ss += (v - mean) * (v - mean);
  const sorted = Float64Array.from(vs).sort();
  const q = (p: number): number => {
    const h = (R - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(R - 1, lo + 1);
    return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
  };
  const alpha = 1 - ci;
  return { se: Math.sqrt(ss / (R - 1)), low: q(alpha / 2), high: q(1 - alpha / 2), used: R };
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
    ...(s.config.bootstrap ? {
      bootstrap: { ...s.config.bootstrap, ci: s.ci ?? 0.95, method: 'Poisson(1) bootstrap, percentile interval' },
      row_ranges: s.provenance.map((p) => p.row_range ?? null),
    } : {}),
    losses: s.losses.map((l, i) => ({
      name: l.name,
      torch: lossDef(l.name).torch,
      params: torchNames(s.config.losses[i]!.params),
      ...(values ? { value: jsonNumber(lossValue(l, s.config.reduction)) } : {}),
      elements: l.elements,
      ignored_rows: l.ignored_rows,
      ...(values && l.boot ? { bootstrap: bootJson(l, s) } : {}),
    })),
    inputs: s.provenance.flatMap((p) => p.inputs),
    ...(s.groups && values && groups ? { groups: groupsJson(s) } : {}),
  };
}

/** The --json bootstrap figures of one loss (overall or a group's). */
export function bootJson(l: Pick<LossStateData, 'num' | 'den' | 'boot'>, s: LossevalState): Record<string, unknown> {
  const b = bootStats(l, s.config.reduction, s.ci ?? 0.95);
  return { se: jsonNumber(b.se), ci_low: jsonNumber(b.low), ci_high: jsonNumber(b.high), replicates_used: b.used };
}
