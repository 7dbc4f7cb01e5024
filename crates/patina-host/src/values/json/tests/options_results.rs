//! `option` and `result`: bare values and `{"some": ...}`, nested options,
//! values that themselves look like `{"some": ...}`, and results with and
//! without payloads.
//!
//! These tests must never reach past the public functions into the private
//! helpers: they test behaviour, not the implementation.

use serde_json::json;

use super::*;

#[test]
fn options() {
    let ty = result("maybe-div");
    round_trip(&ty, Val::Option(None), json!(null));
    round_trip(&ty, some(Val::U64(5)), json!(5));
    assert_eq!(ok(&ty, json!({"some": 5})), some(Val::U64(5)));
    assert_eq!(ok(&ty, json!("5")), some(Val::U64(5)));
    let e = err(&ty, json!("five"));
    assert_eq!(
        e.to_string(),
        "at $: expected null or u64 (an integer from 0 to 18446744073709551615), got string \"five\""
    );
    let e = err(&ty, json!({"some": -1}));
    assert_eq!(
        (e.path.as_str(), e.got.as_str()),
        ("$.some", "number -1 (out of range)")
    );
    let e = err(&ty, json!({"some": 1, "other": 2}));
    assert!(e.expected.starts_with("null or u64"), "{e}");
    // An omitted value is not `{"some": null}`: that is some(<null>).
    assert_eq!(err(&ty, json!({"some": null})).path, "$.some");
}

#[test]
fn nested_options() {
    let ty = param("extras", "oo");
    round_trip(&ty, Val::Option(None), json!(null));
    round_trip(&ty, some(Val::Option(None)), json!({"some": null}));
    round_trip(&ty, some(some(Val::U32(5))), json!({"some": 5}));
    // The bare value is unambiguous, so it is accepted too.
    assert_eq!(ok(&ty, json!(5)), some(some(Val::U32(5))));
    assert_eq!(
        ok(&ty, json!({"some": {"some": 5}})),
        some(some(Val::U32(5)))
    );
    assert_eq!(err(&ty, json!({"some": "x"})).path, "$.some");
    assert_eq!(
        err(&ty, json!("x")).expected,
        "null or u32 (an integer from 0 to 4294967295)"
    );
}

#[test]
fn options_of_values_shaped_like_some() {
    // option<record {some: u32}>: some(r) must be wrapped, or it would
    // read back as the `{"some": x}` form.
    let ty = param("extras", "or");
    let rec = Val::Record(vec![("some".into(), Val::U32(7))]);
    round_trip(&ty, some(rec.clone()), json!({"some": {"some": 7}}));
    round_trip(&ty, Val::Option(None), json!(null));
    let e = err(&ty, json!({"some": 7}));
    assert_eq!(e.path, "$.some");
    // option<variant {some(u32), other(option<u32>), none}>.
    let ty = param("extras", "ov");
    let case_some = Val::Variant("some".into(), Some(Box::new(Val::U32(1))));
    round_trip(&ty, some(case_some), json!({"some": {"some": 1}}));
    let other = Val::Variant("other".into(), Some(Box::new(Val::Option(None))));
    round_trip(&ty, some(other), json!({"other": null}));
    let other = Val::Variant("other".into(), Some(Box::new(some(Val::U32(2)))));
    round_trip(&ty, some(other), json!({"other": 2}));
    round_trip(&ty, some(Val::Variant("none".into(), None)), json!("none"));
    round_trip(
        &ty,
        some(Val::Variant("some".into(), Some(Box::new(Val::U32(0))))),
        json!({"some": {"some": 0}}),
    );
}

#[test]
fn results() {
    let ty = result("checked-div");
    round_trip(
        &ty,
        Val::Result(Ok(Some(Box::new(Val::S64(-4))))),
        json!({"ok": -4}),
    );
    round_trip(
        &ty,
        Val::Result(Err(Some(Box::new(Val::String("division by zero".into()))))),
        json!({"err": "division by zero"}),
    );
    let e = err(&ty, json!({"ok": "x"}));
    assert_eq!(e.path, "$.ok");
    let e = err(&ty, json!({"err": 1}));
    assert_eq!((e.path.as_str(), e.expected.as_str()), ("$.err", "string"));
    let e = err(&ty, json!({"maybe": 1}));
    assert_eq!(
        e.to_string(),
        "at $: expected one of the cases ok, err, got `maybe`"
    );
    for bad in [
        json!({}),
        json!({"ok": 1, "err": "x"}),
        json!(1),
        json!(null),
        json!([1]),
    ] {
        let e = err(&ty, bad.clone());
        assert_eq!(
            e.expected, "result<s64, string> ({\"ok\": value} or {\"err\": value})",
            "{bad}"
        );
    }
    let e = err(&ty, json!("ok"));
    assert_eq!(e.expected, "{\"ok\": s64}");
}

#[test]
fn results_without_payloads() {
    let r0 = param("extras", "r0");
    round_trip(&r0, Val::Result(Ok(None)), json!({"ok": null}));
    round_trip(&r0, Val::Result(Err(None)), json!({"err": null}));
    assert_eq!(ok(&r0, json!("ok")), Val::Result(Ok(None)));
    assert_eq!(ok(&r0, json!("err")), Val::Result(Err(None)));
    let e = err(&r0, json!({"ok": 1}));
    assert_eq!(e.path, "$.ok");
    assert_eq!(e.expected, "null (the case `ok` of result has no payload)");
    let ro = param("extras", "ro");
    round_trip(
        &ro,
        Val::Result(Ok(Some(Box::new(Val::U8(1))))),
        json!({"ok": 1}),
    );
    round_trip(&ro, Val::Result(Err(None)), json!({"err": null}));
    assert_eq!(err(&ro, json!({"err": "x"})).path, "$.err");
    let re = param("extras", "re");
    round_trip(&re, Val::Result(Ok(None)), json!({"ok": null}));
    round_trip(
        &re,
        Val::Result(Err(Some(Box::new(Val::String("e".into()))))),
        json!({"err": "e"}),
    );
}
