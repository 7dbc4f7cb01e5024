// The child's exports as the describer lists them (`mother inspect --json`),
// and the lookup of a function by the name a caller writes: `add`,
// `values.echo-point`, `patina:conformance/values.echo-point`, or the bare
// function name when it is unique — the names the wasmtime hosts accept.

import { TypeTable, camel } from './wit.mjs';

/** Every exported function: {full, iface, fn, signature: {params, result}}. */
export function exportedFunctions(description) {
  const out = [];
  for (const item of description.exports) {
    const table = new TypeTable();
    for (const definition of item.types) table.define(definition);
    for (const f of item.functions) {
      if (f.name.startsWith('[')) continue; // resource functions are not callable here
      const iface = item.kind === 'interface' ? item.name : null;
      out.push({
        full: iface ? `${iface}.${f.name}` : f.name,
        iface,
        fn: f.name,
        signature: table.signature(f.signature),
      });
    }
  }
  return out;
}

/** The function `name` refers to (an exact full name wins), or an error naming the choices. */
export function lookup(functions, name) {
  const exact = functions.find((f) => f.full === name);
  if (exact) return exact;
  const matches = functions.filter((f) => {
    if (f.fn === name) return true;
    if (!f.iface) return false;
    const unversioned = f.iface.split('@')[0];
    const short = unversioned.split('/').pop();
    return name === `${unversioned}.${f.fn}` || name === `${short}.${f.fn}`;
  });
  if (matches.length === 1) return matches[0];
  const names = functions.map((f) => f.full).join(', ');
  const why = matches.length ? 'is ambiguous' : 'is not exported';
  throw Object.assign(new Error(`\`${name}\` ${why}; the child exports ${names}`), { kind: 'no-such-function' });
}

/** The JavaScript function jco gives for an export, on an instantiated child. */
export function jsExport(instance, f) {
  if (!f.iface) return instance[camel(f.fn)];
  const unversioned = f.iface.split('@')[0];
  const holder = instance[f.iface] ?? instance[unversioned] ?? instance[unversioned.split('/').pop()];
  return holder?.[camel(f.fn)];
}
