#!/usr/bin/env node
// Builds a JavaScript child with componentize-js (the conformance suite's
// JS children): `node tools/componentize.mjs SOURCE.js WIT_DIR WORLD OUT.wasm`.
// componentize-js runs its splicer as a WASI component on preview2-shim,
// which since 0.26 preopens nothing by default; the splicer must read the
// source and the WIT, so the build (not any child) gets `/` preopened.

import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';

const [source, wit, world, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: componentize.mjs SOURCE.js WIT_DIR WORLD OUT.wasm');
  process.exit(2);
}
_setPreopens({ '/': '/' });
const { componentize } = await import('@bytecodealliance/componentize-js');
const { component } = await componentize({
  sourcePath: resolve(source),
  witPath: resolve(wit),
  worldName: world,
  // Leave out wasi:http (fetch): these children never fetch.
  disableFeatures: ['http', 'fetch-event'],
});
await writeFile(out, component);
