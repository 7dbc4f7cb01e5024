//! Writing a list of values as WAVE text (`(1, "a", info)`) on the hot path of
//! recording: plain integers, booleans, ASCII strings and enum cases are
//! written directly; everything else goes through `wasm-wave`. The output must
//! be byte-identical to `wasm-wave`'s (receipt hashes depend on it) — the test
//! below checks that on tricky values.

use std::fmt::Write as _;

use wasmtime::component::Val;

/// WAVE keywords, which `wasm-wave` writes with a `%` prefix when they are
/// enum cases.
const KEYWORDS: [&str; 8] = ["true", "false", "some", "none", "ok", "err", "inf", "nan"];

/// Whether `wasm-wave` writes `s` between quotes unchanged.
fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'\\' | b'"' | b'\''))
}

fn write_value(out: &mut String, value: &Val) {
    let _ = match value {
        Val::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            Ok(())
        }
        Val::S8(n) => write!(out, "{n}"),
        Val::U8(n) => write!(out, "{n}"),
        Val::S16(n) => write!(out, "{n}"),
        Val::U16(n) => write!(out, "{n}"),
        Val::S32(n) => write!(out, "{n}"),
        Val::U32(n) => write!(out, "{n}"),
        Val::S64(n) => write!(out, "{n}"),
        Val::U64(n) => write!(out, "{n}"),
        Val::String(s) if plain(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
            Ok(())
        }
        Val::Enum(case) if !KEYWORDS.contains(&case.as_str()) => {
            out.push_str(case);
            Ok(())
        }
        other => {
            out.push_str(&super::wave(other));
            Ok(())
        }
    };
}

/// Writes `values` as a parenthesised WAVE list.
pub fn wave_list(values: &[Val]) -> String {
    let mut out = String::with_capacity(2 + 16 * values.len());
    write_wave_list(&mut out, values);
    out
}

/// Appends `values` as a parenthesised WAVE list to `out` (a buffer a
/// recording reuses from call to call, so writing allocates nothing).
pub fn write_wave_list(out: &mut String, values: &[Val]) {
    out.push('(');
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_value(out, value);
    }
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(values: &[Val]) -> String {
        format!(
            "({})",
            values
                .iter()
                .map(super::super::wave)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    #[test]
    fn matches_wasm_wave_byte_for_byte() {
        let strings = [
            "",
            "plain text",
            "quote \" here",
            "back\\slash",
            "it's",
            "tab\there",
            "new\nline",
            "\r",
            "\0",
            "é accent",
            "λ",
            "emoji 🦀",
            "\u{7f}",
            "\u{200b}zero width",
            "\u{301}combining",
            "~ and `",
        ];
        let mut values: Vec<Val> = strings.iter().map(|s| Val::String((*s).into())).collect();
        values.extend(
            [
                "info", "nan", "ok", "err", "true", "some", "none", "inf", "false", "debug",
            ]
            .map(|c| Val::Enum(c.into())),
        );
        values.extend([
            Val::Bool(true),
            Val::Bool(false),
            Val::S8(-128),
            Val::U8(255),
            Val::S16(-1),
            Val::U16(65535),
            Val::S32(i32::MIN),
            Val::U32(u32::MAX),
            Val::S64(i64::MIN),
            Val::U64(u64::MAX),
            Val::Float64(1.5),
            Val::Float32(f32::NAN),
            Val::Char('\''),
            Val::List(vec![Val::U8(1), Val::U8(2)]),
            Val::Option(Some(Box::new(Val::String("x".into())))),
        ]);
        for value in &values {
            let one = std::slice::from_ref(value);
            assert_eq!(wave_list(one), reference(one), "{value:?}");
        }
        assert_eq!(wave_list(&values), reference(&values));
        assert_eq!(wave_list(&[]), "()");
        let mut buffer = "(1)".to_owned();
        write_wave_list(&mut buffer, &values[..2]);
        assert_eq!(
            buffer,
            format!("(1){}", reference(&values[..2])),
            "appended"
        );
    }
}
