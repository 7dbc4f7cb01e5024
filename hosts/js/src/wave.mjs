// WAVE (the WebAssembly Value Encoding, as wasm-wave 0.254 writes it) read
// and written by type, to and from the values jco passes across a
// component's boundary:
//   bool -> boolean; s8..u32, f32, f64 -> number; s64, u64 -> BigInt;
//   char, string -> string; list -> array (or a typed array); tuple -> array;
//   record -> object keyed by lowerCamelCase field; variant -> {tag, val};
//   enum -> case name; flags -> object of booleans keyed by lowerCamelCase;
//   option<T> -> T or undefined ({tag: 'some'|'none', val} when T is itself
//   an option); result -> {tag: 'ok'|'err', val}.
// The text this writes must be byte for byte what wasmtime hosts write into
// receipts; a value that does not fit its type is an error, never a guess.

import { camel } from './wit.mjs';

const KEYWORDS = new Set(['true', 'false', 'inf', 'nan', 'some', 'none', 'ok', 'err']);
const RANGES = {
  s8: [-128n, 127n], u8: [0n, 255n], s16: [-32768n, 32767n], u16: [0n, 65535n],
  s32: [-2147483648n, 2147483647n], u32: [0n, 4294967295n],
  s64: [-9223372036854775808n, 9223372036854775807n], u64: [0n, 18446744073709551615n],
};

function resolved(type) {
  return type.kind === 'named' ? type.resolved : type;
}

/** Whether jco writes `option<T>` as `{tag, val}` (T is itself an option). */
function nestedOption(type) {
  return resolved(type.of).kind === 'option';
}

// ---------------------------------------------------------------- writing

/** Rust's `Display` of a float: shortest round-trip digits, never an exponent. */
export function floatText(value, bits) {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  let digits = String(value);
  if (bits === 32) {
    for (let p = 1; p <= 9; p++) {
      const candidate = value.toPrecision(p);
      if (Math.fround(Number(candidate)) === value) {
        digits = String(Number(candidate));
        break;
      }
    }
  }
  return expandExponent(digits);
}

function expandExponent(text) {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, whole, frac = '', exp] = m;
  const digits = whole + frac;
  const point = whole.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const EXTEND = /^[\p{Grapheme_Extend}]$/u;
const UNPRINTABLE = /^[\p{Cf}\p{Cn}\p{Co}\p{Cs}\p{Zl}\p{Zp}]$/u;

/** One character as wasm-wave writes it inside quotes. */
function charText(ch) {
  switch (ch) {
    case '\\': return '\\\\';
    case '"': return '\\"';
    case "'": return "\\'";
    case '\t': return '\\t';
    case '\r': return '\\r';
    case '\n': return '\\n';
    default: {
      const code = ch.codePointAt(0);
      if (code < 0x20 || (code >= 0x7f && code < 0xa0) || EXTEND.test(ch) || (UNPRINTABLE.test(ch) && code !== 0x20)) {
        return `\\u{${code.toString(16)}}`;
      }
      return ch;
    }
  }
}

function label(name) {
  return KEYWORDS.has(name) ? `%${name}` : name;
}

/** The WAVE text of `value` of `type`. */
export function writeValue(type, value, opts = {}) {
  const t = resolved(type);
  switch (t.kind) {
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError(`expected bool, got ${typeof value}`);
      return value ? 'true' : 'false';
    case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32':
    case 's64': case 'u64': {
      const n = BigInt(value);
      const [lo, hi] = RANGES[t.kind];
      if (n < lo || n > hi) throw new RangeError(`${n} is not a ${t.kind}`);
      return n.toString();
    }
    case 'f32': return floatText(Math.fround(value), 32);
    case 'f64': return floatText(value, 64);
    case 'char': return `'${charText(String.fromCodePoint(value.codePointAt(0)))}'`;
    case 'string': return `"${[...value].map(charText).join('')}"`;
    case 'list':
      if (opts.bytes && resolved(t.of).kind === 'u8') return opts.bytes(Uint8Array.from(value));
      return `[${Array.from(value, (v) => writeValue(t.of, v, opts)).join(', ')}]`;
    case 'tuple': return `(${t.of.map((ty, i) => writeValue(ty, value[i], opts)).join(', ')})`;
    case 'record': {
      const parts = [];
      for (const [name, ty] of t.fields) {
        const v = value[camel(name)];
        if (resolved(ty).kind === 'option' && isNone(ty, v)) continue;
        parts.push(`${name}: ${writeValue(ty, v, opts)}`);
      }
      return parts.length ? `{${parts.join(', ')}}` : '{:}';
    }
    case 'variant': {
      const found = t.cases.find(([name]) => name === value.tag);
      if (!found) throw new TypeError(`\`${value.tag}\` is not a case of ${t.name}`);
      return found[1] ? `${label(found[0])}(${writeValue(found[1], value.val, opts)})` : label(found[0]);
    }
    case 'enum':
      if (!t.cases.includes(value)) throw new TypeError(`\`${value}\` is not a case of ${t.name}`);
      return label(value);
    case 'flags': {
      // Declared order, in results and in a call's recorded arguments alike
      // (docs/conformance.md §3.6).
      const set = t.names.filter((n) => value[camel(n)]);
      return `{${set.join(', ')}}`;
    }
    case 'option':
      if (isNone(t, value)) return 'none';
      return `some(${writeValue(t.of, nestedOption(t) ? value.val : value, opts)})`;
    case 'result': {
      const side = value.tag === 'ok' ? t.ok : t.err;
      if (value.tag !== 'ok' && value.tag !== 'err') throw new TypeError('expected a result');
      return side ? `${value.tag}(${writeValue(side, value.val, opts)})` : value.tag;
    }
    default:
      throw new TypeError(`a ${t.kind} value has no WAVE form here`);
  }
}

