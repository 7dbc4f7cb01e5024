// WAVE as the wasmtime hosts write it into receipts, read and written by
// WIT type; and the WIT type text a describer prints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeTable } from '../src/wit.mjs';
import { floatText, readCall, readValue, writeValue } from '../src/wave.mjs';

function table() {
  const t = new TypeTable();
  for (const d of [
    'record point { x: s32, y: s32 }',
    'record shape-set { name: string, points: list<point>, origin: option<point>, tags: list<string> }',
    'variant shape { circle(f64), rect(point), empty }',
    'enum color { red, green, blue }',
    'flags perms { read, write, exec }',
    'type size = u64',
  ]) t.define(d);
  return t;
}

const roundTrip = (t, type, text) => {
  const ty = t.parse(type);
  assert.equal(writeValue(ty, readValue(ty, text)), text, `${type}: ${text}`);
};

test('every kind of value reads and writes back as the same text', () => {
  const t = table();
  roundTrip(t, 'bool', 'true');
  roundTrip(t, 'u64', '18446744073709551615');
  roundTrip(t, 's64', '-9223372036854775808');
  roundTrip(t, 'size', '7');
  roundTrip(t, 'char', "'🦀'");
  roundTrip(t, 'string', '"tab\\tquote\\" back\\\\slash é\\n"');
  roundTrip(t, 'list<u8>', '[0, 1, 255]');
  roundTrip(t, 'tuple<string, u8>', '("a", 7)');
  roundTrip(t, 'shape-set', '{name: "s", points: [{x: 1, y: -2}], origin: some({x: 0, y: 0}), tags: []}');
  roundTrip(t, 'shape', 'rect({x: 2, y: 3})');
  roundTrip(t, 'shape', 'empty');
  roundTrip(t, 'color', 'blue');
  roundTrip(t, 'perms', '{read, exec}');
  roundTrip(t, 'perms', '{}');
  roundTrip(t, 'option<option<u32>>', 'some(none)');
  roundTrip(t, 'option<option<u32>>', 'some(some(3))');
  roundTrip(t, 'option<option<u32>>', 'none');
  roundTrip(t, 'result<s64, string>', 'err("division by zero")');
  roundTrip(t, 'result', 'ok');
  roundTrip(t, 'result<_, string>', 'ok');
});

test('an option field that is none is left out of a record, and an empty record is {:}', () => {
  const t = table();
  const ty = t.parse('shape-set');
  const value = readValue(ty, '{name: "", points: [], tags: []}');
  assert.equal(value.origin, undefined);
  assert.equal(writeValue(ty, value), '{name: "", points: [], tags: []}');
  const empty = new TypeTable();
  empty.define('record nothing { a: option<u8> }');
  assert.equal(writeValue(empty.parse('nothing'), { a: undefined }), '{:}');
});

test('floats are written as Rust displays them: shortest, never an exponent', () => {
  assert.equal(floatText(0.1, 64), '0.1');
  assert.equal(floatText(Math.fround(0.1), 32), '0.1');
  assert.equal(floatText(1e20, 64), '100000000000000000000');
  assert.equal(floatText(1e21, 64), '1000000000000000000000');
  assert.equal(floatText(0.000001, 64), '0.000001');
  assert.equal(floatText(1.5e-7, 64), '0.00000015');
  assert.equal(floatText(-0, 64), '-0');
  assert.equal(floatText(NaN, 32), 'nan');
  assert.equal(floatText(-Infinity, 64), '-inf');
  assert.equal(floatText(3, 64), '3');
});

test('control and keyword names are escaped as wasm-wave escapes them', () => {
  const t = new TypeTable();
  t.define('variant v { none, some(u8), other }');
  assert.equal(writeValue(t.parse('v'), { tag: 'none' }), '%none');
  assert.equal(writeValue(t.parse('string'), '\u0001\u00ad'), '"\\u{1}\\u{ad}"');
  assert.equal(writeValue(t.parse('char'), "'"), "'\\''");
});

test('values that do not fit their type are refused, never guessed', () => {
  const t = table();
  assert.throws(() => readValue(t.parse('u8'), '256'), /out of range/);
  assert.throws(() => readValue(t.parse('s32'), '1.5'), /integer/);
  assert.throws(() => readValue(t.parse('color'), 'purple'), /not a case/);
  assert.throws(() => readValue(t.parse('point'), '{x: 1}'), /missing field `y`/);
  assert.throws(() => readValue(t.parse('point'), '{x: 1, y: 2, z: 3}'), /no field `z`/);
  assert.throws(() => writeValue(t.parse('u8'), 300), /not a u8/);
});

test('a call reads its arguments by the signature, trailing options may be left out', () => {
  const t = table();
  const sig = t.signature('func(a: u32, b: option<u32>) -> u32');
  assert.deepEqual(readCall('f(1)', () => sig).args, [1, undefined]);
  assert.deepEqual(readCall('f(1, some(2))', () => sig).args, [1, 2]);
  assert.throws(() => readCall('f()', () => sig), /missing argument `a`/);
  assert.throws(() => readCall('f(1, none, 3)', () => sig), /too many arguments/);
  assert.equal(readCall('values.echo-bool(true)', () => t.signature('func(b: bool) -> bool')).name, 'values.echo-bool');
});
