//! The JSON Schemas of `describe/schema.rs` held against this JSON
//! conversion, on every WIT type kind the fixture has: whatever the host
//! prints for a value validates against that type's schema (checked with the
//! `jsonschema` validator), and what the host refuses to read, the schema
//! refuses too.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Value as Json, json};

use super::{err, ok, param, result};
use crate::describe::all_schemas_for_tests;
use crate::values::json::{json_to_params, val_to_json};

fn schemas() -> &'static HashMap<(String, String), Json> {
    static SCHEMAS: OnceLock<HashMap<(String, String), Json>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut all = all_schemas_for_tests(children_artifacts::CALC_BYTES);
        let extras = wat::parse_str(super::EXTRAS).expect("EXTRAS is valid WAT");
        all.extend(all_schemas_for_tests(&extras));
        all
    })
}

fn validator(func: &str, slot: &str) -> jsonschema::Validator {
    let schema = schemas()
        .get(&(func.to_owned(), slot.to_owned()))
        .unwrap_or_else(|| panic!("no schema for {func} {slot}"));
    jsonschema::draft202012::new(schema).unwrap_or_else(|e| {
        panic!("the schema of {func} {slot} is not a valid schema: {e}\n{schema:#}")
    })
}

/// Each of `good` is read by the host as parameter `p` of `func`, and both it
/// and what the host prints for the value validate; each of `bad` is refused
/// by the host and by the schema.
fn agree(func: &str, p: &str, good: &[Json], bad: &[Json]) {
    let ty = param(func, p);
    let schema = validator(func, p);
    for json in good {
        let printed = val_to_json(&ok(&ty, json.clone()));
        assert!(schema.is_valid(json), "{func} {p}: schema refuses {json}");
        assert!(
            schema.is_valid(&printed),
            "{func} {p}: schema refuses printed {printed}"
        );
    }
    for json in bad {
        err(&ty, json.clone());
        assert!(
            !schema.is_valid(json),
            "{func} {p}: schema accepts {json}, which the host refuses"
        );
    }
}

/// As [`agree`], for the result type of `func`.
fn agree_result(func: &str, good: &[Json], bad: &[Json]) {
    let ty = result(func);
    let schema = validator(func, "->");
    for json in good {
        let printed = val_to_json(&ok(&ty, json.clone()));
        assert!(
            schema.is_valid(&printed),
            "{func} result: schema refuses {printed}"
        );
    }
    for json in bad {
        err(&ty, json.clone());
        assert!(
            !schema.is_valid(json),
            "{func} result: schema accepts {json}"
        );
    }
}

#[test]
fn integers_carry_their_bounds_and_64_bit_ones_may_be_strings() {
    let widths = "describe-widths";
    agree(
        widths,
        "a",
        &[json!(-128), json!(127)],
        &[json!(128), json!(-129), json!(1.5)],
    );
    agree(
        widths,
        "b",
        &[json!(0), json!(255)],
        &[json!(256), json!(-1), json!(true)],
    );
    agree(widths, "c", &[json!(-32768), json!(32767)], &[json!(32768)]);
    agree(widths, "d", &[json!(65535)], &[json!(65536), json!(-1)]);
    agree(
        widths,
        "e",
        &[json!(4_294_967_295u64)],
        &[json!(4_294_967_296u64)],
    );
    agree(
        widths,
        "f",
        &[
            json!(i64::MIN),
            json!(i64::MAX),
            json!("-9223372036854775808"),
            json!("42"),
        ],
        &[json!("4x"), json!(0.5), json!(null)],
    );
    agree(
        "maybe-div",
        "a",
        &[json!(0), json!(u64::MAX), json!("18446744073709551615")],
        &[json!(-1), json!("-1x")],
    );
    let schema = &schemas()[&("describe-widths".to_owned(), "b".to_owned())];
    assert_eq!(
        schema,
        &json!({"type": "integer", "minimum": 0, "maximum": 255})
    );
}

#[test]
fn floats_are_numbers_or_the_three_names() {
    agree(
        "describe-widths",
        "g",
        &[
            json!(0.1),
            json!(3),
            json!(-0.0),
            json!("nan"),
            json!("inf"),
            json!("-inf"),
        ],
        &[json!(1e39), json!("NaN"), json!("1.5")],
    );
    agree(
        "extras",
        "f",
        &[json!(1e300), json!("-inf")],
        &[json!(true), json!("infinity")],
    );
}

#[test]
fn chars_strings_and_bools() {
    agree(
        "describe-widths",
        "h",
        &[json!("a"), json!("🦀")],
        &[json!("ab"), json!(""), json!(1)],
    );
    agree(
        "extras",
        "b",
        &[json!(true), json!(false)],
        &[json!(1), json!("true")],
    );
}

#[test]
fn records_require_every_field_and_no_other() {
    // (`{"x": 1, "y": "2"}` is read by the host — a decimal string for a
    // narrow integer is one of its looser spellings — but no schema lists it.)
    agree(
        "echo-point",
        "p",
        &[json!({"x": 1, "y": -2})],
        &[
            json!({"x": 1}),
            json!({"x": 1, "y": 2, "z": 3}),
            json!({"x": 1, "y": true}),
        ],
    );
    let schema = &schemas()[&("echo-point".to_owned(), "p".to_owned())];
    assert_eq!(schema["title"], "point");
    assert_eq!(schema["required"], json!(["x", "y"]));
}

