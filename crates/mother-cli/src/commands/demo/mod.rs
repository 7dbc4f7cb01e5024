//! `mother demo`: the README's first command. Installs the example children
//! into `$PATINA_HOME` and runs them, printing each equivalent `mother`
//! command line and what it answered: imports, grants, typed results, a
//! command child without ambient authority, and each limit stopping a run.
//! Every step goes through the same code as `mother install` / `mother run`.
//! Parts 7 and 8 (children doing real work, composition) are in `work`,
//! part 10 (the same child on two Mothers, over libp2p on 127.0.0.1) in
//! `peers`; the steps they share are in `steps`.

mod peers;
mod steps;
mod work;

use std::process::ExitCode;

use anyhow::{Context, Result};
use patina_host::ImportStatus;
use patina_mother::{ChildRef, Mother};

use self::steps::{Limit, replay_step, section, step, step_limited, workspace};
use crate::cli::{ReceiptArg, ReceiptsCommand, ReceiptsListArgs};
use crate::commands::receipts;

pub async fn run(mother: &Mother) -> Result<ExitCode> {
    println!(
        "Patina demo — state in {}, example folders in {}\n",
        mother.root().display(),
        workspace(mother).display()
    );

    section("1. Install the example children (each is known by the blake3 of its bytes)");
    for child in children_artifacts::ALL {
        mother
            .host()
            .load(child.bytes)
            .with_context(|| format!("loading {}", child.name))?;
        let id = mother.children().install(child.bytes, Some(child.name))?;
        println!(
            "$ mother install {}.wasm --name {}\n  installed {id}",
            child.name, child.name
        );
    }

    section("2. What a child may touch is fixed and visible: its imports");
    let hello = mother
        .inspect(&ChildRef::from_argument("hello-log"))
        .await?;
    println!("$ mother inspect hello-log");
    for (item, status) in hello.description.imports.iter().zip(hello.statuses) {
        match status {
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

    work::run(mother).await?;

    section("9. Receipts: every run above was recorded, signed and chained; replay is exact");
    let greeted = step(mother, "hello-log", Some("chatter(3)"), &["log"], &[]).await?;
    let clocked = step(mother, "clock-random", None, &[], &[]).await?;
    println!("$ mother receipts list --limit 4");
    receipts::run(
        &crate::door::Door::Embedded(mother.clone()),
        ReceiptsCommand::List(ReceiptsListArgs {
            child: None,
            caller: None,
            limit: 4,
            json: false,
        }),
    )
    .await?;
    if let Some(id) = greeted {
        println!("$ mother receipts show {}", id.short());
        receipts::run(
            &crate::door::Door::Embedded(mother.clone()),
            ReceiptsCommand::Show(ReceiptArg {
                receipt: id.short(),
                json: false,
            }),
        )
        .await?;
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
            &crate::door::Door::Embedded(mother.clone()),
            ReceiptsCommand::Verify(ReceiptArg {
                receipt: id.short(),
                json: false,
            }),
        )
        .await?;
    }

    peers::run(mother).await?;

    println!(
        "\nDone. Try `mother list`, `mother receipts list`, `mother inspect calc`, or `mother run calc --json 'add(40, 2)'`."
    );
    Ok(ExitCode::SUCCESS)
}
