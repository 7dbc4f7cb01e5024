//! `conf-http`: the `http` toy's answers and errors (conformance suite).

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-http/http",
    with: { "patina:toys/http@0.1.0": generate },
});

use patina::toys::http;

struct Http;

/// The case name of an http error, with its payload.
fn case(error: http::Error) -> String {
    match error {
        http::Error::Denied(why) => format!("denied: {why}"),
        http::Error::Invalid(why) => format!("invalid: {why}"),
        http::Error::Timeout => "timeout".into(),
        http::Error::TooLarge(n) => format!("too-large: {n}"),
        http::Error::Transport(why) => format!("transport: {why}"),
    }
}

impl Guest for Http {
    fn send(
        method: String,
        url: String,
        body: Option<String>,
    ) -> Result<(u16, String, String, String), String> {
        let request = http::Request {
            method,
            url,
            headers: vec![("accept".into(), "text/plain".into())],
            body: body.map(String::into_bytes),
            timeout_ms: Some(5_000),
        };
        let response = http::fetch(&request).map_err(case)?;
        let content_type = response
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map_or_else(|| "-".to_owned(), |(_, value)| value.clone());
        Ok((
            response.status,
            content_type,
            String::from_utf8_lossy(&response.body).into_owned(),
            response.url,
        ))
    }
}

export!(Http);
