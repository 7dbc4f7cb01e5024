//! [`Encode`]: writing a typed toy value as WAVE text for the run's
//! transcript, byte-identical to what the host's dynamic path (and
//! `wasm-wave`) writes for the same value — except that a `list<u8>` longer
//! than [`INLINE_BYTES`] is written as a reference, `<blob:HEX>`, to a blob
//! of the receipt holding the bytes as they are (see `docs/values.md`).
//!
//! It must never write a value another host could read differently: every
//! rule here is the contract of transcripts, not a choice of this crate.

use std::fmt::Write as _;

/// Longest `list<u8>` written inline as `[1, 2, 3]`; a longer one is
/// `<blob:HEX>`, its bytes a blob of the receipt.
pub const INLINE_BYTES: usize = 256;

/// WAVE keywords, written with a `%` prefix when they name a case.
const KEYWORDS: [&str; 8] = ["true", "false", "some", "none", "ok", "err", "inf", "nan"];

/// A blob of bytes an encoded value refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueBlob {
    /// The digest the host computed for the bytes (see [`BlobDigest`]).
    pub digest: [u8; 32],
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// How the host names a blob: the digest of its bytes (Patina's receipts use
/// a domain-separated blake3).
pub type BlobDigest<'a> = dyn Fn(&[u8]) -> [u8; 32] + Send + Sync + 'a;

/// Whether the run already holds a blob of this digest (so its bytes are
/// not copied again).
pub type BlobKnown<'a> = dyn Fn(&[u8; 32]) -> bool + Send + Sync + 'a;

/// Offers the bytes of a blob the run does not hold yet to the host, which
/// may keep them itself (written aside, out of memory): `true` when it
/// took them, and the writer then refers to them without copying them.
pub type BlobKeep<'a> = dyn Fn(&[u8; 32], &[u8]) -> bool + Send + Sync + 'a;

/// Lowercase hex of `digest`.
pub fn hex(digest: &[u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// WAVE text being written, and the blobs it refers to.
pub struct WaveWriter<'a> {
    out: String,
    blobs: Vec<ValueBlob>,
    digest: &'a BlobDigest<'a>,
    known: Option<&'a BlobKnown<'a>>,
    keep: Option<&'a BlobKeep<'a>>,
}

impl<'a> WaveWriter<'a> {
    /// An empty writer naming blobs with `digest`.
    pub fn new(digest: &'a BlobDigest<'a>) -> Self {
        Self {
            out: String::new(),
            blobs: Vec::new(),
            digest,
            known: None,
            keep: None,
        }
    }

    /// The same writer, leaving out (but still referring to) the blobs
    /// `known` says the run already holds.
    pub fn skipping_known(self, known: &'a BlobKnown<'a>) -> Self {
        Self {
            known: Some(known),
            ..self
        }
    }

    /// The same writer, offering the bytes of each new blob to `keep` before
    /// copying them: the blobs `keep` takes are referred to, not returned.
    pub fn keeping(self, keep: &'a BlobKeep<'a>) -> Self {
        Self {
            keep: Some(keep),
            ..self
        }
    }

    /// The text written and the blobs it refers to.
    pub fn finish(self) -> (String, Vec<ValueBlob>) {
        (self.out, self.blobs)
    }

    /// Writes raw WAVE syntax.
    pub fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// Writes `value` (its [`Encode`] impl).
    pub fn value<T: Encode + ?Sized>(&mut self, value: &T) {
        value.encode(self);
    }

    /// Writes a case name (`%`-prefixed when it is a keyword).
    fn label(&mut self, name: &str) {
        if KEYWORDS.contains(&name) {
            self.out.push('%');
        }
        self.out.push_str(name);
    }

    /// Writes a variant or enum case, with its payload if it has one.
    pub fn case(&mut self, name: &str, payload: Option<&dyn Encode>) {
        self.label(name);
        if let Some(payload) = payload {
            self.out.push('(');
            payload.encode(self);
            self.out.push(')');
        }
    }

    /// Writes a record, `fields` in type order; `none` options are left out,
    /// as WAVE writes them, and a record with nothing written is `{:}`.
    pub fn record(&mut self, fields: &[(&str, &dyn Encode)]) {
        self.out.push('{');
        let mut first = true;
        for (name, value) in fields {
            if value.is_none() {
                continue;
            }
            if !first {
                self.out.push_str(", ");
            }
            first = false;
            self.out.push_str(name);
            self.out.push_str(": ");
            value.encode(self);
        }
        if first {
            self.out.push(':');
        }
        self.out.push('}');
    }

    /// Writes `items` as a WAVE list.
    pub fn list<T: Encode>(&mut self, items: &[T]) {
        self.sequence(('[', ']'), items.iter().map(|item| item as &dyn Encode));
    }

    /// Writes a tuple (or a parameter or result list) of `items`.
    pub fn tuple(&mut self, items: &[&dyn Encode]) {
        self.sequence(('(', ')'), items.iter().copied());
    }

    fn sequence<'v>(
        &mut self,
        (open, close): (char, char),
        items: impl Iterator<Item = &'v dyn Encode>,
    ) {
        self.out.push(open);
        for (index, item) in items.enumerate() {
            if index > 0 {
                self.out.push_str(", ");
            }
            item.encode(self);
        }
        self.out.push(close);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        if bytes.len() <= INLINE_BYTES {
            return self.list(bytes);
        }
        let digest = (self.digest)(bytes);
        self.out.push_str("<blob:");
        self.out.push_str(&hex(&digest));
        self.out.push('>');
        let held = self.known.is_some_and(|known| known(&digest))
            || self.blobs.iter().any(|blob| blob.digest == digest)
            || self.keep.is_some_and(|keep| keep(&digest, bytes));
        if !held {
            self.blobs.push(ValueBlob {
                digest,
                bytes: bytes.to_vec(),
            });
        }
    }

    fn char(&mut self, ch: char) {
        // `wasm-wave`'s escaping, char by char.
        if "\\\"'\t\r\n".contains(ch) {
            let _ = write!(self.out, "{}", ch.escape_default());
        } else if ch.is_control() {
            let _ = write!(self.out, "{}", ch.escape_unicode());
        } else {
            let _ = write!(self.out, "{}", ch.escape_debug());
        }
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        for ch in s.chars() {
            self.char(ch);
        }
        self.out.push('"');
    }

    fn float(&mut self, f: &dyn std::fmt::Display, nan: bool) {
        if nan {
            self.out.push_str("nan");
        } else {
            let _ = write!(self.out, "{f}");
        }
    }
}

