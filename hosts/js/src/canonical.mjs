// The canonical receipt encoding (docs/receipts.md, docs/conformance.md):
// compact JSON, object members in the model's declaration order (never
// sorted, never skipped: an absent option is `null`), integers only, strings
// escaped as serde_json escapes them (`"`, `\`, control characters), enums
// externally tagged. The hashes are blake3 with a domain label and a NUL;
// the receipt is signed with Ed25519 over
// "patina-receipt-signature-v1\0" + the 32 bytes of its id.
//
// This module writes receipts; it must never reorder members or emit a
// float, and every object it writes is built in canonical order by the
// functions below (plain JS objects keep insertion order for these keys).

import { blake3 } from '@noble/hashes/blake3.js';
import { ed25519 } from '@noble/curves/ed25519.js';

const TRANSCRIPT_DOMAIN = 'patina-transcript-v1';
const RECEIPT_DOMAIN_V2 = 'patina-receipt-v2';
const SIGNATURE_DOMAIN = 'patina-receipt-signature-v1';
const BLOB_DOMAIN = 'patina-blob-v1';

/** Payloads longer than this many bytes are kept by reference. */
export const INLINE_LIMIT = 4096;

const utf8 = new TextEncoder();

/** Lowercase hex of bytes. */
export function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

/** Bytes of lowercase hex. */
export function unhex(text) {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error(`not hex: ${text}`);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/**
 * The canonical bytes of a value: objects in insertion order, integers
 * (numbers that are safe integers, or BigInt) only.
 */
export function encode(value) {
  return utf8.encode(encodeText(value));
}

/** The canonical text of a value (see `encode`). */
export function encodeText(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new Error(`the canonical encoding has no non-integer or unsafe number: ${value}`);
      }
      return String(value);
    case 'string':
      // JSON.stringify escapes exactly `"`, `\` and U+0000..U+001F (as \b \t
      // \n \f \r or \u00xx), like serde_json, for well-formed strings.
      if (!value.isWellFormed()) throw new Error('a string with a lone surrogate');
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map(encodeText).join(',')}]`;
      return `{${Object.entries(value)
        .map(([key, member]) => `${JSON.stringify(key)}:${encodeText(member)}`)
        .join(',')}}`;
    default:
      throw new Error(`cannot encode a ${typeof value}`);
  }
}

/** blake3(domain + "\0" + bytes), 32 bytes. */
export function digestOf(domain, bytes) {
  const hasher = blake3.create();
  hasher.update(utf8.encode(domain));
  hasher.update(new Uint8Array([0]));
  hasher.update(bytes);
  return hasher.digest();
}

/** A child's id: `b3:` + blake3 of its bytes (no domain). */
export function childId(bytes) {
  return `b3:${hex(blake3(bytes))}`;
}

/** The digest a blob of `bytes` is kept under. */
export function blobDigest(bytes) {
  return hex(digestOf(BLOB_DOMAIN, bytes));
}

/** The transcript hash (hex). */
export function transcriptHash(transcript) {
  return hex(digestOf(TRANSCRIPT_DOMAIN, encode(transcript)));
}

/** The portable hash: the transcript hash with `fuel` set to 0. */
export function portableHash(transcript) {
  return transcriptHash({ ...transcript, fuel: 0 });
}

/**
 * A recorded value: inline text when small and UTF-8, inline hex when small
 * and binary, else a reference `{ref: {digest, len}}` with the bytes pushed
 * to `blobs` as `{digest, bytes}`.
 */
export function payloadOfBytes(bytes, blobs) {
  if (bytes.length > INLINE_LIMIT) {
    const digest = blobDigest(bytes);
    blobs.push({ digest, bytes });
    return { ref: { digest, len: bytes.length } };
  }
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return { text: text.decode(bytes) };
  } catch {
    return { hex: hex(bytes) };
  }
}

/** A recorded text (WAVE, say), by reference when long. */
export function payloadOfText(text, blobs) {
  return payloadOfBytes(utf8.encode(text), blobs);
}

/** An Ed25519 identity from a 32-byte seed. */
export class Identity {
  constructor(seed) {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new Error('an identity seed is 32 bytes');
    }
    this.seed = seed;
    this.publicKey = ed25519.getPublicKey(seed);
  }

  /** `ed25519:` + the public key in hex, as receipts name a Mother. */
  id() {
    return `ed25519:${hex(this.publicKey)}`;
  }

  /** The signature (hex) of a receipt id (hex). */
  sign(idHex) {
    return hex(ed25519.sign(signedMessage(idHex), this.seed));
  }
}

function signedMessage(idHex) {
  const domain = utf8.encode(SIGNATURE_DOMAIN);
  const message = new Uint8Array(domain.length + 1 + 32);
  message.set(domain, 0);
  message[domain.length] = 0;
  message.set(unhex(idHex), domain.length + 1);
  return message;
}

/** Whether `signature` is `motherId`'s signature of `idHex`. */
export function verifies(motherId, idHex, signature) {
  const key = unhex(motherId.replace(/^ed25519:/, ''));
  try {
    return ed25519.verify(unhex(signature), signedMessage(idHex), key);
  } catch {
    return false;
  }
}

/**
 * Seals a transcript into a version 2 receipt of `identity`.
 * `header`: {startedAtMs, endedAtMs, previous, caller, approvals, meter}.
 */
export function seal(transcript, identity, header) {
  const transcript_hash = transcriptHash(transcript);
  const head = {
    version: 2,
    mother: identity.id(),
    started_at_ms: header.startedAtMs,
    ended_at_ms: header.endedAtMs,
    previous: header.previous ?? null,
    caller: header.caller ?? null,
    approvals: header.approvals ?? [],
    meter: header.meter ?? 'none',
  };
  // What the id covers: the header, then the transcript hash, then the
  // transcript (this order, not the receipt's).
  const idInput = { ...head, transcript_hash, transcript };
  const id = hex(digestOf(RECEIPT_DOMAIN_V2, encode(idInput)));
  return { ...head, transcript, transcript_hash, id, signature: identity.sign(id) };
}

/** The exported form: the receipt and the blobs it refers to, by digest. */
export function exportReceipt(receipt, blobs) {
  const seen = new Map();
  for (const blob of blobs) seen.set(blob.digest, blob);
  const sorted = [...seen.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return { receipt, blobs: sorted.map((b) => ({ digest: b.digest, hex: hex(b.bytes) })) };
}
