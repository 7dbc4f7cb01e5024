//! `hello-log`: a typed child that imports the `log` toy; the smallest test of grants.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:hello-log/hello",
    with: { "patina:toys/log@0.1.0": generate },
});

use exports::patina::hello_log::ops;
use patina::toys::log::{Level, log};

struct HelloLog;

impl Guest for HelloLog {
    fn greet(name: String) -> String {
        log(Level::Info, &format!("greeting {name}"));
        format!("hello, {name}!")
    }

    fn chatter(n: u32) -> u32 {
        for i in 0..n {
            log(Level::Debug, &format!("line {i}"));
        }
        n
    }
}

impl ops::Guest for HelloLog {
    fn greet(name: String) -> String {
        format!("hi, {name}")
    }

    fn count_words(text: String) -> u32 {
        u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
    }
}

export!(HelloLog);
