//! Tests of reading case files: strictness, placeholders, named installs.

use super::*;

/// A scratch directory: `cases/` and `rust/<name>.wasm` (empty) for each
/// of `children`.
fn scratch(children: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir_all(dir.path().join("rust")).unwrap();
    std::fs::create_dir(&cases).unwrap();
    for child in children {
        std::fs::write(dir.path().join(format!("rust/{child}.wasm")), b"").unwrap();
    }
    (dir, cases)
}

fn sources<'a>(
    dir: &'a tempfile::TempDir,
    cases: &'a Path,
    fixtures: &'a Placeholders,
) -> Sources<'a> {
    Sources {
        cases,
        children: dir.path(),
        fixtures,
    }
}

#[test]
fn patterns_match_runs_of_anything() {
    let like = |p: &str| Text::Like { like: p.into() };
    assert!(like("({seconds: *, nanoseconds: *})").matches("({seconds: 17, nanoseconds: 5})"));
    assert!(!like("({seconds: *})").matches("({seconds: 17, nanoseconds: 5})x"));
    assert!(like("*").matches(""));
    assert!(like("a*b*c").matches("abc"));
    assert!(!like("a*b*c").matches("acb"));
    assert!(!like("ab*ba").matches("aba"), "the ends may not overlap");
    assert!(Text::Exact("x".into()).matches("x"));
    assert!(!Text::Exact("x*".into()).matches("xy"));
}

#[test]
fn a_case_file_is_read_strictly() {
    let (dir, cases) = scratch(&[]);
    let placeholders = Placeholders::default();
    let sources = sources(&dir, &cases, &placeholders);
    std::fs::write(
        cases.join("a.json"),
        r#"{"about": "x", "child": "values", "call": "add(1, 2)", "expect": {"result": "3"}, "extra": 1}"#,
    )
    .unwrap();
    let error = format!("{:#}", load(&sources).unwrap_err());
    assert!(error.contains("unknown field `extra`"), "{error}");
    std::fs::write(
        cases.join("a.json"),
        r#"{"about": "x", "child": "values", "expect": {"result": "3"}}"#,
    )
    .unwrap();
    let error = format!("{:#}", load(&sources).unwrap_err());
    assert!(
        error.contains("exactly one of `call` and `argv`"),
        "{error}"
    );
    std::fs::write(
        cases.join("a.json"),
        r#"{"about": "x", "child": "values", "languages": ["rust", "python"], "call": "add(1, 2)", "expect": {"result": "3"}}"#,
    )
    .unwrap();
    let (found, missing) = load(&sources).unwrap();
    assert!(found.is_empty());
    assert_eq!(missing.len(), 2);
    assert_eq!(missing[1].name, "a [python]");
    assert!(
        missing[1].reason.contains("componentize-py"),
        "{}",
        missing[1].reason
    );
}

#[test]
fn placeholders_are_filled_and_one_without_a_value_makes_the_case_n_a() {
    let (dir, cases) = scratch(&["http"]);
    let placeholders = Placeholders {
        values: vec![
            ("http", Ok("127.0.0.1:8080".into())),
            ("fixtures", Ok(r#"C:\a "b""#.into())),
            ("git", Err("`git` cannot be run here".into())),
        ],
    };
    let sources = sources(&dir, &cases, &placeholders);
    std::fs::write(
        cases.join("a.json"),
        r#"{"about": "x", "child": "http", "call": "get(\"http://{http}/\")",
            "grants": ["http:http://{http}", "fs:{fixtures}:ro"], "expect": {"result": "ok"}}"#,
    )
    .unwrap();
    std::fs::write(
        cases.join("b.json"),
        r#"{"about": "x", "child": "http", "call": "f()", "grants": ["git:{git}"], "expect": {}}"#,
    )
    .unwrap();
    let (found, missing) = load(&sources).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].call.as_deref(),
        Some(r#"get("http://127.0.0.1:8080/")"#)
    );
    assert_eq!(
        found[0].grants,
        ["http:http://127.0.0.1:8080", r#"fs:C:\a "b":ro"#]
    );
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].name, "b");
    assert_eq!(missing[0].language, "rust");
    assert_eq!(
        missing[0].reason,
        "the case uses `{git}`, and `git` cannot be run here"
    );
}

#[test]
fn a_named_install_must_be_a_built_child() {
    let (dir, cases) = scratch(&["invoke", "hello"]);
    let placeholders = Placeholders::default();
    let sources = sources(&dir, &cases, &placeholders);
    let write = |callee: &str| {
        let text = format!(
            r#"{{"about": "x", "child": "invoke", "call": "f()", "grants": ["invoke:h"],
                "installed": [{{"name": "h", "child": "{callee}", "grants": ["log"]}}], "expect": {{}}}}"#
        );
        std::fs::write(cases.join("a.json"), text).unwrap();
    };
    write("hello");
    let (found, _) = load(&sources).unwrap();
    assert_eq!(
        found[0].installed,
        [Named {
            name: "h".into(),
            child: dir.path().join("rust/hello.wasm"),
            grants: vec!["log".into()],
        }]
    );
    // Another case installing the same name otherwise is refused: a host
    // keeps the first install of a name.
    std::fs::write(
        cases.join("b.json"),
        r#"{"about": "x", "child": "invoke", "call": "f()", "grants": ["invoke:h"],
            "installed": [{"name": "h", "child": "hello"}], "expect": {}}"#,
    )
    .unwrap();
    let error = format!("{:#}", load(&sources).unwrap_err());
    assert!(
        error.contains("the cases a and b install different children or grants as `h`"),
        "{error}"
    );
    std::fs::remove_file(cases.join("b.json")).unwrap();
    write("nobody");
    let error = format!("{:#}", load(&sources).unwrap_err());
    assert!(
        error.contains("installs `nobody` as `h`") && error.contains("was not built"),
        "{error}"
    );
}