function isNone(type, value) {
  const t = resolved(type);
  return nestedOption(t) ? value?.tag === 'none' || value === undefined : value === undefined || value === null;
}

/** The WAVE text of a result or argument list: `(a, b)`. */
export function writeList(types, values, opts = {}) {
  return `(${types.map((ty, i) => writeValue(ty, values[i], opts)).join(', ')})`;
}

// ---------------------------------------------------------------- reading

class Reader {
  constructor(text) {
    this.text = text;
    this.at = 0;
  }

  fail(what) {
    throw new SyntaxError(`bad WAVE at ${this.at} of \`${this.text}\`: ${what}`);
  }

  space() {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }

  peek() {
    this.space();
    return this.text[this.at];
  }

  eat(s) {
    this.space();
    if (this.text.startsWith(s, this.at)) {
      this.at += s.length;
      return true;
    }
    return false;
  }

  expect(s) {
    if (!this.eat(s)) this.fail(`expected \`${s}\``);
  }

  word() {
    this.space();
    const m = /%?[a-zA-Z][a-zA-Z0-9-]*/y;
    m.lastIndex = this.at;
    const found = m.exec(this.text);
    if (!found) this.fail('expected a name');
    this.at = m.lastIndex;
    return found[0].replace(/^%/, '');
  }

