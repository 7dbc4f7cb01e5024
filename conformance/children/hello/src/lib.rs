//! `conf-hello`: logs through the `log` toy (conformance suite).

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-hello/hello",
    with: { "patina:toys/log@0.1.0": generate },
});

use patina::toys::log::{Level, log};

struct Hello;

impl Guest for Hello {
    fn greet(name: String) -> String {
        log(Level::Info, &format!("greeting {name}"));
        format!("hello, {name}!")
    }

    fn chatter(n: u32) -> u32 {
        const LEVELS: [Level; 5] = [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ];
        for i in 0..n {
            log(LEVELS[i as usize % LEVELS.len()], &format!("line {i}"));
        }
        n
    }
}

export!(Hello);
