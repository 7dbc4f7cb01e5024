#!/usr/bin/env node
// patina-js: the JavaScript Mother's command line.
//
//   patina-js run CHILD.wasm 'CALL' --describe DESCRIPTION.json [--grant G]... [--deny-missing]
//             [--fuel N] [--timeout MS] [--memory BYTES] [--out RECEIPT.json] [--json]
//   patina-js run CHILD.wasm --describe DESCRIPTION.json [--grant G]... -- ARGS...   (a command child)
//   patina-js serve        one JSON request per stdin line, one JSON answer per stdout line
//   patina-js key          this host's public key (ed25519:<hex>)
//
// DESCRIPTION.json is the child's description as `mother inspect CHILD --json`
// prints it (its imports and its exports' WIT types). $PATINA_JS_HOME holds
// the host's key, transpiled children, toy state and receipts
// (default ~/.local/share/patina-js). Errors: `error[kind]: message`, exit 1.

import fs from 'node:fs';
import readline from 'node:readline';
import { Host } from '../src/host.mjs';
import { encodeText, exportReceipt } from '../src/canonical.mjs';

function parseRun(argv) {
  const opts = { grants: [], limits: {}, denyMissing: false, json: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw Object.assign(new Error(`${arg} needs a value`), { kind: 'usage' });
      return argv[++i];
    };
    switch (arg) {
      case '--': opts.argv = argv.slice(i + 1); i = argv.length; break;
      case '--grant': opts.grants.push(value()); break;
      case '--deny-missing': opts.denyMissing = true; break;
      case '--describe': opts.describe = value(); break;
      case '--fuel': opts.limits.fuel = Number(value()); break;
      case '--timeout': opts.limits.timeout = Number(value()); break;
      case '--memory': opts.limits.memory = Number(value()); break;
      case '--out': opts.out = value(); break;
      case '--json': opts.json = true; break;
      default: positional.push(arg);
    }
  }
  [opts.child, opts.call] = positional;
  if (!opts.child || !opts.describe || (!opts.call && !opts.argv)) {
    throw Object.assign(new Error('usage: patina-js run CHILD.wasm CALL --describe FILE [--grant G]... (or -- ARGS for a command)'), { kind: 'usage' });
  }
  return opts;
}

/** One request as `serve` reads it, answered as `serve` writes it. */
async function answer(host, request) {
  try {
    const ran = await host.run({
      bytes: fs.readFileSync(request.child),
      description: request.description,
      call: request.call,
      argv: request.argv,
      grants: request.grants ?? [],
      denyMissing: request.deny_missing ?? false,
      limits: request.limits ?? {},
    });
    return { summary: ran.summary, export: encodeText(exportReceipt(ran.receipt, ran.blobs)) };
  } catch (e) {
    return { refused: { kind: e.kind ?? 'host', message: e.message } };
  }
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const host = new Host();
  switch (command) {
    case 'key':
      console.log(host.identity.id());
      return 0;
    case 'serve': {
      const lines = readline.createInterface({ input: process.stdin });
      for await (const line of lines) {
        if (!line.trim()) continue;
        let reply;
        try {
          const request = JSON.parse(line);
          reply = { id: request.id ?? null, ...(await answer(host, request)) };
        } catch (e) {
          reply = { id: null, refused: { kind: 'bad-request', message: e.message } };
        }
        process.stdout.write(`${JSON.stringify(reply)}\n`);
      }
      return 0;
    }
    case 'run': {
      const opts = parseRun(rest);
      const description = JSON.parse(fs.readFileSync(opts.describe, 'utf8'));
      const reply = await answer(host, {
        child: opts.child, description, call: opts.call, argv: opts.argv,
        grants: opts.grants, deny_missing: opts.denyMissing, limits: opts.limits,
      });
      if (reply.refused) {
        if (opts.json) console.log(JSON.stringify({ error: reply.refused }));
        else console.error(`error[${reply.refused.kind}]: ${reply.refused.message}`);
        return 1;
      }
      if (opts.out) fs.writeFileSync(opts.out, reply.export);
      const s = reply.summary;
      if (opts.json) {
        console.log(JSON.stringify(s));
      } else {
        process.stdout.write(s.stdout);
        process.stderr.write(s.stderr);
        for (const line of s.logs) console.error(`[${line.level}] ${line.message}`);
        if (s.wave) console.log(s.wave);
        if (s.error) console.error(`error[${s.error.kind}]: ${s.error.message}`);
        console.error(`receipt ${s.receipt}${opts.out ? ` (written to ${opts.out})` : ''}`);
      }
      if (s.error) return 1;
      return s.exit_code ?? 0;
    }
    default:
      console.error('usage: patina-js run|serve|key (see the top of bin/patina-js.mjs)');
      return 2;
  }
}

main().then((code) => {
  process.exitCode = code;
}, (e) => {
  console.error(`error[${e.kind ?? 'host'}]: ${e.message}`);
  process.exitCode = 1;
});