  number() {
    this.space();
    const m = /-?(?:inf|nan|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/y;
    m.lastIndex = this.at;
    const found = m.exec(this.text);
    if (!found) this.fail('expected a number');
    this.at = m.lastIndex;
    return found[0];
  }

  quoted(quote) {
    this.space();
    if (this.text[this.at] !== quote) this.fail(`expected ${quote}`);
    this.at++;
    let out = '';
    for (;;) {
      const ch = this.text[this.at++];
      if (ch === undefined) this.fail('unterminated text');
      if (ch === quote) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const esc = this.text[this.at++];
      const simple = { '\\': '\\', '"': '"', "'": "'", t: '\t', r: '\r', n: '\n' }[esc];
      if (simple !== undefined) {
        out += simple;
      } else if (esc === 'u') {
        const m = /\{([0-9a-fA-F]{1,6})\}/y;
        m.lastIndex = this.at;
        const found = m.exec(this.text);
        if (!found) this.fail('bad \\u escape');
        this.at = m.lastIndex;
        out += String.fromCodePoint(parseInt(found[1], 16));
      } else {
        this.fail(`unknown escape \\${esc}`);
      }
    }
  }

  value(type) {
    const t = resolved(type);
    switch (t.kind) {
      case 'bool': {
        const w = this.word();
        if (w !== 'true' && w !== 'false') this.fail('expected true or false');
        return w === 'true';
      }
      case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32':
      case 's64': case 'u64': {
        const text = this.number();
        if (!/^-?[0-9]+$/.test(text)) this.fail(`expected an integer, got ${text}`);
        const n = BigInt(text);
        const [lo, hi] = RANGES[t.kind];
        if (n < lo || n > hi) this.fail(`${text} is out of range for ${t.kind}`);
        return t.kind === 's64' || t.kind === 'u64' ? n : Number(n);
      }
      case 'f32': case 'f64': {
        const text = this.number();
        const n = { nan: NaN, inf: Infinity, '-inf': -Infinity }[text] ?? Number(text);
        return t.kind === 'f32' ? Math.fround(n) : n;
      }
      case 'char': {
        const s = this.quoted("'");
        if ([...s].length !== 1) this.fail('a char is one character');
        return s;
      }
      case 'string':
        return this.quoted('"');
      case 'list': {
        const out = [];
        this.expect('[');
        while (!this.eat(']')) {
          out.push(this.value(t.of));
          if (!this.eat(',')) {
            this.expect(']');
            break;
          }
        }
        return resolved(t.of).kind === 'u8' ? new Uint8Array(out) : out;
      }
      case 'tuple': {
        this.expect('(');
        const out = t.of.map((ty, i) => {
          if (i) this.expect(',');
          return this.value(ty);
        });
        this.eat(',');
        this.expect(')');
        return out;
      }
      case 'record': {
        const out = {};
        const given = new Map();
        this.expect('{');
        if (!this.eat(':')) {
          while (this.peek() !== '}') {
            const name = this.word();
            const field = t.fields.find(([f]) => f === name);
            if (!field) this.fail(`no field \`${name}\` in ${t.name}`);
            this.expect(':');
            given.set(name, this.value(field[1]));
            if (!this.eat(',')) break;
          }
        }
        this.expect('}');
        for (const [name, ty] of t.fields) {
          if (given.has(name)) out[camel(name)] = given.get(name);
          else if (resolved(ty).kind === 'option') out[camel(name)] = none(ty);
          else this.fail(`missing field \`${name}\``);
        }
        return out;
      }
      case 'variant': {
        const name = this.word();
        const found = t.cases.find(([c]) => c === name);
        if (!found) this.fail(`\`${name}\` is not a case of ${t.name}`);
        if (!found[1]) return { tag: name };
        this.expect('(');
        const val = this.value(found[1]);
        this.expect(')');
        return { tag: name, val };
      }
      case 'enum': {
        const name = this.word();
        if (!t.cases.includes(name)) this.fail(`\`${name}\` is not a case of ${t.name}`);
        return name;
      }
      case 'flags': {
        const out = Object.fromEntries(t.names.map((n) => [camel(n), false]));
        this.expect('{');
        while (!this.eat('}')) {
          const name = this.word();
          if (!t.names.includes(name)) this.fail(`\`${name}\` is not a flag of ${t.name}`);
          out[camel(name)] = true;
          if (!this.eat(',')) {
            this.expect('}');
            break;
          }
        }
        return out;
      }
      case 'option': {
        const name = this.word();
        if (name === 'none') return none(t);
        if (name !== 'some') this.fail('expected some(...) or none');
        this.expect('(');
        const val = this.value(t.of);
        this.expect(')');
        return nestedOption(t) ? { tag: 'some', val } : val;
      }
      case 'result': {
        const tag = this.word();
        if (tag !== 'ok' && tag !== 'err') this.fail('expected ok or err');
        const side = tag === 'ok' ? t.ok : t.err;
        if (side && this.eat('(')) {
          const val = this.value(side);
          this.expect(')');
          return { tag, val };
        }
        return { tag, val: undefined };
      }
      default:
        return this.fail(`a ${t.kind} cannot be given as WAVE`);
    }
  }
}

function none(type) {
  return nestedOption(resolved(type)) ? { tag: 'none' } : undefined;
}

/** One WAVE value of `type`. */
export function readValue(type, text) {
  const r = new Reader(text);
  const value = r.value(type);
  r.space();
  if (r.at !== text.length) r.fail('trailing text');
  return value;
}

/**
 * A WAVE call `name(args)` (or a bare name for a function without
 * parameters): the function name as written and its argument values,
 * typed by `lookup(name) -> {params}`. Trailing option parameters may be
 * left out.
 */
export function readCall(text, lookup) {
  const r = new Reader(text);
  r.space();
  const m = /[%a-zA-Z][a-zA-Z0-9:/@.%-]*/y;
  m.lastIndex = r.at;
  const found = m.exec(text);
  if (!found) r.fail('expected a function name');
  r.at = m.lastIndex;
  const name = found[0];
  const { params } = lookup(name);
  const args = [];
  if (r.eat('(')) {
    while (!r.eat(')')) {
      if (args.length >= params.length) r.fail(`too many arguments for ${name}`);
      args.push(r.value(params[args.length][1]));
      if (!r.eat(',')) {
        r.expect(')');
        break;
      }
    }
  }
  r.space();
  if (r.at !== text.length) r.fail('trailing text');
  while (args.length < params.length) {
    const ty = params[args.length][1];
    if (resolved(ty).kind !== 'option') r.fail(`missing argument \`${params[args.length][0]}\``);
    args.push(none(ty));
  }
  return { name, args };
}
