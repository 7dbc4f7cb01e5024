//! Scalars: `bool`, the integers of every width (decimal strings, range
//! checks), the floats (special strings, `f32` overflow and shortest output),
//! `char` and `string`, and the shape of an error's `Display`.
//!
//! These tests must never reach past the public functions into the private
//! helpers: they test behaviour, not the implementation.

use serde_json::json;

use super::*;

#[test]
fn error_display_names_path_expected_and_got() {
    let e = err(&param("describe-widths", "b"), json!(300));
    assert_eq!(
        e.to_string(),
        "at $: expected u8 (an integer from 0 to 255), got number 300 (out of range)"
    );
    let e = err(&param("echo-point", "p"), json!({"x": 1, "y": "two"}));
    assert_eq!(
        e.to_string(),
        "at $.y: expected s32 (an integer from -2147483648 to 2147483647), got string \"two\""
    );
}

#[test]
fn bool_both_ways() {
    let ty = param("extras", "b");
    round_trip(&ty, Val::Bool(true), json!(true));
    round_trip(&ty, Val::Bool(false), json!(false));
    for bad in [json!(1), json!("true"), json!(null)] {
        let e = err(&ty, bad);
        assert_eq!(
            (e.path.as_str(), e.expected.as_str()),
            ("$", "bool (true or false)")
        );
    }
}

#[test]
fn integers_of_every_width() {
    let cases: [(&str, Json, Val); 8] = [
        ("a", json!(-128), Val::S8(-128)),
        ("b", json!(255), Val::U8(255)),
        ("c", json!(-32768), Val::S16(-32768)),
        ("d", json!(65535), Val::U16(65535)),
        ("e", json!(4_294_967_295_u32), Val::U32(u32::MAX)),
        ("f", json!(i64::MIN), Val::S64(i64::MIN)),
        ("a", json!(127), Val::S8(127)),
        ("c", json!(0), Val::S16(0)),
    ];
    for (p, json, val) in cases {
        round_trip(&param("describe-widths", p), val, json);
    }
    assert_eq!(ok(&param("add", "a"), json!(-7)), Val::S32(-7));
    assert_eq!(
        ok(&param("maybe-div", "a"), json!(u64::MAX)),
        Val::U64(u64::MAX)
    );
}

#[test]
fn integers_accept_decimal_strings() {
    let u64_ty = param("maybe-div", "a");
    let s64_ty = param("checked-div", "a");
    assert_eq!(
        ok(&u64_ty, json!("18446744073709551615")),
        Val::U64(u64::MAX)
    );
    assert_eq!(
        ok(&s64_ty, json!("-9223372036854775808")),
        Val::S64(i64::MIN)
    );
    assert_eq!(ok(&s64_ty, json!("-0")), Val::S64(0));
    assert_eq!(ok(&param("describe-widths", "b"), json!("007")), Val::U8(7));
    // Beyond 2^53, where a float-based JSON reader would round: exact.
    assert_eq!(
        ok(&u64_ty, json!("9007199254740993")),
        Val::U64(9_007_199_254_740_993)
    );
    // Output is a JSON integer, exact whatever its size.
    assert_eq!(
        val_to_json(&Val::U64(u64::MAX)).to_string(),
        "18446744073709551615"
    );
}

#[test]
fn integers_out_of_range_are_errors_not_wraps() {
    let cases: [(&str, &str, Json); 14] = [
        ("describe-widths", "a", json!(128)),
        ("describe-widths", "a", json!(-129)),
        ("describe-widths", "b", json!(-1)),
        ("describe-widths", "b", json!(256)),
        ("describe-widths", "c", json!(40000)),
        ("describe-widths", "d", json!(65536)),
        ("describe-widths", "e", json!(4_294_967_296_u64)),
        ("add", "a", json!(2_147_483_648_u64)),
        ("maybe-div", "a", json!(-1)),
        ("maybe-div", "a", json!("18446744073709551616")),
        (
            "maybe-div",
            "a",
            serde_json::from_str("18446744073709551616").unwrap(),
        ),
        ("checked-div", "a", json!(-1e30)),
        ("checked-div", "a", json!("9223372036854775808")),
        (
            "checked-div",
            "a",
            json!("-99999999999999999999999999999999999999999999"),
        ),
    ];
    for (f, p, json) in cases {
        let e = err(&param(f, p), json.clone());
        assert_eq!(e.path, "$", "{json}");
        assert!(e.got.ends_with("(out of range)"), "{json}: {e}");
    }
    let e = err(&param("describe-widths", "a"), json!(128));
    assert_eq!(e.expected, "s8 (an integer from -128 to 127)");
}

#[test]
fn integers_reject_fractions_and_other_kinds() {
    let ty = param("add", "a");
    for bad in [
        json!(2.5),
        json!(2.0),
        json!(1e3),
        json!(true),
        json!(null),
        json!([1]),
        json!({"a": 1}),
        json!(""),
        json!("-"),
        json!("+5"),
        json!(" 5"),
        json!("5 "),
        json!("1_000"),
        json!("0x10"),
        json!("1e3"),
        json!("2.0"),
    ] {
        let e = err(&ty, bad.clone());
        assert_eq!(
            (e.path.as_str(), e.expected.as_str()),
            ("$", "s32 (an integer from -2147483648 to 2147483647)"),
            "{bad}"
        );
        assert!(!e.got.contains("out of range"), "{bad}: {e}");
    }
    assert_eq!(err(&ty, json!(2.5)).got, "number 2.5");
    assert_eq!(err(&ty, json!("+5")).got, "string \"+5\"");
}

