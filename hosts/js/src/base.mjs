// The WASI base every child gets on this host, as on a wasmtime Mother:
// interfaces present so that any ordinary component links, but empty of
// authority — no environment variables, no preopened directory, no
// sockets, stdin empty, stdout and stderr captured. The clocks and random
// sources go through the tape: each read is a receipt event, written as the
// wasmtime hosts write it, so a receipt of this host replays on theirs.
//
// This module must never hand a child the process's files, environment,
// network or real stdio.

/** Ends a run: the child called `wasi:cli/exit`. */
export class ExitSignal extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}

const closed = () => ({ payload: { tag: 'closed' } });

class IoError {
  constructor(message) {
    this.message = message;
  }

  toDebugString() {
    return this.message;
  }
}

class Pollable {
  ready() {
    return true;
  }

  block() {}
}

class InputStream {
  read() {
    throw closed();
  }

  blockingRead() {
    throw closed();
  }

  skip() {
    throw closed();
  }

  blockingSkip() {
    throw closed();
  }

  subscribe() {
    return new Pollable();
  }
}

class OutputStream {
  constructor(sink) {
    this.sink = sink;
  }

  checkWrite() {
    return 1048576n;
  }

  write(bytes) {
    this.sink(bytes);
  }

  blockingWriteAndFlush(bytes) {
    this.sink(bytes);
  }

  flush() {}

  blockingFlush() {}

  writeZeroes(len) {
    this.sink(new Uint8Array(Number(len)));
  }

  blockingWriteZeroesAndFlush(len) {
    this.sink(new Uint8Array(Number(len)));
  }

  splice() {
    throw closed();
  }

  blockingSplice() {
    throw closed();
  }

  subscribe() {
    return new Pollable();
  }
}

class Descriptor {}
class DirectoryEntryStream {}
class TerminalInput {}
class TerminalOutput {}

/** Random bytes are drawn and recorded in chunks of this many bytes (as wasmtime hosts do). */
const RANDOM_CHUNK = 256;

/**
 * A random source as the wasmtime hosts' recording source behaves: bytes
 * come from recorded 256-byte chunks, and a `get-random-bytes(n)` takes one
 * 32-bit word per byte (its low byte), as rand's `random_iter::<u8>` does.
 */
class TapedRandom {
  constructor(tape, iface, fresh) {
    this.tape = tape;
    this.iface = iface;
    this.fresh = fresh;
    this.buffer = new Uint8Array(0);
    this.used = 0;
  }

  fill(n) {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.used === this.buffer.length) {
        this.buffer = this.fresh(RANDOM_CHUNK);
        this.tape.record(this.iface, 'bytes', `(${RANDOM_CHUNK})`, {
          ok: `("${Buffer.from(this.buffer).toString('hex')}")`,
        });
        this.used = 0;
      }
      const take = Math.min(n - filled, this.buffer.length - this.used);
      out.set(this.buffer.subarray(this.used, this.used + take), filled);
      filled += take;
      this.used += take;
    }
    return out;
  }

  bytes(len) {
    const out = new Uint8Array(Number(len));
    for (let i = 0; i < out.length; i++) out[i] = this.fill(4)[0];
    return out;
  }

  u64() {
    return Buffer.from(this.fill(8)).readBigUInt64LE(0);
  }
}

/** A socket interface: present, and every operation denied. */
function deniedSockets() {
  const deny = () => {
    throw { payload: 'access-denied' };
  };
  return new Proxy({}, {
    get(_, name) {
      if (typeof name !== 'string') return undefined;
      if (/^[A-Z]/.test(name)) return class { static [Symbol.hasInstance]() { return false; } };
      return deny;
    },
  });
}

/**
 * The base imports of one run, keyed as jco asks for them (interface names
 * without versions). `ctx`: {tape, argv, stdout(bytes), stderr(bytes),
 * seed: [lo, hi] BigInts, randomBytes(n)}.
 */
export function baseImports(ctx) {
  const { tape } = ctx;
  const started = process.hrtime.bigint();
  const secure = new TapedRandom(tape, 'wasi:random/random', ctx.randomBytes);
  const insecure = new TapedRandom(tape, 'wasi:random/insecure', ctx.randomBytes);
  const stdout = new OutputStream(ctx.stdout);
  const stderr = new OutputStream(ctx.stderr);
  return {
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll: (list) => new Uint32Array(list.map((_, i) => i)) },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:cli/environment': {
      getEnvironment: () => [],
      getArguments: () => ctx.argv ?? [],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit(status) {
        throw new ExitSignal(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode(code) {
        throw new ExitSignal(code);
      },
    },
    'wasi:cli/stdin': { getStdin: () => new InputStream() },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/wall-clock': {
      now() {
        const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
        const seconds = ns / 1000000000n;
        const nanoseconds = Number(ns % 1000000000n);
        tape.record('wasi:clocks/wall-clock', 'now', '()', {
          ok: `({seconds: ${seconds}, nanoseconds: ${nanoseconds}})`,
        });
        return { seconds, nanoseconds };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1 }),
    },
    'wasi:clocks/monotonic-clock': {
      now() {
        const ns = process.hrtime.bigint() - started;
        tape.record('wasi:clocks/monotonic-clock', 'now', '()', { ok: `(${ns})` });
        return ns;
      },
      resolution: () => 1n,
      subscribeInstant: () => new Pollable(),
      subscribeDuration: () => new Pollable(),
    },
    'wasi:random/random': {
      getRandomBytes: (len) => secure.bytes(len),
      getRandomU64: () => secure.u64(),
    },
    'wasi:random/insecure': {
      getInsecureRandomBytes: (len) => insecure.bytes(len),
      getInsecureRandomU64: () => insecure.u64(),
    },
    'wasi:random/insecure-seed': { insecureSeed: () => ctx.seed },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: () => undefined,
    },
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:sockets/network': deniedSockets(),
    'wasi:sockets/instance-network': deniedSockets(),
    'wasi:sockets/tcp': deniedSockets(),
    'wasi:sockets/tcp-create-socket': deniedSockets(),
    'wasi:sockets/udp': deniedSockets(),
    'wasi:sockets/udp-create-socket': deniedSockets(),
    'wasi:sockets/ip-name-lookup': deniedSockets(),
  };
}

/** Whether an import (versionless, as jco names it) is part of the base. */
export function isBase(name) {
  return /^wasi:(io|cli|clocks|random|filesystem|sockets)\//.test(name);
}
