//! `composer`: calls other installed children through the `invoke` toy and
//! hands back what they returned, with the callee's receipt id.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:composer/composer",
    with: { "patina:toys/invoke@0.1.0": generate },
});

use patina::toys::invoke;

struct Composer;

impl Guest for Composer {
    fn call(child: String, call: String) -> Result<Answer, String> {
        let called = invoke::call(&child, &call)?;
        Ok(Answer {
            value: called.value,
            receipt: called.receipt,
        })
    }

    fn run(child: String, args: Vec<String>) -> Result<Answer, String> {
        let ran = invoke::run(&child, &args)?;
        if ran.exit_code != 0 {
            return Err(format!(
                "`{child}` exited with {}: {}",
                ran.exit_code,
                String::from_utf8_lossy(&ran.stderr)
            ));
        }
        Ok(Answer {
            value: String::from_utf8_lossy(&ran.stdout).into_owned(),
            receipt: ran.receipt,
        })
    }
}

export!(Composer);
