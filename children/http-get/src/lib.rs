//! `http-get`: a typed child that imports the `http` toy; fetches a URL and
//! reports the status and body as text, or the toy's error as a string.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:http-get/get",
    with: { "patina:toys/http@0.1.0": generate },
});

use patina::toys::http::{Error, Request, fetch};

struct HttpGet;

fn describe(error: Error) -> String {
    match error {
        Error::Denied(host) => format!("denied({host})"),
        Error::Invalid(reason) => format!("invalid({reason})"),
        Error::Timeout => "timeout".to_owned(),
        Error::TooLarge(n) => format!("too-large({n})"),
        Error::Transport(reason) => format!("transport({reason})"),
    }
}

impl Guest for HttpGet {
    fn get(url: String) -> Result<(u16, String), String> {
        let response = fetch(&Request {
            method: "GET".to_owned(),
            url,
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
        })
        .map_err(describe)?;
        Ok((
            response.status,
            String::from_utf8_lossy(&response.body).into_owned(),
        ))
    }

    fn post(url: String, body: String) -> Result<(u16, String, String), String> {
        let response = fetch(&Request {
            method: "POST".to_owned(),
            url,
            headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
            body: Some(body.into_bytes()),
            timeout_ms: Some(5_000),
        })
        .map_err(describe)?;
        Ok((
            response.status,
            response.url,
            String::from_utf8_lossy(&response.body).into_owned(),
        ))
    }
}

export!(HttpGet);
