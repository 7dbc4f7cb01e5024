//! `mother demo`: the README's first command. Installs the example children
//! into `$PATINA_HOME` and runs them, printing each equivalent `mother`
//! command line and what it answered: imports, grants, typed results, a
//! command child without ambient authority, and each limit stopping a run.
//! Every step goes through the same code as `mother install` / `mother run`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use patina_host::ImportStatus;

use crate::cli::{ModeArg, ReceiptArg, ReceiptsCommand, ReceiptsListArgs, ReplayArgs, RunArgs};
use crate::commands::run as run_cmd;
use crate::commands::{receipts, replay};
use crate::mother::Mother;
use patina_receipts::ReceiptId;

pub async fn run(mother: &Mother) -> Result<ExitCode> {
    println!(
        "Patina demo — state in {}, example folders in {}\n",
        mother.root().display(),
        workspace(mother).display()
    );

    section("1. Install the example children (each is known by the blake3 of its bytes)");
    for child in children_artifacts::ALL {
        mother
            .host
            .load(child.bytes)
            .with_context(|| format!("loading {}", child.name))?;
        let id = mother.children.install(child.bytes, Some(child.name))?;
        println!(
            "$ mother install {}.wasm --name {}\n  installed {id}",
            child.name, child.name
        );
    }

    section("2. What a child may touch is fixed and visible: its imports");
    let hello = mother.load("hello-log")?;
    println!("$ mother inspect hello-log");
    for item in hello.describe()?.imports {
        match patina_host::import_status(mother.host.toys(), &item.name) {
            ImportStatus::Base => {}
            ImportStatus::Toy { grant } => println!("  {}  toy: needs --grant {grant}", item.name),
            ImportStatus::Unserved => println!("  {}  unserved", item.name),
        }
    }
    println!("  (plus the WASI base — io, cli, clocks, ... — linked with no authority behind it)");

    section("3. Deny by default: nothing runs with an import that was not granted");
    step(mother, "hello-log", Some(r#"greet("ann")"#), &[], &[]).await?;
    step(mother, "hello-log", Some(r#"greet("ann")"#), &["log"], &[]).await?;

    section("4. Typed calls: arguments are checked against the WIT signature");
    step(mother, "calc", Some("add(2, 3)"), &[], &[]).await?;
    step(
        mother,
        "calc",
        Some("types.echo-point({x: 1, y: -2})"),
        &[],
        &[],
    )
    .await?;
    step(mother, "calc", Some("checked-div(7, 0)"), &[], &[]).await?;
    step(mother, "calc", Some(r#"add("two", 3)"#), &[], &[]).await?;

    section("5. A command child: empty environment, no files, no sockets unless granted");
    let folder = workspace(mother).join("demo-folder");
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    std::fs::write(folder.join("hello.txt"), "a file the child may read\n")?;
    let folder = folder.display().to_string();
    step(mother, "hello-cmd", None, &[], &["a", "b", "c"]).await?;
    step(mother, "hello-cmd", None, &[], &["--ls", &folder]).await?;
    step(
        mother,
        "hello-cmd",
        None,
        &[&format!("fs:{folder}:ro")],
        &["--ls", &folder],
    )
    .await?;

    section("6. Limits: each stops the run with its own error; the Mother keeps going");
    step_limited(mother, "spin", Limit::Timeout("200ms")).await?;
    step_limited(mother, "spin", Limit::Fuel(5_000_000)).await?;
    step_limited(mother, "hog-forever", Limit::Memory("32MiB")).await?;
    step(mother, "limits", Some("fib(50)"), &[], &[]).await?;

    super::demo_work::run(mother).await?;

    section("9. Receipts: every run above was recorded, signed and chained; replay is exact");
    let greeted = step(mother, "hello-log", Some("chatter(3)"), &["log"], &[]).await?;
    let clocked = step(mother, "clock-random", None, &[], &[]).await?;
    println!("$ mother receipts list --limit 4");
    receipts::run(
        mother,
        ReceiptsCommand::List(ReceiptsListArgs {
            child: None,
            limit: 4,
            json: false,
        }),
    )?;
    if let Some(id) = greeted {
        println!("$ mother receipts show {}", id.short());
        receipts::run(
            mother,
            ReceiptsCommand::Show(ReceiptArg {
                receipt: id.short(),
                json: false,
            }),
        )?;
    }
    if let Some(id) = clocked {
        replay_step(
            mother,
            &id,
            "the clocks and random bytes come back from the receipt",
        )
        .await?;
        println!("$ mother receipts verify {}", id.short());
        receipts::run(
            mother,
            ReceiptsCommand::Verify(ReceiptArg {
                receipt: id.short(),
                json: false,
            }),
        )?;
    }

    println!(
        "\nDone. Try `mother list`, `mother receipts list`, `mother inspect calc`, or `mother run calc --json 'add(40, 2)'`."
    );
    Ok(ExitCode::SUCCESS)
}

/// Replays receipt `id` like `mother replay`, with a comment on the command line.
pub(super) async fn replay_step(mother: &Mother, id: &ReceiptId, comment: &str) -> Result<()> {
    println!("$ mother replay {}   # {comment}", id.short());
    replay::run(
        mother,
        ReplayArgs {
            receipt: id.short(),
            json: false,
        },
    )
    .await
    .map(drop)
}

/// Where the demo keeps the folders it grants: beside the Mother's home, never
/// inside it (no grant may reach the Mother's own state).
pub(super) fn workspace(mother: &Mother) -> std::path::PathBuf {
    let name = mother
        .root()
        .file_name()
        .map_or_else(|| "patina".into(), |n| n.to_string_lossy().into_owned());
    mother.root().with_file_name(format!("{name}-demo"))
}

pub(super) fn section(title: &str) {
    println!("\n{title}");
}

enum Limit {
    Timeout(&'static str),
    Fuel(u64),
    Memory(&'static str),
}

pub(super) fn args(child: &str, call: Option<&str>, grants: &[&str], argv: &[&str]) -> RunArgs {
    RunArgs {
        child: child.to_owned(),
        call: call.map(str::to_owned),
        grants: grants.iter().map(|g| (*g).to_owned()).collect(),
        deny_missing: false,
        fuel: None,
        timeout: None,
        memory: None,
        args_json: None,
        mode: ModeArg::Record,
        json: false,
        args: argv.iter().map(|a| (*a).to_owned()).collect(),
    }
}

fn command_line(args: &RunArgs) -> String {
    let mut line = format!("$ mother run {}", args.child);
    if let Some(call) = &args.call {
        line.push_str(&format!(" '{call}'"));
    }
    for grant in &args.grants {
        line.push_str(&format!(" --grant {grant}"));
    }
    if let Some(fuel) = args.fuel {
        line.push_str(&format!(" --fuel {fuel}"));
    }
    if let Some(timeout) = &args.timeout {
        line.push_str(&format!(" --timeout {timeout}"));
    }
    if let Some(memory) = &args.memory {
        line.push_str(&format!(" --memory {memory}"));
    }
    if !args.args.is_empty() {
        line.push_str(&format!(" -- {}", args.args.join(" ")));
    }
    line
}

/// Runs one step like `mother run` and prints it; returns the receipt id and
/// the returned value in WAVE, when there are any.
pub(super) async fn execute(
    mother: &Mother,
    args: RunArgs,
) -> Result<(Option<ReceiptId>, Option<String>)> {
    println!("{}", command_line(&args));
    let child = mother.load(&args.child)?;
    let request = run_cmd::request(&args)?;
    match mother.host.run(&child, &request).await {
        Ok(mut report) => {
            for line in String::from_utf8_lossy(&report.stdout).lines() {
                println!("  {line}");
            }
            for line in String::from_utf8_lossy(&report.stderr).lines() {
                println!("  (stderr) {line}");
            }
            for line in &report.logs {
                println!("  [{}] {}", line.level.as_str(), line.message);
            }
            let wave = report.wave();
            match &report.outcome {
                Ok(returned) => match returned.exit_code {
                    Some(code) => println!("  exit status {code}"),
                    None => println!(
                        "  => {}",
                        patina_host::values::results_wave(&returned.results)
                    ),
                },
                Err(error) => println!("  error[{}]: {error}", error.kind()),
            }
            let receipt = mother.record(&child, &mut report)?.map(|r| r.id);
            let shown = receipt.map_or(String::new(), |id| format!(", receipt {}", id.short()));
            println!(
                "  (fuel {}, {:.1} ms{shown})",
                report.fuel_consumed,
                report.elapsed.as_secs_f64() * 1000.0
            );
            return Ok((receipt, wave));
        }
        Err(error) => println!("  refused[{}]: {error}", error.kind()),
    }
    Ok((None, None))
}

pub(super) async fn step(
    mother: &Mother,
    child: &str,
    call: Option<&str>,
    grants: &[&str],
    argv: &[&str],
) -> Result<Option<ReceiptId>> {
    Ok(execute(mother, args(child, call, grants, argv)).await?.0)
}

async fn step_limited(mother: &Mother, call: &str, limit: Limit) -> Result<()> {
    let mut run_args = args("limits", Some(call), &[], &[]);
    match limit {
        Limit::Timeout(t) => run_args.timeout = Some(t.to_owned()),
        Limit::Fuel(f) => run_args.fuel = Some(f),
        Limit::Memory(m) => run_args.memory = Some(m.to_owned()),
    }
    execute(mother, run_args).await.map(drop)
}
