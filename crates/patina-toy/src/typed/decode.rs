//! [`Decode`]: reading a typed toy value back from transcript WAVE text (in a
//! replay, a recorded answer is handed to the child again). It reads what
//! [`Encode`](super::Encode) writes and what `wasm-wave` writes for the same
//! types — so receipts recorded by the host's dynamic path replay too — and
//! `<blob:HEX>` references, looked up in the replayed receipt's blobs.
//!
//! It must never accept text that does not fit the type (every mismatch is a
//! [`WaveError`]), and never panic on any input.

/// Looks up the bytes of a blob by its digest (the replayed receipt's blobs,
/// each checked against its digest already).
pub type BlobLookup<'a> = dyn Fn(&[u8; 32]) -> Option<Vec<u8>> + Send + Sync + 'a;

/// Recorded text that does not fit the type it is read as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {at}")]
pub struct WaveError {
    /// Where in the text.
    pub at: usize,
    /// What was wrong.
    pub reason: String,
}

/// A cursor over recorded WAVE text.
pub struct WaveReader<'a> {
    text: &'a str,
    at: usize,
    blobs: &'a BlobLookup<'a>,
}

impl<'a> WaveReader<'a> {
    /// A reader of `text`, finding referenced blobs with `blobs`.
    pub fn new(text: &'a str, blobs: &'a BlobLookup<'a>) -> Self {
        Self { text, at: 0, blobs }
    }

    /// A [`WaveError`] here.
    pub fn error(&self, reason: impl Into<String>) -> WaveError {
        WaveError {
            at: self.at,
            reason: reason.into(),
        }
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.at..).unwrap_or("")
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.rest().chars().next()
    }

    /// Consumes `c` if it comes next.
    pub fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Consumes `c`, which must come next.
    pub fn expect(&mut self, c: char) -> Result<(), WaveError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{c}`")))
        }
    }

    /// Checks that nothing but space is left.
    pub fn end(&mut self) -> Result<(), WaveError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("unexpected text after the value")),
        }
    }

    /// A bare token: a number or a label, up to the next delimiter.
    fn token(&mut self) -> &'a str {
        self.skip_space();
        let rest = self.rest();
        let len = rest
            .find(|c: char| c.is_whitespace() || ",()[]{}:".contains(c))
            .unwrap_or(rest.len());
        self.at += len;
        &rest[..len]
    }

    /// A case or field name (without a `%` prefix).
    pub fn label(&mut self) -> Result<&'a str, WaveError> {
        self.eat('%');
        let label = self.token();
        let valid =
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if valid {
            Ok(label)
        } else {
            Err(self.error(format!("expected a name, got `{label}`")))
        }
    }

    /// A number of type `T`.
    pub fn number<T: std::str::FromStr>(&mut self) -> Result<T, WaveError> {
        let token = self.token();
        token
            .parse()
            .map_err(|_| self.error(format!("expected a {}, got `{token}`", short_type::<T>())))
    }

    fn escaped(&mut self, chars: &mut std::str::Chars<'_>) -> Result<char, WaveError> {
        let escape = chars
            .next()
            .ok_or_else(|| self.error("unfinished escape"))?;
        Ok(match escape {
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            't' => '\t',
            'r' => '\r',
            'n' => '\n',
            'u' => {
                let rest = chars.as_str();
                let close = rest
                    .strip_prefix('{')
                    .and_then(|r| r.find('}').map(|end| &r[..end]))
                    .ok_or_else(|| self.error("a `\\u` escape needs `{HEX}`"))?;
                let code = u32::from_str_radix(close, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.error(format!("`\\u{{{close}}}` is not a char")))?;
                *chars = rest[close.len() + 2..].chars();
                code
            }
            other => return Err(self.error(format!("unknown escape `\\{other}`"))),
        })
    }

    /// A quoted string (`quote` is `"`) or char (`'`), unescaped.
    fn quoted(&mut self, quote: char) -> Result<String, WaveError> {
        self.expect(quote)?;
        let mut chars = self.rest().chars();
        let mut out = String::new();
        let start = self.rest().len();
        loop {
            match chars.next() {
                None => return Err(self.error("unterminated text")),
                Some(c) if c == quote => break,
                Some('\\') => out.push(self.escaped(&mut chars)?),
                Some(c) => out.push(c),
            }
        }
        self.at += start - chars.as_str().len();
        Ok(out)
    }

    /// Reads `[item, ...]`.
    pub fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, WaveError>,
    ) -> Result<Vec<T>, WaveError> {
        self.expect('[')?;
        let mut items = Vec::new();
        while !self.eat(']') {
            items.push(item(self)?);
            if !self.eat(',') {
                self.expect(']')?;
                break;
            }
        }
        Ok(items)
    }

    /// Reads a record, handing each field's name to `field`, which reads
    /// its value (fields may come in any order; unknown ones are errors).
    pub fn record(
        &mut self,
        mut field: impl FnMut(&str, &mut Self) -> Result<(), WaveError>,
    ) -> Result<(), WaveError> {
        self.expect('{')?;
        if self.eat(':') {
            return self.expect('}');
        }
        while !self.eat('}') {
            let name = self.label()?;
            self.expect(':')?;
            field(name, self)?;
            if !self.eat(',') {
                self.expect('}')?;
                break;
            }
        }
        Ok(())
    }

    /// Reads the payload of a case, `(value)`, or none for a bare case.
    pub fn payload<T: Decode>(&mut self) -> Result<T, WaveError> {
        if self.eat('(') {
            let value = T::decode(self)?;
            self.expect(')')?;
            Ok(value)
        } else {
            T::bare().ok_or_else(|| self.error("this case needs a payload"))
        }
    }

    fn blob(&mut self) -> Result<Vec<u8>, WaveError> {
        self.expect('<')?;
        let rest = self.rest();
        let hex = rest
            .strip_prefix("blob:")
            .and_then(|r| r.get(..64))
            .filter(|hex| {
                rest.get(69..70) == Some(">") && hex.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .ok_or_else(|| self.error("expected `<blob:` and 64 hex digits and `>`"))?;
        let mut digest = [0u8; 32];
        for (index, byte) in digest.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[index * 2..index * 2 + 2], 16)
                .map_err(|_| self.error("bad hex"))?;
        }
        let bytes = (self.blobs)(&digest)
            .ok_or_else(|| self.error(format!("the blob {hex} is not in the receipt")))?;
        self.at += 70;
        Ok(bytes)
    }
}

