// The `patina:toys` interfaces this host implements in JavaScript: `log`,
// `kv` (the child's own store), `fs` (read-only: read, list, stat) and
// `blob`. Each toy gives its WIT (parsed by `wit.mjs`), its grant kind and
// its functions; `instantiate` returns the functions of one run, each
// answering with the WIT value (results as {tag, val}). Recording is not
// theirs to do: `run.mjs` wraps every function in one recorder.
//
// A toy must never reach past its grant: fs paths stay inside the granted
// root (no absolute paths, no `..` above it, no symlink out), kv keys stay
// in the child's own file, blob ids are content hashes checked on read.

import fs from 'node:fs';
import path from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import { hex } from './canonical.mjs';

const MAX_NAME = 1 << 10;
const MAX_VALUE = 16 << 20;
const MAX_BYTES = 16 << 20;

const ok = (val) => ({ tag: 'ok', val });
const err = (val) => ({ tag: 'err', val });

/** The log toy: lines go to the run's log, never to the host's stdio. */
const log = {
  name: 'log',
  interface: 'patina:toys/log@0.1.0',
  types: ['enum level { trace, debug, info, warn, error }'],
  functions: { log: 'func(level: level, message: string)' },
  typed: [],
  instantiate(ctx) {
    return {
      log(level, message) {
        ctx.logs.push({ level, message: cut(message, 64 << 10) });
      },
    };
  },
};

function cut(text, bytes) {
  const encoded = new TextEncoder().encode(text);
  if (encoded.length <= bytes) return text;
  let end = bytes;
  while (end > 0 && (encoded[end] & 0xc0) === 0x80) end--;
  return `${new TextDecoder().decode(encoded.slice(0, end))} [truncated]`;
}

/** The kv toy: the child's own keys, in a JSON file per child under the state directory. */
const kv = {
  name: 'kv',
  interface: 'patina:toys/kv@0.1.0',
  types: [
    'variant value { null, integer(s64), real(f64), text(string), blob(list<u8>) }',
    'record rows { columns: list<string>, rows: list<list<value>> }',
  ],
  functions: {
    get: 'func(namespace: string, key: string) -> result<option<list<u8>>, string>',
    set: 'func(namespace: string, key: string, value: list<u8>) -> result<_, string>',
    delete: 'func(namespace: string, key: string) -> result<bool, string>',
    keys: 'func(namespace: string, prefix: string) -> result<list<string>, string>',
    clear: 'func(namespace: string) -> result<u64, string>',
    query: 'func(database: string, sql: string, params: list<value>) -> result<rows, string>',
  },
  typed: ['get', 'set'],
  instantiate(ctx) {
    const file = path.join(ctx.stateDir, 'kv', `${ctx.childId.replace(':', '-')}.json`);
    const load = () => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (e) {
        if (e.code === 'ENOENT') return {};
        throw e;
      }
    };
    const save = (data) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(data));
      fs.renameSync(`${file}.tmp`, file);
    };
    const names = (namespace, key) => {
      for (const [what, name] of [['namespace', namespace], ['key', key]]) {
        const len = Buffer.byteLength(name);
        if (len > MAX_NAME) return `a ${what} is at most ${MAX_NAME} bytes, got ${len}`;
      }
      return null;
    };
    return {
      get(namespace, key) {
        const refused = names(namespace, key);
        if (refused) return err(refused);
        const value = load()[namespace]?.[key];
        return ok(value === undefined ? undefined : new Uint8Array(Buffer.from(value, 'hex')));
      },
      set(namespace, key, value) {
        const refused = names(namespace, key);
        if (refused) return err(refused);
        if (value.length > MAX_VALUE) return err(`a value holds at most ${MAX_VALUE} bytes, got ${value.length}`);
        const data = load();
        (data[namespace] ??= {})[key] = hex(value);
        save(data);
        return ok(undefined);
      },
      delete(namespace, key) {
        const refused = names(namespace, key);
        if (refused) return err(refused);
        const data = load();
        const had = data[namespace] !== undefined && key in data[namespace];
        if (had) {
          delete data[namespace][key];
          save(data);
        }
        return ok(had);
      },
      keys(namespace, prefix) {
        const refused = names(namespace, prefix);
        if (refused) return err(refused);
        const keys = Object.keys(load()[namespace] ?? {}).filter((k) => k.startsWith(prefix));
        return ok(keys.sort(bytewise));
      },
      clear(namespace) {
        const refused = names(namespace, '');
        if (refused) return err(refused);
        const data = load();
        const n = Object.keys(data[namespace] ?? {}).length;
        delete data[namespace];
        save(data);
        return ok(BigInt(n));
      },
      query() {
        return err('this host has no SQL databases to query (kv:FILE grants are not implemented)');
      },
    };
  },
};

