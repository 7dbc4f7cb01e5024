//! The canonical bytes of a [`Transcript`], written without going through
//! serde's generic machinery for its events — the part that grows with the
//! run (a hundred toy calls cost several times more through the derived
//! serializer than the rest of the transcript together).
//!
//! The bytes must be exactly `serde_json::to_vec(transcript)` (the
//! canonical encoding, [`crate::canonical`]): every event member is written
//! in the model's field order, strings are escaped by serde_json's rules
//! (`"`, `\` and control characters only; `\b \f \n \r \t` short,
//! the others `\u00xx` in lowercase hex), and every value but the event's
//! own members and inline text is written by `serde_json` itself. The tests below compare the two on
//! transcripts with every kind of event and string; a change to [`Event`],
//! [`Payload`] or [`EventResult`] must change this module too.

use serde::Serialize;

use crate::{Event, EventResult, Payload, Transcript};

/// Appends the canonical encoding of `transcript` to `out`.
pub(crate) fn write_transcript(out: &mut Vec<u8>, transcript: &Transcript) {
    let Transcript {
        child,
        call,
        grants,
        unrecorded,
        events,
        outcome,
        fuel,
    } = transcript;
    out.extend_from_slice(b"{\"child\":");
    serde_into(out, child);
    out.extend_from_slice(b",\"call\":");
    serde_into(out, call);
    out.extend_from_slice(b",\"grants\":");
    serde_into(out, grants);
    out.extend_from_slice(b",\"unrecorded\":");
    serde_into(out, unrecorded);
    out.extend_from_slice(b",\"events\":[");
    for (index, event) in events.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_event(out, event);
    }
    out.extend_from_slice(b"],\"outcome\":");
    serde_into(out, outcome);
    out.extend_from_slice(b",\"fuel\":");
    serde_into(out, fuel);
    out.push(b'}');
}

/// The encoding of `event`, as its derived `Serialize` writes it.
fn write_event(out: &mut Vec<u8>, event: &Event) {
    let Event {
        seq,
        toy,
        function,
        args,
        result,
    } = event;
    out.extend_from_slice(b"{\"seq\":");
    write_u64(out, *seq);
    out.extend_from_slice(b",\"toy\":");
    write_str(out, toy);
    out.extend_from_slice(b",\"function\":");
    write_str(out, function);
    out.extend_from_slice(b",\"args\":");
    write_payload(out, args);
    out.extend_from_slice(b",\"result\":");
    match result {
        EventResult::Ok(payload) => {
            out.extend_from_slice(b"{\"ok\":");
            write_payload(out, payload);
            out.push(b'}');
        }
        other => serde_into(out, other),
    }
    out.push(b'}');
}

fn write_payload(out: &mut Vec<u8>, payload: &Payload) {
    match payload {
        Payload::Text(text) => {
            out.extend_from_slice(b"{\"text\":");
            write_str(out, text);
            out.push(b'}');
        }
        other => serde_into(out, other),
    }
}

/// A JSON string: copied between quotes when no byte of it is escaped,
/// else escaped as `serde_json` escapes it.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if escaped(bytes) {
        write_escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// `bytes` (UTF-8) with `"`, `\` and control characters escaped exactly
