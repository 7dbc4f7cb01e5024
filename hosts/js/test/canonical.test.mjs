// The test vectors pinned in crates/patina-receipts/src/canonical.rs,
// reproduced byte for byte by this host's encoder, hashes and signer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Identity, childId, encodeText, portableHash, seal, transcriptHash, verifies,
} from '../src/canonical.mjs';

const VECTOR_TRANSCRIPT_HASH = '0e25889543792faa20f76fad168cae4726dcc0721918bee9efe247bedd94231c';
const VECTOR_RECEIPT_ID_V2 = '2bbe8feca27fb6c25e0702c7a0d4d00118e240f1ebda97824621a9a956fd6164';
const VECTOR_RECEIPT_ID_V2_CALLER = 'b2e45de77b2ed0c678ae46798c551883dce5a7abd6abdc7aec0a27817f3d2850';

function vectorTranscript() {
  return {
    child: childId(new TextEncoder().encode('vector child')),
    call: {
      function: 'greet',
      args: ['"ann"'],
      argv: null,
      limits: { fuel: 1000000, timeout: 5000, memory: 67108864, output: 1048576 },
      deny_missing: false,
    },
    grants: ['log'],
    unrecorded: [],
    events: [{
      seq: 0,
      toy: 'patina:toys/log@0.1.0',
      function: 'log',
      args: { text: '(info, "greeting ann")' },
      result: { ok: { text: '()' } },
    }],
    outcome: {
      status: { returned: { results: { text: '"hello, ann!"' }, exit_code: null } },
      stdout: { text: '' },
      stderr: { text: '' },
    },
    fuel: 12345,
  };
}

const VECTOR_ENCODING = '{"child":"b3:CHILD","call":{"function":"greet","args":["\\"ann\\""],"argv":null,'
  + '"limits":{"fuel":1000000,"timeout":5000,"memory":67108864,"output":1048576},"deny_missing":false},"grants":["log"],"unrecorded":[],'
  + '"events":[{"seq":0,"toy":"patina:toys/log@0.1.0","function":"log","args":{"text":"(info, \\"greeting ann\\")"},"result":{"ok":{"text":"()"}}}],'
  + '"outcome":{"status":{"returned":{"results":{"text":"\\"hello, ann!\\""},"exit_code":null}},"stdout":{"text":""},"stderr":{"text":""}},"fuel":12345}';

const seven = new Uint8Array(32).fill(7);

test('the transcript encoding and hash are the test vector', () => {
  const t = vectorTranscript();
  const expected = VECTOR_ENCODING.replace('b3:CHILD', t.child);
  assert.equal(encodeText(t), expected);
  assert.equal(transcriptHash(t), VECTOR_TRANSCRIPT_HASH);
});

test('the version 2 receipt id is the test vector, and its signature verifies', () => {
  const receipt = seal(vectorTranscript(), new Identity(seven), {
    startedAtMs: 1700000000000, endedAtMs: 1700000000042, meter: 'fuel',
  });
  assert.equal(receipt.id, VECTOR_RECEIPT_ID_V2);
  assert.equal(receipt.transcript_hash, VECTOR_TRANSCRIPT_HASH);
  assert.ok(verifies(receipt.mother, receipt.id, receipt.signature));
  const text = encodeText(receipt);
  assert.ok(text.includes('"previous":null,"caller":null,"approvals":[],"meter":"fuel","transcript":{'), text);
  assert.ok(text.endsWith(`"transcript_hash":"${VECTOR_TRANSCRIPT_HASH}","id":"${VECTOR_RECEIPT_ID_V2}","signature":"${receipt.signature}"}`));
});

test('a caller and an approval are covered by the id (test vector)', () => {
  const receipt = seal(vectorTranscript(), new Identity(seven), {
    startedAtMs: 1700000000000,
    endedAtMs: 1700000000042,
    meter: 'fuel',
    caller: { id: `ed25519:${'ab'.repeat(32)}`, role: 'agent', door: 'mcp' },
    approvals: [{ grant: 'fs:/notes:ro', by: 'mcp-elicitation' }],
  });
  assert.equal(receipt.id, VECTOR_RECEIPT_ID_V2_CALLER);
});

test('the portable hash leaves the fuel out', () => {
  const t = vectorTranscript();
  assert.equal(portableHash(t), transcriptHash({ ...t, fuel: 0 }));
  assert.notEqual(portableHash(t), transcriptHash(t));
});

test('strings are escaped as serde_json escapes them', () => {
  assert.equal(encodeText('a"b\\c\n\t\u0001\u007f é🦀'), '"a\\"b\\\\c\\n\\t\\u0001\u007f é🦀"');
  assert.throws(() => encodeText(1.5), /non-integer/);
  assert.equal(encodeText(18446744073709551615n), '18446744073709551615');
});
