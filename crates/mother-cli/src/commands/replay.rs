//! `mother replay <ID|FILE> [--json]`: re-run the receipt's child bytes with
//! every toy call, clock and random read answered from the receipt; exit 0 when
//! the run reproduces the receipt (same transcript hash), 1 with the first
//! divergence otherwise.

use std::process::ExitCode;

use anyhow::Result;
use patina_mother::{ReceiptRef, RunOutcome};

use crate::cli::ReplayArgs;
use crate::door::Door;
use crate::output::{self, FAILURE};

pub async fn run(mother: &Door, args: ReplayArgs) -> Result<ExitCode> {
    let replayed = mother
        .replay(&ReceiptRef::from_argument(&args.receipt))
        .await?;
    let summary = &replayed.summary;
    let short = summary.replay_of.short();
    if args.json {
        output::print_json(&serde_json::to_value(summary)?);
    } else {
        print!("{}", String::from_utf8_lossy(&replayed.stdout));
        eprint!("{}", String::from_utf8_lossy(&replayed.stderr));
        if let RunOutcome::Returned {
            wave,
            exit_code: None,
            ..
        } = &summary.run.outcome
            && !wave.is_empty()
        {
            println!("{wave}");
        }
        match &summary.divergence {
            None => eprintln!(
                "replay of {short} matched: transcript {}",
                summary.transcript_hash
            ),
            Some(divergence) => eprintln!("error[divergence]: replay of {short}: {divergence}"),
        }
        if !summary.exact {
            eprintln!(
                "note: the recorded run had authority that is not recorded call by call ({}); this replay cannot be exact",
                replayed.unrecorded.join(", ")
            );
        }
    }
    Ok(if summary.matched {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILURE)
    })
}
