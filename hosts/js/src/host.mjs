// The edge Mother: a JavaScript host of `patina:toys` children on Node and
// jco. `Host.run` takes component bytes, the child's description (its
// exports' WIT types, as `mother inspect --json` prints them), a call and
// grants; it refuses before starting when an import is neither WASI base
// nor granted (or links deny stubs with `denyMissing`), runs the child in a
// worker thread under a deadline, and seals every run into a canonical
// version 2 receipt (`meter: "none"`, `fuel: 0`) signed with the host's own
// Ed25519 key, chained to its previous receipt.
//
// It must never give a child authority a grant did not name, and never
// write a receipt whose bytes differ from what a wasmtime host would
// write for the same transcript.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { transpile } from '@bytecodealliance/jco';
import { Identity, childId as idOf, exportReceipt, payloadOfBytes, seal, encode } from './canonical.mjs';
import { isBase } from './base.mjs';
import { TOYS, toyFor, parseFsGrant } from './toys.mjs';
import { exportedFunctions, lookup } from './call.mjs';
import { readCall } from './wave.mjs';

/** A run refused before it started: {kind, message}, as the wasmtime hosts name them. */
export class Refused extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/** The default limits of a run, as the wasmtime hosts have them. */
export const DEFAULT_LIMITS = { fuel: 10_000_000_000, timeout: 10_000, memory: 256 << 20, output: 4 << 20 };

const versionless = (name) => name.split('@')[0];

/** Parses and canonicalises one grant this host can serve. */
export function canonicalGrant(text) {
  const kind = text.split(':')[0];
  if (kind === 'fs') {
    const { root, access } = parseFsGrant(text);
    let real;
    try {
      real = fs.realpathSync(root);
    } catch (e) {
      throw new Refused('bad-grant', `invalid grant \`${text}\`: ${e.message}`);
    }
    if (!fs.statSync(real).isDirectory()) throw new Refused('bad-grant', `invalid grant \`${text}\`: not a directory`);
    return `fs:${real}:${access}`;
  }
  if (kind === text && TOYS.has(kind)) return kind;
  throw new Refused('bad-grant', `this host has no toy for the grant \`${text}\` (it serves log, kv, blob, fs:DIR:ro)`);
}

/** Grants sorted as the wasmtime hosts sort them: by kind, then scope (none first). */
function sortGrants(grants) {
  const split = (g) => {
    const at = g.indexOf(':');
    return at < 0 ? [g, null] : [g.slice(0, at), g.slice(at + 1)];
  };
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return [...new Set(grants)].sort((a, b) => {
    const [ka, sa] = split(a);
    const [kb, sb] = split(b);
    if (ka !== kb) return cmp(ka, kb);
    if (sa === sb) return 0;
    if (sa === null) return -1;
    if (sb === null) return 1;
    return cmp(sa, sb);
  });
}

export class Host {
  /** `home`: the host's directory (identity key, transpiled children, toy state, receipts). */
  constructor(home = process.env.PATINA_JS_HOME ?? path.join(os.homedir(), '.local/share/patina-js')) {
    this.home = home;
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    this.identity = new Identity(this.#seed());
    this.loaded = new Map();
  }

  #seed() {
    const file = path.join(this.home, 'identity.key');
    try {
      const st = fs.statSync(file);
      if ((st.mode & 0o077) !== 0) throw new Error(`${file} is readable by others; refusing to use it`);
      return new Uint8Array(fs.readFileSync(file));
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
      const seed = new Uint8Array(randomBytes(32));
      fs.writeFileSync(file, seed, { mode: 0o600, flag: 'wx' });
      return seed;
    }
  }

