/**
 * Loss names, PyTorch defaults and parameter checks. Used on the main thread
 * (validate before streaming) and in the workers (look up the kernel).
 */
import { UsageError } from '../errors.js';
import type { Denominator, KernelFn, LossSpec, Params } from './kernel.js';
import { huberKernel, l1Kernel, mseKernel, smoothL1Kernel } from './regression.js';
import { crossEntropyKernel, nllKernel } from './classification.js';
import { bceKernel, bceWithLogitsKernel } from './binary.js';
import { gaussianNllKernel, gaussianNllWidthProblem, klDivKernel, poissonNllKernel } from './distribution.js';
import {
  checkMultiMarginParams, cosineEmbeddingKernel, cosineEmbeddingWidthProblem, hingeEmbeddingKernel,
  marginRankingKernel, marginRankingWidthProblem, multilabelSoftMarginKernel, multiMarginKernel, softMarginKernel,
} from './margin.js';

/** Loss options as given on the command line (already parsed); undefined = not given. */
export interface LossOptions {
  beta?: number;
  delta?: number;
  weight?: number[];
  posWeight?: number[];
  ignoreIndex?: number;
  labelSmoothing?: number;
  logTarget?: boolean;
  logInput?: boolean;
  full?: boolean;
  eps?: number;
  margin?: number;
  p?: number;
}

/** Values per row of each role; a Chunk satisfies it. */
export interface RoleWidths {
  readonly preds: { readonly width: number };
  readonly targets: { readonly width: number };
  readonly weights?: { readonly width: number };
  readonly vars?: { readonly width: number };
  readonly preds2?: { readonly width: number };
}

export interface LossDef {
  /** Canonical name, printed in results: PyTorch's functional name without `_loss`. */
  readonly name: string;
  /** PyTorch's functional name. */
  readonly torch: string;
  /** Command-line options this loss reads (keys of LossOptions). */
  readonly options: readonly (keyof LossOptions)[];
  /** Reads a weight column role (--weight-cols / --weight-file). */
  readonly weightColumns: boolean;
  /** Extra column roles it needs: variances (--var-cols) or a second input (--pred2-cols). */
  readonly needs?: readonly ('vars' | 'preds2')[];
  /** Defaults and PyTorch's parameter checks; throws UsageError. */
  resolve(opts: LossOptions): Params;
  readonly kernel: KernelFn<never>;
  /** How the mean divides, for these widths. */
  denominator(widths: RoleWidths): Denominator;
  /** Values per row of the unreduced output. */
  outWidth(widths: RoleWidths): number;
  /** Why these role widths cannot work (a data error naming both numbers), or null. */
  checkWidths(widths: RoleWidths): string | null;
  /** Why these parameters do not fit these widths (a usage error, e.g. --weight of the wrong length), or null. */
  checkParams(params: Params, widths: RoleWidths): string | null;
}

/** A number as the messages show it: `inf`, `-inf`, `nan` as the options accept them. */
export function showNumber(v: number): string {
  return v !== v ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
}

/**
 * The values PyTorch (2.x) accepts for each numeric loss option, checked whether or not the
 * chosen losses read the option (a malformed value is an error for every loss; an option no
 * chosen loss reads is only a warning). `inf`, `-inf` and `nan` pass wherever PyTorch takes them.
 */
const OPTION_RULES: { readonly [K in keyof LossOptions]?: { rule: string; ok: (v: number) => boolean } } = {
  // smooth_l1_loss: TORCH_CHECK(beta >= 0): inf passes, nan does not
  beta: { rule: 'a number >= 0 (inf allowed)', ok: (v) => v >= 0 },
  // huber_loss: TORCH_CHECK(delta > 0)
  delta: { rule: 'a number > 0 (inf allowed)', ok: (v) => v > 0 },
  // cross_entropy: TORCH_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0)
  labelSmoothing: { rule: 'between 0.0 and 1.0', ok: (v) => v >= 0 && v <= 1 },
  // an int64 in PyTorch
  ignoreIndex: { rule: 'an integer', ok: (v) => Number.isSafeInteger(v) },
  // multi_margin_loss: only p == 1 and p == 2
  p: { rule: '1 or 2', ok: (v) => v === 1 || v === 2 },
  // eps, margin, weight, pos_weight: PyTorch takes any double, inf and nan included
};

