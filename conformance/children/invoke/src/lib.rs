//! `conf-invoke`: the `invoke` toy's answers and errors (conformance
//! suite). The callees' receipt ids differ on every host (each signs its
//! own), so the exports say only whether one was named; the events carry
//! the ids.

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-invoke/invoke",
    with: { "patina:toys/invoke@0.1.0": generate },
});

use patina::toys::invoke;

struct Invoke;

impl Guest for Invoke {
    fn call(child: String, call: String) -> Result<(String, bool), String> {
        let called = invoke::call(&child, &call)?;
        Ok((called.value, called.receipt.is_some()))
    }

    fn call_json(child: String, function: String, args: String) -> Result<(String, bool), String> {
        let called = invoke::call_json(&child, &function, &args)
            .map_err(|failure| format!("{}: {}", failure.kind, failure.message))?;
        Ok((called.value, called.receipt.is_some()))
    }

    fn run(child: String, args: Vec<String>) -> Result<(u32, String, String, bool), String> {
        let ran = invoke::run(&child, &args)?;
        Ok((
            ran.exit_code,
            String::from_utf8_lossy(&ran.stdout).into_owned(),
            String::from_utf8_lossy(&ran.stderr).into_owned(),
            ran.receipt.is_some(),
        ))
    }
}

export!(Invoke);
