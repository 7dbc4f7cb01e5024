//! Tests of [`describe_component`] against the built children; the
//! describer against hand-written WIT, for shapes the children lack, is in
//! `wit`.
//!
//! They only decode and describe: they must never need an engine or run a
//! component, and never depend on anything but the bytes or WIT source given.

use super::*;
use children_artifacts::{CALC_BYTES, HELLO_CMD_BYTES, HELLO_LOG_BYTES, LIMITS_BYTES};

pub(super) fn describe(bytes: &[u8]) -> Description {
    describe_component(bytes).expect("describes")
}

pub(super) fn find(items: &[ItemDescription], pred: impl Fn(&str) -> bool) -> &ItemDescription {
    items
        .iter()
        .find(|i| pred(&i.name))
        .unwrap_or_else(|| panic!("no matching item in {items:#?}"))
}

pub(super) fn signature<'a>(item: &'a ItemDescription, name: &str) -> &'a str {
    item.functions
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.signature.as_str())
        .unwrap_or_else(|| panic!("no function {name} in {item:#?}"))
}

#[test]
fn calc_root_function_and_types_interface() {
    let d = describe(CALC_BYTES);
    assert!(
        d.imports.iter().all(|i| i.name.starts_with("wasi:")),
        "{:#?}",
        d.imports
    );

    let add = find(&d.exports, |n| n == "add");
    assert_eq!(add.kind, ItemKind::Function);
    assert_eq!(add.functions.len(), 1);
    assert_eq!(add.functions[0].name, "add");
    assert_eq!(add.functions[0].signature, "func(a: s32, b: s32) -> s32");
    // wit-bindgen does not embed WIT doc comments (no `package-docs`
    // section), so a Rust child's functions carry none.
    assert_eq!(add.functions[0].docs, None);
    assert!(add.types.is_empty());

    let types = find(&d.exports, |n| n.ends_with("types"));
    assert_eq!(types.kind, ItemKind::Interface);
    assert_eq!(signature(types, "echo-point"), "func(p: point) -> point");
    assert_eq!(signature(types, "scale"), "func(p: point, k: s32) -> point");
    assert_eq!(signature(types, "area"), "func(s: shape) -> f64");
    assert_eq!(
        signature(types, "checked-div"),
        "func(a: s64, b: s64) -> result<s64, string>"
    );
    assert_eq!(
        signature(types, "maybe-div"),
        "func(a: u64, b: u64) -> option<u64>"
    );
    assert_eq!(signature(types, "sum-list"), "func(xs: list<u32>) -> u64");
    assert_eq!(
        signature(types, "swap"),
        "func(t: tuple<string, u8>) -> tuple<u8, string>"
    );
    assert_eq!(
        signature(types, "describe-widths"),
        "func(a: s8, b: u8, c: s16, d: u16, e: u32, f: s64, g: f32, h: char) -> string"
    );
    let names: Vec<&str> = types.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"echo-point"), "declaration order");
    assert_eq!(
        types.types,
        vec![
            "enum color { red, green, blue }",
            "flags perms { read, write, exec }",
            "record point { x: s32, y: s32 }",
            "variant shape { circle(f64), rect(point), empty }",
        ]
    );

    assert!(
        d.wit
            .contains("  export add: func(a: s32, b: s32) -> s32;\n"),
        "{}",
        d.wit
    );
    assert!(
        d.wit.contains("\ninterface patina:calc/types {\n"),
        "{}",
        d.wit
    );
    assert!(
        d.wit.contains("    record point { x: s32, y: s32 }\n")
            || d.wit.contains("  record point { x: s32, y: s32 }\n")
    );
}

#[test]
fn hello_log_imports_the_log_toy() {
    let d = describe(HELLO_LOG_BYTES);
    let log = find(&d.imports, |n| n == "patina:toys/log@0.1.0");
    assert_eq!(log.kind, ItemKind::Interface);
    assert_eq!(signature(log, "log"), "func(level: level, message: string)");
    assert!(
        log.types
            .contains(&"enum level { trace, debug, info, warn, error }".to_string()),
        "{:#?}",
        log.types
    );

    let greet = find(&d.exports, |n| n == "greet");
    assert_eq!(greet.kind, ItemKind::Function);
    assert_eq!(signature(greet, "greet"), "func(name: string) -> string");
    let ops = find(&d.exports, |n| n == "ops" || n.ends_with("/ops"));
    assert_eq!(ops.kind, ItemKind::Interface);
    assert_eq!(signature(ops, "count-words"), "func(text: string) -> u32");

    assert!(
        d.wit.contains("  import patina:toys/log@0.1.0;\n"),
        "{}",
        d.wit
    );
}

#[test]
fn hello_cmd_exports_wasi_run() {
    let d = describe(HELLO_CMD_BYTES);
    let run = find(&d.exports, |n| n.starts_with("wasi:cli/run@0.2"));
    assert_eq!(run.kind, ItemKind::Interface);
    assert_eq!(run.functions.len(), 1);
    assert_eq!(run.functions[0].name, "run");
    assert_eq!(run.functions[0].signature, "func() -> result");
    let schema = run.functions[0].schema.as_ref().expect("run is callable");
    assert!(schema.params.is_empty());
    assert_eq!(schema.arguments["maxItems"], 0);
}