/// A typed toy value that can be written as transcript WAVE text.
pub trait Encode {
    /// Writes the value.
    fn encode(&self, w: &mut WaveWriter<'_>);

    /// Whether the value is an absent `option` (left out of records).
    fn is_none(&self) -> bool {
        false
    }

    /// The value as the payload of a case: `()` is a case without one
    /// (`ok` of a `result<_, E>`).
    fn as_payload(&self) -> Option<&dyn Encode>
    where
        Self: Sized,
    {
        Some(self)
    }

    /// Writes a list of values of this type (`u8` writes large lists as a
    /// blob reference).
    fn encode_list(items: &[Self], w: &mut WaveWriter<'_>)
    where
        Self: Sized,
    {
        w.list(items);
    }
}

macro_rules! display {
    ($($ty:ty),*) => {$(
        impl Encode for $ty {
            fn encode(&self, w: &mut WaveWriter<'_>) {
                let _ = write!(w.out, "{self}");
            }
        }
    )*};
}

display!(u16, u32, u64, i8, i16, i32, i64);

impl Encode for u8 {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        let _ = write!(w.out, "{self}");
    }

    fn encode_list(items: &[Self], w: &mut WaveWriter<'_>) {
        w.bytes(items);
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.out.push_str(if *self { "true" } else { "false" });
    }
}

impl Encode for f32 {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        // Written as `f32` displays (`wasm-wave` does the same).
        w.float(self, self.is_nan());
    }
}

impl Encode for f64 {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.float(self, self.is_nan());
    }
}

impl Encode for char {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.out.push('\'');
        w.char(*self);
        w.out.push('\'');
    }
}

impl Encode for str {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.string(self);
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        (**self).encode(w);
    }

    fn is_none(&self) -> bool {
        (**self).is_none()
    }
}

impl Encode for String {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.string(self);
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        T::encode_list(self, w);
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        match self {
            Some(value) => {
                w.out.push_str("some(");
                value.encode(w);
                w.out.push(')');
            }
            None => w.out.push_str("none"),
        }
    }

    fn is_none(&self) -> bool {
        self.is_none()
    }
}

impl<T: Encode, E: Encode> Encode for Result<T, E> {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        let (name, payload) = match self {
            Ok(value) => ("ok", value.as_payload()),
            Err(error) => ("err", error.as_payload()),
        };
        w.out.push_str(name);
        if let Some(payload) = payload {
            w.out.push('(');
            payload.encode(w);
            w.out.push(')');
        }
    }
}

macro_rules! tuple {
    ($($name:ident),+) => {
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode(&self, w: &mut WaveWriter<'_>) {
                let ($($name,)+) = self;
                w.tuple(&[$($name as &dyn Encode),+]);
            }
        }
    };
}

tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);

/// An empty parameter or result list, `()`; as a case payload, none.
impl Encode for () {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.out.push_str("()");
    }

    fn as_payload(&self) -> Option<&dyn Encode> {
        None
    }
}
