//! Deny by default: ungranted imports refuse the run (or hit deny stubs),
//! the WASI base carries no authority, and `fs` / `net` grants give exactly
//! what they name — no escape through `..`, absolute paths or symlinks.

use patina_host::{RunFailure, RunRefused};
use patina_tests::{child, command, host, run, stderr, stdout, wat_child};

#[tokio::test]
async fn an_ungranted_toy_refuses_the_run_with_the_missing_grant() {
    let host = host();
    let hello = child(&host, "hello-log");
    let err = run(&host, &hello, "greet(\"ann\")", &[]).await.unwrap_err();
    let RunRefused::MissingGrants { missing } = &err else {
        panic!("{err}")
    };
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].import, "patina:toys/log@0.1.0");
    assert_eq!(missing[0].grant.as_deref(), Some("log"));
    assert_eq!(err.kind(), "missing-grants");
}

#[tokio::test]
async fn a_granted_toy_serves_the_child_and_its_lines_come_back() {
    let host = host();
    let hello = child(&host, "hello-log");
    let report = run(&host, &hello, "greet(\"ann\")", &["log"])
        .await
        .unwrap();
    assert_eq!(report.wave().as_deref(), Some("\"hello, ann!\""));
    assert_eq!(report.logs.len(), 1);
    assert_eq!(report.logs[0].message, "greeting ann");
    assert_eq!(report.grants, vec!["log".parse().unwrap()]);
}

#[tokio::test]
async fn deny_missing_links_stubs_that_fail_deterministically() {
    let host = host();
    let hello = child(&host, "hello-log");
    let mut request = patina_tests::request("greet(\"ann\")", &[]);
    request.deny_missing = true;
    for _ in 0..2 {
        let report = host.run(&hello, &request).await.unwrap();
        let err = report.outcome.unwrap_err();
        assert!(
            matches!(&err, RunFailure::Denied { import } if import == "patina:toys/log@0.1.0"),
            "{err}"
        );
        assert_eq!(err.to_string(), "denied: patina:toys/log@0.1.0");
    }
    // A function that never touches the denied toy still runs.
    let mut request = patina_tests::request("ops.greet(\"bo\")", &[]);
    request.deny_missing = true;
    let report = host.run(&hello, &request).await.unwrap();
    assert_eq!(report.wave().as_deref(), Some("\"hi, bo\""));
}

/// Imports an interface nothing serves, plus a resource type in it.
const VAULT_WAT: &str = r#"
(component
  (import "acme:secret/vault@1.0.0" (instance $v
    (export "key" (type (sub resource)))
    (export "open" (func (result u32)))))
  (core func $open (canon lower (func $v "open")))
  (core module $m
    (import "v" "open" (func $open (result i32)))
    (func (export "peek") (result i32) call $open)
    (func (export "calm") (result i32) i32.const 7))
  (core instance $i (instantiate $m (with "v" (instance (export "open" (func $open))))))
  (func (export "peek") (result u32) (canon lift (core func $i "peek")))
  (func (export "calm") (result u32) (canon lift (core func $i "calm"))))
"#;

#[tokio::test]
async fn an_import_no_toy_serves_is_refused_or_denied() {
    let host = host();
    let vault = wat_child(&host, VAULT_WAT);
    let err = run(&host, &vault, "calm()", &[]).await.unwrap_err();
    let RunRefused::MissingGrants { missing } = &err else {
        panic!("{err}")
    };
    assert_eq!(missing[0].import, "acme:secret/vault@1.0.0");
    assert_eq!(missing[0].grant, None);
    let mut request = patina_tests::request("peek()", &[]);
    request.deny_missing = true;
    let err = host
        .run(&vault, &request)
        .await
        .unwrap()
        .outcome
        .unwrap_err();
    assert_eq!(err.to_string(), "denied: acme:secret/vault@1.0.0");
    let mut request = patina_tests::request("calm()", &[]);
    request.deny_missing = true;
    assert_eq!(
        host.run(&vault, &request).await.unwrap().wave().as_deref(),
        Some("7")
    );
}

#[tokio::test]
async fn the_wasi_base_is_empty() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let report = command(&host, &cmd, &["a", "b"], &[]).await;
    assert_eq!(report.outcome.as_ref().unwrap().exit_code, Some(0));
    assert_eq!(stdout(&report), "args: a b\nenv: 0 vars\n");
    assert_eq!(stderr(&report), "stderr works\n");
    let report = command(&host, &cmd, &["--ls", "/"], &[]).await;
    assert_eq!(report.outcome.as_ref().unwrap().exit_code, Some(1));
    assert!(stderr(&report).contains("ls: "), "{}", stderr(&report));
    let report = command(&host, &cmd, &["--cat", "/etc/passwd"], &[]).await;
    assert_eq!(report.outcome.as_ref().unwrap().exit_code, Some(1));
    assert!(!stdout(&report).contains("root:"));
}