#[test]
fn variants_enums_and_flags_take_the_shapes_values_take() {
    agree(
        "area",
        "s",
        &[
            json!({"circle": 1.5}),
            json!({"rect": {"x": 2, "y": 3}}),
            json!("empty"),
        ],
        &[
            json!("triangle"),
            json!({"circle": "big"}),
            json!({"circle": 1, "rect": {"x": 1, "y": 1}}),
        ],
    );
    agree(
        "next-color",
        "c",
        &[json!("red"), json!("blue")],
        &[json!("purple"), json!(0)],
    );
    agree(
        "toggle-exec",
        "p",
        &[json!([]), json!(["read", "exec"])],
        &[
            json!(["read", "delete"]),
            json!({"read": true}),
            json!("read"),
        ],
    );
    let flags = &schemas()[&("toggle-exec".to_owned(), "p".to_owned())];
    assert_eq!(
        flags["type"], "array",
        "flags are described as they are passed: a list"
    );
}

#[test]
fn lists_tuples_maps_and_fixed_lists() {
    agree(
        "sum-list",
        "xs",
        &[json!([]), json!([1, 2, 3])],
        &[json!([1, -2]), json!({"0": 1})],
    );
    agree(
        "swap",
        "t",
        &[json!(["a", 1])],
        &[json!(["a", 1, 2]), json!(["a"]), json!([1, "a"])],
    );
    agree(
        "extras",
        "m",
        &[json!([]), json!([["a", 1], ["b", 2]])],
        &[json!({"a": 1}), json!([["a"]]), json!([["a", -1]])],
    );
    agree(
        "extras",
        "fl",
        &[json!([1, 2, 3])],
        &[json!([1, 2]), json!([1, 2, 3, 4])],
    );
    agree(
        "extras",
        "lo",
        &[json!(["a", null, {"some": "b"}])],
        &[json!([1])],
    );
}

#[test]
fn options_nest_with_the_some_wrapper() {
    agree(
        "extras",
        "oo",
        &[
            json!(null),
            json!({"some": null}),
            json!({"some": 5}),
            json!(5),
            json!({"some": {"some": 5}}),
        ],
        &[json!("5x"), json!({"some": "x"})],
    );
    // `option<record {some: u32}>`: the bare record would read as the wrapper.
    agree(
        "extras",
        "or",
        &[json!(null), json!({"some": {"some": 7}})],
        &[json!({"some": 7})],
    );
    agree(
        "extras",
        "ov",
        &[json!(null), json!({"some": {"some": 1}}), json!("none")],
        &[],
    );
}

#[test]
fn results_are_ok_or_err_objects() {
    agree(
        "extras",
        "r0",
        &[json!({"ok": null}), json!({"err": null}), json!("ok")],
        &[json!({"ok": 1})],
    );
    agree(
        "extras",
        "ro",
        &[json!({"ok": 255}), json!({"err": null})],
        &[json!({"ok": 256}), json!("ok")],
    );
    agree(
        "extras",
        "re",
        &[json!({"ok": null}), json!({"err": "no"})],
        &[json!({"err": 1})],
    );
    agree_result(
        "checked-div",
        &[json!({"ok": -3}), json!({"err": "division by zero"})],
        &[json!({"ok": "x"}), json!({"fine": 1})],
    );
    agree_result("maybe-div", &[json!(null), json!(7)], &[json!(-7)]);
}

#[test]
fn the_argument_array_allows_trailing_options_to_be_left_out() {
    let described = crate::describe_component(&wat::parse_str(super::EXTRAS).unwrap());
    // Imports get no schema: nothing calls them through JSON.
    assert!(
        described
            .unwrap()
            .imports
            .iter()
            .flat_map(|i| &i.functions)
            .all(|f| f.schema.is_none())
    );
    let calc = crate::describe_component(children_artifacts::CALC_BYTES).unwrap();
    let add = calc.exports.iter().find(|e| e.name == "add").unwrap();
    let schema = add.functions[0].schema.as_ref().expect("add is callable");
    let validator = jsonschema::draft202012::new(&schema.arguments).unwrap();
    let params = super::params("add");
    for good in [json!([2, 3]), json!([-1, 0])] {
        assert!(json_to_params(&params, &good).is_ok());
        assert!(validator.is_valid(&good), "{good}");
    }
    for bad in [json!([2]), json!([2, 3, 4]), json!({"a": 2, "b": 3})] {
        assert!(json_to_params(&params, &bad).is_err());
        assert!(!validator.is_valid(&bad), "{bad}");
    }
    let object = jsonschema::draft202012::new(&schema.arguments_object()).unwrap();
    assert!(object.is_valid(&json!({"a": 2, "b": 3})));
    assert!(!object.is_valid(&json!({"a": 2})));
    assert!(!object.is_valid(&json!({"a": 2, "b": 3, "c": 4})));
    let map = json!({"b": 3, "a": 2});
    assert_eq!(
        schema.arguments_from_object(map.as_object().unwrap()),
        Ok(json!([2, 3]))
    );
    let unknown = json!({"a": 2, "b": 3, "c": 4});
    assert_eq!(
        schema.arguments_from_object(unknown.as_object().unwrap()),
        Err("unknown argument `c` (the parameters are: a, b)".to_owned())
    );
}
