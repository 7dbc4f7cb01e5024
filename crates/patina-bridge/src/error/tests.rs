//! Every kind the membrane and the Mother make has a status chosen for it,
//! and the ones a client meets most have the status the docs promise.

use std::time::Duration;

use axum::http::StatusCode;
use patina_membrane::{MembraneError, TokenError};
use patina_mother::MotherError;

use super::*;

fn membrane_errors() -> Vec<MembraneError> {
    let role = || "runner".to_owned();
    vec![
        MembraneError::Denied {
            role: role(),
            method: "runtime.metrics".into(),
        },
        MembraneError::ChildDenied {
            role: role(),
            child: "calc".into(),
        },
        MembraneError::ReceiptDenied {
            role: role(),
            receipt: "abcd".into(),
        },
        MembraneError::GrantAboveCeiling {
            grant: "fs:/etc:ro".into(),
            role: role(),
            ceiling: "log".into(),
        },
        MembraneError::ApprovalRequired {
            grant: "kv".into(),
            role: role(),
        },
        MembraneError::NotApprovable {
            grant: "kv".into(),
            role: role(),
        },
        MembraneError::Unauthenticated("revoked".into()),
        MembraneError::LimitAboveCeiling {
            limit: "fuel",
            asked: 10,
            ceiling: 5,
            role: role(),
        },
        MembraneError::InstallNamed { role: role() },
        MembraneError::RateLimited {
            role: role(),
            per_second: 0.5,
            burst: 1,
        },
        MembraneError::StaleEpoch {
            issued: 1,
            current: 2,
        },
        MembraneError::BadRequest("x".into()),
        MembraneError::Busy("x".into()),
        MembraneError::LoginTimeout(Duration::from_secs(1)),
        MembraneError::Rpc(capnp::Error::failed("x".into())),
        MembraneError::Tokens(TokenError::Unknown("x".into())),
        MembraneError::Tokens(TokenError::Bad {
            path: "t".into(),
            message: "m".into(),
        }),
    ]
}

fn mother_errors() -> Vec<MotherError> {
    use patina_host::{LoadError, RunRefused};
    vec![
        MotherError::UnknownChild("nope".into()),
        MotherError::AmbiguousChild {
            prefix: "b3:1".into(),
            candidates: vec!["a".into(), "b".into()],
        },
        MotherError::BadName(".x".into()),
        MotherError::DamagedChild("x".into()),
        MotherError::GrantsWithoutName,
        MotherError::Load(LoadError::CoreModule),
        MotherError::Task("x".into()),
        MotherError::Receipt(patina_receipts::ReceiptError::NotFound("ab".into())),
        MotherError::Refused(RunRefused::UnknownFunction {
            name: "nope".into(),
            available: vec!["add".into()],
        }),
        MotherError::Io {
            context: "x".into(),
            source: std::io::Error::other("disk"),
        },
    ]
}

#[test]
fn every_kind_the_crates_make_has_a_chosen_status() {
    let kinds: Vec<&'static str> = membrane_errors()
        .iter()
        .map(MembraneError::kind)
        .chain(mother_errors().iter().map(MotherError::kind))
        .collect();
    for kind in kinds {
        assert!(
            known_status(kind).is_some(),
            "no status chosen for `{kind}`"
        );
        assert!(
            KNOWN_KINDS.contains(&kind),
            "`{kind}` missing from KNOWN_KINDS"
        );
    }
    for kind in KNOWN_KINDS {
        assert!(known_status(kind).is_some(), "{kind}");
    }
    let mut sorted = KNOWN_KINDS.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), KNOWN_KINDS.len(), "a kind is listed twice");
    assert_eq!(known_status("no-such-kind"), None);
    assert_eq!(status_of("no-such-kind"), StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn refusals_map_to_the_statuses_the_docs_promise() {
    let statuses: Vec<(String, StatusCode)> = membrane_errors()
        .into_iter()
        .map(ApiError::from)
        .map(|e| (e.kind.clone(), e.status()))
        .collect();
    let expect = [
        ("denied", 403),
        ("child-denied", 403),
        ("receipt-denied", 403),
        ("grant-above-ceiling", 403),
        ("approval-required", 403),
        ("not-approvable", 403),
        ("unauthenticated", 401),
        ("limit-above-ceiling", 403),
        ("install-named-denied", 403),
        ("rate-limited", 429),
        ("stale-epoch", 409),
        ("bad-request", 400),
        ("busy", 503),
        ("login-timeout", 408),
        ("rpc", 500),
        ("unknown-token", 404),
        ("bad-tokens", 500),
    ];
    assert_eq!(statuses.len(), expect.len());
    for ((kind, status), (want_kind, want_status)) in statuses.iter().zip(expect) {
        assert_eq!(kind, want_kind);
        assert_eq!(status.as_u16(), want_status, "{kind}");
    }
    let mother: Vec<(String, u16)> = mother_errors()
        .into_iter()
        .map(ApiError::from)
        .map(|e| (e.kind.clone(), e.status().as_u16()))
        .collect();
    let expect = [
        ("unknown-child", 404),
        ("ambiguous-child", 409),
        ("bad-name", 400),
        ("invalid-component", 422),
        ("bad-grant", 400),
        ("core-module", 400),
        ("error", 500),
        ("unknown-receipt", 404),
        ("unknown-function", 404),
        ("io", 500),
    ];
    for ((kind, status), (want_kind, want_status)) in mother.iter().zip(expect) {
        assert_eq!(kind, want_kind);
        assert_eq!(*status, want_status, "{kind}");
    }
}

#[test]
fn a_rate_refusal_says_when_to_retry() {
    let error = ApiError::from(MembraneError::RateLimited {
        role: "r".into(),
        per_second: 0.25,
        burst: 1,
    });
    assert_eq!(error.retry_after, Some(4));
    let response = axum::response::IntoResponse::into_response(error);
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "4");
}

#[test]
fn docs_bridge_md_lists_every_kind_with_its_status() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/bridge.md");
    let docs = std::fs::read_to_string(path).expect("docs/bridge.md");
    for kind in KNOWN_KINDS {
        let status = status_of(kind).as_u16().to_string();
        let row = docs
            .lines()
            .find(|line| line.starts_with(&format!("| {status} |")))
            .unwrap_or_else(|| panic!("no row for {status} in docs/bridge.md"));
        assert!(
            row.contains(&format!("`{kind}`")),
            "`{kind}` is not in the {status} row"
        );
    }
}