#[tokio::test]
async fn an_fs_grant_opens_one_directory_and_nothing_around_it() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let outer = tempfile::tempdir().unwrap();
    let granted = outer.path().join("granted");
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(granted.join("note.txt"), "inside\n").unwrap();
    std::fs::write(outer.path().join("secret.txt"), "outside\n").unwrap();
    let dir = std::fs::canonicalize(&granted)
        .unwrap()
        .display()
        .to_string();
    let grant = format!("fs:{dir}:ro");

    let report = command(
        &host,
        &cmd,
        &["--cat", &format!("{dir}/note.txt")],
        &[&grant],
    )
    .await;
    assert!(
        stdout(&report).ends_with("inside\n"),
        "{}{}",
        stdout(&report),
        stderr(&report)
    );
    let report = command(&host, &cmd, &["--ls", &dir], &[&grant]).await;
    assert!(stdout(&report).contains("note.txt"));

    #[cfg(unix)]
    std::os::unix::fs::symlink(outer.path().join("secret.txt"), granted.join("link")).unwrap();
    let escapes = [
        format!("{dir}/../secret.txt"),
        outer.path().join("secret.txt").display().to_string(),
        format!("{dir}/link"),
    ];
    for path in &escapes {
        let report = command(&host, &cmd, &["--cat", path], &[&grant]).await;
        assert_eq!(
            report.outcome.as_ref().unwrap().exit_code,
            Some(1),
            "{path}: {}",
            stdout(&report)
        );
        assert!(
            !stdout(&report).contains("outside"),
            "{path} escaped the grant"
        );
    }
}

#[tokio::test]
async fn a_read_only_grant_refuses_writes_and_a_read_write_one_allows_them() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let dir = tempfile::tempdir().unwrap();
    let canon = std::fs::canonicalize(dir.path())
        .unwrap()
        .display()
        .to_string();
    let target = format!("{canon}/new.txt");
    let report = command(
        &host,
        &cmd,
        &["--write", &target],
        &[&format!("fs:{canon}:ro")],
    )
    .await;
    assert_eq!(
        report.outcome.as_ref().unwrap().exit_code,
        Some(1),
        "{}",
        stderr(&report)
    );
    assert!(stderr(&report).contains("write: "), "{}", stderr(&report));
    assert!(
        !dir.path().join("new.txt").exists(),
        "a read-only grant let the child write"
    );
    let report = command(
        &host,
        &cmd,
        &["--write", &target],
        &[&format!("fs:{canon}:rw")],
    )
    .await;
    assert!(
        stdout(&report).contains("write: ok"),
        "{}{}",
        stdout(&report),
        stderr(&report)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("new.txt")).unwrap(),
        "written\n"
    );
}

#[tokio::test]
async fn sockets_are_denied_unless_the_address_is_granted() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let report = command(&host, &cmd, &["--connect", &addr], &[]).await;
    assert_eq!(report.outcome.as_ref().unwrap().exit_code, Some(1));
    assert!(stderr(&report).contains("connect: "), "{}", stderr(&report));
    let other = format!(
        "net:127.0.0.1:{}",
        listener.local_addr().unwrap().port().wrapping_add(1).max(1)
    );
    let report = command(&host, &cmd, &["--connect", &addr], &[&other]).await;
    assert_eq!(
        report.outcome.as_ref().unwrap().exit_code,
        Some(1),
        "a grant for another port let it through"
    );
    let report = command(
        &host,
        &cmd,
        &["--connect", &addr],
        &[&format!("net:{addr}")],
    )
    .await;
    assert!(
        stdout(&report).contains("connect: ok"),
        "{}{}",
        stdout(&report),
        stderr(&report)
    );
}

#[tokio::test]
async fn bad_grants_are_typed_errors() {
    let host = host();
    let calc = child(&host, "calc");
    for grant in [
        "teleport",
        "log:loud",
        "fs:/no/such/dir:ro",
        "net:example.com:80",
    ] {
        let err = run(&host, &calc, "add(1, 2)", &[grant]).await.unwrap_err();
        assert_eq!(err.kind(), "bad-grant", "{grant}: {err}");
    }
}
