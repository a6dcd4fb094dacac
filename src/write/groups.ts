/**
 * Grouped results (--group-by, --per-class): one row per group in key order, then the overall
 * result — as an aligned table (a terminal), TSV (piped), inside --json, or with -o as a
 * .csv / .arrow / .parquet table of the groups. Everything is printed from the exact state, so
 * a run and a merge of its shards print the same bytes.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { lossDef } from '../losses/registry.js';
import { keyParts, partJson, partText, KEY_BOOL, KEY_NULL, KEY_NUM } from '../reduce/keys.js';
import type { LossevalState, LossStateData } from '../reduce/state.js';
import { formatNumber, jsonNumber } from './format.js';
import { bootJson, bootStats, lossValue } from './result.js';
import { DataError } from '../errors.js';
import { trackTempFile, untrackTempFile } from '../cleanup.js';

/** Printed in every key column of the overall row. */
export const OVERALL_LABEL = '(all)';

/** Losses that count rows left out (ignore_index) get an ignored_rows column. */
function hasIgnored(name: string): boolean {
  return lossDef(name).options.includes('ignoreIndex');
}

/** The value columns after the keys: rows, then per loss its value, elements (and ignored_rows). */
function valueHeader(s: LossevalState): string[] {
  const h = ['rows'];
  for (const l of s.losses) {
    h.push(l.name, `${l.name}_elements`);
    if (hasIgnored(l.name)) h.push(`${l.name}_ignored_rows`);
    if (s.config.bootstrap) h.push(`${l.name}_se`, `${l.name}_ci_low`, `${l.name}_ci_high`);
  }
  return h;
}

function valueCells(s: LossevalState, rows: number, losses: readonly LossStateData[]): number[] {
  const out = [rows];
  for (const l of losses) {
    out.push(lossValue(l, s.config.reduction), l.elements);
    if (hasIgnored(l.name)) out.push(l.ignored_rows);
    if (s.config.bootstrap) {
      const b = bootStats(l, s.config.reduction, s.ci ?? 0.95);
      out.push(b.se, b.low, b.high);
    }
  }
  return out;
}

/** Header and text cells of every group row, then the overall row. */
function textTable(s: LossevalState): { header: string[]; rows: string[][] } {
  const keys = s.config.group_by!;
  const header = [...keys, ...valueHeader(s)];
  const rows = s.groups!.map((g) => [
    ...keyParts(g.key, keys.length).map((p) => partText(p) ?? ''),
    ...valueCells(s, g.rows, g.losses).map(formatNumber),
  ]);
  rows.push([...keys.map(() => OVERALL_LABEL), ...valueCells(s, s.rows, s.losses).map(formatNumber)]);
  return { header, rows };
}

/** A TSV cell: tabs and line breaks in a key would break the row, so they are escaped as \t \n \r (and \ as \\). */
function tsvCell(t: string): string {
  return /[\t\n\r\\]/.test(t) ? t.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : t;
}

/** The grouped result as TSV (header, groups, overall row), or aligned in columns for a terminal. */
export function formatGroups(s: LossevalState, aligned: boolean): string {
  const { header, rows } = textTable(s);
  const all = [header, ...rows].map((r) => r.map(tsvCell));
  if (!aligned) return all.map((r) => r.join('\t') + '\n').join('');
  const nk = s.config.group_by!.length;
  const widths = header.map((_, j) => Math.max(...all.map((r) => [...r[j]!].length)));
  // keys left-aligned, numbers right-aligned
  return all.map((r) => r.map((c, j) => {
    const pad = ' '.repeat(widths[j]! - [...c].length);
    return j < nk ? c + pad : pad + c;
  }).join('  ').trimEnd() + '\n').join('');
}

/** The --json groups: key as {column: value}, rows, and per loss value / elements / ignored_rows. */
export function groupsJson(s: LossevalState): Record<string, unknown>[] {
  const keys = s.config.group_by!;
  return s.groups!.map((g) => {
    const parts = keyParts(g.key, keys.length);
    const key: Record<string, unknown> = {};
    keys.forEach((k, i) => (key[k] = partJson(parts[i]!)));
    return {
      key,
      rows: g.rows,
      losses: g.losses.map((l) => ({
        name: l.name, value: jsonNumber(lossValue(l, s.config.reduction)), elements: l.elements, ignored_rows: l.ignored_rows,
        ...(l.boot ? { bootstrap: bootJson(l, s) } : {}),
      })),
    };
  });
}

