// WIT type text, as a describer prints it (`mother inspect --json`: each
// export's `signature` and its `types`, one definition each): parsed into
// type trees the value codecs walk.
//
// A type tree is one of
//   {kind: 'bool'|'s8'|'u8'|'s16'|'u16'|'s32'|'u32'|'s64'|'u64'|'f32'|'f64'|'char'|'string'}
//   {kind: 'list', of, length?}      {kind: 'tuple', of: [...]}     {kind: 'option', of}
//   {kind: 'result', ok: T|null, err: T|null}
//   {kind: 'record', name, fields: [[name, T]]}   {kind: 'variant', name, cases: [[name, T|null]]}
//   {kind: 'enum', name, cases: [name]}           {kind: 'flags', name, names: [name]}
//   {kind: 'resource', name} / {kind: 'own'|'borrow', of}
// Named types resolve lazily through the table they were defined in, so a
// definition may refer to one printed after it. This module only reads
// text; it never evaluates anything.

const PRIMITIVES = new Set([
  'bool', 's8', 'u8', 's16', 'u16', 's32', 'u32', 's64', 'u64', 'f32', 'f64', 'char', 'string',
]);

/** Splits WIT text into tokens: identifiers (a leading `%` dropped), numbers, punctuation. */
function tokenize(text) {
  const tokens = [];
  const re = /\s+|\/\/[^\n]*|(->)|([<>(),{}:=;_])|(%?[a-zA-Z][a-zA-Z0-9-]*)|([0-9]+)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`unexpected WIT text at ${at}: ${text.slice(at, at + 20)}`);
    at = re.lastIndex;
    if (m[1] || m[2]) tokens.push({ punct: m[1] || m[2] });
    else if (m[3]) tokens.push({ ident: m[3].replace(/^%/, ''), keyword: !m[3].startsWith('%') });
    else if (m[4]) tokens.push({ number: Number(m[4]) });
  }
  return tokens;
}

class Cursor {
  constructor(text) {
    this.text = text;
    this.tokens = tokenize(text);
    this.at = 0;
  }

  peek() {
    return this.tokens[this.at];
  }

  next() {
    const token = this.tokens[this.at++];
    if (!token) throw new Error(`unexpected end of WIT text: ${this.text}`);
    return token;
  }

  punct(p) {
    const token = this.next();
    if (token.punct !== p) throw new Error(`expected \`${p}\` in WIT text: ${this.text}`);
  }

  eat(p) {
    if (this.peek()?.punct === p) {
      this.at++;
      return true;
    }
    return false;
  }

  ident() {
    const token = this.next();
    if (token.ident === undefined) throw new Error(`expected a name in WIT text: ${this.text}`);
    return token.ident;
  }
}

/** A table of named types, filled from definitions, read by name. */
export class TypeTable {
  constructor() {
    this.named = new Map();
  }

  /** Adds one definition: `record point { x: s32, y: s32 }`, `type size = u64`, ... */
  define(text) {
    const c = new Cursor(text);
    const word = c.ident();
    const name = c.ident();
    let type;
    switch (word) {
      case 'record': {
        const fields = [];
        c.punct('{');
        while (!c.eat('}')) {
          const field = c.ident();
          c.punct(':');
          fields.push([field, this.#ref(c)]);
          c.eat(',');
        }
        type = { kind: 'record', name, fields };
        break;
      }
      case 'variant': {
        const cases = [];
        c.punct('{');
        while (!c.eat('}')) {
          const label = c.ident();
          let payload = null;
          if (c.eat('(')) {
            payload = this.#ref(c);
            c.punct(')');
          }
          cases.push([label, payload]);
          c.eat(',');
        }
        type = { kind: 'variant', name, cases };
        break;
      }
      case 'enum':
      case 'flags': {
        const names = [];
        c.punct('{');
        while (!c.eat('}')) {
          names.push(c.ident());
          c.eat(',');
        }
        type = word === 'enum' ? { kind: 'enum', name, cases: names } : { kind: 'flags', name, names };
        break;
      }
      case 'type':
        c.punct('=');
        type = this.#ref(c);
        break;
      case 'resource':
        type = { kind: 'resource', name };
        break;
      default:
        throw new Error(`not a WIT type definition: ${text}`);
    }
    this.named.set(name, type);
  }

  /** The type a name refers to (following aliases). */
  resolve(type) {
    let seen = 0;
    while (type.kind === 'named') {
      const found = this.named.get(type.name);
      if (!found) throw new Error(`the type \`${type.name}\` is not defined`);
      type = found;
      if (++seen > 64) throw new Error(`the type \`${type.name}\` is defined in a loop`);
    }
    return type;
  }

  /** Parses a type reference such as `list<option<point>>`. */
  parse(text) {
    const c = new Cursor(text);
    const type = this.#ref(c);
    if (c.peek()) throw new Error(`trailing WIT text: ${text}`);
    return type;
  }

  /** Parses `[async ]func(a: t, ...)[ -> r]` into {params: [[name, T]], result: T|null}. */
  signature(text) {
    const c = new Cursor(text);
    let word = c.ident();
    if (word === 'async') word = c.ident();
    if (word !== 'func') throw new Error(`not a function type: ${text}`);
    const params = [];
    c.punct('(');
    while (!c.eat(')')) {
      const name = c.ident();
      c.punct(':');
      params.push([name, this.#ref(c)]);
      c.eat(',');
    }
    const result = c.eat('->') ? this.#ref(c) : null;
    return { params, result };
  }

  #ref(c) {
    const token = c.next();
    if (token.punct === '_') return null;
    const word = token.ident;
    if (word === undefined) throw new Error(`expected a type in WIT text: ${c.text}`);
    if (token.keyword && PRIMITIVES.has(word)) return { kind: word };
    if (token.keyword) {
      switch (word) {
        case 'list': {
          c.punct('<');
          const of = this.#ref(c);
          let length;
          if (c.eat(',')) length = c.next().number;
          c.punct('>');
          return length === undefined ? { kind: 'list', of } : { kind: 'list', of, length };
        }
        case 'option':
          c.punct('<');
          try {
            return { kind: 'option', of: this.#ref(c) };
          } finally {
            c.punct('>');
          }
        case 'tuple': {
          const of = [];
          c.punct('<');
          while (!c.eat('>')) {
            of.push(this.#ref(c));
            c.eat(',');
          }
          return { kind: 'tuple', of };
        }
        case 'result': {
          if (!c.eat('<')) return { kind: 'result', ok: null, err: null };
          const ok = this.#ref(c);
          const err = c.eat(',') ? this.#ref(c) : null;
          c.punct('>');
          return { kind: 'result', ok, err };
        }
        case 'own':
        case 'borrow': {
          c.punct('<');
          const of = this.#ref(c);
          c.punct('>');
          return { kind: word, of };
        }
        case 'future':
        case 'stream':
          throw new Error(`${word} values cannot cross this host`);
        default:
          break;
      }
    }
    const table = this;
    return {
      kind: 'named',
      name: word,
      get resolved() {
        return table.resolve(this);
      },
    };
  }
}

/** `kebab-name` as jco spells a record field or flag: `kebabName`. */
export function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, ch) => ch.toUpperCase());
}
