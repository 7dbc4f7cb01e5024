//! [`Text`]: the immutable string of a recorded event — its toy and
//! function names and its inline WAVE text — cheap to make and to drop.
//!
//! A recorded run writes a few short strings per toy call; as `String`s
//! they cost an allocation and a free each, which was most of what
//! recording a call costs. A `Text` is `smol_str`'s `SmolStr`: up to
//! [`Text::INLINE_CAP`] bytes live inside the value itself, a longer one in
//! a shared `Arc<str>` (so the names a host interns once per linked child
//! are shared by every event, not copied). It is written and read exactly
//! as a JSON string: the canonical encoding does not change. The tests
//! below hold it to that; nothing here may change a text's bytes.

/// An immutable UTF-8 string, inline when short, shared when long.
pub type Text = smol_str::SmolStr;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn short_and_long_texts_keep_their_bytes_and_encode_as_strings() {
        let samples = [
            String::new(),
            "()".to_owned(),
            "x".repeat(Text::INLINE_CAP),
            "y".repeat(Text::INLINE_CAP + 1),
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
