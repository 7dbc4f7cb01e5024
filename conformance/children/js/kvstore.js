// conf-kvstore in JavaScript (componentize-js): the `kv` toy's answers and errors.
import * as kv from 'patina:toys/kv@0.1.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (bytes) => (bytes === undefined ? undefined : decoder.decode(bytes));

export function putGet(ns, key, value) {
  kv.set(ns, key, encoder.encode(value));
  return text(kv.get(ns, key));
}

export function get(ns, key) {
  return text(kv.get(ns, key));
}

export function churn(ns) {
  for (const key of ['a', 'b', 'c']) kv.set(ns, key, encoder.encode(key));
  const deleted = kv.delete(ns, 'b');
  const keys = kv.keys(ns, '');
  const cleared = kv.clear(ns);
  return [keys, deleted, cleared];
}

export function tooLongKey() {
  kv.set('ns', 'k'.repeat(2000), encoder.encode('v'));
}
