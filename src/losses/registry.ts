/**
 * Loss names, PyTorch defaults and parameter checks. Used on the main thread
 * (validate before streaming) and in the workers (look up the kernel).
 */
import { UsageError } from '../errors.js';
import type { Denominator, KernelFn, LossSpec, Params } from './kernel.js';
import { huberKernel, l1Kernel, mseKernel, smoothL1Kernel } from './regression.js';

/** Loss options as given on the command line (already parsed to numbers); undefined = not given. */
export interface LossOptions {
  beta?: number;
  delta?: number;
}

export interface LossDef {
  /** Canonical name, printed in results: PyTorch's functional name without `_loss`. */
  readonly name: string;
  /** PyTorch's functional name. */
  readonly torch: string;
  /** What the targets are: same shape as preds, or one class index per row. */
  readonly layout: 'elementwise';
  /** Command-line options this loss reads (camelCase keys of LossOptions). */
  readonly options: readonly (keyof LossOptions)[];
  /** Defaults and PyTorch's parameter checks; throws UsageError. */
  resolve(opts: LossOptions): Params;
  readonly kernel: KernelFn<never>;
  readonly denominator: Denominator;
  /** Values per row of the unreduced output. */
  outWidth(widths: RoleWidths): number;
  /** Why these role widths cannot work (message naming both numbers), or null. */
  checkWidths(widths: RoleWidths): string | null;
}

/** Values per row of each role; a Chunk satisfies it. */
export interface RoleWidths {
  readonly preds: { readonly width: number };
  readonly targets: { readonly width: number };
  readonly weights?: { readonly width: number };
}

/** Element-wise losses: K prediction values against K target values per row. */
const ELEMENTWISE = {
  layout: 'elementwise' as const,
  denominator: 'elements' as const,
  outWidth: (w: RoleWidths) => w.preds.width,
  checkWidths(w: RoleWidths): string | null {
    if (w.preds.width !== w.targets.width) {
      return `${w.preds.width} prediction values per row but ${w.targets.width} target values`;
    }
    return null;
  },
};

function finite(name: string, v: number): number {
  if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a finite number, got ${v}`);
  return v;
}

const DEFS: readonly LossDef[] = [
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
    resolve(o) {
      const beta = finite('beta', o.beta ?? 1.0);
      if (beta < 0) throw new UsageError(`smooth_l1 does not support negative values for --beta (got ${beta})`);
      return { beta };
    },
    kernel: smoothL1Kernel as KernelFn<never>,
  },
  {
    ...ELEMENTWISE, name: 'huber', torch: 'huber_loss', options: ['delta'],
    resolve(o) {
      const delta = finite('delta', o.delta ?? 1.0);
      if (!(delta > 0)) throw new UsageError(`huber does not support non-positive values for --delta (got ${delta})`);
      return { delta };
    },
    kernel: huberKernel as KernelFn<never>,
  },
];

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

export const LOSS_NAMES: readonly string[] = DEFS.map((d) => d.name);

export function lossDef(name: string): LossDef {
  const d = BY_KEY.get(normalizeLossName(name));
  if (!d) throw new UsageError(`unknown loss '${name}' (valid: ${LOSS_NAMES.join(', ')})`);
  return d;
}

/** Parse `-l mse,l1` into checked specs, in the order given. */
export function resolveLosses(list: string, opts: LossOptions): LossSpec[] {
  const names = list.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new UsageError(`--loss: empty loss name in '${list}'`);
  const seen = new Set<string>();
  return names.map((n) => {
    const def = lossDef(n);
    if (seen.has(def.name)) throw new UsageError(`--loss: '${def.name}' is given twice`);
    seen.add(def.name);
    return { name: def.name, params: def.resolve(opts) };
  });
}
