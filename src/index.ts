/**
 * losseval as a library: `evaluate()` runs everything the CLI does on paths,
 * streams, arrays or apache-arrow tables; the state helpers read, merge and
 * finish the exact states that `--state-out` / `stateOut` write (for
 * orchestrators that merge shards without the CLI).
 *
 * ```ts
 * import { evaluate, readStateFile, mergeStates, stateValues } from 'losseval';
 * const r = await evaluate({ loss: 'smoothl1', preds: 'preds.arrow', targets: 'targets.arrow' });
 * const merged = mergeStates(await Promise.all(paths.map(readStateFile)), paths);
 * console.log(stateValues(merged)); // { mse: 0.64…, smooth_l1: 0.20… }
 * ```
 */
import { lossValue } from './write/result.js';
import type { LossevalState } from './reduce/state.js';

export {
  evaluate,
  type EvaluateOptions, type EvaluateResult, type LossResult, type LossInput, type LossSpecInput,
  type InputData, type Matrix, type NumericArray, type ColumnList, type ArrowTableLike, type ArrowVectorLike,
  type ProgressInfo, type InputSummary, type GroupResult, type GroupLossResult, type BootstrapResult,
} from './api/evaluate.js';
export type { Reduction, NanPolicy } from './types.js';
export {
  mergeStates, readStateFile, writeStateFile, stateFromJSON, stateToJSON,
  STATE_FORMAT, STATE_VERSION,
  type LossevalState, type StateConfig, type LossStateData, type Provenance, type StateInput, type GroupStateData,
} from './reduce/state.js';
export { formatResult } from './write/result.js';
export { roundSum, roundQuotient, mergeSums, type ExactSum } from './reduce/exact-sum.js';
export { LOSS_NAMES, type LossOptions } from './losses/registry.js';
export { LossevalError, UsageError, DataError, type DataLocation } from './errors.js';

/** Each loss's correctly rounded value (mean or sum, as configured), by loss name. */
export function stateValues(s: LossevalState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of s.losses) out[l.name] = lossValue(l, s.config.reduction);
  return out;
}
