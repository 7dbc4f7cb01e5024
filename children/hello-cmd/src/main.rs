//! `hello-cmd`: a `wasi:cli/command` child that exercises args, env, stdio, files, clocks and sockets.

use std::io::Write;
use std::process::exit;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {}", args.join(" "));
    println!("env: {} vars", std::env::vars().count());
    eprintln!("stderr works");

    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--cat" => cat(value(&mut it, "--cat")),
            "--ls" => ls(value(&mut it, "--ls")),
            "--write" => write(value(&mut it, "--write")),
            "--connect" => connect(value(&mut it, "--connect")),
            "--exit" => {
                let n = value(&mut it, "--exit");
                match n.parse::<i32>() {
                    Ok(code) => exit(code),
                    Err(e) => fail(2, &format!("--exit: {e}")),
                }
            }
            "--now" => {
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                println!("now: {secs}");
            }
            _ => {}
        }
    }
}

/// The argument after `flag`, or exit 2 when it is missing.
fn value<'a>(it: &mut impl Iterator<Item = &'a String>, flag: &str) -> &'a str {
    match it.next() {
        Some(v) => v,
        None => fail(2, &format!("{flag}: missing value")),
    }
}

/// Print `msg` on stderr and exit with `code`.
fn fail(code: i32, msg: &str) -> ! {
    eprintln!("{msg}");
    let _ = std::io::stdout().flush();
    exit(code)
}

fn cat(path: &str) {
    match std::fs::read(path) {
        Ok(bytes) => {
            let mut out = std::io::stdout();
            let _ = out.write_all(&bytes);
            let _ = out.flush();
        }
        Err(e) => fail(2, &format!("cat: {e}")),
    }
}

/// Creates (or truncates) `path` with the text `written`, then prints `write: ok`.
fn write(path: &str) {
    match std::fs::write(path, "written\n") {
        Ok(()) => println!("write: ok"),
        Err(e) => fail(2, &format!("write: {e}")),
    }
}

fn ls(path: &str) {
    let entries = std::fs::read_dir(path).and_then(|rd| {
        rd.map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<Vec<_>>>()
    });
    match entries {
        Ok(mut names) => {
            names.sort();
            for name in names {
                println!("{name}");
            }
        }
        Err(e) => fail(2, &format!("ls: {e}")),
    }
}

fn connect(addr: &str) {
    match std::net::TcpStream::connect(addr) {
        Ok(_) => println!("connect: ok"),
        Err(e) => fail(3, &format!("connect: {e}")),
    }
}
