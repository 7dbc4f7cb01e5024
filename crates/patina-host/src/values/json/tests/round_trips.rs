//! Whole signatures and robustness: every `calc` signature round-trips, and
//! no JSON input makes any conversion of any fixture type panic.
//!
//! These tests must never reach past the public functions into the private
//! helpers: they test behaviour, not the implementation.

use serde_json::json;

use super::*;

#[test]
fn every_calc_signature_round_trips() {
    let cases: Vec<(&str, Vec<Val>, Json)> = vec![
        (
            "add",
            vec![Val::S32(i32::MIN), Val::S32(i32::MAX)],
            json!([-2147483648, 2147483647]),
        ),
        ("echo-point", vec![point(0, -1)], json!([{"x": 0, "y": -1}])),
        (
            "scale",
            vec![point(3, 4), Val::S32(2)],
            json!([{"x": 3, "y": 4}, 2]),
        ),
        (
            "area",
            vec![Val::Variant("empty".into(), None)],
            json!(["empty"]),
        ),
        (
            "next-color",
            vec![Val::Enum("blue".into())],
            json!(["blue"]),
        ),
        (
            "toggle-exec",
            vec![Val::Flags(vec!["write".into()])],
            json!([["write"]]),
        ),
        ("maybe-div", vec![Val::U64(10), Val::U64(0)], json!([10, 0])),
        (
            "checked-div",
            vec![Val::S64(-10), Val::S64(3)],
            json!([-10, 3]),
        ),
        (
            "sum-list",
            vec![Val::List(vec![Val::U32(u32::MAX)])],
            json!([[4294967295_u32]]),
        ),
        (
            "swap",
            vec![Val::Tuple(vec![Val::String("s".into()), Val::U8(9)])],
            json!([["s", 9]]),
        ),
        ("bytes-len", vec![Val::List(vec![Val::U8(7)])], json!([[7]])),
    ];
    for (name, vals, expected) in cases {
        let json = Json::Array(vals.iter().map(val_to_json).collect());
        assert_eq!(json, expected, "{name}");
        assert_eq!(json_to_params(&params(name), &json), Ok(vals), "{name}");
    }
    let results: Vec<(&str, Val, Json)> = vec![
        ("add", Val::S32(5), json!(5)),
        ("echo-point", point(1, 2), json!({"x": 1, "y": 2})),
        ("area", Val::Float64(f64::NAN), json!("nan")),
        ("next-color", Val::Enum("red".into()), json!("red")),
        (
            "toggle-exec",
            Val::Flags(vec!["read".into(), "exec".into()]),
            json!(["read", "exec"]),
        ),
        (
            "maybe-div",
            some(Val::U64(u64::MAX)),
            json!(18446744073709551615_u64),
        ),
        (
            "checked-div",
            Val::Result(Ok(Some(Box::new(Val::S64(i64::MAX))))),
            json!({"ok": i64::MAX}),
        ),
        ("sum-list", Val::U64(0), json!(0)),
        ("describe-widths", Val::String("x".into()), json!("x")),
        ("bytes-len", Val::U32(3), json!(3)),
    ];
    for (name, val, expected) in results {
        round_trip(&result(name), val, expected);
    }
}

/// No JSON input makes any conversion panic.
#[test]
fn never_panics() {
    let inputs = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e308),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("a"),
        json!("nan"),
        json!("-"),
        json!("99999999999999999999999999999999999999999999999999"),
        json!([]),
        json!([null]),
        json!([1, 2, 3]),
        json!([["a", 1]]),
        json!({}),
        json!({"some": null}),
        json!({"ok": null}),
        json!({"x": 1, "y": 2}),
        json!({"rect": {"x": 1}}),
        json!({"a": 1, "b": 2}),
    ];
    let mut types = Vec::new();
    for f in fixture().funcs.values() {
        types.extend(f.params().map(|(_, ty)| ty));
        types.extend(f.results());
    }
    for ty in &types {
        for json in &inputs {
            if let Ok(val) = json_to_val(ty, json) {
                // Whatever was accepted reads back the same.
                assert_eq!(json_to_val(ty, &val_to_json(&val)), Ok(val), "{json}");
            }
            let _ = json_to_params(std::slice::from_ref(ty), json);
        }
    }
}
