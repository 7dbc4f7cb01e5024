// One run, inside a worker thread (so the host can stop it at its
// deadline): link the child's imports (the empty WASI base, the granted
// toys wrapped in one recorder, deny stubs), instantiate the jco-transpiled
// child, call the export or the command, and report to the parent:
//   {type: 'event', event, blobs}   as each toy call, clock or random read happens
//   {type: 'output', stream, bytes} as the child writes stdout / stderr
//   {type: 'log', line}             a line of the log toy
//   {type: 'done', status}          how it ended (returned / failed)
// Nothing here reaches the parent's stdio, files or network but through a
// granted toy.

import { parentPort } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Tape } from './tape.mjs';
import { baseImports, ExitSignal, isBase } from './base.mjs';
import { toyFor } from './toys.mjs';
import { TypeTable, camel } from './wit.mjs';
import { readCall, writeList, writeValue } from './wave.mjs';
import { exportedFunctions, jsExport, lookup } from './call.mjs';

/** A call to a deny stub: ends the run as `denied`. */
class DeniedCall extends Error {
  constructor(iface) {
    super(`denied: ${iface}`);
    this.kind = 'denied';
  }
}

/** A toy failed in a way its interface cannot express: ends the run as `toy`. */
class ToyFailure extends Error {
  constructor(iface, message) {
    super(`toy \`${iface}\`: ${message}`);
    this.kind = 'toy';
  }
}

const kebab = (name) => name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);

/** The functions of `toy` for one run, each recorded on `tape`. */
function recordedToy(toy, iface, tape, ctx) {
  const table = new TypeTable();
  for (const definition of toy.types) table.define(definition);
  const impl = toy.instantiate(ctx);
  const out = {};
  for (const [name, text] of Object.entries(toy.functions)) {
    const { params, result } = table.signature(text);
    const opts = toy.typed.includes(name) ? { bytes: (data) => tape.bytes(data) } : {};
    const fn = impl[camel(name)];
    const isResult = result && (result.kind === 'named' ? result.resolved : result).kind === 'result';
    out[camel(name)] = (...args) => {
      const argsText = writeList(params.map(([, ty]) => ty), args, opts);
      let value;
      try {
        value = fn(...args);
      } catch (e) {
        tape.record(iface, name, argsText, { failed: e.message });
        throw new ToyFailure(iface, e.message);
      }
      tape.record(iface, name, argsText, { ok: result ? `(${writeValue(result, value, opts)})` : '()' });
      if (!isResult) return value;
      if (value.tag === 'err') throw { payload: value.val };
      return value.val;
    };
  }
  return out;
}

/** Stubs for an import that was not granted: each call is recorded `denied` and ends the run. */
function deniedImport(iface, tape) {
  const toy = toyFor(iface);
  const table = new TypeTable();
  for (const definition of toy?.types ?? []) table.define(definition);
  return new Proxy({}, {
    get(_, prop) {
      if (typeof prop !== 'string') return undefined;
      if (/^[A-Z]/.test(prop)) return class Denied {};
      const name = kebab(prop);
      return (...args) => {
        const text = toy?.functions[name];
        const argsText = text
          ? writeList(table.signature(text).params.map(([, ty]) => ty), args)
          : '()';
        tape.record(iface, name, argsText, 'denied');
        throw new DeniedCall(iface);
      };
    },
  });
}

async function run(job) {
  const post = (message) => parentPort.postMessage(message);
  const tape = new Tape((event, blobs) => post({ type: 'event', event, blobs }));
  const logs = [];
  const seed = job.seed.map(BigInt);
  const imports = baseImports({
    tape,
    argv: job.argv,
    seed,
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    stdout: (bytes) => post({ type: 'output', stream: 'stdout', bytes: Uint8Array.from(bytes) }),
    stderr: (bytes) => post({ type: 'output', stream: 'stderr', bytes: Uint8Array.from(bytes) }),
  });
  const ctx = {
    childId: job.childId,
    grants: job.grants,
    stateDir: job.stateDir,
    logs: { push: (line) => post({ type: 'log', line }) },
  };
  for (const link of job.links) {
    if (link.how === 'toy') imports[link.key] = recordedToy(toyFor(link.name), link.name, tape, ctx);
    else if (link.how === 'deny') imports[link.key] = deniedImport(link.name, tape);
    else if (!isBase(link.key)) throw new Error(`no link for ${link.name}`);
  }
  void logs;
  const child = await import(pathToFileURL(job.jsPath).href);
  const instance = await child.instantiate((name) => job.modules[name], imports);
  if (job.argv) {
    const runExport = instance.run ?? instance['wasi:cli/run'];
    try {
      runExport.run();
      return { returned: { results: '', exit_code: 0 } };
    } catch (e) {
      if (e instanceof ExitSignal) return { returned: { results: '', exit_code: e.code } };
      if (e?.payload !== undefined || e?.constructor?.name === 'ComponentError') {
        return { returned: { results: '', exit_code: 1 } };
      }
      throw e;
    }
  }
  const f = lookup(exportedFunctions(job.description), job.callName);
  const { args } = readCall(job.call, () => f.signature);
  const fn = jsExport(instance, f);
  if (typeof fn !== 'function') throw new Error(`jco gave no function for ${f.full}`);
  const { result } = f.signature;
  const kind = result && (result.kind === 'named' ? result.resolved : result).kind;
  let value;
  try {
    value = fn(...args);
    if (kind === 'result') value = { tag: 'ok', val: value };
  } catch (e) {
    if (kind === 'result' && e?.constructor?.name === 'ComponentError' && 'payload' in e) {
      value = { tag: 'err', val: e.payload };
    } else {
      throw e;
    }
  }
  return { returned: { results: result ? writeValue(result, value) : '', exit_code: null } };
}

/**
 * A trap's message as a wasmtime host records it — `the child trapped: wasm
 * trap: ` and the canonical text of the trap code — from V8's
 * `RuntimeError` text (or jco's, which already names the trap wasmtime's
 * way): a receipt must not depend on the engine that ran it.
 */
const TRAPS = [
  [/^unreachable$/, 'wasm `unreachable` instruction executed'],
  [/^memory access out of bounds$/, 'out of bounds memory access'],
  [/^divide by zero$|^remainder by zero$/, 'integer divide by zero'],
  [/^integer overflow$|^divide result unrepresentable$/, 'integer overflow'],
  [/^float unrepresentable in integer range$/, 'invalid conversion to integer'],
  [/^table index is out of bounds$/, 'undefined element: out of bounds table access'],
  [/^null function or function signature mismatch$|^function signature mismatch$/, 'indirect call type mismatch'],
  [/^Maximum call stack size exceeded$/, 'call stack exhausted'],
];

/** How a thrown error ends the run: {kind, message}. */
function failure(e) {
  if (e?.kind === 'denied' || e?.kind === 'toy') return { kind: e.kind, message: e.message };
  const raw = String(e?.message ?? e);
  if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
    const named = raw.startsWith('wasm trap: ') ? raw.slice('wasm trap: '.length) : raw;
    const known = TRAPS.find(([pattern]) => pattern.test(named));
    return { kind: 'trap', message: `the child trapped: wasm trap: ${known ? known[1] : named}` };
  }
  return { kind: 'trap', message: `the child trapped: ${raw}` };
}

parentPort.once('message', async (job) => {
  let status;
  try {
    status = await run(job);
  } catch (e) {
    status = { failed: failure(e) };
  }
  parentPort.postMessage({ type: 'done', status });
});
