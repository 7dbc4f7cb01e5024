//! Resources: they cannot be given as JSON (a clear error, also inside an
//! argument list) and render as descriptive strings.
//!
//! These tests must never reach past the public functions into the private
//! helpers: they test behaviour, not the implementation.

use serde_json::json;
use wasmtime::Store;
use wasmtime::component::Resource;

use super::*;

#[test]
fn resources_cannot_be_given_as_json() {
    let own = param("extras", "own");
    let e = err(&own, json!(1));
    assert_eq!(
        e.to_string(),
        "at $: expected own<resource> (`own` values cannot be given as JSON), got number 1"
    );
    let borrow = param("extras", "borrow");
    let e = err(&borrow, json!("<borrowed resource>"));
    assert_eq!(
        e.expected,
        "borrow<resource> (`borrow` values cannot be given as JSON)"
    );
    let e = json_to_params(
        &params("extras"),
        &json!([
            true,
            1.0,
            null,
            [],
            [1, 2, 3],
            null,
            null,
            "ok",
            {"ok": 1},
            "ok",
            7,
            8,
            []
        ]),
    )
    .unwrap_err();
    assert_eq!(e.path, "$[10]");
    assert!(e.expected.contains("`own` values cannot be given as JSON"));
}

#[test]
fn resources_render_as_descriptions() {
    struct Thing;
    let mut store = Store::new(&fixture().engine, ());
    let own = Resource::<Thing>::new_own(1)
        .try_into_resource_any(&mut store)
        .unwrap();
    assert_eq!(val_to_json(&Val::Resource(own)), json!("<own resource>"));
    // A borrowed `ResourceAny` exists only during a call into the host,
    // so `"<borrowed resource>"` is not reachable from a unit test.
}