/** Output format of the group table by the -o file's extension. */
export function groupsFileFormat(path: string): 'csv' | 'arrow' | 'parquet' {
  if (/\.(arrow|feather|ipc)$/i.test(path)) return 'arrow';
  if (/\.parquet$/i.test(path)) return 'parquet';
  return 'csv';
}

function csvCell(t: string): string {
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

type KeyType = 'text' | 'number' | 'bool';

/** One key column's type in a file: bool or number when every non-missing key is one, else text. */
function keyColumnType(parts: readonly string[]): KeyType {
  const tags = new Set(parts.filter((p) => p[0] !== KEY_NULL).map((p) => p[0]));
  if (tags.size === 1 && tags.has(KEY_BOOL)) return 'bool';
  if (tags.size === 1 && tags.has(KEY_NUM) && parts.every((p) => p[0] !== KEY_NUM || Number.isSafeInteger(Number(p.slice(1))))) return 'number';
  return 'text';
}

/** Write the group table (no overall row) to `path` atomically: CSV, Arrow IPC file or Parquet. */
export async function writeGroupsFile(path: string, s: LossevalState): Promise<void> {
  const keys = s.config.group_by!;
  const groups = s.groups!;
  const header = [...keys, ...valueHeader(s)];
  const keyCols = keys.map((_, k) => groups.map((g) => keyParts(g.key, keys.length)[k]!));
  const valueCols = valueHeader(s).map((_, j) => Float64Array.from(groups, (g) => valueCells(s, g.rows, g.losses)[j]!));
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  trackTempFile(temp);
  try {
    const format = groupsFileFormat(path);
    let bytes: Uint8Array;
    if (format === 'csv') {
      const lines = [header.map(csvCell).join(',')];
      groups.forEach((_, r) => lines.push([
        ...keyCols.map((c) => csvCell(partText(c[r]!) ?? '')),
        ...valueCols.map((c) => formatNumber(c[r]!)),
      ].join(',')));
      bytes = Buffer.from(lines.join('\n') + '\n', 'utf8');
    } else {
      const types = keyCols.map(keyColumnType);
      const keyValues = keyCols.map((c, k) => c.map((p): string | number | boolean | null => {
        if (p[0] === KEY_NULL) return null;
        return types[k] === 'bool' ? p[1] === '1' : types[k] === 'number' ? Number(p.slice(1)) : partText(p);
      }));
      bytes = format === 'arrow'
        ? await arrowTable(header, keys.length, types, keyValues, valueCols)
        : await parquetTable(header, keys.length, types, keyValues, valueCols);
    }
    await fsp.writeFile(temp, bytes, { flag: 'wx' });
    await fsp.rename(temp, path);
  } catch (e) {
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw new DataError(`cannot write the group table (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  } finally {
    untrackTempFile(temp);
  }
}

async function arrowTable(
  header: string[], nk: number, types: KeyType[], keys: (string | number | boolean | null)[][], values: Float64Array[],
): Promise<Uint8Array> {
  const arrow = await import('apache-arrow');
  const cols: Record<string, import('apache-arrow').Vector> = {};
  keys.forEach((c, k) => {
    const type = types[k] === 'bool' ? new arrow.Bool() : types[k] === 'number' ? new arrow.Float64() : new arrow.Utf8();
    cols[header[k]!] = arrow.vectorFromArray(c, type as never);
  });
  values.forEach((v, j) => (cols[header[nk + j]!] = arrow.makeVector(v)));
  return arrow.tableToIPC(new arrow.Table(cols), 'file');
}

async function parquetTable(
  header: string[], nk: number, types: KeyType[], keys: (string | number | boolean | null)[][], values: Float64Array[],
): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const columnData = [
    ...keys.map((c, k) => ({
      name: header[k]!, data: c, type: (types[k] === 'bool' ? 'BOOLEAN' : types[k] === 'number' ? 'DOUBLE' : 'STRING') as 'STRING',
      nullable: c.some((v) => v === null),
    })),
    ...values.map((v, j) => ({ name: header[nk + j]!, data: v, type: 'DOUBLE' as const, nullable: false })),
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData, codec: 'SNAPPY', createdBy: 'losseval' }));
}
