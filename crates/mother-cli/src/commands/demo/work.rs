//! `mother demo`, part 8: the children that do real work on files, a
//! repository and each other — through the toy packs, every access recorded —
//! and a replay that returns the recorded answer after the files changed.
//! It only writes inside the demo's folder beside the Mother's home, and reads the current
//! directory's git repository (if there is one) without changing it.

use anyhow::{Context, Result};

use patina_mother::{InstallSpec, Mother};

use super::steps::{args, execute, replay_step, section, step, workspace};
use crate::cli::MetricsArgs;
use crate::commands::metrics;

pub async fn run(mother: &Mother) -> Result<()> {
    section("7. Children that do real work; every file read, index lookup and call is recorded");
    let notes = workspace(mother).join("demo-notes");
    std::fs::create_dir_all(notes.join("ideas"))
        .with_context(|| format!("creating {}", notes.display()))?;
    std::fs::write(
        notes.join("receipts.md"),
        "# Receipts\nEvery run leaves a signed receipt.\nA receipt can be replayed.\n",
    )?;
    std::fs::write(
        notes.join("ideas/toys.txt"),
        "toys are granted, never ambient\nthe fs toy records every read of a receipt-worthy file\n",
    )?;
    let folder = notes.display().to_string();
    let fs_grant = format!("fs:{folder}:ro");

    step(mother, "indexer", Some("index()"), &[&fs_grant, "kv"], &[]).await?;
    let searched = step(
        mother,
        "indexer",
        Some(r#"search("receipt")"#),
        &[&fs_grant, "kv"],
        &[],
    )
    .await?;

    let (_, watched) = execute(
        mother,
        args("folder-watcher", Some("changes(none)"), &[&fs_grant], &[]),
    )
    .await?;
    std::fs::write(
        notes.join("new.md"),
        "a note written after the first look\n",
    )?;
    std::fs::write(
        notes.join("receipts.md"),
        "# Receipts\nEdited: the old search is still in its receipt.\n",
    )?;
    if let Some(cursor) = watched.as_deref().and_then(cursor_of) {
        let call = format!(r#"changes(some("{cursor}"))"#);
        step(mother, "folder-watcher", Some(&call), &[&fs_grant], &[]).await?;
    }

    if let Some(id) = searched {
        replay_step(
            mother,
            &id,
            "the notes changed since; the answers come from the receipt",
        )
        .await?;
    }

    let here = std::env::current_dir().context("reading the current directory")?;
    if here.join(".git").exists() {
        let grant = format!("git:{}", here.display());
        step(mother, "git-status", Some("status()"), &[&grant], &[]).await?;
    } else {
        println!(
            "(not in a git work tree: skipping `mother run git-status 'status()' --grant git:DIR`)"
        );
    }

    section("8. Composition and metrics: a child invokes another, which runs with its own grants");
    mother
        .install(
            children_artifacts::HELLO_LOG_BYTES.to_vec(),
            InstallSpec {
                name: Some("hello-log".into()),
                grants: vec!["log".into()],
            },
        )
        .await?;
    println!("$ mother install hello-log.wasm --name hello-log --grant log");
    step(
        mother,
        "composer",
        Some(r#"call("hello-log", "greet(\"from composer\")")"#),
        &["invoke:hello-log"],
        &[],
    )
    .await?;
    step(
        mother,
        "composer",
        Some(r#"call("composer", "call(\"hello-log\", \"greet(\\\"me\\\")\")")"#),
        &["invoke:composer", "invoke:hello-log"],
        &[],
    )
    .await?;
    step(mother, "metered", Some("work(5)"), &["measure"], &[]).await?;
    println!("$ mother metrics --child metered");
    metrics::run(
        mother,
        MetricsArgs {
            child: Some("metered".into()),
            json: false,
            prometheus: false,
        },
    )
    .await?;
    Ok(())
}

/// The `cursor: "…"` field of a folder-watcher report in WAVE.
fn cursor_of(wave: &str) -> Option<String> {
    let start = wave.find("cursor: \"")? + "cursor: \"".len();
    let len = wave[start..].find('"')?;
    Some(wave[start..start + len].to_owned())
}
