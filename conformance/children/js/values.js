// conf-values in JavaScript (componentize-js): the world `patina:conformance/pure`,
// every kind of WIT value across the boundary, answering exactly as the Rust child.

const wrapS32 = (n) => n | 0;

// ComponentizeJS 0.22.0 hands an exported function's negative `s64`
// argument over as its unsigned twin (-9 arrives as 2^64 - 9), a guest
// toolchain defect of the same family as ComponentizeJS issue #343 (negative
// `s64` import arguments). Arithmetic on such an argument must first read it
// back as signed; an echo needs nothing, the host gets the same 64 bits.
const s64 = (n) => BigInt.asIntN(64, n);

export function add(a, b) {
  return wrapS32(a + b);
}

const NEXT = { red: 'green', green: 'blue', blue: 'red' };

export const values = {
  echoBool: (b) => b,
  echoInts: (a, b, c, d, e, f, g, h) => [a, b, c, d, e, f, g, h],
  echoFloats: (a, b) => [a, b],
  echoChar: (c) => c,
  echoString: (s) => s,
  echoBytes: (b) => b,
  reverse: (xs) => [...xs].reverse(),
  echoRecord: (s) => s,
  area(s) {
    switch (s.tag) {
      case 'circle': return Math.PI * s.val * s.val;
      case 'rect': return Math.abs(s.val.x * s.val.y);
      default: return 0;
    }
  },
  nextColor: (c) => NEXT[c],
  toggleExec: (p) => ({ ...p, exec: !p.exec }),
  maybeDiv: (a, b) => (b === 0n ? undefined : a / b),
  nestedOption(x) {
    if (x === undefined) return undefined;
    return x === 0 ? { tag: 'some', val: undefined } : { tag: 'some', val: x };
  },
  checkedDiv(a, b) {
    if (b === 0n) throw 'division by zero';
    return s64(s64(a) / s64(b));
  },
  even(n) {
    if (n % 2 !== 0) throw undefined;
  },
  swap: ([s, n]) => [n, s],
  nothing() {},
  boom(message) {
    throw new Error(message);
  },
};
