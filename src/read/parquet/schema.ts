/**
 * A Parquet schema (the flat, depth-first list of SchemaElements in the footer) → its leaf
 * columns as losseval selects them: a name (dotted for struct leaves, the list's own name for
 * list<…> leaves), how its values become numbers (LeafDesc), or why they can't.
 */
import type { SchemaElement } from 'hyparquet';
import type { NumericKind } from '../../types.js';
import type { LeafDesc } from '../../parse/parquet/values.js';

export interface ParquetLeaf {
  /** Index of the leaf among all leaves = index of its column chunk in every row group. */
  readonly index: number;
  /** Name used to select it: path names joined by '.', without a list's inner groups. */
  readonly name: string;
  /** path_in_schema as the column chunks name it. */
  readonly path: readonly string[];
  /** Its type as messages show it: `DOUBLE`, `INT64 (TIMESTAMP)`, `list<FLOAT>`. */
  readonly type: string;
  readonly isList: boolean;
  /** null: not numbers (see `type`). */
  readonly desc: LeafDesc | null;
  /** What a --group-by key made of this column is, and how to decode it; null: it cannot be a key (see `type`). */
  readonly key: { readonly kind: 'text' | 'int' | 'bool'; readonly desc: LeafDesc } | null;
}

const MAX_DEPTH = 64;

/** Throws a plain Error with the reason on a malformed schema (the caller names the file). */
export function schemaLeaves(schema: readonly SchemaElement[]): ParquetLeaf[] {
  if (schema.length === 0) throw new Error('empty schema');
  const leaves: ParquetLeaf[] = [];
  let next = 1;
  const walk = (path: SchemaElement[], depth: number): void => {
    if (depth > MAX_DEPTH) throw new Error(`schema nested deeper than ${MAX_DEPTH} levels`);
    if (next >= schema.length) throw new Error('schema ends inside a group');
    const el = schema[next++]!;
    const here = [...path, el];
    const children = el.num_children ?? 0;
    if (!Number.isSafeInteger(children) || children < 0 || children > schema.length) throw new Error(`schema element with ${children} children`);
    if (children === 0 && el.type !== undefined) {
      leaves.push(describeLeaf(leaves.length, here));
      return;
    }
    if (children === 0) {
      // an empty group holds no column chunk
      return;
    }
    for (let i = 0; i < children; i++) walk(here, depth + 1);
  };
  const rootChildren = schema[0]!.num_children ?? 0;
  if (!Number.isSafeInteger(rootChildren) || rootChildren < 0) throw new Error(`schema root with ${rootChildren} children`);
  for (let i = 0; i < rootChildren; i++) walk([], 1);
  if (next !== schema.length) throw new Error(`schema has ${schema.length - next} elements outside its tree`);
  return leaves;
}

function annotation(el: SchemaElement): string | null {
  const lt = el.logical_type as { type: string; bitWidth?: number; isSigned?: boolean } | undefined;
  if (lt) {
    if (lt.type === 'INTEGER') return `INT(${lt.bitWidth}, ${lt.isSigned ? 'signed' : 'unsigned'})`;
    return lt.type;
  }
  return el.converted_type ?? null;
}

function decimalScale(el: SchemaElement): number | null {
  const lt = el.logical_type as { type: string; scale?: number } | undefined;
  if (lt?.type === 'DECIMAL') return lt.scale ?? 0;
  if (el.converted_type === 'DECIMAL') return el.scale ?? 0;
  return null;
}

function isUnsigned(el: SchemaElement): boolean {
  const lt = el.logical_type as { type: string; isSigned?: boolean } | undefined;
  if (lt?.type === 'INTEGER') return lt.isSigned === false;
  return el.converted_type !== undefined && el.converted_type.startsWith('UINT_');
}

const INT_ANNOTATIONS = /^(INT_(8|16|32|64)|UINT_(8|16|32|64)|INT\((8|16|32|64), (un)?signed\))$/;

