/**
 * losseval as a library: run an evaluation, and read, merge and finish the
 * exact states that `--state-out` writes (for orchestrators that merge shards
 * without the CLI).
 *
 * ```ts
 * import { readStateFile, mergeStates, stateValues } from 'losseval';
 * const merged = mergeStates(await Promise.all(paths.map(readStateFile)), paths);
 * console.log(stateValues(merged)); // { mse: 0.64…, smooth_l1: 0.20… }
 * ```
 */
import { lossValue } from './write/result.js';
import type { LossevalState } from './reduce/state.js';

export { run, summaryState, type RunIO, type RunSummary } from './run.js';
export type { RunConfig } from './config.js';
export {
  mergeStates, readStateFile, writeStateFile, stateFromJSON, stateToJSON, configDifference, configFingerprint,
  STATE_FORMAT, STATE_VERSION,
  type LossevalState, type StateConfig, type LossStateData, type Provenance, type StateInput,
} from './reduce/state.js';
export { formatResult, resultJson, lossValue } from './write/result.js';
export { roundSum, roundQuotient, mergeSums, type ExactSum } from './reduce/exact-sum.js';
export { LOSS_NAMES, resolveLosses, type LossOptions } from './losses/registry.js';
export { LossevalError, UsageError, DataError, type DataLocation } from './errors.js';

/** Each loss's correctly rounded value (mean or sum, as configured), by loss name. */
export function stateValues(s: LossevalState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of s.losses) out[l.name] = lossValue(l, s.config.reduction);
  return out;
}
