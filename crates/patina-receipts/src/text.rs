//! [`Text`]: the immutable string of a recorded event — its toy and
//! function names and its inline WAVE text — cheap to make and to drop.
//!
//! A recorded run writes a few short strings per toy call; as `String`s
//! they cost an allocation and a free each, which was most of what
//! recording a call costs. A `Text` of up to [`Text::INLINE`] bytes lives
//! inside the value itself, a longer one in a shared `Arc<str>` (so the
//! names a host interns once per linked child are shared by every event,
//! not copied). It is written and read exactly as a JSON string: the
//! canonical encoding does not change. This module must never change a
//! text's bytes, and is the one place an inline text's bytes are written
//! (the `unsafe` read of [`Text::as_str`] relies on that).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An immutable UTF-8 string, inline when short, shared when long.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// The first `len` bytes of `bytes`, always a whole UTF-8 string.
    Inline {
        len: u8,
        bytes: [u8; Text::INLINE],
    },
    Shared(Arc<str>),
}

impl Text {
    /// The longest text held inline (no allocation).
    pub const INLINE: usize = 22;

    /// The empty text.
    pub const fn new() -> Self {
        Self(Repr::Inline {
            len: 0,
            bytes: [0; Self::INLINE],
        })
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                debug_assert!(std::str::from_utf8(bytes).is_ok());
                // SAFETY: an inline text is only ever made by `From<&str>`,
                // which copies a whole `&str` into `bytes[..len]` and is the
                // only writer of these private fields, so they are UTF-8.
                // (Checking again costs more than the rest of recording a
                // toy call: a text is read at every comparison and encoding.)
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Repr::Shared(shared) => shared,
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Self::new()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        if s.len() <= Self::INLINE {
            let mut bytes = [0; Self::INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            // `s.len() <= INLINE < 256`.
            let len = s.len() as u8;
            return Self(Repr::Inline { len, bytes });
        }
        Self(Repr::Shared(Arc::from(s)))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        if s.len() <= Self::INLINE {
            return Self::from(s.as_str());
        }
        Self(Repr::Shared(Arc::from(s)))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Self {
        if s.len() <= Self::INLINE {
            return Self::from(&*s);
        }
        Self(Repr::Shared(s))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.as_str().to_owned()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text::from(s))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Text, E> {
                Ok(Text::from(s))
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_texts_keep_their_bytes_and_encode_as_strings() {
        let samples = [
            String::new(),
            "()".to_owned(),
            "x".repeat(Text::INLINE),
            "y".repeat(Text::INLINE + 1),
            "é λ 🦀 \" \\ \n\u{7f}".to_owned(),
            "🦀".repeat(6),
        ];
        for s in samples {
            let text = Text::from(s.as_str());
            assert_eq!(text.as_str(), s);
            assert_eq!(Text::from(s.clone()), text);
            assert_eq!(String::from(text.clone()), s);
            let json = serde_json::to_string(&text).unwrap();
            assert_eq!(json, serde_json::to_string(&s).unwrap());
            let back: Text = serde_json::from_str(&json).unwrap();
            assert_eq!(back, text);
            assert_eq!(format!("{text:?}"), format!("{s:?}"));
        }
        assert!(serde_json::from_str::<Text>("1").is_err());
    }

    #[test]
    fn long_texts_are_shared_not_copied() {
        let name: Arc<str> = Arc::from("wasi:clocks/monotonic-clock@0.2.0");
        let text = Text::from(name.clone());
        let copy = text.clone();
        assert_eq!(Arc::strong_count(&name), 3);
        assert_eq!(copy, *"wasi:clocks/monotonic-clock@0.2.0");
    }
}