#[test]
fn floats_numbers_integers_and_special_strings() {
    let f64_ty = param("extras", "f");
    let f32_ty = param("describe-widths", "g");
    round_trip(&f64_ty, Val::Float64(1.5), json!(1.5));
    round_trip(&f64_ty, Val::Float64(-0.0), json!(-0.0));
    round_trip(&f64_ty, Val::Float64(f64::MAX), json!(f64::MAX));
    round_trip(&f64_ty, Val::Float64(f64::NAN), json!("nan"));
    round_trip(&f64_ty, Val::Float64(f64::INFINITY), json!("inf"));
    round_trip(&f64_ty, Val::Float64(f64::NEG_INFINITY), json!("-inf"));
    round_trip(&f32_ty, Val::Float32(f32::NAN), json!("nan"));
    round_trip(&f32_ty, Val::Float32(f32::INFINITY), json!("inf"));
    round_trip(&f32_ty, Val::Float32(f32::NEG_INFINITY), json!("-inf"));
    round_trip(&f32_ty, Val::Float32(f32::MAX), json!(3.4028235e38));
    round_trip(
        &f32_ty,
        Val::Float32(f32::MIN_POSITIVE),
        json!(1.1754944e-38),
    );
    // f32 prints its own shortest form, not the widened f64's digits.
    round_trip(&f32_ty, Val::Float32(0.1), json!(0.1));
    round_trip(&f32_ty, Val::Float32(-2.5), json!(-2.5));
    // Integers are numbers too.
    assert_eq!(ok(&f64_ty, json!(3)), Val::Float64(3.0));
    assert_eq!(ok(&f64_ty, json!(-3)), Val::Float64(-3.0));
    assert_eq!(ok(&f32_ty, json!(16_777_216)), Val::Float32(16_777_216.0));
    assert_eq!(ok(&f32_ty, json!(1e-50)), Val::Float32(0.0));
}

#[test]
fn floats_reject_overflow_and_other_kinds() {
    let f32_ty = param("describe-widths", "g");
    let e = err(&f32_ty, json!(1e39));
    assert_eq!(
        e.to_string(),
        "at $: expected f32 (a number, \"nan\", \"inf\" or \"-inf\"), got number 1e+39 (out of range)"
    );
    let e = err(&f32_ty, json!(-1e300));
    assert!(e.got.ends_with("(out of range)"), "{e}");
    let f64_ty = param("extras", "f");
    for bad in [
        json!("NaN"),
        json!("Infinity"),
        json!("+inf"),
        json!("1.5"),
        json!(true),
        json!(null),
        json!([1.0]),
    ] {
        let e = err(&f64_ty, bad.clone());
        assert_eq!(
            e.expected, "f64 (a number, \"nan\", \"inf\" or \"-inf\")",
            "{bad}"
        );
    }
}

#[test]
fn f32_output_reads_back_exactly() {
    let ty = param("describe-widths", "g");
    // A spread of bit patterns: normals, subnormals, both signs.
    let mut bits: u32 = 1;
    for _ in 0..20_000 {
        bits = bits.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
        let x = f32::from_bits(bits);
        let back = json_to_val(&ty, &val_to_json(&Val::Float32(x)));
        match back {
            Ok(Val::Float32(y)) if x.is_nan() => assert!(y.is_nan()),
            Ok(Val::Float32(y)) => assert_eq!(x.to_bits(), y.to_bits(), "{x:e}"),
            other => panic!("{x:e}: {other:?}"),
        }
    }
}

#[test]
fn char_is_one_scalar() {
    let ty = param("describe-widths", "h");
    round_trip(&ty, Val::Char('a'), json!("a"));
    round_trip(&ty, Val::Char('é'), json!("é"));
    round_trip(&ty, Val::Char('🦀'), json!("🦀"));
    let e = err(&ty, json!("ab"));
    assert_eq!(
        e.to_string(),
        "at $: expected char (a string of one Unicode scalar value), got string \"ab\" (2 characters)"
    );
    assert_eq!(err(&ty, json!("")).got, "string \"\" (0 characters)");
    // `e` + combining acute accent: one glyph, two scalars.
    assert_eq!(
        err(&ty, json!("e\u{301}")).got,
        "string \"e\u{301}\" (2 characters)"
    );
    assert_eq!(err(&ty, json!(97)).got, "number 97");
}

#[test]
fn strings() {
    let ty = param("swap", "t");
    let Type::Tuple(tuple) = &ty else {
        panic!("{ty:?}")
    };
    let string_ty = tuple.types().next().unwrap();
    round_trip(&string_ty, Val::String(String::new()), json!(""));
    round_trip(
        &string_ty,
        Val::String("héllo \"x\"\n".into()),
        json!("héllo \"x\"\n"),
    );
    assert_eq!(err(&string_ty, json!(1)).expected, "string");
    assert_eq!(err(&string_ty, json!(null)).got, "null");
    let long = "x".repeat(100);
    let got = err(&param("add", "a"), json!(long)).got;
    assert_eq!(got, format!("string \"{}\"…", "x".repeat(40)));
}