  /** Transpiles (once per child id) and compiles the child's core modules. */
  async load(bytes) {
    const id = idOf(bytes);
    if (this.loaded.has(id)) return this.loaded.get(id);
    const dir = path.join(this.home, 'children', id.slice(3));
    const jsPath = path.join(dir, 'child.js');
    if (!fs.existsSync(jsPath)) {
      const { files } = await transpile(bytes, {
        name: 'child', instantiation: 'async', noTypescript: true, quiet: true,
      });
      const staging = `${dir}.${process.pid}.tmp`;
      fs.rmSync(staging, { recursive: true, force: true });
      for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(staging, name)), { recursive: true });
        fs.writeFileSync(path.join(staging, name), content);
      }
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      try {
        fs.renameSync(staging, dir);
      } catch (e) {
        if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
        fs.rmSync(staging, { recursive: true, force: true });
      }
    }
    const modules = {};
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.wasm'))) {
      modules[name] = await WebAssembly.compile(fs.readFileSync(path.join(dir, name)));
    }
    const child = { id, jsPath, modules };
    this.loaded.set(id, child);
    return child;
  }

  /** How each import is served: base, a granted toy, a deny stub; refuses when one is missing. */
  plan(description, grants, denyMissing) {
    const links = [];
    const missing = [];
    for (const item of description.imports) {
      const key = versionless(item.name);
      if (isBase(key)) {
        links.push({ key, name: item.name, how: 'base' });
        continue;
      }
      const toy = toyFor(item.name);
      const kind = toy?.grantKind ?? toy?.name;
      const granted = toy && grants.some((g) => g === kind || g.startsWith(`${kind}:`));
      if (granted) links.push({ key, name: item.name, how: 'toy' });
      else if (denyMissing) links.push({ key, name: item.name, how: 'deny' });
      else missing.push(`${item.name} (grant \`${kind ?? 'none this host knows'}\`)`);
    }
    if (missing.length) {
      throw new Refused('missing-grants', `the child imports what was not granted: ${missing.join(', ')}`);
    }
    return links;
  }

  /**
   * One recorded run. `request`: {bytes, description, call (WAVE) | argv (after
   * argv[0]), grants, denyMissing, limits: {fuel, timeout (ms), memory, output}}.
   * Returns {receipt, blobs, summary}; throws `Refused` before starting.
   */
  async run(request) {
    const grants = sortGrants((request.grants ?? []).map(canonicalGrant));
    const limits = { ...DEFAULT_LIMITS, ...request.limits };
    const { description } = request;
    const isCommand = Array.isArray(request.argv);
    const functions = exportedFunctions(description);
    let target;
    let argsText = [];
    if (isCommand) {
      target = functions.find((f) => f.iface && versionless(f.iface) === 'wasi:cli/run' && f.fn === 'run');
      if (!target) throw new Refused('not-a-command', 'the child does not export wasi:cli/run');
    } else {
      let call;
      try {
        const name = request.call.trim().split('(')[0];
        target = lookup(functions, name);
        call = readCall(request.call, () => target.signature);
      } catch (e) {
        throw new Refused(e.kind === 'no-such-function' ? 'unknown-function' : 'bad-arguments', e.message);
      }
      const { writeValue } = await import('./wave.mjs');
      argsText = call.args.map((v, i) => writeValue(target.signature.params[i][1], v));
    }
    const links = this.plan(description, grants, request.denyMissing);
    const child = await this.load(request.bytes);
    const digest = Buffer.from(child.id.slice(3), 'hex');
    const seed = [digest.readBigUInt64LE(0).toString(), digest.readBigUInt64LE(8).toString()];
    // argv[0] is the child's id, as on the wasmtime hosts.
    const argv = isCommand ? [child.id, ...request.argv] : null;
    const startedAtMs = Date.now();
    const ran = await this.#inWorker({
      jsPath: child.jsPath,
      modules: child.modules,
      description,
      links,
      call: request.call,
      callName: target.full,
      argv,
      grants,
      stateDir: path.join(this.home, 'state'),
      childId: child.id,
      seed,
    }, limits.timeout);
    const endedAtMs = Date.now();
    const blobs = ran.blobs;
    const status = ran.status.returned
      ? { returned: { results: payloadOfBytes(new TextEncoder().encode(ran.status.returned.results), blobs), exit_code: ran.status.returned.exit_code } }
      : { failed: ran.status.failed };
    const usesFs = description.imports.some((i) => i.name.startsWith('wasi:filesystem/'));
    const usesNet = description.imports.some((i) => i.name.startsWith('wasi:sockets/'));
    const transcript = {
      child: child.id,
      call: {
        function: target.full,
        args: argsText,
        argv,
        limits: { fuel: limits.fuel, timeout: limits.timeout, memory: limits.memory, output: limits.output },
        deny_missing: Boolean(request.denyMissing),
      },
      grants,
      unrecorded: grants.filter((g) => (g.startsWith('fs:') && usesFs) || (g.startsWith('net:') && usesNet)),
      events: ran.events,
      outcome: {
        status,
        stdout: payloadOfBytes(ran.stdout, blobs),
        stderr: payloadOfBytes(ran.stderr, blobs),
      },
      fuel: 0,
    };
    const receipt = seal(transcript, this.identity, {
      startedAtMs, endedAtMs, previous: this.#head(), meter: 'none',
    });
    this.#keep(receipt, blobs);
    return {
      receipt,
      blobs,
      summary: {
        child: child.id,
        call: target.full,
        wave: ran.status.returned?.results ?? null,
        exit_code: ran.status.returned?.exit_code ?? null,
        error: ran.status.failed ?? null,
        stdout: new TextDecoder().decode(ran.stdout),
        stderr: new TextDecoder().decode(ran.stderr),
        logs: ran.logs,
        receipt: receipt.id,
      },
    };
  }

  /** Runs `job` in a worker; stops it at the deadline (`deadline-exceeded`, what it recorded kept). */
  #inWorker(job, timeoutMs) {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./run.mjs', import.meta.url));
      const events = [];
      const blobs = [];
      const out = { stdout: [], stderr: [] };
      const logs = [];
      let done = false;
      const finish = (status) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        worker.terminate();
        resolve({
          status, events, blobs, logs,
          stdout: Buffer.concat(out.stdout), stderr: Buffer.concat(out.stderr),
        });
      };
      const timer = setTimeout(() => finish({
        failed: { kind: 'deadline-exceeded', message: `deadline exceeded: the run was stopped after ${timeoutMs} ms` },
      }), timeoutMs);
      worker.on('message', (message) => {
        if (message.type === 'event') {
          events.push(message.event);
          blobs.push(...message.blobs);
        } else if (message.type === 'output') {
          out[message.stream].push(Buffer.from(message.bytes));
        } else if (message.type === 'log') {
          logs.push(message.line);
        } else if (message.type === 'done') {
          finish(message.status);
        }
      });
      worker.on('error', (e) => finish({ failed: { kind: 'trap', message: e.message } }));
      worker.on('exit', () => {
        if (!done) reject(new Error('the run worker exited without an answer'));
      });
      worker.postMessage(job);
    });
  }

  #head() {
    try {
      return fs.readFileSync(path.join(this.home, 'receipts', 'HEAD'), 'utf8').trim() || null;
    } catch {
      return null;
    }
  }

  #keep(receipt, blobs) {
    const dir = path.join(this.home, 'receipts');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${receipt.id}.json`), encode(exportReceipt(receipt, blobs)));
    fs.writeFileSync(path.join(dir, 'HEAD.tmp'), receipt.id);
    fs.renameSync(path.join(dir, 'HEAD.tmp'), path.join(dir, 'HEAD'));
  }
}