fn short_type<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// A typed toy value that can be read from transcript WAVE text.
pub trait Decode: Sized {
    /// Reads one value.
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError>;

    /// The value of a case written without a payload: `()` only.
    fn bare() -> Option<Self> {
        None
    }

    /// The value of a record field left out: `none` for options only.
    fn absent() -> Option<Self> {
        None
    }

    /// Reads a list of values of this type (`u8` also reads a blob reference).
    fn decode_list(r: &mut WaveReader<'_>) -> Result<Vec<Self>, WaveError> {
        r.list(Self::decode)
    }
}

/// Reads one value of type `T` that must be all of `text`.
pub fn decode_all<T: Decode>(text: &str, blobs: &BlobLookup<'_>) -> Result<T, WaveError> {
    let mut reader = WaveReader::new(text, blobs);
    let value = T::decode(&mut reader)?;
    reader.end()?;
    Ok(value)
}

macro_rules! number {
    ($($ty:ty),*) => {$(
        impl Decode for $ty {
            fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
                r.number()
            }
        }
    )*};
}

number!(u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl Decode for u8 {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        r.number()
    }

    fn decode_list(r: &mut WaveReader<'_>) -> Result<Vec<Self>, WaveError> {
        if r.peek() == Some('<') {
            r.blob()
        } else {
            r.list(Self::decode)
        }
    }
}

impl Decode for bool {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        match r.token() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(r.error(format!("expected a bool, got `{other}`"))),
        }
    }
}

impl Decode for char {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        let text = r.quoted('\'')?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(r.error("expected one char")),
        }
    }
}

impl Decode for String {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        r.quoted('"')
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        T::decode_list(r)
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        match r.label()? {
            "none" => Ok(None),
            "some" => {
                r.expect('(')?;
                let value = T::decode(r)?;
                r.expect(')')?;
                Ok(Some(value))
            }
            other => Err(r.error(format!("expected `some` or `none`, got `{other}`"))),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: Decode, E: Decode> Decode for Result<T, E> {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        match r.label()? {
            "ok" => Ok(Ok(r.payload()?)),
            "err" => Ok(Err(r.payload()?)),
            other => Err(r.error(format!("expected `ok` or `err`, got `{other}`"))),
        }
    }
}

impl Decode for () {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        r.expect('(')?;
        r.expect(')')
    }

    fn bare() -> Option<Self> {
        Some(())
    }
}

macro_rules! tuple {
    ($($name:ident),+) => {
        impl<$($name: Decode),+> Decode for ($($name,)+) {
            #[allow(non_snake_case)]
            fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
                r.expect('(')?;
                let mut first = true;
                $(
                    if !std::mem::take(&mut first) {
                        r.expect(',')?;
                    }
                    let $name = $name::decode(r)?;
                )+
                let _ = first;
                r.eat(',');
                r.expect(')')?;
                Ok(($($name,)+))
            }
        }
    };
}

tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);

/// One field of a record being read: set once, then taken.
pub struct Field<T>(Option<T>);

impl<T: Decode> Field<T> {
    /// A field not read yet.
    pub fn new() -> Self {
        Self(None)
    }

    /// Reads the field's value (a second occurrence is an error).
    pub fn read(&mut self, name: &str, r: &mut WaveReader<'_>) -> Result<(), WaveError> {
        if self.0.is_some() {
            return Err(r.error(format!("field `{name}` twice")));
        }
        self.0 = Some(T::decode(r)?);
        Ok(())
    }

    /// The value read, or the value of an absent field (`none`).
    pub fn take(self, name: &str, r: &WaveReader<'_>) -> Result<T, WaveError> {
        self.0
            .or_else(T::absent)
            .ok_or_else(|| r.error(format!("field `{name}` is missing")))
    }
}

impl<T: Decode> Default for Field<T> {
    fn default() -> Self {
        Self::new()
    }
}
