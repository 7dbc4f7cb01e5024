//! A conformance case as data: one JSON file in `conformance/cases/`. A case
//! names a child (a conformance child by name, built in each language the
//! case lists, or a `.wasm` path relative to the case file), a call (WAVE)
//! or a command's arguments, grants, limits, and what every host must
//! produce: a refusal's kind, or the result, the event sequence, the
//! outcome, stdout and stderr. Loading only reads and checks files; it
//! never runs anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// Text a host must produce: exactly this, or `{"like": "a*b"}` where `*`
/// stands for any run of characters (for values that differ run by run).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Text {
    /// Exactly this text.
    Exact(String),
    /// A pattern.
    Like {
        /// The pattern: `*` matches any run of characters, everything else itself.
        like: String,
    },
}

impl Text {
    /// Whether `text` is what this asks for.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Self::Exact(exact) => exact == text,
            Self::Like { like } => glob(like, text),
        }
    }

    /// The expectation as people read it.
    pub fn shown(&self) -> String {
        match self {
            Self::Exact(exact) => exact.clone(),
            Self::Like { like } => format!("like `{like}`"),
        }
    }
}

/// `*`-only glob matching.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// What an event answered.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedResult {
    /// The results, as WAVE text of the result list.
    Ok(Text),
    /// A deny stub answered.
    Denied,
    /// The toy failed with this message.
    Failed(Text),
}

/// One expected event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEvent {
    /// The interface, e.g. `patina:toys/log@0.1.0` or `wasi:clocks/wall-clock`.
    pub toy: String,
    /// The function.
    pub function: String,
    /// The arguments, as WAVE text of the argument list.
    pub args: Text,
    /// The answer.
    pub result: ExpectedResult,
}

/// How the run must end.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ExpectedOutcome {
    /// It returned (with this exit status, for a command child).
    Returned {
        /// A command's exit status.
        #[serde(default)]
        exit_code: Option<i32>,
    },
    /// It stopped with an error of this kind (and, when given, this message).
    Failed {
        /// The kind (`out-of-fuel`, `deadline-exceeded`, `denied`, `trap`, ...).
        kind: String,
        /// The message.
        #[serde(default)]
        message: Option<Text>,
    },
}

/// What every host must produce.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The run is refused before it starts, with this kind.
    #[serde(default)]
    pub refused: Option<String>,
    /// The results as WAVE text (empty when the function returns nothing).
    #[serde(default)]
    pub result: Option<Text>,
    /// Every event, in order (when given: exactly these).
    #[serde(default)]
    pub events: Option<Vec<ExpectedEvent>>,
    /// How it ended.
    #[serde(default)]
    pub outcome: Option<ExpectedOutcome>,
    /// Captured stdout.
    #[serde(default)]
    pub stdout: Option<Text>,
    /// Captured stderr.
    #[serde(default)]
    pub stderr: Option<Text>,
}

/// Limits of a case's run; each one left out is the suite's default.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLimits {
    /// Fuel budget.
    pub fuel: Option<u64>,
    /// Deadline, milliseconds.
    pub timeout_ms: Option<u64>,
    /// Memory cap, bytes.
    pub memory: Option<u64>,
}

/// The suite's limits for a case that names none: the same on every host,
/// so the transcripts (which record them) can be identical.
pub const DEFAULT_FUEL: u64 = 1_000_000_000;
/// Default deadline.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Default memory cap.
pub const DEFAULT_MEMORY: u64 = 64 << 20;
/// Default output cap.
pub const DEFAULT_OUTPUT: u64 = 4 << 20;

/// A child a case needs installed under a name before it runs (the callee
/// of an `invoke` case), as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedFile {
    name: String,
    /// A Rust conformance child by name.
    child: String,
    #[serde(default)]
    grants: Vec<String>,
}

/// A child installed under a name, with the grants it runs with when
/// another child invokes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The name it is installed (and invoked) by.
    pub name: String,
    /// The component file.
    pub child: PathBuf,
    /// Its install grants.
    pub grants: Vec<String>,
}

