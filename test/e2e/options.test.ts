/**
 * Option values as a user types them: every bad value is named with its option and the value
 * as typed; inf, -inf and nan pass wherever PyTorch takes them and are refused, with the rule,
 * where it does not; a malformed value is an error whichever loss is chosen, while an option
 * no chosen loss reads is only a warning.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { expectFailure, losseval, workdir } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
  writeFileSync(join(dir, 'r.csv'), 'x,y\n0.5,0\n-2,1\n3,-1\n');
  // logits a,b,c and a class index; no row has class 1
  writeFileSync(join(dir, 'cls.csv'), 'a,b,c,y\n0.1,0.2,0.3,0\n1,2,-1,2\n0.5,-1,2,0\n');
  writeFileSync(join(dir, 'cls1.csv'), 'a,b,c,y\n0.1,0.2,0.3,1\n1,2,-1,2\n');
});

const run = (args: string[]) => losseval(args, { cwd: dir });
const fails = (args: string[], message: string) =>
  expectFailure(args, 2, new RegExp(`^losseval: error: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), { cwd: dir });

describe('messages name the option and the value', () => {
  it.each([
    [['-j', '0'], "--workers must be a positive integer (got '0')"],
    [['--workers', '1.5'], "--workers must be a positive integer (got '1.5')"],
    [['--chunk-rows', '-3'], "--chunk-rows must be a positive integer (got '-3')"],
    [['--ignore-index', 'x'], "--ignore-index must be an integer (got 'x')"],
    [['--ignore-index', 'inf'], "--ignore-index must be an integer (got 'inf')"],
    [['--p', '1.0'], "--p must be an integer (got '1.0')"],
    [['--delta', 'abc'], "--delta must be a number (inf, -inf and nan allowed) (got 'abc')"],
    [['--eps', ''], "--eps must be a number (inf, -inf and nan allowed) (got '')"],
    [['--margin', '1e'], "--margin must be a number (inf, -inf and nan allowed) (got '1e')"],
    [['--weight', '1,x'], "--weight must be a list of numbers (inf, -inf and nan allowed) separated by commas, or @file holding one (got '1,x'; 'x' is not a number)"],
    [['--pos-weight', ','], "--pos-weight must be a list of numbers (inf, -inf and nan allowed) separated by commas, or @file holding one (got ','; no numbers in it)"],
    [['-r', 'avg'], "--reduction must be one of mean, sum, none, batchmean (got 'avg')"],
    [['--nan-policy', 'skip'], "--nan-policy must be one of propagate, omit, raise (got 'skip')"],
  ])('%j', (opt, message) => fails(['-l', 'l1', ...opt, '--target-cols', 'y', 'r.csv'], message));
});

describe('inf, -inf and nan where PyTorch takes them', () => {
  it('--delta inf: huber is the quadratic zone everywhere, half the mse', async () => {
    const huber = await run(['-l', 'huber', '--delta', 'inf', '--target-cols', 'y', 'r.csv']);
    const mse = await run(['-l', 'mse', '--target-cols', 'y', 'r.csv']);
    expect(huber.code).toBe(0);
    expect(huber.stderr).toBe('');
    expect(Number(huber.stdout)).toBe(Number(mse.stdout) / 2);
  });
  it('--beta INF (any case): smooth_l1 of finite differences is 0', async () => {
    const r = await run(['-l', 'smooth_l1', '--beta', 'INF', '--target-cols', 'y', 'r.csv']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '0\n', '']);
  });
  it('--weight 1,inf,1: a weight on a class no row has changes nothing; on one that a row has, the sum is inf', async () => {
    const plain = await run(['-l', 'ce', '--weight', '1,1,1', '--target-cols', 'y', 'cls.csv']);
    const inf = await run(['-l', 'ce', '--weight', '1,inf,1', '--target-cols', 'y', 'cls.csv']);
    expect(inf.code).toBe(0);
    expect(inf.stdout).toBe(plain.stdout);
    const sum = await run(['-l', 'ce', '--weight', '1,inf,1', '-r', 'sum', '--target-cols', 'y', 'cls1.csv']);
    expect([sum.code, sum.stdout]).toEqual([0, 'inf\n']);
    // mean: inf / inf
    const mean = await run(['-l', 'ce', '--weight', '1,Infinity,1', '--target-cols', 'y', 'cls1.csv']);
    expect([mean.code, mean.stdout]).toEqual([0, 'nan\n']);
  });
  it('--margin nan and --eps -inf are taken, as PyTorch takes them', async () => {
    const h = await run(['-l', 'hinge_embedding', '--margin', 'nan', '-r', 'none', '--target-cols', 'y', 'r.csv']);
    // y = 0 and y = -1 use the margin (nan); y = 1 is x alone: -2
    expect([h.code, h.stdout]).toEqual([0, 'hinge_embedding\nnan\n-2\nnan\n']);
    const p = await run(['-l', 'poisson_nll', '--eps', '-inf', '--target-cols', 'y', 'r.csv']);
    expect(p.code).toBe(0);
  });
});

describe('refused where PyTorch refuses, with the rule', () => {
  it.each([
    [['-l', 'huber', '--delta', '-inf'], "--delta must be a number > 0 (inf allowed) (got '-inf')"],
    [['-l', 'huber', '--delta', 'nan'], "--delta must be a number > 0 (inf allowed) (got 'nan')"],
    [['-l', 'smooth_l1', '--beta', 'NaN'], "--beta must be a number >= 0 (inf allowed) (got 'nan')"],
    [['-l', 'ce', '--label-smoothing', 'inf'], "--label-smoothing must be between 0.0 and 1.0 (got 'inf')"],
    [['-l', 'ce', '--label-smoothing', 'nan'], "--label-smoothing must be between 0.0 and 1.0 (got 'nan')"],
    [['-l', 'multi_margin', '--p', '3'], "--p must be 1 or 2 (got '3')"],
  ])('%j', (opt, message) => fails([...opt, '--target-cols', 'y', 'r.csv'], message));
});

describe('a malformed value is an error for every loss; an unused option only warns', () => {
  it.each([
    [['--delta', '0'], "--delta must be a number > 0 (inf allowed) (got '0')"],
    [['--beta', '-1'], "--beta must be a number >= 0 (inf allowed) (got '-1')"],
    [['--label-smoothing', '2'], "--label-smoothing must be between 0.0 and 1.0 (got '2')"],
    [['--p', '0'], "--p must be 1 or 2 (got '0')"],
  ])('l1 with %j', (opt, message) => fails(['-l', 'l1', ...opt, '--target-cols', 'y', 'r.csv'], message));
  it('a well-formed option l1 does not read: a warning, and the same result', async () => {
    const r = await run(['-l', 'l1', '--delta', '0.5', '--target-cols', 'y', 'r.csv']);
    const plain = await run(['-l', 'l1', '--target-cols', 'y', 'r.csv']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, plain.stdout, 'losseval: warning: --delta is not used by l1\n']);
  });
});

describe('--workers is capped at 4 per available CPU, with a note', () => {
  it('--workers 1000 on a small file: the note, and the result of -j 1', async () => {
    const cpus = availableParallelism();
    const one = await run(['-l', 'mse', '-j', '1', '--chunk-rows', '1', '--target-cols', 'y', 'r.csv']);
    const many = await run(['-l', 'mse', '--workers', '1000', '--chunk-rows', '1', '--target-cols', 'y', 'r.csv']);
    expect(many.code).toBe(0);
    expect(many.stdout).toBe(one.stdout);
    expect(many.stderr).toBe(`losseval: warning: --workers 1000: using ${4 * cpus} (at most 4 per available CPU; ${cpus} available)\n`);
    const atCap = await run(['-l', 'mse', '--workers', String(4 * cpus), '--chunk-rows', '1', '--target-cols', 'y', 'r.csv']);
    expect([atCap.stdout, atCap.stderr]).toEqual([one.stdout, '']);
  });
});
