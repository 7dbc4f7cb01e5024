//! `mother replay <ID|FILE> [--json]`: re-run the receipt's child bytes with
//! every toy call, clock and random read answered from the receipt; exit 0 when
//! the run reproduces the receipt (same transcript hash), 1 with the first
//! divergence otherwise.

use std::process::ExitCode;

use anyhow::Result;
use patina_mother::{Mother, ReceiptRef};

use crate::cli::ReplayArgs;
use crate::output::{self, FAILURE};

pub async fn run(mother: &Mother, args: ReplayArgs) -> Result<ExitCode> {
    let replayed = mother
        .replay(&ReceiptRef::from_argument(&args.receipt))
        .await?;
    let (receipt, replay) = (&replayed.receipt, &replayed.replay);
    let report = &replay.report;
    if args.json {
        output::print_json(&serde_json::to_value(replayed.summary())?);
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
