/**
 * --group-by / --per-class, as a user runs them. The oracle: each group's result equals the
 * ungrouped run over that group's rows alone (the input split by key in the test), bit for bit,
 * and the overall row equals the run without --group-by. Then the layout matrix (workers, chunk
 * sizes, CSV vs Arrow, file vs stdin, shards merged) must print the same bytes, and the errors.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray, Utf8, Dictionary, Int32, Table, makeVector } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { losseval, workdir, expectFailure } from '../helpers/cli.js';
import { mulberry32 as rng } from '../helpers/rng.js';

let dir: string;
beforeAll(() => {
  dir = workdir();
});

const SEED = 1607;

/** Key texts that stress the CSV writer and the key order: quotes, commas, unicode, digits, empty (missing). */
const LANGS = ['en', 'fr', 'de, CH', 'say "hi"', 'é', 'zh-中文', '10', '9', '', ' en'];

interface Data {
  n: number;
  lang: string[];
  fold: number[];
  cols: Record<string, Float64Array>;
}

function makeData(seed: number, n: number, classes: number): Data {
  const r = rng(seed);
  const lang = Array.from({ length: n }, () => LANGS[Math.floor(r() * LANGS.length)]!);
  const fold = Array.from({ length: n }, () => Math.floor(r() * 3));
  const cols: Record<string, Float64Array> = {};
  for (let c = 0; c < classes; c++) cols[`logit_${c}`] = Float64Array.from({ length: n }, () => (r() - 0.5) * 8);
  cols.label = Float64Array.from({ length: n }, () => (r() < 0.1 ? -100 : Math.floor(r() * classes)));
  cols.y = Float64Array.from({ length: n }, () => (r() - 0.5) * 10 ** Math.floor(r() * 8 - 4));
  cols.p = Float64Array.from(cols.y, (v) => v + (r() - 0.5));
  return { n, lang, fold, cols };
}

