/**
 * The library as a user installs it: `npm pack`, install the tarball into an empty project,
 * type-check a TypeScript program against the shipped types (strict), and run it.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SAMPLES, workdir } from '../helpers/cli.js';

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const PROGRAM = `
import { evaluate, mergeStates, stateValues, UsageError, type EvaluateResult, type LossResult } from 'losseval';

const preds = ${JSON.stringify(join(SAMPLES, 'preds.arrow'))};
const targets = ${JSON.stringify(join(SAMPLES, 'targets.arrow'))};
const r: EvaluateResult = await evaluate({ loss: 'smoothl1', preds, targets });
const first: LossResult = r.losses[0]!;
const inMemory = await evaluate({ loss: ['l1', 'mse'], preds: new Float64Array([0.5, 2]), targets: [0, 1] });
const logits = await evaluate({ loss: { name: 'cross_entropy', labelSmoothing: 0.1 }, preds: [[1, 2, 3], [0.5, 0.1, -1]], targets: new Int32Array([2, 0]) });
const rows = await evaluate({ loss: 'l1', reduction: 'none', preds: { values: new Float32Array([1, 2, 3, 4]), width: 2 }, targets: [[0, 0], [1, 1]] });
let usage = '';
try {
  await evaluate({ loss: 'huber', delta: -1, preds, targets });
} catch (e) {
  if (e instanceof UsageError) usage = e.message;
}
const merged = mergeStates([r.state!, r.state!], ['a', 'b']);
console.log(JSON.stringify({
  value: first.value, inMemory: inMemory.losses.map((l) => l.value), ce: logits.losses[0]!.value,
  rows: Array.from(rows.losses[0]!.rows!), usage, merged: stateValues(merged),
}));
`;

describe('the installed package', () => {
  it('type-checks against the shipped types and runs', { timeout: 180_000 }, () => {
    const dir = workdir('losseval-pack-');
    const tarball = npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], ROOT).trim().split('\n').at(-1)!;
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)], app);
    // Node's types for the type check: a dependency's (apache-arrow brings them), else this checkout's
    if (!existsSync(join(app, 'node_modules', '@types', 'node'))) {
      mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'));
    }
    writeFileSync(join(app, 'main.ts'), PROGRAM);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'out', types: ['node'], skipLibCheck: false },
      files: ['main.ts'],
    }));
    // type-checked (any error fails: tsc exits non-zero) and compiled to out/main.js
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
    writeFileSync(join(app, 'out', 'package.json'), JSON.stringify({ type: 'module' }));
    const out = JSON.parse(execFileSync(process.execPath, [join(app, 'out', 'main.js')], { cwd: app, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toEqual({
      value: 0.20862989095875725,
      inMemory: [0.75, 0.625],
      ce: out.ce,
      rows: [1, 2, 2, 3],
      usage: "--delta must be a number > 0 (inf allowed) (got '-1')",
      merged: { smooth_l1: 0.20862989095875725 },
    });
    expect(typeof out.ce).toBe('number');
  });
});
