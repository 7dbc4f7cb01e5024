//! `patina-conformance`: runs the conformance cases (`conformance/cases`) on
//! every host under test — embedded, served, peer, bridge, MCP (as they
//! land), and the JavaScript host — prints a matrix (case × host: pass /
//! FAIL / n/a with the reason) with each receipt's transcript hash, writes a
//! JSON report, and exits non-zero on any failure. `cargo xtask conformance`
//! builds the children and the `mother` binary, then runs this.
//!
//! It must never pass a case it did not check, nor skip one silently: every
//! n/a says why.

mod case;
mod check;
mod children;
mod fixtures;
mod hosts;
mod report;
mod suite;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::case::Sources;
use crate::hosts::{Embedded, HostUnderTest, Setup};
use crate::report::{Cell, Report, Row};

const USAGE: &str = "usage: patina-conformance --children DIR [--mother PATH] [--host H]... [--external NAME=COMMAND]...
                          [--case NAME]... [--json] [--report FILE] [--cases DIR] [--keep-receipts DIR]
       patina-conformance build-children --out DIR [--no-python] [--no-js]

  --children DIR       built children: DIR/<language>/<name>.wasm (what build-children writes)
  --mother PATH        the `mother` binary (for the served host)
  --host H             run only these hosts (embedded, served, peer, bridge, mcp, js); all by default
  --external N=CMD     also run the host `N`: `sh -c CMD` spoken to over the line protocol
                       (docs/conformance.md, section 5)
  --case NAME          run only the cases whose name starts with NAME
  --json               print the report as JSON instead of the matrix
  --report FILE        where to write the JSON report
  --cases DIR          the case files (default: conformance/cases)
  --keep-receipts DIR  keep every host's receipt there, as <receipt id>.json (an export with its blobs)

  build-children       builds the conformance children from source into DIR/<language>/<name>.wasm:
                       Rust always, Python (componentize-py) and JavaScript (componentize-js from
                       hosts/js) unless left out or their toolchain is missing (said loudly)";

struct Args {
    children: PathBuf,
    cases: PathBuf,
    mother: Option<PathBuf>,
    hosts: Vec<String>,
    only: Vec<String>,
    externals: Vec<(String, String)>,
    json: bool,
    report: Option<PathBuf>,
    keep: Option<PathBuf>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parse() -> Result<Args> {
    let mut args = Args {
        children: PathBuf::new(),
        cases: repo().join("conformance/cases"),
        mother: None,
        hosts: Vec::new(),
        only: Vec::new(),
        externals: Vec::new(),
        json: false,
        report: None,
        keep: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--children" => args.children = value()?.into(),
            "--cases" => args.cases = value()?.into(),
            "--mother" => args.mother = Some(value()?.into()),
            "--host" => args.hosts.push(value()?),
            "--case" => args.only.push(value()?),
            "--report" => args.report = Some(value()?.into()),
            "--keep-receipts" => args.keep = Some(value()?.into()),
            "--external" => {
                let given = value()?;
                let (name, command) = given
                    .split_once('=')
                    .filter(|(n, c)| !n.is_empty() && !c.is_empty())
                    .with_context(|| format!("--external takes NAME=COMMAND, not `{given}`"))?;
                if hosts::ALL.contains(&name) || args.externals.iter().any(|(n, _)| n == name) {
                    bail!("--external: the host name `{name}` is taken");
                }
                args.externals.push((name.to_owned(), command.to_owned()));
            }
            "--json" => args.json = true,
            _ => bail!("unknown argument `{arg}`\n{USAGE}"),
        }
    }
    if args.children.as_os_str().is_empty() {
        bail!("--children is required\n{USAGE}");
    }
    for host in &args.hosts {
        if !hosts::ALL.contains(&host.as_str()) {
            bail!("unknown host `{host}` (one of {})", hosts::ALL.join(", "));
        }
    }
    Ok(args)
}

/// Starts the selected hosts, in matrix order (the external ones last),
/// with the embedded Mother every receipt is replayed on.
async fn start(args: &Args) -> Result<(Vec<Box<dyn HostUnderTest>>, Embedded)> {
    let embedded = Embedded::open()?;
    let repo = repo();
    let setup = Setup {
        repo: &repo,
        mother: args.mother.as_deref(),
        embedded: &embedded,
        front: Default::default(),
    };
    let wanted = |name: &str| args.hosts.is_empty() || args.hosts.iter().any(|h| h == name);
    let mut started = Vec::new();
    for name in hosts::ALL.iter().filter(|name| wanted(name)) {
        let host = hosts::start(name, &setup)
            .await
            .with_context(|| format!("starting the {name} host"))?;
        started.push(host);
    }
    for (name, command) in &args.externals {
        started.push(hosts::start_external(name, command)?);
    }
    Ok((started, embedded))
}

/// `build-children --out DIR [--no-python] [--no-js]`.
fn build_children(mut it: impl Iterator<Item = String>) -> Result<()> {
    let mut out = None;
    let mut languages = children::Languages {
        python: true,
        js: true,
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(it.next().context("--out needs a value")?)),
            "--no-python" => languages.python = false,
            "--no-js" => languages.js = false,
            _ => bail!("unknown argument `{arg}`\n{USAGE}"),
        }
    }
    let out = out.with_context(|| format!("build-children needs --out DIR\n{USAGE}"))?;
    children::build(&repo(), &out, languages)
}

async fn run(args: Args) -> Result<Report> {
    let fixtures = fixtures::Fixtures::start(&repo())?;
    let sources = Sources {
        cases: &args.cases,
        children: &args.children,
        fixtures: fixtures.placeholders(),
    };
    let (mut cases, mut missing) = case::load(&sources)?;
    if !args.only.is_empty() {
        let picked = |name: &str| args.only.iter().any(|o| name.starts_with(o.as_str()));
        cases.retain(|c| picked(&c.name));
        missing.retain(|m| picked(&m.name));
    }
    let prepared = suite::prepare(&cases)?;
    let (mut hosts, replayer) = start(&args).await?;
    let names: Vec<String> = hosts.iter().map(|h| h.name().to_owned()).collect();
    let scratch = tempfile::tempdir()?;
    let receipts = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => scratch.path().to_owned(),
    };
    let mut rows = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let row = suite::row(case, &prepared, &mut hosts, &replayer, &receipts).await;
        let failed = row
            .cells
            .values()
            .filter(|c| matches!(c, Cell::Fail { .. }))
            .count();
        eprintln!(
            "conformance: [{}/{}] {}{}",
            index + 1,
            cases.len(),
            case.name,
            if failed > 0 {
                format!(": {failed} failed")
            } else {
                String::new()
            }
        );
        rows.push(row);
    }
    for gone in missing {
        let cells = names
            .iter()
            .map(|h| {
                (
                    h.clone(),
                    Cell::NotApplicable {
                        reason: gone.reason.clone(),
                    },
                )
            })
            .collect();
        rows.push(Row {
            case: gone.name,
            about: String::new(),
            child: String::new(),
            language: gone.language,
            cells,
        });
    }
    Ok(Report::new(names, rows))
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("build-children") {
        return match build_children(std::env::args().skip(2)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            }
        };
    }
    let outcome = parse().and_then(|args| {
        let json = args.json;
        let path = args.report.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let local = tokio::task::LocalSet::new();
        let report = local.block_on(&runtime, run(args))?;
        if let Some(path) = path {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.render());
        }
        Ok(report.failed())
    });
    match outcome {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