#[test]
fn limits_root_functions() {
    let d = describe(LIMITS_BYTES);
    assert_eq!(
        signature(find(&d.exports, |n| n == "noop"), "noop"),
        "func()"
    );
    assert_eq!(
        signature(find(&d.exports, |n| n == "fib"), "fib"),
        "func(n: u32) -> u64"
    );
}

#[test]
fn resource_functions_keep_wit_parser_names() {
    // wasm32-wasip2 children import wasi:io, whose streams are resources.
    let d = describe(HELLO_CMD_BYTES);
    let Some(streams) = d
        .imports
        .iter()
        .find(|i| i.name.starts_with("wasi:io/streams@"))
    else {
        return; // nothing to check if this build imports no streams
    };
    assert!(
        streams.types.iter().any(|t| t == "resource output-stream"),
        "{streams:#?}"
    );
    assert!(
        streams
            .types
            .iter()
            .any(|t| t.starts_with("variant stream-error {")),
        "{streams:#?}"
    );
    assert_eq!(
        signature(streams, "[method]output-stream.write"),
        "func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>"
    );
    assert!(d.wit.contains("  resource output-stream {\n"), "{}", d.wit);
    assert!(
        d.wit
            .contains("    write: func(contents: list<u8>) -> result<_, stream-error>;\n"),
        "{}",
        d.wit
    );
}

#[test]
fn serialises_kinds_in_lowercase() {
    let json = serde_json::to_value(describe(CALC_BYTES)).expect("json");
    let exports = json["exports"].as_array().expect("exports");
    assert!(
        exports
            .iter()
            .any(|e| e["kind"] == "function" && e["name"] == "add")
    );
    assert!(exports.iter().any(|e| e["kind"] == "interface"));
}

#[test]
fn same_bytes_same_description() {
    for bytes in [CALC_BYTES, HELLO_LOG_BYTES, HELLO_CMD_BYTES, LIMITS_BYTES] {
        assert_eq!(describe(bytes), describe(bytes));
    }
}

#[test]
fn rejects_what_is_not_a_component() {
    let half = &CALC_BYTES[..CALC_BYTES.len() / 2];
    let cases: [(&str, &[u8]); 6] = [
        ("empty", b""),
        ("garbage", b"this is not wasm at all"),
        ("truncated", half),
        ("core module", b"\0asm\x01\0\0\0"),
        ("short header", b"\0asm\x0d\0\x01"),
        // A custom section claiming 4 GiB: refused before anything is reserved.
        ("huge section", b"\0asm\x0d\0\x01\0\0\xff\xff\xff\xff\x0f"),
    ];
    for (what, bytes) in cases {
        let err = describe_component(bytes).expect_err(what);
        assert!(!err.to_string().is_empty(), "{what}");
    }
    assert_eq!(describe_component(b"").unwrap_err(), DescribeError::NotWasm);
    assert_eq!(
        describe_component(b"\0asm\x0d\0\x01").unwrap_err(),
        DescribeError::TruncatedHeader
    );
    assert_eq!(
        describe_component(b"\0asm\x01\0\0\0").unwrap_err(),
        DescribeError::CoreModule
    );
    assert!(matches!(
        describe_component(half).unwrap_err(),
        DescribeError::TruncatedSection { .. } | DescribeError::Undecodable(_)
    ));
    let huge = describe_component(b"\0asm\x0d\0\x01\0\0\xff\xff\xff\xff\x0f").unwrap_err();
    assert_eq!(
        huge,
        DescribeError::TruncatedSection {
            id: 0,
            offset: 8,
            declared: u32::MAX,
            remaining: 0
        }
    );
    assert!(huge.to_string().contains("declares 4294967295 bytes"));
}

#[test]
fn an_empty_component_has_an_empty_surface() {
    let d = describe(b"\0asm\x0d\0\x01\0");
    assert!(d.imports.is_empty() && d.exports.is_empty());
    assert!(d.wit.starts_with("world "), "{}", d.wit);
}

#[test]
fn every_prefix_and_some_mutations_are_errors_not_panics() {
    // A cut at a section boundary can still be a valid (smaller)
    // component; anywhere else it is an error. Never a panic.
    let mut errors = 0;
    for len in 0..CALC_BYTES.len() {
        errors += usize::from(describe_component(&CALC_BYTES[..len]).is_err());
    }
    assert!(
        errors > CALC_BYTES.len() / 2,
        "{errors} of {}",
        CALC_BYTES.len()
    );
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let mut bytes = HELLO_LOG_BYTES.to_vec();
        let at = (state >> 33) as usize % bytes.len();
        bytes[at] ^= (state >> 8) as u8 | 1;
        let _ = describe_component(&bytes);
    }
}

mod wit;
