//! Lowercase hex of fixed-size digests and keys, written on the stack.
//!
//! Ids are printed and serialised on every receipt, several times each
//! (sealing, the stored body, the answer to a caller); `hex::encode` built a
//! `String` a `char` at a time for each, which `perf` put at a fifth of a
//! served Mother's sealing thread. [`hex32`] and [`hex64`] write the digits
//! into a buffer the caller keeps on its stack, and must never allocate nor
//! accept more bytes than that buffer holds (the caller's sizes are fixed:
//! 32-byte digests and keys, 64-byte signatures); [`hex_string`] writes any
//! length (recorded random bytes, binary payloads) into one allocation.

/// ASCII text of at most `N` bytes: a short prefix and hex digits.
#[derive(Clone, Copy)]
pub struct HexText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> HexText<N> {
    /// `prefix` then the lowercase hex digits of `bytes` (the `hex` crate's
    /// `encode_to_slice`). Bytes whose digits do not fit in `N` are left
    /// out (no caller gives more: the sizes are fixed at compile time, and
    /// tests pin them).
    pub fn new(prefix: &str, bytes: &[u8]) -> Self {
        debug_assert!(
            prefix.is_ascii() && prefix.len() + 2 * bytes.len() <= N,
            "HexText<{N}> is too small for `{prefix}` and {} bytes",
            bytes.len()
        );
        let mut text = Self {
            bytes: [0; N],
            len: 0,
        };
        let start = prefix.len();
        if !prefix.is_ascii() || start > N {
            return text;
        }
        let fit = bytes.len().min((N - start) / 2);
        let end = start + 2 * fit;
        text.bytes[..start].copy_from_slice(prefix.as_bytes());
        if hex::encode_to_slice(&bytes[..fit], &mut text.bytes[start..end]).is_ok() {
            text.len = end;
        }
        text
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII was written, so this never falls back.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// The 64 hex digits of a 32-byte digest or key, after `prefix` (at most 8
/// bytes, such as `b3:` or `ed25519:`).
pub fn hex32(prefix: &str, bytes: &[u8; 32]) -> HexText<72> {
    HexText::new(prefix, bytes)
}

/// The 128 hex digits of a 64-byte signature.
pub fn hex64(bytes: &[u8; 64]) -> HexText<128> {
    HexText::new("", bytes)
}

/// The lowercase hex digits of `bytes`, in one allocation of their size
/// (`hex::encode` builds its `String` a `char` at a time).
pub fn hex_string(bytes: &[u8]) -> String {
    let mut digits = vec![0; bytes.len() * 2];
    if hex::encode_to_slice(bytes, &mut digits).is_err() {
        // Only on a length mismatch, which the size above rules out.
        return String::new();
    }
    // Only ASCII digits, so this never falls back.
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_the_hex_crates() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37 + 5) as u8);
        assert_eq!(hex32("", &bytes).as_str(), hex::encode(bytes));
        assert_eq!(
            hex32("ed25519:", &bytes).as_str(),
            format!("ed25519:{}", hex::encode(bytes))
        );
        let signature: [u8; 64] = std::array::from_fn(|i| (255 - i * 3) as u8);
        assert_eq!(hex64(&signature).as_str(), hex::encode(signature));
        assert_eq!(
            hex32("b3:", &[0xff; 32]).as_str(),
            format!("b3:{}", "ff".repeat(32))
        );
        let long: Vec<u8> = (0..=255).chain(0..=7).collect();
        assert_eq!(hex_string(&long), hex::encode(&long));
        assert_eq!(hex_string(&[]), "");
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn text_past_the_buffer_is_left_out() {
        assert_eq!(HexText::<5>::new("b3:", &[0xab, 0xcd]).as_str(), "b3:ab");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "too small")]
    fn a_buffer_too_small_is_a_bug_caught_in_debug_builds() {
        let _ = HexText::<5>::new("b3:", &[0xab, 0xcd]);
    }
}
