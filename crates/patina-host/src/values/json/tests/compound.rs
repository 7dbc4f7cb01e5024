//! Compound types: lists, fixed-length lists, records, tuples, variants,
//! enums, flags and maps, both ways, with the paths their errors name.
//!
//! These tests must never reach past the public functions into the private
//! helpers: they test behaviour, not the implementation.

use serde_json::json;

use super::*;

#[test]
fn lists() {
    let ty = param("sum-list", "xs");
    round_trip(
        &ty,
        Val::List(vec![Val::U32(1), Val::U32(2), Val::U32(3)]),
        json!([1, 2, 3]),
    );
    round_trip(&ty, Val::List(vec![]), json!([]));
    let e = err(&ty, json!([1, -2, 3]));
    assert_eq!(e.path, "$[1]");
    assert_eq!(e.got, "number -2 (out of range)");
    let e = err(&ty, json!({"0": 1}));
    assert_eq!(
        e.to_string(),
        "at $: expected list<u32> (an array), got an object with key 0"
    );
    let bytes = param("bytes-len", "b");
    round_trip(
        &bytes,
        Val::List(vec![Val::U8(0), Val::U8(255)]),
        json!([0, 255]),
    );
    // Not a string, even for bytes: the type says list<u8>.
    assert_eq!(err(&bytes, json!("abc")).expected, "list<u8> (an array)");
    let lo = param("extras", "lo");
    round_trip(
        &lo,
        Val::List(vec![Val::Option(None), some(Val::String("a".into()))]),
        json!([null, "a"]),
    );
    assert_eq!(err(&lo, json!([null, 1])).path, "$[1]");
}

#[test]
fn fixed_length_lists() {
    let ty = param("extras", "fl");
    round_trip(
        &ty,
        Val::FixedLengthList(vec![Val::U8(1), Val::U8(2), Val::U8(3)]),
        json!([1, 2, 3]),
    );
    for bad in [json!([1, 2]), json!([1, 2, 3, 4]), json!([]), json!("abc")] {
        let e = err(&ty, bad.clone());
        assert_eq!(e.path, "$");
        assert_eq!(e.expected, "list<u8, 3> (an array of 3 elements)", "{bad}");
    }
    assert_eq!(err(&ty, json!([1, 2])).got, "an array of 2 elements");
    assert_eq!(err(&ty, json!([1, 2, 256])).path, "$[2]");
}

