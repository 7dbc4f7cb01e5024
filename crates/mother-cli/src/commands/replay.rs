//! `mother replay <ID|FILE> [--json]`: re-run the receipt's child bytes with
//! every toy call, clock and random read answered from the receipt; exit 0 when
//! the run reproduces the receipt (same transcript hash), 1 with the first
//! divergence otherwise.

use std::process::ExitCode;

use anyhow::{Context, Result};
use patina_host::ReplaySource;

use crate::cli::ReplayArgs;
use crate::mother::Mother;
use crate::output::{self, FAILURE};

pub async fn run(mother: &Mother, args: ReplayArgs) -> Result<ExitCode> {
    let (receipt, blobs) = mother.receipt(&args.receipt)?;
    patina_receipts::verify(&receipt)
        .context("refusing to replay a receipt that does not verify")?;
    let child_id = receipt.transcript.child;
    let bytes = mother
        .children
        .read(&child_id)
        .with_context(|| format!("replay needs the child's bytes: install {child_id} first"))?;
    let child = mother.host.load(&bytes)?;
    let replay = mother
        .host
        .replay(
            &child,
            ReplaySource {
                transcript: receipt.transcript.clone(),
                blobs,
            },
        )
        .await?;
    let report = &replay.report;
    if args.json {
        let mut value = crate::commands::run::report_json(report);
        value["replay_of"] = receipt.id.to_string().into();
        value["matched"] = replay.matched().into();
        value["exact"] = replay.exact.into();
        value["transcript_hash"] = replay.transcript_hash.to_string().into();
        value["recorded_transcript_hash"] = receipt.transcript_hash.to_string().into();
        value["divergence"] = serde_json::to_value(&replay.divergence)?;
        output::print_json(&value);
    } else {
        print!("{}", String::from_utf8_lossy(&report.stdout));
        eprint!("{}", String::from_utf8_lossy(&report.stderr));
        if let Some(wave) = report
            .wave()
            .filter(|w| !w.is_empty() && report.argv.is_none())
        {
            println!("{wave}");
        }
        match &replay.divergence {
            None => eprintln!(
                "replay of {} matched: transcript {}",
                receipt.id.short(),
                replay.transcript_hash
            ),
            Some(divergence) => eprintln!(
                "error[divergence]: replay of {}: {divergence}",
                receipt.id.short()
            ),
        }
        if !replay.exact {
            eprintln!(
                "note: the recorded run had authority that is not recorded call by call ({}); this replay cannot be exact",
                receipt.transcript.unrecorded.join(", ")
            );
        }
    }
    Ok(if replay.matched() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILURE)
    })
}