/** Kind of the numbers a leaf's values become, or null (with the physical type and annotation in `type`). */
function leafKind(el: SchemaElement): { kind: NumericKind | null; scale: number | null } {
  const ann = annotation(el);
  const scale = decimalScale(el);
  const none = { kind: null, scale: null };
  if (scale !== null) {
    if (!Number.isSafeInteger(scale) || scale < -400 || scale > 400) return none;
    if (el.type === 'INT32' || el.type === 'INT64' || el.type === 'BYTE_ARRAY') return { kind: 'f64', scale };
    if (el.type === 'FIXED_LEN_BYTE_ARRAY' && (el.type_length ?? 0) > 0 && (el.type_length ?? 0) <= 64) return { kind: 'f64', scale };
    return none;
  }
  switch (el.type) {
    case 'FLOAT': return { kind: ann === null ? 'f32' : null, scale: null };
    case 'DOUBLE': return { kind: ann === null ? 'f64' : null, scale: null };
    case 'BOOLEAN': return { kind: ann === null ? 'u8' : null, scale: null };
    case 'INT32':
    case 'INT64':
      if (ann !== null && !INT_ANNOTATIONS.test(ann)) return none;
      if (el.type === 'INT32') return { kind: isUnsigned(el) ? 'u32' : 'i32', scale: null };
      return { kind: isUnsigned(el) ? 'u64' : 'i64', scale: null };
    case 'FIXED_LEN_BYTE_ARRAY':
      return { kind: ann === 'FLOAT16' && el.type_length === 2 ? 'f16' : null, scale: null };
    default:
      return none;
  }
}

function describeLeaf(index: number, path: SchemaElement[]): ParquetLeaf {
  const leaf = path[path.length - 1]!;
  const names = path.map((e) => e.name);
  const ann = annotation(leaf);
  const scalar = `${leaf.type}${ann ? ` (${ann})` : ''}`;
  let maxDef = 0, maxRep = 0, repDef = 0, repAt = -1;
  let map = false;
  path.forEach((e, i) => {
    if (e.repetition_type === 'OPTIONAL') maxDef++;
    else if (e.repetition_type === 'REPEATED') {
      maxDef++;
      maxRep++;
      if (repAt < 0) {
        repAt = i;
        repDef = maxDef;
      }
    }
    const a = annotation(e);
    if (i < path.length - 1 && (a === 'MAP' || a === 'MAP_KEY_VALUE')) map = true;
  });
  const { kind, scale } = leafKind(leaf);
  const base = { index, path: names, key: null };
  if (map) return { ...base, name: names.join('.'), type: `map<…, ${scalar}>`, isList: false, desc: null };
  if (maxRep > 1) return { ...base, name: names.join('.'), type: `a list of lists of ${scalar}`, isList: false, desc: null };
  if (maxRep === 1) {
    // the list's own name: up to the repeated node when it is the leaf (2-level, `repeated float x`),
    // else up to its parent (3-level `x (LIST) { repeated group list { element } }`, or 2-level
    // `repeated group array { float item }`); a repeated group of several fields is a list of structs
    const rep = path[repAt]!;
    let name: string;
    if (repAt === path.length - 1) name = names.join('.');
    else if (repAt === path.length - 2 && rep.num_children === 1) name = names.slice(0, repAt).join('.');
    else return { ...base, name: names.join('.'), type: `a list of structs`, isList: false, desc: null };
    const type = `list<${scalar}>`;
    if (kind === null) return { ...base, name, type, isList: true, desc: null };
    return { ...base, name, type, isList: true, desc: desc(leaf, kind, scale, maxDef, 1, repDef) };
  }
  const key = keyOf(leaf, ann, kind, scale, maxDef);
  if (kind === null) return { ...base, name: names.join('.'), type: scalar, isList: false, desc: null, key };
  return { ...base, name: names.join('.'), type: scalar, isList: false, desc: desc(leaf, kind, scale, maxDef, 0, 0), key };
}

/** TEXT keys: BYTE_ARRAY as written (STRING / UTF8 / ENUM or no annotation); integers: INT32 / INT64 (plain or INT(…)); BOOLEAN. */
function keyOf(el: SchemaElement, ann: string | null, kind: NumericKind | null, scale: number | null, maxDef: number): ParquetLeaf['key'] {
  if (scale !== null) return null;
  if (el.type === 'BYTE_ARRAY' && (ann === null || ann === 'STRING' || ann === 'UTF8' || ann === 'ENUM')) {
    return { kind: 'text', desc: { ...desc(el, 'i32', null, maxDef, 0, 0), text: true } };
  }
  if (kind === null) return null;
  if (el.type === 'INT32' || el.type === 'INT64') return { kind: 'int', desc: desc(el, kind, null, maxDef, 0, 0) };
  if (el.type === 'BOOLEAN') return { kind: 'bool', desc: desc(el, kind, null, maxDef, 0, 0) };
  return null;
}

function desc(el: SchemaElement, kind: NumericKind, scale: number | null, maxDef: number, maxRep: number, repDef: number): LeafDesc {
  return {
    physical: el.type!, typeLength: el.type_length ?? 0, kind, decimalScale: scale, maxDef, maxRep, repDef,
  };
}
