//! Argument lists (`json_to_params`): counts, paths into the array, and
//! omitted trailing `option` parameters.
//!
//! These tests must never reach past the public functions into the private
//! helpers: they test behaviour, not the implementation.

use serde_json::json;

use super::*;

#[test]
fn params_from_an_array() {
    let add = params("add");
    assert_eq!(
        json_to_params(&add, &json!([2, 3])),
        Ok(vec![Val::S32(2), Val::S32(3)])
    );
    let e = json_to_params(&add, &json!([2, 3, 4])).unwrap_err();
    assert_eq!(e.to_string(), "at $: expected 2 arguments, got 3");
    let e = json_to_params(&add, &json!([2])).unwrap_err();
    assert_eq!(e.to_string(), "at $: expected 2 arguments, got 1");
    let e = json_to_params(&add, &json!({"a": 2, "b": 3})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "at $: expected a JSON array of the arguments (2 arguments), got an object with keys a, b"
    );
    let e = json_to_params(&add, &json!([2, "x"])).unwrap_err();
    assert_eq!(e.path, "$[1]");
    let e = json_to_params(&params("sum-list"), &json!([])).unwrap_err();
    assert_eq!(e.to_string(), "at $: expected 1 argument, got 0");
    let widths = json_to_params(
        &params("describe-widths"),
        &json!([-1, 2, -3, 4, 5, "-6", 7.5, "z"]),
    );
    assert_eq!(
        widths,
        Ok(vec![
            Val::S8(-1),
            Val::U8(2),
            Val::S16(-3),
            Val::U16(4),
            Val::U32(5),
            Val::S64(-6),
            Val::Float32(7.5),
            Val::Char('z'),
        ])
    );
    let point = json_to_params(&params("scale"), &json!([{"x": 1, "y": 2}, 3]));
    assert_eq!(point, Ok(vec![super::point(1, 2), Val::S32(3)]));
}

#[test]
fn trailing_option_params_may_be_omitted() {
    let trailing = params("trailing");
    assert_eq!(
        json_to_params(&trailing, &json!([1])),
        Ok(vec![Val::U32(1), Val::Option(None), Val::Option(None)])
    );
    assert_eq!(
        json_to_params(&trailing, &json!([1, 2])),
        Ok(vec![Val::U32(1), some(Val::U32(2)), Val::Option(None)])
    );
    assert_eq!(
        json_to_params(&trailing, &json!([1, null, {"some": null}])),
        Ok(vec![
            Val::U32(1),
            Val::Option(None),
            some(Val::Option(None))
        ])
    );
    let e = json_to_params(&trailing, &json!([])).unwrap_err();
    assert_eq!(e.to_string(), "at $: expected 1 to 3 arguments, got 0");
    let e = json_to_params(&trailing, &json!([1, 2, 3, 4])).unwrap_err();
    assert_eq!(e.to_string(), "at $: expected 1 to 3 arguments, got 4");
    let e = json_to_params(&params("maybe-div"), &json!([1])).unwrap_err();
    assert_eq!(e.to_string(), "at $: expected 2 arguments, got 1");
    assert_eq!(json_to_params(&[], &json!([])), Ok(vec![]));
}