/// as `serde_json` does.
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let short = ESCAPE[usize::from(byte)];
        if short == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(&[b'\\', short]);
        if short == b'u' {
            let (high, low) = (HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]);
            out.extend_from_slice(&[b'0', b'0', high, low]);
        }
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// How JSON escapes each byte: 0 not at all, `u` as `\u00xx`, else as a
/// backslash and this character (serde_json's table).
const ESCAPE: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// `n` in decimal.
fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Whether JSON escapes a byte of `bytes` (one below 0x20, `"` or `\`),
/// eight bytes at a time: the common case, a string copied as it is, is
/// found without looking at each byte. It may say yes when it need not
/// ([`write_escaped`] then copies the string unchanged), never no when it
/// should.
fn escaped(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    /// Whether some byte of `word` is below `n` (n <= 0x80).
    fn below(word: u64, n: u8) -> bool {
        word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS != 0
    }
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        if below(word, 0x20)
            || below(word ^ (ONES * u64::from(b'"')), 1)
            || below(word ^ (ONES * u64::from(b'\\')), 1)
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// `value` as `serde_json` writes it, appended to `out`.
fn serde_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing plain data into a `Vec` cannot fail (see `canonical::encode`).
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::tests_support::transcript;
    use crate::{Blob, Digest, OutcomeStatus, Text};

    fn event(seq: u64, toy: &str, function: &str, args: Payload, result: EventResult) -> Event {
        Event {
            seq,
            toy: toy.into(),
            function: function.into(),
            args,
            result,
        }
    }

    /// Strings that need every kind of escaping JSON has, and some that
    /// need none although they look as if they might.
    const STRINGS: [&str; 12] = [
        "",
        "(debug, \"line 7\")",
        "back\\slash",
        "tab\there\nnew line\r",
        "\u{0}\u{1}\u{8}\u{c}\u{1f}",
        "\u{7f} del is not escaped",
        "é λ 🦀 \u{200b} \u{2028}\u{2029}",
        "</script> & ' `",
        "patina:toys/log@0.1.0",
        "wasi:clocks/monotonic-clock",
        "(…)",
        "{\"json\": [1, 2]}",
    ];

    #[test]
    fn every_escaped_byte_is_noticed_wherever_it_is() {
        for at in 0..20 {
            for byte in (0..0x20).chain([b'"', b'\\']) {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = byte;
                assert!(escaped(&bytes), "{byte:#x} at {at}");
            }
            let mut plain = vec![b'a'; 20];
            plain[at] = 0x7f;
            assert!(!escaped(&plain), "0x7f at {at}");
            plain[at] = 0xff;
            assert!(!escaped(&plain), "0xff at {at}");
        }
        assert!(!escaped("é λ 🦀 ~ ` ' /".as_bytes()));
        assert!(!escaped(b""));
    }

    /// Every ASCII character, alone and among others, and non-ASCII ones:
    /// written as serde_json writes them.
    #[test]
    fn strings_and_numbers_are_written_as_serde_json_writes_them() {
        let mut all = String::new();
        for c in (0u8..0x80).map(char::from).chain(['é', '\u{2028}', '🦀']) {
            all.push(c);
            for s in [c.to_string(), format!("a{c}b{c}{c}"), all.clone()] {
                let mut ours = Vec::new();
                write_str(&mut ours, &s);
                assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{s:?}");
            }
        }
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            12345,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut ours = Vec::new();
            write_u64(&mut ours, n);
            assert_eq!(ours, n.to_string().into_bytes());
        }
    }

    #[test]
    fn events_encode_exactly_as_serde_json_does() {
        let mut t = transcript();
        let mut blobs = Vec::new();
        let big = Payload::of_text(&"x".repeat(crate::INLINE_LIMIT + 1), &mut blobs);
        assert!(matches!(big, Payload::Ref { .. }));
        for (index, s) in STRINGS.iter().enumerate() {
            let seq = t.events.len() as u64;
            t.events.push(event(
                seq,
                s,
                STRINGS[(index + 1) % STRINGS.len()],
                Payload::Text((*s).into()),
                EventResult::Ok(Payload::Text(Text::from(*s))),
            ));
            t.events
                .push(event(seq + 1, "t", s, Payload::Hex(hex::encode(s)), {
                    EventResult::Failed((*s).to_owned())
                }));
        }
        t.events.push(event(
            u64::MAX,
            "wasi:random/random",
            "get-random-bytes",
            big.clone(),
            EventResult::Denied,
        ));
        t.events.push(event(
            7,
            "acme:blob/store",
            "put",
            Payload::Text(format!("(<blob:{}>)", Blob::digest(b"b")).into()),
            EventResult::Ok(big),
        ));
        t.outcome.status = OutcomeStatus::Failed {
            kind: "trap".into(),
            message: STRINGS[4].into(),
        };
        t.unrecorded = STRINGS.iter().map(|s| (*s).to_owned()).collect();
        t.fuel = u64::MAX;
        let mut fast = Vec::new();
        write_transcript(&mut fast, &t);
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(serde_json::to_vec(&t).unwrap()).unwrap()
        );
        // And with no events at all.
        t.events.clear();
        let mut fast = Vec::new();
        write_transcript(&mut fast, &t);
        assert_eq!(fast, serde_json::to_vec(&t).unwrap());
        assert_ne!(Digest::of("x", &fast), Digest::of("y", &fast));
    }
}
