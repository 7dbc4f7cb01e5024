//! Typed invocation of every WIT value kind, as WAVE and as JSON, on real
//! children — and on a component written by hand in WAT (not Rust).

use patina_host::{Call, RunRequest};
use patina_tests::{child, host, wat_child, wave};
use serde_json::json;

#[tokio::test]
async fn every_value_kind_round_trips_through_wave() {
    let host = host();
    let calc = child(&host, "calc");
    let cases = [
        ("add(2, 3)", "5"),
        ("add(2147483647, 1)", "-2147483648"),
        ("types.echo-point({x: 1, y: -2})", "{x: 1, y: -2}"),
        ("scale({x: 3, y: 4}, 2)", "{x: 6, y: 8}"),
        ("area(rect({x: 3, y: -4}))", "12"),
        ("area(empty)", "0"),
        ("next-color(blue)", "red"),
        ("toggle-exec({read, exec})", "{read}"),
        ("toggle-exec({})", "{exec}"),
        ("maybe-div(7, 2)", "some(3)"),
        ("maybe-div(7, 0)", "none"),
        ("checked-div(-9, 3)", "ok(-3)"),
        ("checked-div(1, 0)", "err(\"division by zero\")"),
        ("sum-list([1, 2, 3, 4294967295])", "4294967301"),
        ("swap((\"x\", 7))", "(7, \"x\")"),
        (
            "describe-widths(-8, 255, -16, 65535, 4294967295, -9223372036854775808, 1.5, 'λ')",
            "\"-8 255 -16 65535 4294967295 -9223372036854775808 1.5 λ\"",
        ),
        ("bytes-len([1, 2, 3])", "3"),
        ("patina:calc/types.next-color(red)", "green"),
    ];
    for (call, expected) in cases {
        assert_eq!(wave(&host, &calc, call).await, expected, "{call}");
    }
}

#[tokio::test]
async fn json_arguments_and_results() {
    let host = host();
    let calc = child(&host, "calc");
    let run = |function: &str, args: serde_json::Value| {
        RunRequest::new(Call::Json {
            function: function.into(),
            args,
        })
    };
    let cases = [
        ("add", json!([40, 2]), json!(42)),
        (
            "echo-point",
            json!([{"x": 1, "y": 2}]),
            json!({"x": 1, "y": 2}),
        ),
        (
            "area",
            json!([{"circle": 1.0}]),
            json!(std::f64::consts::PI),
        ),
        ("maybe-div", json!([1, 0]), json!(null)),
        (
            "checked-div",
            json!([1, 0]),
            json!({"err": "division by zero"}),
        ),
        ("swap", json!([["a", 1]]), json!([1, "a"])),
        ("toggle-exec", json!([["read"]]), json!(["read", "exec"])),
    ];
    for (function, args, expected) in cases {
        let report = host.run(&calc, &run(function, args)).await.expect(function);
        assert_eq!(report.json(), Some(expected), "{function}");
    }
}

#[tokio::test]
async fn root_export_wins_over_interface_function_of_the_same_name() {
    let host = host();
    let hello = child(&host, "hello-log");
    let report = patina_tests::run(&host, &hello, "greet(\"ann\")", &["log"])
        .await
        .unwrap();
    assert_eq!(report.wave().as_deref(), Some("\"hello, ann!\""));
    let report = patina_tests::run(&host, &hello, "ops.greet(\"ann\")", &["log"])
        .await
        .unwrap();
    assert_eq!(report.wave().as_deref(), Some("\"hi, ann\""));
    let report = patina_tests::run(&host, &hello, "count-words(\"a b  c\")", &["log"])
        .await
        .unwrap();
    assert_eq!(report.wave().as_deref(), Some("3"));
}

/// A component written directly in the component text format: no Rust, no
/// WASI, no imports.
const ANSWER_WAT: &str = r#"
(component
  (core module $m
    (func (export "answer") (result i32) i32.const 42)
    (func (export "double") (param i64) (result i64) local.get 0 local.get 0 i64.add))
  (core instance $i (instantiate $m))
  (func (export "answer") (result u32) (canon lift (core func $i "answer")))
  (func (export "double") (param "n" s64) (result s64) (canon lift (core func $i "double"))))
"#;

#[tokio::test]
async fn a_hand_written_component_runs_too() {
    let host = host();
    let answer = wat_child(&host, ANSWER_WAT);
    assert_eq!(wave(&host, &answer, "answer()").await, "42");
    assert_eq!(wave(&host, &answer, "double(-21)").await, "-42");
    let names = answer.functions().names();
    assert_eq!(names, vec!["answer".to_owned(), "double".to_owned()]);
}

/// A call's arguments are recorded as WAVE text, so the same call must come
/// out the same whatever order or door it was written in: the set flags in
/// declared order (`read, write, exec`), from WAVE in any order and from JSON.
#[tokio::test]
async fn flags_arguments_are_kept_in_declared_order_from_every_door() {
    use patina_host::Val;
    let host = host();
    let calc = child(&host, "calc");
    let declared = vec![Val::Flags(vec!["read".into(), "exec".into()])];
    for call in ["toggle-exec({exec, read})", "toggle-exec({read, exec})"] {
        let report = host
            .run(&calc, &RunRequest::new(Call::Wave(call.into())))
            .await
            .expect(call);
        assert_eq!(report.args, declared, "{call}");
    }
    let report = host
        .run(
            &calc,
            &RunRequest::new(Call::Json {
                function: "toggle-exec".into(),
                args: json!([["exec", "read"]]),
            }),
        )
        .await
        .expect("a JSON call");
    assert_eq!(report.args, declared);
}
