//! Bad input gets a clear, typed error and never a panic: random bytes, a
//! truncated component, a core module, unknown functions, wrong argument
//! counts and types, malformed calls, a command call on a library child.

use patina_host::{Call, RunRefused, RunRequest};
use patina_tests::{child, host, run};

#[test]
fn bytes_that_are_not_a_component_are_refused_when_loading() {
    let host = host();
    let calc = children_artifacts::CALC_BYTES;
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let cases: [(&[u8], &str); 5] = [
        (b"", "not-wasm"),
        (&random, "not-wasm"),
        (b"\0asm\x01\0\0\0", "core-module"),
        (&calc[..calc.len() / 2], "invalid-component"),
        (b"\0asm\x0d\0\x01\0\xff\xff", "invalid-component"),
    ];
    for (bytes, kind) in cases {
        let err = host.load(bytes).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert!(!err.to_string().contains('\n'), "error is one line: {err}");
    }
    let core = wat::parse_str("(module (func (export \"f\")))").unwrap();
    assert_eq!(host.load(&core).unwrap_err().kind(), "core-module");
}

#[tokio::test]
async fn calls_that_do_not_fit_the_signature_are_refused_before_running() {
    let host = host();
    let calc = child(&host, "calc");
    let cases = [
        ("nope(1)", "unknown-function"),
        ("add(1)", "bad-arguments"),
        ("add(1, 2, 3)", "bad-arguments"),
        ("add(\"two\", 3)", "bad-arguments"),
        ("add(1, 99999999999)", "bad-arguments"),
        ("add", "bad-arguments"),
        ("echo-point({x: 1})", "bad-arguments"),
        ("next-color(purple)", "bad-arguments"),
        ("add(1, 2", "bad-arguments"),
        ("(1, 2)", "bad-call"),
        ("add two", "bad-call"),
    ];
    for (call, kind) in cases {
        let err = run(&host, &calc, call, &[]).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{call}: {err}");
    }
    let err = run(&host, &calc, "nope()", &[]).await.unwrap_err();
    assert!(err.to_string().contains("add"), "lists what exists: {err}");
    let json = RunRequest::new(Call::Json {
        function: "add".into(),
        args: serde_json::json!({"a": 1}),
    });
    assert_eq!(
        host.run(&calc, &json).await.unwrap_err().kind(),
        "bad-arguments"
    );
}

#[tokio::test]
async fn a_library_child_is_not_a_command() {
    let host = host();
    let calc = child(&host, "calc");
    let err = host
        .run(&calc, &RunRequest::new(Call::Command { args: vec![] }))
        .await
        .unwrap_err();
    assert!(matches!(err, RunRefused::NotACommand { .. }), "{err}");
    assert!(err.to_string().contains("add"));
}

/// Two interfaces export a function of the same name.
const TWINS_WAT: &str = r#"
(component
  (core module $m (func (export "f") (result i32) i32.const 1) (func (export "g") (result i32) i32.const 2))
  (core instance $i (instantiate $m))
  (func $f (result u32) (canon lift (core func $i "f")))
  (func $g (result u32) (canon lift (core func $i "g")))
  (instance $a (export "same" (func $f)))
  (instance $b (export "same" (func $g)))
  (export "a" (instance $a))
  (export "b" (instance $b)))
"#;

#[tokio::test]
async fn an_ambiguous_short_name_lists_the_candidates() {
    let host = host();
    let twins = patina_tests::wat_child(&host, TWINS_WAT);
    let err = run(&host, &twins, "same()", &[]).await.unwrap_err();
    let RunRefused::AmbiguousFunction { candidates, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(candidates, &vec!["a.same".to_owned(), "b.same".to_owned()]);
    assert_eq!(patina_tests::wave(&host, &twins, "b.same()").await, "2");
}

#[tokio::test]
async fn a_trapping_child_is_a_typed_error_and_the_host_carries_on() {
    let host = host();
    let trap = patina_tests::wat_child(
        &host,
        r#"(component
             (core module $m (func (export "boom") unreachable))
             (core instance $i (instantiate $m))
             (func (export "boom") (canon lift (core func $i "boom"))))"#,
    );
    let report = run(&host, &trap, "boom()", &[]).await.unwrap();
    let err = report.outcome.unwrap_err();
    assert_eq!(err.kind(), "trap");
    assert!(err.to_string().contains("unreachable"), "{err}");
    let calc = child(&host, "calc");
    assert_eq!(patina_tests::wave(&host, &calc, "add(1, 1)").await, "2");
}
