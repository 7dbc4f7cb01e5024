//! `conf-cmd`: a `wasi:cli/command` child (conformance suite): prints its
//! arguments on stdout, a line on stderr, and exits with the status after
//! `--exit` (0 without it).

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("argc: {}", args.len());
    for (i, arg) in args.iter().enumerate() {
        println!("argv[{i}]: {arg}");
    }
    println!("env: {} vars", std::env::vars().count());
    eprintln!("to stderr");
    let _ = std::io::stdout().flush();
    let code = args
        .iter()
        .position(|a| a == "--exit")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<i32>().ok())
        .unwrap_or(0);
    std::process::exit(code)
}