/// A case file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    about: String,
    child: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    installed: Vec<NamedFile>,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    argv: Option<Vec<String>>,
    #[serde(default)]
    grants: Vec<String>,
    #[serde(default)]
    deny_missing: bool,
    #[serde(default)]
    limits: CaseLimits,
    #[serde(default)]
    hosts: BTreeMap<String, String>,
    #[serde(default)]
    varies: Option<String>,
    #[serde(default)]
    tamper: bool,
    expect: Expect,
}

/// One row of the matrix: a case with one build of its child.
#[derive(Clone, Debug)]
pub struct Case {
    /// `file-stem`, or `file-stem [language]` for a child built in several languages.
    pub name: String,
    /// What it checks.
    pub about: String,
    /// The component file.
    pub child: PathBuf,
    /// The child's language (`rust`, `python`, `js`), or `file` for a path.
    pub language: String,
    /// The call, as WAVE; `None` for a command child.
    pub call: Option<String>,
    /// A command child's arguments (after argv\[0\]).
    pub argv: Option<Vec<String>>,
    /// Grants.
    pub grants: Vec<String>,
    /// Children installed under a name before the case runs.
    pub installed: Vec<Named>,
    /// Link ungranted imports to deny stubs.
    pub deny_missing: bool,
    /// Limits.
    pub limits: CaseLimits,
    /// Hosts on which the case cannot apply, with the reason.
    pub not_applicable: BTreeMap<String, String>,
    /// Why the values differ run by run (clocks, random), if they do: such
    /// a case is compared across hosts by its patterns and by replay only.
    pub varies: Option<String>,
    /// Also check that a tampered receipt fails verification.
    pub tamper: bool,
    /// What must happen.
    pub expect: Expect,
}

impl Case {
    /// Whether the child's language runtime reads the clocks and random
    /// sources by itself (CPython seeds its hashes, StarlingMonkey reads the
    /// clock): those reads are recorded and replayed like any, but they are
    /// not the case's events, and their values differ run by run.
    pub fn runtime_reads_ambient(&self) -> bool {
        matches!(self.language.as_str(), "python" | "js")
    }
}

/// Whether an event is a read of a clock or a random source.
pub fn is_ambient(toy: &str) -> bool {
    toy.starts_with("wasi:clocks/") || toy.starts_with("wasi:random/")
}

/// `value` as it is written inside a JSON string.
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

/// Where the suite's inputs are.
pub struct Sources<'a> {
    /// `conformance/cases` (or another directory of case files).
    pub cases: &'a Path,
    /// Built children: `<dir>/<language>/<name>.wasm`.
    pub children: &'a Path,
    /// What each placeholder in a case file stands for.
    pub fixtures: &'a Placeholders,
}

