//! Building the conformance children from source into `<out>/<language>/<name>.wasm`
//! (`patina-conformance build-children --out DIR`): the Rust children always
//! (a nested cargo for wasm32-wasip2), the Python ones with componentize-py
//! and the JavaScript ones with componentize-js (from `hosts/js`'s packages)
//! when those toolchains are there — rebuilt only when a source is newer
//! than the built component. A missing toolchain is said loudly here, and
//! the runner lists every case of those children as n/a with the same
//! reason: never a silent skip. It builds; it never runs a child.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

/// The Rust conformance children: (crate, produced file, name in the cases).
const RUST_CHILDREN: &[(&str, &str, &str)] = &[
    ("conf-values", "conf_values.wasm", "values"),
    ("conf-hello", "conf_hello.wasm", "hello"),
    ("conf-kvstore", "conf_kvstore.wasm", "kvstore"),
    ("conf-files", "conf_files.wasm", "files"),
    ("conf-limits", "conf_limits.wasm", "limits"),
    ("conf-ambient", "conf_ambient.wasm", "ambient"),
    ("conf-cmd", "conf-cmd.wasm", "cmd"),
    ("conf-measure", "conf_measure.wasm", "measure"),
    ("conf-watch", "conf_watch.wasm", "watch"),
    ("conf-git", "conf_git.wasm", "git"),
    ("conf-http", "conf_http.wasm", "http"),
    ("conf-invoke", "conf_invoke.wasm", "invoke"),
];

/// (child, world) of the Python and JavaScript children: each implements
/// the same world as the Rust child of that name.
const OTHER_LANGUAGES: &[(&str, &str)] = &[
    ("values", "pure"),
    ("hello", "hello"),
    ("kvstore", "kvstore"),
];

/// The languages other than Rust, and whether to build them.
#[derive(Clone, Copy, Debug)]
pub struct Languages {
    /// Python, with componentize-py (when installed).
    pub python: bool,
    /// JavaScript, with componentize-js (when `hosts/js` has its packages).
    pub js: bool,
}

/// Builds every child under `out` (`root` is the repository).
pub fn build(root: &Path, out: &Path, languages: Languages) -> Result<()> {
    build_rust(root, &out.join(".wasm-target"), &out.join("rust"))?;
    if languages.python {
        build_python(root, &out.join("python"));
    }
    if languages.js {
        build_js(root, &out.join("js"));
    }
    Ok(())
}

/// Builds `conformance/children` for wasm32-wasip2 (a nested cargo, with
/// nothing of the calling build's flags) and copies each child to
/// `dest/<name>.wasm`.
fn build_rust(root: &Path, wasm_target: &Path, dest: &Path) -> Result<()> {
    let manifest = root.join("conformance/children/Cargo.toml");
    let cargo_bin = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo_bin);
    command
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--locked",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", wasm_target);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let leaks = matches!(
            key,
            "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "RUSTC_WRAPPER"
        ) || key.starts_with("CARGO_PROFILE_")
            || (key.starts_with("CARGO_BUILD_") && key != "CARGO_BUILD_JOBS");
        if leaks {
            command.env_remove(key);
        }
    }
    let status = command
        .status()
        .context("building the conformance children")?;
    if !status.success() {
        bail!(
            "building conformance/children for wasm32-wasip2 failed ({status}); `rustup target add wasm32-wasip2` if the target is missing"
        );
    }
    std::fs::create_dir_all(dest)?;
    let release = wasm_target.join("wasm32-wasip2").join("release");
    for (krate, file, name) in RUST_CHILDREN {
        let built: PathBuf = release.join(file);
        let copy = dest.join(format!("{name}.wasm"));
        if !stale(&copy, std::slice::from_ref(&built)) {
            continue;
        }
        std::fs::copy(&built, &copy)
            .with_context(|| format!("{krate}: {} was not built", built.display()))?;
    }
    Ok(())
}

