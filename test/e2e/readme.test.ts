/**
 * The README runs: every `$ npx losseval …` example in a ```console block is run as
 * `node bin/losseval.js …` from the repository root (its files are the shipped samples/), and
 * what it prints (stdout, then stderr) must be the lines shown under it, exactly; an example whose
 * output starts `losseval: error:` must fail (exit 1 or 2), any other must exit 0. A `$ losseval …`
 * line without npx is an illustration (files that are not shipped, elided output) and is not run.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, losseval } from '../helpers/cli.js';

interface Example { line: number; command: string; args: string[]; output: string }

/** Shell words of a command line: single and double quotes, backslash escapes; nothing else. */
export function shellWords(cmd: string): string[] {
  const words: string[] = [];
  let cur = '', inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i]!;
    if (ch === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in ${cmd}`);
      cur += cmd.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < cmd.length && cmd[j] !== '"'; j++) cur += cmd[j] === '\\' && /["\\$`]/.test(cmd[j + 1] ?? '') ? cmd[++j] : cmd[j];
      if (j >= cmd.length) throw new Error(`unclosed " in ${cmd}`);
      i = j;
      inWord = true;
    } else if (ch === '\\') {
      cur += cmd[++i] ?? '';
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (/[|&;<>()$`*?]/.test(ch)) {
      throw new Error(`shell syntax the doc-test does not run: ${JSON.stringify(ch)} in ${cmd}`);
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The `$ ` commands of every console block, with the lines printed under each. */
export function consoleExamples(md: string): { run: Example[]; illustrations: Example[] } {
  const lines = md.split('\n');
  const run: Example[] = [], illustrations: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```console') continue;
    let cur: Example | null = null;
    const flush = (): void => {
      if (!cur) return;
      (cur.command.startsWith('npx losseval ') ? run : illustrations).push(cur);
      cur = null;
    };
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) {
      const l = lines[i]!;
      if (l.startsWith('$ ')) {
        flush();
        let command = l.slice(2);
        const line = i + 1;
        while (command.endsWith('\\') && i + 1 < lines.length) command = command.slice(0, -1) + ' ' + lines[++i]!.trim();
        cur = { line, command, args: [], output: '' };
      } else if (cur) {
        cur.output += l + '\n';
      } else {
        throw new Error(`README.md:${i + 1}: output before any command in a console block`);
      }
    }
    flush();
  }
  for (const e of run) e.args = shellWords(e.command).slice(2);
  return { run, illustrations };
}

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const { run, illustrations } = consoleExamples(readme);

describe('README.md console examples', () => {
  it('there are examples to run, and each shows its output', () => {
    expect(run.length).toBeGreaterThanOrEqual(9);
    expect(run.filter((e) => e.output === '').map((e) => `README.md:${e.line}: ${e.command}`)).toEqual([]);
  });
  it('an example not run names no shipped sample (run it with npx instead)', () => {
    expect(illustrations.filter((e) => /samples\//.test(e.command)).map((e) => `README.md:${e.line}`)).toEqual([]);
  });
  for (const e of run) {
    it(`README.md:${e.line}: ${e.command}`, async () => {
      const r = await losseval(e.args, { cwd: ROOT });
      expect(r.stdout + r.stderr).toBe(e.output);
      if (e.output.startsWith('losseval: error:')) expect([1, 2]).toContain(r.code);
      else expect(r.code).toBe(0);
    });
  }
});

describe('the doc-test\'s own parsing', () => {
  it('splits shell words and joins continued lines', () => {
    expect(shellWords(`npx losseval -l ce --pred-cols 'logit_*' --x "a b" c\\ d`)).toEqual(['npx', 'losseval', '-l', 'ce', '--pred-cols', 'logit_*', '--x', 'a b', 'c d']);
    expect(() => shellWords('npx losseval a | head')).toThrow(/shell syntax the doc-test does not run: "\|"/);
    const md = '```console\n$ npx losseval -l l1 \\\n    a.csv\n0.5\nx\n$ npx losseval b\n```\n';
    expect(consoleExamples(md).run).toEqual([
      { line: 2, command: 'npx losseval -l l1  a.csv', args: ['-l', 'l1', 'a.csv'], output: '0.5\nx\n' },
      { line: 6, command: 'npx losseval b', args: ['b'], output: '' },
    ]);
  });
});