function csvField(t: string): string {
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

function writeCsv(name: string, d: Data, rows: number[]): string {
  const names = Object.keys(d.cols);
  let text = ['lang', 'fold', ...names].join(',') + '\n';
  for (const i of rows) text += [csvField(d.lang[i]!), String(d.fold[i]), ...names.map((c) => String(d.cols[c]![i]))].join(',') + '\n';
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function writeArrow(name: string, d: Data, rows: number[], dictionary: boolean): string {
  const cols: Record<string, ReturnType<typeof vectorFromArray>> = {};
  const lang = rows.map((i) => (d.lang[i] === '' ? null : d.lang[i]!));
  cols.lang = dictionary ? vectorFromArray(lang, new Dictionary(new Utf8(), new Int32())) : vectorFromArray(lang, new Utf8());
  cols.fold = vectorFromArray(rows.map((i) => d.fold[i]!), new Int32());
  for (const [c, v] of Object.entries(d.cols)) cols[c] = makeVector(Float64Array.from(rows, (i) => v[i]!));
  const p = join(dir, name);
  writeFileSync(p, tableToIPC(new Table(cols), 'file'));
  return p;
}

async function json(args: string[], stdin?: string): Promise<Record<string, any>> {
  const r = await losseval([...args, '--json'], { cwd: dir, ...(stdin !== undefined ? { stdin } : {}) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

const FAMILIES = [
  { name: 'regression', args: ['-l', 'l1,mse,huber', '--delta', '0.5', '--pred-cols', 'p', '--target-cols', 'y'] },
  { name: 'classification', args: ['-l', 'ce,nll', '--weight', '1,2,0.5', '--label-smoothing', '0.1', '--pred-cols', 'logit_*', '--target-cols', 'label'] },
];

/** Rows of d in each group of `key`, in file order. */
function split(d: Data, key: (i: number) => string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < d.n; i++) {
    const k = key(i);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(i);
  }
  return m;
}

describe(`group-by oracle (seed ${SEED})`, () => {
  const d = makeData(SEED, 600, 3);
  const all = Array.from({ length: d.n }, (_, i) => i);
  for (const fam of FAMILIES) {
    it(`${fam.name}: each group equals the run over its rows alone; the overall equals the ungrouped run`, async () => {
      const file = writeCsv(`oracle-${fam.name}.csv`, d, all);
      const grouped = await json([...fam.args, '--group-by', 'lang,fold', file]);
      const plain = await json([...fam.args, file]);
      expect(grouped.losses).toEqual(plain.losses);
      expect(grouped.rows).toBe(plain.rows);
      const parts = split(d, (i) => JSON.stringify([d.lang[i] === '' ? null : d.lang[i], String(d.fold[i])]));
      expect(grouped.groups).toHaveLength(parts.size);
      for (const g of grouped.groups) {
        const rows = parts.get(JSON.stringify([g.key.lang, g.key.fold]))!;
        expect(rows, JSON.stringify(g.key)).toBeDefined();
        const alone = await json([...fam.args, writeCsv(`part-${fam.name}.csv`, d, rows)]);
        expect(g.rows).toBe(rows.length);
        expect(g.losses.map((l: any) => [l.name, l.value, l.elements, l.ignored_rows]))
          .toEqual(alone.losses.map((l: any) => [l.name, l.value, l.elements, l.ignored_rows]));
      }
    });
  }

  it('--per-class: each class equals the run over its rows; ignored rows (-100) are their own class', async () => {
    const fam = FAMILIES[1]!;
    const file = writeCsv('oracle-class.csv', d, all);
    const grouped = await json([...fam.args, '--per-class', file]);
    expect(grouped.group_by).toEqual(['label']);
    const parts = split(d, (i) => String(d.cols.label![i]));
    expect(grouped.groups.map((g: any) => g.key.label)).toEqual([...parts.keys()].map(Number).sort((a, b) => a - b));
    for (const g of grouped.groups) {
      const alone = await json([...fam.args, writeCsv('part-class.csv', d, parts.get(String(g.key.label))!)]);
      expect(g.losses.map((l: any) => l.value)).toEqual(alone.losses.map((l: any) => l.value));
    }
  });
});

describe('group-by layout matrix: every layout prints the same bytes', () => {
  const d = makeData(SEED + 1, 500, 3);
  const all = Array.from({ length: d.n }, (_, i) => i);
  const args = ['-l', 'l1,mse', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'lang,fold'];
  const strip = (o: Record<string, any>): unknown => ({ ...o, inputs: undefined });

  it('workers 1 and 3, tiny and default chunks, CSV vs Arrow (Utf8, Dictionary), file vs stdin, merged shards', async () => {
    const csv = writeCsv('m.csv', d, all);
    const ref = strip(await json([...args, '-j', '1', csv]));
    for (const extra of [['-j', '3', '--chunk-rows', '7'], ['-j', '2', '--chunk-bytes', '300']]) {
      expect(strip(await json([...args, ...extra, csv])), extra.join(' ')).toEqual(ref);
    }
    for (const dict of [false, true]) {
      const arrow = writeArrow(`m${dict ? '-dict' : ''}.arrow`, d, all, dict);
      const o = await json([...args, '-j', '2', '--chunk-rows', '11', arrow]);
      // Arrow keys: fold is an Int32 column (a number), lang text; the CSV's fold is text
      expect(o.groups.map((g: any) => ({ ...g, key: { ...g.key, fold: String(g.key.fold) } }))).toEqual((ref as any).groups);
      expect(o.losses).toEqual((ref as any).losses);
    }
    expect(strip(await json([...args, '-j', '2', '-'], readFileSync(csv, 'utf8')))).toEqual({ ...(ref as any), inputs: undefined });
    // shards: three states merged in another order print the single run's bytes
    const cuts = [0, 123, 124, d.n];
    const states: string[] = [];
    for (let s = 0; s + 1 < cuts.length; s++) {
      const rows = all.slice(cuts[s], cuts[s + 1]);
      const f = writeCsv(`shard${s}.csv`, d, rows);
      const st = join(dir, `shard${s}.json`);
      const r = await losseval([...args, '--state-out', st, '--chunk-rows', '5', f], { cwd: dir });
      expect(r.code).toBe(0);
      states.push(st);
    }
    const single = await losseval([...args, csv], { cwd: dir });
    const merged = await losseval(['merge', states[2]!, states[0]!, states[1]!], { cwd: dir });
    expect(merged.stdout).toBe(single.stdout);
    expect(merged.code).toBe(0);
    const mergedJson = JSON.parse((await losseval(['merge', '--json', ...states], { cwd: dir })).stdout);
    expect(mergedJson.groups).toEqual((ref as any).groups);
  });

  it('prints TSV in key order: missing key first, integer text numerically, then bytes; the overall row last', async () => {
    const csv = writeCsv('order.csv', d, all);
    const r = await losseval(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'lang', csv], { cwd: dir });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('lang\trows\tl1\tl1_elements');
    expect(lines.slice(1).map((l) => l.split('\t')[0])).toEqual(['', '9', '10', ' en', 'de, CH', 'en', 'fr', 'say "hi"', 'zh-中文', 'é', '(all)']);
    const plain = await losseval(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', csv], { cwd: dir });
    expect(lines.at(-1)!.split('\t')[2]).toBe(plain.stdout.trim());
  });
});

describe('group-by output files and per-row output', () => {
  const d = makeData(SEED + 2, 120, 2);
  const all = Array.from({ length: d.n }, (_, i) => i);
  const args = ['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'lang'];

  it('-o groups.csv / .arrow / .parquet hold the same table; stdout has the overall result', async () => {
    const csv = writeCsv('o.csv', d, all);
    const ref = await json([...args, csv]);
    const plain = await losseval(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', csv], { cwd: dir });
    for (const ext of ['csv', 'arrow', 'parquet']) {
      const out = join(dir, `groups.${ext}`);
      const r = await losseval([...args, '-o', out, csv], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(plain.stdout);
      let rows: { lang: string | null; rows: number; l1: number }[];
      if (ext === 'arrow') {
        rows = tableFromIPC(readFileSync(out)).toArray().map((x: any) => ({ lang: x.lang, rows: x.rows, l1: x.l1 }));
      } else if (ext === 'parquet') {
        const buf = readFileSync(out);
        const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
        rows = (await parquetReadObjects({ file })).map((x: any) => ({ lang: x.lang, rows: x.rows, l1: x.l1 }));
      } else {
        const text = readFileSync(out, 'utf8');
        expect(text.split('\n')[0]).toBe('lang,rows,l1,l1_elements');
        rows = ref.groups.map((g: any) => ({ lang: g.key.lang, rows: g.rows, l1: g.losses[0].value }));
        expect(text).toContain('"say ""hi"""');
        expect(text).toContain('"de, CH"');
      }
      expect(rows).toEqual(ref.groups.map((g: any) => ({ lang: g.key.lang, rows: g.rows, l1: g.losses[0].value })));
    }
  });

  it('-r none adds the key columns to each row', async () => {
    const csv = writeCsv('none.csv', d, all.slice(0, 5));
    const r = await losseval(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'lang,fold', '-r', 'none', csv], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('lang,fold,l1');
    expect(lines.slice(1).map((l) => l.replace(/,[^,]*$/, ''))).toEqual(all.slice(0, 5).map((i) => `${csvField(d.lang[i]!)},${d.fold[i]}`));
  });
});

describe('group-by errors', () => {
  const d = makeData(SEED + 3, 50, 2);
  const all = Array.from({ length: d.n }, (_, i) => i);
  it('name the option, the column or the file; leave no output file', async () => {
    const csv = writeCsv('e.csv', d, all);
    const base = ['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y'];
    await expectFailure([...base, '--group-by', 'nope', csv], 2, /--group-by: unknown column 'nope' in .*e\.csv/, { cwd: dir });
    const arrow = writeArrow('e.arrow', d, all, false);
    await expectFailure([...base, '--group-by', 'y', arrow], 2, /--group-by: column 'y' of .*e\.arrow has type Float64; group keys are text, integers or booleans/, { cwd: dir });
    const out = join(dir, 'too-many.csv');
    await expectFailure([...base, '--group-by', 'lang,fold', '--max-groups', '3', '-o', out, csv], 1, /e\.csv: more than 3 groups \(--max-groups 3\)/, { cwd: dir });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.too-many'))).toEqual([]);
    await expectFailure([...base, '--max-groups', '3', csv], 2, /--max-groups needs --group-by or --per-class/, { cwd: dir });
    await expectFailure([...base, '--max-groups', '0', '--group-by', 'lang', csv], 2, /--max-groups must be a positive integer \(got '0'\)/, { cwd: dir });
    await expectFailure(['-l', 'ce', '--pred-cols', 'logit_0', '--target-cols', 'p,y', '--per-class', csv], 2, /--per-class .* needs one target column/, { cwd: dir });
    const g = join(dir, 'g.json'), u = join(dir, 'u.json');
    expect((await losseval([...base, '--group-by', 'lang', '--state-out', g, csv], { cwd: dir })).code).toBe(0);
    expect((await losseval([...base, '--state-out', u, csv], { cwd: dir })).code).toBe(0);
    await expectFailure(['merge', g, u], 2, /cannot merge: .*g\.json is grouped by lang \(state version 2\) but .*u\.json is not grouped/, { cwd: dir });
    await expectFailure(['merge', u, g], 2, /cannot merge: .*g\.json is grouped by lang \(state version 2\) but .*u\.json is not grouped/, { cwd: dir });
  });
});

describe('group tables as printed', () => {
  it('a terminal gets aligned columns; tabs and line breaks in keys are escaped; ungrouped states stay version 1', async () => {
    const { formatGroups } = await import('../../dist/write/groups.js');
    const f = join(dir, 'tty.csv');
    writeFileSync(f, 'k,p,y\n"a\tb",1,2\n"x\ny",3,3\nlonger key,1,1.5\n');
    const st = join(dir, 'tty.json');
    const r = await losseval(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', '--group-by', 'k', '--state-out', st, f], { cwd: dir });
    expect(r.stdout).toBe('k\trows\tl1\tl1_elements\na\\tb\t1\t1\t1\nlonger key\t1\t0.5\t1\nx\\ny\t1\t0\t1\n(all)\t3\t0.5\t3\n');
    const { readStateFile } = await import('../../dist/reduce/state.js');
    const aligned = formatGroups(await readStateFile(st), true);
    expect(aligned).toBe([
      'k           rows   l1  l1_elements',
      'a\\tb           1    1            1',
      'longer key     1  0.5            1',
      'x\\ny           1    0            1',
      '(all)          3  0.5            3',
    ].join('\n') + '\n');
    expect(JSON.parse(readFileSync(st, 'utf8')).version).toBe(2);
    const plain = join(dir, 'plain-v1.json');
    await losseval(['-l', 'l1', '--pred-cols', 'p', '--target-cols', 'y', '--state-out', plain, f], { cwd: dir });
    expect(JSON.parse(readFileSync(plain, 'utf8')).version).toBe(1);
  });
});