/// The toy WIT files a child's world imports, copied into `deps/`.
fn toy_wit(child: &str) -> &'static [&'static str] {
    match child {
        "hello" => &["log.wit"],
        "kvstore" => &["kv.wit"],
        _ => &[],
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `out` is missing or older than any of `sources`.
fn stale(out: &Path, sources: &[PathBuf]) -> bool {
    let Some(built) = modified(out) else {
        return true;
    };
    sources
        .iter()
        .any(|s| modified(s).is_none_or(|m| m > built))
}

/// A WIT directory for `child`: its world plus the toy interfaces it imports.
fn wit_dir(root: &Path, child: &str, scratch: &Path) -> std::io::Result<PathBuf> {
    let dir = scratch.join(format!("wit-{child}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(
        root.join("conformance/children")
            .join(child)
            .join("wit/world.wit"),
        dir.join("world.wit"),
    )?;
    // Only a child that imports toys gets `deps/toys`: an empty package
    // directory is refused by componentize-js's WIT reader ("no `package`
    // header"), which would leave that child unbuilt.
    let toys = toy_wit(child);
    if !toys.is_empty() {
        std::fs::create_dir_all(dir.join("deps/toys"))?;
    }
    for file in toys {
        std::fs::copy(
            root.join("wit/toys").join(file),
            dir.join("deps/toys").join(file),
        )?;
    }
    Ok(dir)
}

fn loud(what: &str) {
    eprintln!("conformance: ************************************************************");
    eprintln!("conformance: {what}");
    eprintln!("conformance: ************************************************************");
}

/// Where an executable named `name` is on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// Builds the Python children into `dest/<child>.wasm` with componentize-py
/// (`$COMPONENTIZE_PY`, else the one on `PATH`).
fn build_python(root: &Path, dest: &Path) {
    let Some(tool) = std::env::var_os("COMPONENTIZE_PY")
        .map(PathBuf::from)
        .or_else(|| on_path("componentize-py"))
    else {
        loud(
            "componentize-py is not installed (pip install componentize-py): the Python children are not built, their cases are n/a",
        );
        return;
    };
    build_each(root, dest, "python", |child, world, wit, out| {
        let src = root.join("conformance/children/python").join(child);
        let mut command = Command::new(&tool);
        command
            .arg("-d")
            .arg(wit)
            .args(["-w", world, "componentize", "app", "-o"])
            .arg(out)
            .current_dir(src)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        command
    });
}

/// Builds the JavaScript children into `dest/<child>.wasm` with componentize-js.
fn build_js(root: &Path, dest: &Path) {
    let js = root.join("hosts/js");
    if !js
        .join("node_modules/@bytecodealliance/componentize-js")
        .is_dir()
    {
        loud(
            "componentize-js is not installed (npm ci in hosts/js): the JavaScript children are not built, their cases are n/a",
        );
        return;
    }
    build_each(root, dest, "js", |child, world, wit, out| {
        let mut command = Command::new("node");
        command
            .arg(js.join("tools/componentize.mjs"))
            .arg(
                root.join("conformance/children/js")
                    .join(format!("{child}.js")),
            )
            .arg(wit)
            .arg(world)
            .arg(out);
        command
    });
}

fn build_each(
    root: &Path,
    dest: &Path,
    language: &str,
    command: impl Fn(&str, &str, &Path, &Path) -> Command,
) {
    let scratch = dest.join(".wit");
    if let Err(e) = std::fs::create_dir_all(&scratch) {
        loud(&format!("cannot create {}: {e}", scratch.display()));
        return;
    }
    for (child, world) in OTHER_LANGUAGES {
        let out = dest.join(format!("{child}.wasm"));
        let source = match language {
            "python" => root
                .join("conformance/children/python")
                .join(child)
                .join("app.py"),
            _ => root
                .join("conformance/children/js")
                .join(format!("{child}.js")),
        };
        let mut sources = vec![
            source,
            root.join("conformance/children")
                .join(child)
                .join("wit/world.wit"),
        ];
        sources.extend(toy_wit(child).iter().map(|f| root.join("wit/toys").join(f)));
        if !stale(&out, &sources) {
            continue;
        }
        eprintln!("conformance: building the {language} child {child} (this takes a while)");
        let built = wit_dir(root, child, &scratch)
            .map_err(|e| e.to_string())
            .and_then(|wit| {
                command(child, world, &wit, &out)
                    .status()
                    .map_err(|e| e.to_string())
            });
        match built {
            Ok(status) if status.success() => {}
            Ok(status) => {
                let _ = std::fs::remove_file(&out);
                loud(&format!(
                    "building the {language} child {child} failed ({status}): its cases are n/a"
                ));
            }
            Err(e) => loud(&format!(
                "building the {language} child {child}: {e}: its cases are n/a"
            )),
        }
    }
}