/** The option's flag as typed: `labelSmoothing` → `--label-smoothing`. */
export function optionFlag(key: keyof LossOptions): string {
  return key === 'logInput' ? '--no-log-input' : '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Throw UsageError for the first option value PyTorch would refuse, whatever the loss. */
export function checkLossOptions(opts: LossOptions): void {
  for (const [key, r] of Object.entries(OPTION_RULES) as [keyof LossOptions, { rule: string; ok: (v: number) => boolean }][]) {
    const v = opts[key];
    if (typeof v === 'number' && !r.ok(v)) throw new UsageError(`${optionFlag(key)} must be ${r.rule} (got '${showNumber(v)}')`);
  }
}

const noParams = (): string | null => null;

/** Element-wise losses: K prediction values against K target values per row. */
const ELEMENTWISE = {
  weightColumns: false,
  denominator: (): Denominator => 'elements',
  outWidth: (w: RoleWidths) => w.preds.width,
  checkWidths(w: RoleWidths): string | null {
    if (w.preds.width !== w.targets.width) {
      return `${w.preds.width} prediction values per row but ${w.targets.width} target values`;
    }
    return null;
  },
  checkParams: noParams,
};

function lengthProblem(flag: string, v: readonly number[] | null, C: number, what: string): string | null {
  if (v && v.length !== C) return `${flag} has ${v.length} values but there are ${C} ${what}`;
  return null;
}

/** nll / cross_entropy: C prediction values and one class index (or C probabilities) per row. */
function classDef(name: string, torch: string, probs: boolean): Omit<LossDef, 'resolve' | 'kernel' | 'options'> {
  return {
    name, torch, weightColumns: false,
    denominator: (w) => (probs && w.targets.width === w.preds.width ? 'rows' : 'den'),
    outWidth: () => 1,
    checkWidths(w) {
      const C = w.preds.width;
      if (w.targets.width === 1 || (probs && w.targets.width === C)) return null;
      return probs
        ? `${C} prediction values per row need one class index or ${C} class probabilities as targets, got ${w.targets.width} target values`
        : `${C} prediction values per row need one class index as target, got ${w.targets.width} target values`;
    },
    checkParams(p, w) {
      const C = w.preds.width;
      const bad = lengthProblem('--weight', p.weight as number[] | null, C, 'classes (prediction values per row)');
      if (bad) return bad;
      if (probs && w.targets.width === C && C !== 1 && (p.ignoreIndex as number) >= 0) {
        return `--ignore-index is not supported with class-probability targets (got ${String(p.ignoreIndex)})`;
      }
      return null;
    },
  };
}

/** bce family: C probabilities/logits against C targets; weights per column, per row or element-wise. */
function binaryDef(name: string, torch: string): Omit<LossDef, 'resolve' | 'kernel' | 'options'> {
  return {
    ...ELEMENTWISE, name, torch, weightColumns: true,
    checkWidths(w) {
      const C = w.preds.width;
      const e = ELEMENTWISE.checkWidths(w);
      if (e) return e;
      return rowOrElementWidth('weights', w.weights, C);
    },
    checkParams: weightFormProblem,
  };
}

/** --weight (per column) and --pos-weight of length C, and only one form of weights. */
function weightFormProblem(p: Params, w: RoleWidths): string | null {
  const C = w.preds.width;
  if (p.weight && w.weights) return '--weight cannot be combined with --weight-cols / --weight-file: give one form of weights';
  return lengthProblem('--weight', p.weight as number[] | null, C, 'prediction columns')
    ?? lengthProblem('--pos-weight', (p.posWeight ?? null) as number[] | null, C, 'prediction columns');
}

/** One value per row (N rows × 1) or one per prediction value. */
function rowOrElementWidth(what: string, w: { readonly width: number } | undefined, C: number): string | null {
  if (w && w.width !== 1 && w.width !== C) return `${what} need 1 value per row or ${C} (one per prediction value), got ${w.width}`;
  return null;
}

function classWeights(o: LossOptions): number[] | null {
  return o.weight ?? null;
}

function ignoreIndex(o: LossOptions): number {
  return o.ignoreIndex ?? -100;
}

const bool = (v: boolean | undefined, d: boolean): boolean => v ?? d;
const margin = (o: LossOptions, d: number): { margin: number } => ({ margin: o.margin ?? d });

/** One value per row whose mean divides by N (multi_margin, multilabel_soft_margin, cosine_embedding). */
const ROW_LOSS = {
  weightColumns: false,
  denominator: (): Denominator => 'rows',
  outWidth: () => 1,
  checkParams: noParams,
};

const LOSS_DEFS: readonly LossDef[] = [
  {
    ...ELEMENTWISE, name: 'l1', torch: 'l1_loss', options: [],
    resolve: () => ({}), kernel: l1Kernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'mse', torch: 'mse_loss', options: [],
    resolve: () => ({}), kernel: mseKernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'smooth_l1', torch: 'smooth_l1_loss', options: ['beta'],
    resolve: (o) => ({ beta: o.beta ?? 1.0 }),
    kernel: smoothL1Kernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'huber', torch: 'huber_loss', options: ['delta'],
    resolve: (o) => ({ delta: o.delta ?? 1.0 }),
    kernel: huberKernel as KernelFn<never>,
  },
  {
    ...classDef('nll', 'nll_loss', false), options: ['weight', 'ignoreIndex'],
    resolve: (o) => ({ weight: classWeights(o), ignoreIndex: ignoreIndex(o) }),
    kernel: nllKernel as KernelFn<never>,
  },
  {
    ...classDef('cross_entropy', 'cross_entropy', true), options: ['weight', 'ignoreIndex', 'labelSmoothing'],
    // label smoothing in [0, 1] as PyTorch 2.x checks it (1.13 silently took ε < 0 as 0): checkLossOptions
    resolve: (o) => ({ weight: classWeights(o), ignoreIndex: ignoreIndex(o), labelSmoothing: o.labelSmoothing ?? 0 }),
    kernel: crossEntropyKernel as KernelFn<never>,
  },
  {
    ...binaryDef('binary_cross_entropy', 'binary_cross_entropy'), options: ['weight'],
    resolve: (o) => ({ weight: classWeights(o) }),
    kernel: bceKernel as KernelFn<never>,
  },
  {
    ...binaryDef('binary_cross_entropy_with_logits', 'binary_cross_entropy_with_logits'), options: ['weight', 'posWeight'],
    resolve: (o) => ({ weight: classWeights(o), posWeight: o.posWeight ?? null }),
    kernel: bceWithLogitsKernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'kl_div', torch: 'kl_div', options: ['logTarget'],
    resolve: (o) => ({ logTarget: bool(o.logTarget, false) }),
    kernel: klDivKernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'poisson_nll', torch: 'poisson_nll_loss', options: ['logInput', 'full', 'eps'],
    resolve: (o) => ({ logInput: bool(o.logInput, true), full: bool(o.full, false), eps: o.eps ?? 1e-8 }),
    kernel: poissonNllKernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'gaussian_nll', torch: 'gaussian_nll_loss', options: ['full', 'eps'], needs: ['vars'],
    resolve: (o) => ({ full: bool(o.full, false), eps: o.eps ?? 1e-6 }),
    checkWidths: gaussianNllWidthProblem,
    kernel: gaussianNllKernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'soft_margin', torch: 'soft_margin_loss', options: [],
    resolve: () => ({}), kernel: softMarginKernel as KernelFn<never>,
  },
  {
    ...ROW_LOSS, name: 'multilabel_soft_margin', torch: 'multilabel_soft_margin_loss', options: ['weight'], weightColumns: true,
    resolve: (o) => ({ weight: classWeights(o) }),
    checkWidths: (w) => ELEMENTWISE.checkWidths(w) ?? rowOrElementWidth('weights', w.weights, w.preds.width),
    checkParams: weightFormProblem,
    kernel: multilabelSoftMarginKernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'hinge_embedding', torch: 'hinge_embedding_loss', options: ['margin'],
    resolve: (o) => margin(o, 1.0), kernel: hingeEmbeddingKernel as KernelFn<never>,
  },
  {
    ...ROW_LOSS, name: 'multi_margin', torch: 'multi_margin_loss', options: ['p', 'margin', 'weight'],
    resolve: (o) => ({ p: o.p ?? 1, ...margin(o, 1.0), weight: classWeights(o) }),
    checkWidths: (w) => (w.targets.width === 1 ? null : `${w.preds.width} prediction values per row need one class index as target, got ${w.targets.width} target values`),
    checkParams: (p, w) => checkMultiMarginParams(p as never, w.preds.width),
    kernel: multiMarginKernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'margin_ranking', torch: 'margin_ranking_loss', options: ['margin'], needs: ['preds2'],
    resolve: (o) => margin(o, 0.0), checkWidths: marginRankingWidthProblem,
    kernel: marginRankingKernel as KernelFn<never>,
  },
  {
    ...ROW_LOSS, name: 'cosine_embedding', torch: 'cosine_embedding_loss', options: ['margin'], needs: ['preds2'],
    resolve: (o) => margin(o, 0.0), checkWidths: cosineEmbeddingWidthProblem,
    kernel: cosineEmbeddingKernel as KernelFn<never>,
  },
];

/** Every loss checks every option given (checkLossOptions), read by it or not. */
const DEFS: readonly LossDef[] = LOSS_DEFS.map((d) => ({
  ...d,
  resolve(o: LossOptions): Params {
    checkLossOptions(o);
    return d.resolve(o);
  },
}));

const ALIASES: Readonly<Record<string, string>> = {
  ce: 'crossentropy',
  bce: 'binarycrossentropy',
  bcewithlogits: 'binarycrossentropywithlogits',
};

/** `SmoothL1Loss`, `smooth-l1`, `smooth_l1_loss` → `smoothl1`. */
export function normalizeLossName(raw: string): string {
  let key = raw.toLowerCase().replace(/[-_\s]/g, '');
  if (key.endsWith('loss') && key.length > 4) key = key.slice(0, -4);
  return ALIASES[key] ?? key;
}

const BY_KEY = new Map<string, LossDef>();
for (const d of DEFS) {
  BY_KEY.set(normalizeLossName(d.name), d);
  BY_KEY.set(normalizeLossName(d.torch), d);
}

/** The canonical names of every loss, in the CLI's order (`l1`, `mse`, …). */
export const LOSS_NAMES: readonly string[] = DEFS.map((d) => d.name);

export function lossDef(name: string): LossDef {
  const d = BY_KEY.get(normalizeLossName(name));
  if (!d) throw new UsageError(`unknown loss '${name}' (valid: ${LOSS_NAMES.join(', ')})`);
  return d;
}

/** Parse `-l mse,l1` (or `['mse', 'l1']`) into checked specs, in the order given, each with `opts` where it takes them. */
export function resolveLosses(list: string | readonly string[], opts: LossOptions = {}): LossSpec[] {
  const names = (typeof list === 'string' ? list.split(',') : list).map((s) => String(s).trim());
  if (names.length === 0 || names.some((n) => n === '')) throw new UsageError(`--loss: empty loss name in '${String(list)}'`);
  const seen = new Set<string>();
  return names.map((n) => {
    const def = lossDef(n);
    if (seen.has(def.name)) throw new UsageError(`--loss: '${def.name}' is given twice`);
    seen.add(def.name);
    return { name: def.name, params: def.resolve(opts) };
  });
}
