//! The OpenAPI 3.1 document: served without a token, well formed (every
//! `$ref` resolves, every component schema is a valid JSON Schema 2020-12,
//! every operation answers), and listing exactly the routes the bridge
//! routes.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::common::Bridged;

/// What the bridge routes (the test's own list, held against both the
/// document and the server).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/metrics"),
    ("get", "/v1/children"),
    ("get", "/v1/children/{name}"),
    ("post", "/v1/children/{name}/call/{function}"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/receipts/{id}"),
    ("post", "/v1/replay/{id}"),
];

fn refs<'a>(value: &'a Json, out: &mut Vec<&'a str>) {
    match value {
        Json::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Json::String(target)) => out.push(target),
                    _ => refs(value, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_valid_openapi_3_1_and_lists_every_route() {
    let bridge = Bridged::start();
    let answer = bridge.get("/v1/openapi.json", None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let document = answer.json();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["info"]["title"].is_string());
    assert!(document["info"]["version"].is_string());
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let mut listed = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            listed.insert((method.clone(), path.clone()));
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.contains_key("200"), "{method} {path}");
            if path != "/v1/openapi.json" {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} documents no 401"
                );
            }
            // Every path parameter is declared.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(|c| c == '{' || c == '}');
                let declared = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["name"] == name && p["in"] == "path");
                assert!(declared, "{method} {path}: parameter {name}");
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(listed, expected);

    let mut targets = Vec::new();
    refs(&document, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').expect("a local $ref");
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .expect("schemas")
    {
        // References between components resolve against the document.
        let mut rooted = schema.clone();
        rooted["components"] = document["components"].clone();
        if let Err(e) = jsonschema::draft202012::new(&rooted) {
            panic!("component {name} is not a valid schema: {e}");
        }
    }
}

#[test]
fn every_documented_operation_is_routed() {
    let bridge = Bridged::start();
    let token = bridge.token("admin");
    let ran = bridge.call(&token, "calc", "add", "[1, 1]").json();
    let receipt = ran["receipt"]["id"].as_str().unwrap().to_owned();
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{name}", "calc")
            .replace("{function}", "add")
            .replace("{id}", &receipt);
        let answer = match *method {
            "get" => bridge.get(&concrete, Some(&token)),
            _ => bridge.post(&concrete, Some(&token), "[1, 1]"),
        };
        assert_eq!(answer.status, 200, "{method} {concrete}: {}", answer.body);
    }
}