#[test]
fn records() {
    let ty = param("echo-point", "p");
    round_trip(&ty, point(1, -2), json!({"x": 1, "y": -2}));
    // Fields come out in declared order whatever the JSON order.
    let val = json_to_val(&ty, &serde_json::from_str(r#"{"y": 2, "x": 1}"#).unwrap());
    assert_eq!(val, Ok(point(1, 2)));
    let e = err(&ty, json!({"x": 1}));
    assert_eq!(
        e.to_string(),
        "at $: expected a record with the fields x, y, got an object without `y`"
    );
    let e = err(&ty, json!({"x": 1, "y": 2, "z": 3}));
    assert_eq!(
        e.to_string(),
        "at $: expected a record with the fields x, y, got an object with unknown field `z`"
    );
    let e = err(&ty, json!({"X": 1, "y": 2}));
    assert_eq!(e.got, "an object with unknown field `X`");
    assert_eq!(err(&ty, json!({"x": 1.5, "y": 2})).path, "$.x");
    let e = err(&ty, json!([1, 2]));
    assert_eq!(
        e.to_string(),
        "at $: expected record {x: s32, y: s32} (an object), got an array of 2 elements"
    );
    assert_eq!(err(&ty, json!({})).got, "an object without `x`");
}

#[test]
fn tuples() {
    let ty = param("swap", "t");
    round_trip(
        &ty,
        Val::Tuple(vec![Val::String("a".into()), Val::U8(1)]),
        json!(["a", 1]),
    );
    round_trip(
        &result("swap"),
        Val::Tuple(vec![Val::U8(1), Val::String("a".into())]),
        json!([1, "a"]),
    );
    let e = err(&ty, json!(["a", 1, 2]));
    assert_eq!(
        e.to_string(),
        "at $: expected tuple<string, u8> (an array of 2 elements), got an array of 3 elements"
    );
    assert_eq!(err(&ty, json!(["a"])).got, "an array of 1 element");
    assert_eq!(err(&ty, json!({"0": "a", "1": 1})).path, "$");
    let e = err(&ty, json!(["a", "b"]));
    assert_eq!((e.path.as_str(), e.got.as_str()), ("$[1]", "string \"b\""));
}

#[test]
fn variants() {
    let ty = param("area", "s");
    round_trip(
        &ty,
        Val::Variant("circle".into(), Some(Box::new(Val::Float64(1.5)))),
        json!({"circle": 1.5}),
    );
    round_trip(
        &ty,
        Val::Variant("rect".into(), Some(Box::new(point(2, 3)))),
        json!({"rect": {"x": 2, "y": 3}}),
    );
    round_trip(&ty, Val::Variant("empty".into(), None), json!("empty"));
    assert_eq!(
        ok(&ty, json!({"empty": null})),
        Val::Variant("empty".into(), None)
    );
}

#[test]
fn variant_errors() {
    let ty = param("area", "s");
    let e = err(&ty, json!({"triangle": 1}));
    assert_eq!(
        e.to_string(),
        "at $: expected one of the cases circle, rect, empty, got `triangle`"
    );
    assert_eq!(err(&ty, json!("square")).got, "`square`");
    let e = err(&ty, json!("circle"));
    assert_eq!(
        e.to_string(),
        "at $: expected {\"circle\": f64}, got string \"circle\" (the case `circle` has a payload)"
    );
    let e = err(&ty, json!({"empty": 0}));
    assert_eq!(e.path, "$.empty");
    assert!(
        e.expected.starts_with("null (the case `empty` of variant"),
        "{e}"
    );
    let e = err(&ty, json!({"circle": 1, "empty": null}));
    assert_eq!(e.path, "$");
    assert_eq!(
        e.expected,
        "variant {circle(f64), rect(record {x, y}), empty} (a case name or {\"case\": payload})"
    );
    assert_eq!(err(&ty, json!({})).got, "an empty object");
    assert_eq!(err(&ty, json!(1)).path, "$");
    assert_eq!(err(&ty, json!({"rect": {"x": 1}})).path, "$.rect");
    assert_eq!(
        err(&ty, json!({"rect": {"x": 1, "y": "two"}})).path,
        "$.rect.y"
    );
    assert_eq!(err(&ty, json!({"circle": "wide"})).path, "$.circle");
}

#[test]
fn enums() {
    let ty = param("next-color", "c");
    for case in ["red", "green", "blue"] {
        round_trip(&ty, Val::Enum(case.into()), json!(case));
    }
    let e = err(&ty, json!("purple"));
    assert_eq!(
        e.to_string(),
        "at $: expected one of the cases red, green, blue, got `purple`"
    );
    let e = err(&ty, json!(0));
    assert_eq!(e.expected, "enum {red, green, blue} (a case name)");
    assert_eq!(err(&ty, json!({"red": null})).path, "$");
}

#[test]
fn flags() {
    let ty = param("toggle-exec", "p");
    let flags = |names: &[&str]| Val::Flags(names.iter().map(|n| n.to_string()).collect());
    round_trip(&ty, flags(&[]), json!([]));
    round_trip(&ty, flags(&["read", "exec"]), json!(["read", "exec"]));
    // Declared order, duplicates folded.
    assert_eq!(
        ok(&ty, json!(["exec", "read", "exec"])),
        flags(&["read", "exec"])
    );
    let e = err(&ty, json!(["read", "delete"]));
    assert_eq!(
        e.to_string(),
        "at $[1]: expected a flag name (one of read, write, exec), got string \"delete\""
    );
    assert_eq!(err(&ty, json!([1])).path, "$[0]");
    let e = err(&ty, json!({"read": true}));
    assert_eq!(
        e.expected,
        "flags {read, write, exec} (an array of flag names)"
    );
    assert_eq!(err(&ty, json!("read")).path, "$");
}

#[test]
fn maps() {
    let ty = param("extras", "m");
    let entry = |k: &str, v: u32| (Val::String(k.into()), Val::U32(v));
    round_trip(
        &ty,
        Val::Map(vec![entry("b", 2), entry("a", 1)]),
        json!([["b", 2], ["a", 1]]),
    );
    round_trip(&ty, Val::Map(vec![]), json!([]));
    let e = err(&ty, json!({"a": 1}));
    assert_eq!(
        e.to_string(),
        "at $: expected map<string, u32> (an array of [key, value] pairs), got an object with key a"
    );
    let e = err(&ty, json!([["a", 1], ["b"]]));
    assert_eq!(
        e.to_string(),
        "at $[1]: expected a [key, value] pair ([string, u32]), got an array of 1 element"
    );
    assert_eq!(err(&ty, json!([["a", 1, 2]])).path, "$[0]");
    assert_eq!(err(&ty, json!(["a"])).path, "$[0]");
    assert_eq!(err(&ty, json!([[1, 1]])).path, "$[0][0]");
    assert_eq!(err(&ty, json!([["a", 1], ["b", -1]])).path, "$[1][1]");
}
