//! Tests of grant parsing, canonical forms and matching (no network).

use super::*;

fn canon(scope: &str) -> String {
    HttpGrant::parse(scope)
        .unwrap_or_else(|e| panic!("{scope}: {e}"))
        .canonical()
}

fn target(url: &str) -> Target {
    Target::of(&Url::parse(url).unwrap()).unwrap()
}

fn allows(scope: &str, url: &str) -> bool {
    HttpGrant::parse(scope).unwrap().allows(&target(url))
}

#[test]
fn canonical_forms() {
    assert_eq!(canon("api.example.com"), "https://api.example.com");
    assert_eq!(canon("API.Example.COM."), "https://api.example.com");
    assert_eq!(
        canon("https://api.example.com:443"),
        "https://api.example.com"
    );
    assert_eq!(
        canon("api.example.com:8443"),
        "https://api.example.com:8443"
    );
    assert_eq!(canon("*.example.com"), "https://*.example.com");
    assert_eq!(canon("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    assert_eq!(canon("HTTP://127.0.0.1:80"), "http://127.0.0.1");
    assert_eq!(canon("[::1]:8443"), "https://[::1]:8443");
    assert_eq!(canon("http://[0:0::1]"), "http://[::1]");
    assert_eq!(canon("bücher.example"), "https://xn--bcher-kva.example");
    assert_eq!(canon("*.bücher.example"), "https://*.xn--bcher-kva.example");
    // Canonical text parses to itself.
    for text in [
        "https://*.example.com",
        "http://127.0.0.1:8080",
        "https://[::1]:8443",
    ] {
        assert_eq!(canon(text), text);
    }
}

#[test]
fn refused_scopes() {
    for bad in [
        "*",
        "*.",
        "a.*.example.com",
        "*example.com",
        "ex*ample.com",
        "**.example.com",
        "*.*.example.com",
        "example.com/path",
        "example.com/",
        "https://example.com/",
        "example.com?x",
        "example.com#x",
        "user@example.com",
        "user:pw@example.com",
        "a..example.com",
        ".example.com",
        "example..",
        "ftp://example.com",
        "example.com:0",
        "example.com:65536",
        "example.com:+80",
        "example.com:",
        "::1",
        "[::1",
        "[::1]x",
        "*.127.0.0.1",
        "ex%61mple.com",
        "exa mple.com",
        ":8080",
    ] {
        assert!(HttpGrant::parse(bad).is_err(), "`{bad}` must be refused");
    }
}

#[test]
fn wildcard_matches_subdomains_only() {
    let g = "*.example.com";
    assert!(allows(g, "https://a.example.com/x"));
    assert!(allows(g, "https://a.b.example.com/"));
    assert!(allows(g, "https://A.Example.com./"));
    assert!(!allows(g, "https://example.com/"));
    assert!(!allows(g, "https://evil-example.com/"));
    assert!(!allows(g, "https://aexample.com/"));
    assert!(!allows(g, "https://example.com.evil.org/"));
    assert!(!allows(g, "https://a.example.com:8443/"));
    assert!(!allows(g, "http://a.example.com/"));
}

#[test]
fn exact_names_schemes_and_ports() {
    assert!(allows("example.com", "https://example.com/"));
    assert!(allows("example.com", "https://example.com:443/"));
    assert!(!allows("example.com", "https://a.example.com/"));
    assert!(!allows("example.com", "http://example.com/"), "https only");
    assert!(!allows("example.com", "https://example.com:8443/"));
    assert!(allows("example.com:8443", "https://example.com:8443/"));
    assert!(!allows("example.com:8443", "https://example.com/"));
    assert!(allows("http://example.com", "http://example.com/"));
    assert!(
        allows("http://example.com", "https://example.com/"),
        "upgrade"
    );
    assert!(!allows("http://example.com", "http://example.com:8080/"));
    assert!(allows(
        "http://example.com:8080",
        "http://example.com:8080/"
    ));
    assert!(allows(
        "http://example.com:8080",
        "https://example.com:8080/"
    ));
}

#[test]
fn names_and_addresses_never_match_each_other() {
    assert!(allows("http://127.0.0.1:9", "http://127.0.0.1:9/"));
    assert!(!allows("http://127.0.0.1:9", "http://localhost:9/"));
    assert!(!allows("http://localhost:9", "http://127.0.0.1:9/"));
    assert!(allows("http://localhost:9", "http://LOCALHOST:9/"));
    assert!(!allows(
        "http://127.0.0.1:9",
        "http://[::ffff:127.0.0.1]:9/"
    ));
    assert!(allows("http://[::1]:9", "http://[0::1]:9/"));
    // The url crate reads odd IPv4 spellings as the address they reach.
    assert!(allows("http://127.0.0.1:9", "http://2130706433:9/"));
}

#[test]
fn request_urls_are_checked() {
    let bad = |url: &str| Target::of(&Url::parse(url).unwrap()).unwrap_err();
    assert!(bad("https://user:pw@example.com/").contains("userinfo"));
    assert!(bad("https://user@example.com/").contains("userinfo"));
    assert!(bad("ftp://example.com/").contains("scheme"));
    assert!(bad("https://a..example.com/").contains("empty label"));
    assert_eq!(
        target("https://Example.COM./").host.to_string(),
        "example.com"
    );
    assert_eq!(target("http://[::1]:80/").host.to_string(), "[::1]");
}
