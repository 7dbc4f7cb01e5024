// The run's tape: every toy call, denial, clock and random read, in order,
// as receipt events (`{seq, toy, function, args, result}` with WAVE text
// payloads). Events go to `sink` as they happen, so a run stopped at its
// deadline keeps what it recorded. The tape never changes an answer.

import { payloadOfText, blobDigest } from './canonical.mjs';

/** Byte lists longer than this are written `<blob:HEX>` in typed toy calls. */
export const BYTES_INLINE = 256;

export class Tape {
  constructor(sink) {
    this.sink = sink;
    this.seq = 0;
    this.blobs = [];
  }

  /** Records one call: `result` is {ok: text} | 'denied' | {failed: message}. */
  record(toy, fn, argsText, result) {
    const event = {
      seq: this.seq++,
      toy,
      function: fn,
      args: payloadOfText(argsText, this.blobs),
      result: typeof result === 'string'
        ? result
        : 'ok' in result
          ? { ok: payloadOfText(result.ok, this.blobs) }
          : { failed: result.failed },
    };
    this.sink(event, this.blobs.splice(0));
    return event;
  }

  /**
   * A byte list written in a typed toy call's WAVE text: inline up to 256
   * bytes, else `<blob:HEX>` with the bytes kept as a blob of the receipt.
   */
  bytes(data) {
    if (data.length <= BYTES_INLINE) return `[${Array.from(data).join(', ')}]`;
    const digest = blobDigest(data);
    this.blobs.push({ digest, bytes: data });
    return `<blob:${digest}>`;
  }
}