/// The placeholders a case file may use anywhere in its strings, and what
/// each stands for in this run (or why it cannot: every case using it is
/// then listed n/a with the reason).
#[derive(Clone, Debug, Default)]
pub struct Placeholders {
    /// `{name}` → the value, or why there is none.
    pub values: Vec<(&'static str, Result<String, String>)>,
}

impl Placeholders {
    /// `text` with every placeholder replaced (JSON-escaped, as the case
    /// file is JSON), or the reason of the first one that has no value.
    fn fill(&self, text: &str) -> Result<String, String> {
        let mut text = text.to_owned();
        for (name, value) in &self.values {
            let placeholder = format!("{{{name}}}");
            if !text.contains(&placeholder) {
                continue;
            }
            let value = value
                .as_ref()
                .map_err(|why| format!("the case uses `{placeholder}`, and {why}"))?;
            text = text.replace(&placeholder, &json_escaped(value));
        }
        Ok(text)
    }
}

/// A child built in a language the machine has no toolchain for: the row
/// is listed n/a on every host with this reason.
#[derive(Debug)]
pub struct Missing {
    /// The row's name.
    pub name: String,
    /// The language of the row's child (`file` for a path).
    pub language: String,
    /// Why it cannot run.
    pub reason: String,
}

/// Every case under `sources.cases`, sorted by file name, one row per
/// language; rows whose child was not built are returned apart.
pub fn load(sources: &Sources<'_>) -> Result<(Vec<Case>, Vec<Missing>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(sources.cases)
        .with_context(|| format!("reading {}", sources.cases.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    let mut missing = Vec::new();
    let mut names = BTreeMap::new();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .context("a case file name is not UTF-8")?
            .to_owned();
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        // A placeholder with no value here: the case's rows are n/a with
        // the reason (read as written, for their names and languages).
        let (text, unfilled) = match sources.fixtures.fill(&text) {
            Ok(filled) => (filled, None),
            Err(reason) => (text, Some(reason)),
        };
        let parsed: CaseFile = serde_json::from_str(&text)
            .with_context(|| format!("the case {} is malformed", file.display()))?;
        if parsed.call.is_some() == parsed.argv.is_some() {
            bail!(
                "the case {} needs exactly one of `call` and `argv`",
                file.display()
            );
        }
        let installed = named(&parsed, &file, sources.children)?;
        for named in &installed {
            let known = names
                .entry(named.name.clone())
                .or_insert_with(|| (named.clone(), stem.clone()));
            if known.0 != *named {
                bail!(
                    "the cases {} and {stem} install different children or grants as `{}` \
                     (a host keeps the first install of a name)",
                    known.1,
                    named.name
                );
            }
        }
        for (language, child) in children_of(&parsed, &file, sources.children)? {
            let name = if parsed.languages.len() > 1 {
                format!("{stem} [{language}]")
            } else {
                stem.clone()
            };
            let reason = match &unfilled {
                Some(reason) => Some(reason.clone()),
                None if !child.is_file() => Some(format!(
                    "{} was not built ({}): {}",
                    child.display(),
                    language,
                    toolchain_hint(&language)
                )),
                None => None,
            };
            if let Some(reason) = reason {
                missing.push(Missing {
                    name,
                    language,
                    reason,
                });
                continue;
            }
            cases.push(Case {
                name,
                about: parsed.about.clone(),
                child,
                language,
                call: parsed.call.clone(),
                argv: parsed.argv.clone(),
                grants: parsed.grants.clone(),
                installed: installed.clone(),
                deny_missing: parsed.deny_missing,
                limits: parsed.limits,
                not_applicable: parsed.hosts.clone(),
                varies: parsed.varies.clone(),
                tamper: parsed.tamper,
                expect: parsed.expect.clone(),
            });
        }
    }
    Ok((cases, missing))
}

/// The languages the conformance children can be written in.
pub const LANGUAGES: &[&str] = &["rust", "python", "js"];

fn toolchain_hint(language: &str) -> &'static str {
    match language {
        "python" => "componentize-py is not installed (pip install componentize-py)",
        "js" => "componentize-js is not installed (npm ci in hosts/js)",
        _ => "the build did not produce it",
    }
}

/// The children the case installs by name (Rust children, built by the
/// suite).
fn named(parsed: &CaseFile, file: &Path, built: &Path) -> Result<Vec<Named>> {
    parsed
        .installed
        .iter()
        .map(|named| {
            let child = built.join("rust").join(format!("{}.wasm", named.child));
            if !child.is_file() {
                bail!(
                    "the case {} installs `{}` as `{}`, and {} was not built",
                    file.display(),
                    named.child,
                    named.name,
                    child.display()
                );
            }
            Ok(Named {
                name: named.name.clone(),
                child,
                grants: named.grants.clone(),
            })
        })
        .collect()
}

/// The component file of each build of the case's child.
fn children_of(parsed: &CaseFile, file: &Path, built: &Path) -> Result<Vec<(String, PathBuf)>> {
    if parsed.child.ends_with(".wasm") || parsed.child.contains('/') {
        let path = file.parent().unwrap_or(Path::new(".")).join(&parsed.child);
        return Ok(vec![("file".into(), path)]);
    }
    let languages = if parsed.languages.is_empty() {
        vec!["rust".to_owned()]
    } else {
        parsed.languages.clone()
    };
    languages
        .into_iter()
        .map(|language| {
            if !LANGUAGES.contains(&language.as_str()) {
                bail!(
                    "the case {} names the language `{language}` (one of {})",
                    file.display(),
                    LANGUAGES.join(", ")
                );
            }
            let path = built.join(&language).join(format!("{}.wasm", parsed.child));
            Ok((language, path))
        })
        .collect()
}

#[cfg(test)]
mod tests;