function bytewise(a, b) {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The fs toy, read-only: read, list and stat inside the granted root. */
const fsToy = {
  name: 'fs',
  grantKind: 'fs',
  interface: 'patina:toys/fs@0.1.0',
  types: [
    'enum kind { file, directory, symlink, other }',
    'record entry { name: string, kind: kind }',
    'record metadata { kind: kind, size: u64, modified-ns: option<u64> }',
    'variant error { escape(string), not-found, not-a-directory, is-a-directory, not-permitted(string), too-large(u64), io(string) }',
  ],
  functions: {
    read: 'func(path: string) -> result<list<u8>, error>',
    list: 'func(path: string) -> result<list<entry>, error>',
    stat: 'func(path: string) -> result<metadata, error>',
    write: 'func(path: string, data: list<u8>) -> result<_, error>',
    'create-dir': 'func(path: string) -> result<_, error>',
    remove: 'func(path: string) -> result<_, error>',
  },
  typed: ['read', 'write'],
  instantiate(ctx) {
    const grant = ctx.grants.find((g) => g.startsWith('fs:'));
    const { root, access } = parseFsGrant(grant);
    const readOnly = () => err({ tag: 'not-permitted', val: 'the grant is read-only (`ro`)' });
    return {
      read(p) {
        return within(root, p, (full, st) => {
          if (st.isDirectory()) return err({ tag: 'is-a-directory' });
          if (!st.isFile()) return err({ tag: 'io', val: 'not a regular file' });
          if (st.size > MAX_BYTES) return err({ tag: 'too-large', val: BigInt(st.size) });
          return ok(new Uint8Array(fs.readFileSync(full)));
        });
      },
      list(p) {
        return within(root, p, (full, st) => {
          if (!st.isDirectory()) return err({ tag: 'not-a-directory' });
          const entries = fs.readdirSync(full, { withFileTypes: true })
            .map((d) => ({ name: d.name, kind: kindOf(d) }))
            .sort((a, b) => bytewise(a.name, b.name));
          return ok(entries);
        });
      },
      stat(p) {
        return within(root, p, (full, st) => ok({
          kind: kindOf(st),
          size: BigInt(st.size),
          modifiedNs: st.mtimeNs ?? BigInt(Math.round(st.mtimeMs * 1e6)),
        }), { lstat: true });
      },
      write() {
        return access === 'rw' ? err({ tag: 'io', val: 'writing is not implemented on this host' }) : readOnly('write');
      },
      createDir() {
        return access === 'rw' ? err({ tag: 'io', val: 'writing is not implemented on this host' }) : readOnly('create-dir');
      },
      remove() {
        return access === 'rw' ? err({ tag: 'io', val: 'writing is not implemented on this host' }) : readOnly('remove');
      },
    };
  },
};

/** `fs:DIR:ro|rw` -> {root, access}. */
export function parseFsGrant(grant) {
  const m = /^fs:(.+):(ro|rw)$/.exec(grant ?? '');
  if (!m) throw new Error(`not an fs grant: ${grant}`);
  return { root: m[1], access: m[2] };
}

function kindOf(st) {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  return 'other';
}

function shorten(p) {
  return [...p].length > 200 ? `${[...p].slice(0, 200).join('')}…` : p;
}

/**
 * Resolves `p` inside `root` (relative, no `..` above the root, every
 * symlink on the way staying inside) and calls `then(full, stat)`; an
 * escape, a missing path or an I/O failure is the fs error case.
 */
function within(root, p, then, { lstat = false } = {}) {
  if (p.includes('\0')) return err({ tag: 'io', val: 'the path contains a NUL byte' });
  if (path.isAbsolute(p)) {
    return err({ tag: 'escape', val: `\`${shorten(p)}\` is absolute; paths are relative to the granted directory` });
  }
  let depth = 0;
  for (const part of p.split('/')) {
    if (part === '..') {
      depth -= 1;
      if (depth < 0) return err({ tag: 'escape', val: `\`${shorten(p)}\` climbs above the granted directory` });
    } else if (part !== '.' && part !== '') {
      depth += 1;
    }
  }
  const full = path.join(root, p === '' ? '.' : p);
  try {
    const real = lstat ? path.join(fs.realpathSync(path.dirname(full)), path.basename(full)) : fs.realpathSync(full);
    if (real !== root && !real.startsWith(`${root}/`)) {
      return err({ tag: 'escape', val: `\`${shorten(p)}\` leads outside the granted directory` });
    }
    return then(real, lstat ? fs.lstatSync(real) : fs.statSync(real));
  } catch (e) {
    if (e.code === 'ENOENT') return err({ tag: 'not-found' });
    if (e.code === 'ENOTDIR') return err({ tag: 'not-a-directory' });
    return err({ tag: 'io', val: e.message });
  }
}

/** The blob toy: content-addressed bytes under the state directory. */
const blob = {
  name: 'blob',
  interface: 'patina:toys/blob@0.1.0',
  types: [],
  functions: {
    put: 'func(data: list<u8>) -> result<string, string>',
    get: 'func(id: string) -> result<option<list<u8>>, string>',
    has: 'func(id: string) -> result<bool, string>',
  },
  typed: ['put', 'get'],
  instantiate(ctx) {
    const dir = path.join(ctx.stateDir, 'blobs');
    const where = (digest) => path.join(dir, digest.slice(0, 2), digest);
    const parse = (id) => {
      const m = /^b3:([0-9a-f]{64})$/.exec(id);
      if (m) return m[1];
      const shown = [...id].length > 80 ? `${[...id].slice(0, 80).join('')}…` : id;
      return err(`invalid blob id ${JSON.stringify(shown)}: an id is \`b3:\` followed by 64 lowercase hex digits`);
    };
    const read = (digest) => {
      let bytes;
      try {
        bytes = fs.readFileSync(where(digest));
      } catch (e) {
        if (e.code === 'ENOENT') return ok(undefined);
        return err(e.message);
      }
      if (hex(blake3(bytes)) !== digest) return err(`blob b3:${digest} is corrupt: its bytes no longer match its id`);
      return ok(new Uint8Array(bytes));
    };
    return {
      put(data) {
        if (data.length > MAX_BYTES) return err(`a blob holds at most ${MAX_BYTES} bytes, got ${data.length}`);
        const digest = hex(blake3(data));
        fs.mkdirSync(path.dirname(where(digest)), { recursive: true });
        fs.writeFileSync(`${where(digest)}.tmp`, data);
        fs.renameSync(`${where(digest)}.tmp`, where(digest));
        return ok(`b3:${digest}`);
      },
      get(id) {
        const digest = parse(id);
        return typeof digest === 'string' ? read(digest) : digest;
      },
      has(id) {
        const digest = parse(id);
        if (typeof digest !== 'string') return digest;
        const found = read(digest);
        return found.tag === 'ok' ? ok(found.val !== undefined) : found;
      },
    };
  },
};

/** Every toy this host implements, by grant kind. */
export const TOYS = new Map([log, kv, fsToy, blob].map((toy) => [toy.grantKind ?? toy.name, toy]));

/** The toy serving the interface `name` (`patina:toys/kv@0.1.0`), if any: same package and name, semver-compatible version. */
export function toyFor(name) {
  const m = /^patina:toys\/([a-z-]+)@0\.1\.\d+$/.exec(name);
  return m ? [...TOYS.values()].find((toy) => toy.interface.startsWith(`patina:toys/${m[1]}@`)) : undefined;
}
