//! `mother receipts list|show|verify|export|import`: reading, checking and
//! moving the signed receipts of runs.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use patina_mother::{Imported, ReceiptRef};
use patina_receipts::{EventResult, OutcomeStatus, Receipt, verify};

use crate::cli::{ImportArgs, ReceiptArg, ReceiptsCommand, ReceiptsListArgs};
use crate::door::Door;
use crate::output;

pub async fn run(mother: &Door, command: ReceiptsCommand) -> Result<ExitCode> {
    match command {
        ReceiptsCommand::List(args) => list(mother, args).await,
        ReceiptsCommand::Show(args) => show(mother, args).await,
        ReceiptsCommand::Verify(args) => verify_one(mother, args).await,
        ReceiptsCommand::Export(args) => export(mother, args).await,
        ReceiptsCommand::Import(args) => import(mother.mother("receipts import")?, args).await,
    }
}

fn reference(args: &ReceiptArg) -> ReceiptRef {
    ReceiptRef::from_argument(&args.receipt)
}

fn time(ms: u64) -> String {
    humantime::format_rfc3339_millis(SystemTime::UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn call_text(receipt: &Receipt) -> String {
    let call = &receipt.transcript.call;
    match &call.argv {
        Some(argv) if argv.len() > 1 => format!("run -- {}", argv[1..].join(" ")),
        Some(_) => "run".to_owned(),
        None => call.wave_call(),
    }
}

fn outcome_text(receipt: &Receipt) -> String {
    match &receipt.transcript.outcome.status {
        OutcomeStatus::Returned {
            exit_code: Some(code),
            ..
        } => format!("exit {code}"),
        OutcomeStatus::Returned { results, .. } => format!("=> {}", results.display()),
        OutcomeStatus::Failed { kind, .. } => format!("error[{kind}]"),
    }
}

async fn list(mother: &Door, args: ReceiptsListArgs) -> Result<ExitCode> {
    let caller = args.caller.map(|text| {
        // `ed25519:…` (or bare hex), `token:…`, `local:…`, as receipts name them.
        text.parse::<patina_membrane::Principal>()
            .map_or(text, |principal| principal.to_string())
    });
    let receipts = mother.receipts(args.child, caller, args.limit).await?;
    if args.json {
        let rows: Vec<serde_json::Value> = receipts
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "mother": r.mother, "child": r.transcript.child, "call": call_text(r),
                    "outcome": outcome_text(r), "fuel": r.transcript.fuel, "started_at_ms": r.started_at_ms,
                    "events": r.transcript.events.len(), "caller": r.caller,
                })
            })
            .collect();
        output::print_json(&serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if receipts.is_empty() {
        println!("no receipts yet (every `mother run` leaves one)");
    }
    for r in &receipts {
        println!(
            "{}  {}  {}  {}  {}  ({} events, fuel {}){}",
            r.id.short(),
            time(r.started_at_ms),
            r.transcript.child.short(),
            call_text(r),
            outcome_text(r),
            r.transcript.events.len(),
            r.transcript.fuel,
            r.caller
                .as_ref()
                .map(|c| format!("  by {}", c.id))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(mother: &Door, args: ReceiptArg) -> Result<ExitCode> {
    let receipt = mother.receipt(&reference(&args)).await?;
    let verified = verify(&receipt);
    if args.json {
        let mut value = serde_json::to_value(&receipt)?;
        value["verified"] = verified.is_ok().into();
        output::print_json(&value);
        return Ok(ExitCode::SUCCESS);
    }
    let t = &receipt.transcript;
    println!("receipt     {} (version {})", receipt.id, receipt.version);
    println!("mother      {}", receipt.mother);
    match &receipt.caller {
        Some(caller) => println!(
            "caller      {} (role {}, through {})",
            caller.id, caller.role, caller.door
        ),
        None => println!("caller      (this Mother's owner)"),
    }
    for approval in &receipt.approvals {
        println!("approved    {} (by {})", approval.grant, approval.by);
    }
    println!("child       {}", t.child);
    println!("call        {}", call_text(&receipt));
    let grants: Vec<String> = t.grants.iter().map(ToString::to_string).collect();
    println!(
        "grants      {}",
        if grants.is_empty() {
            "(none)".to_owned()
        } else {
            grants.join(" ")
        }
    );
    println!(
        "limits      fuel {}, timeout {} ms, memory {} bytes{}",
        t.call.limits.fuel,
        t.call.limits.timeout.as_millis(),
        t.call.limits.memory,
        if t.call.deny_missing {
            ", deny-missing"
        } else {
            ""
        }
    );
    println!(
        "started     {} ({} ms)",
        time(receipt.started_at_ms),
        receipt.ended_at_ms.saturating_sub(receipt.started_at_ms)
    );
    println!(
        "previous    {}",
        receipt
            .previous
            .map_or("(first of its chain)".to_owned(), |p| p.to_string())
    );
    println!("transcript  {}", receipt.transcript_hash);
    if !t.unrecorded.is_empty() {
        println!(
            "unrecorded  {} (replay cannot be exact)",
            t.unrecorded.join(" ")
        );
    }
    println!("events      {}", t.events.len());
    for event in &t.events {
        let marker = match event.result {
            EventResult::Denied => "  DENIED",
            EventResult::Failed(_) => "  FAILED",
            EventResult::Ok(_) => "",
        };
        println!("  #{:<4} {}{marker}", event.seq, event.describe());
    }
    match &t.outcome.status {
        OutcomeStatus::Returned { results, exit_code } => {
            println!("outcome     returned {}", results.display());
            if let Some(code) = exit_code {
                println!("exit        {code}");
            }
        }
        OutcomeStatus::Failed { kind, message } => println!("outcome     error[{kind}]: {message}"),
    }
    match receipt.meter {
        patina_receipts::Meter::Fuel => println!("fuel        {}", t.fuel),
        patina_receipts::Meter::None => println!("fuel        (not metered by this host)"),
    }
    for (name, payload) in [("stdout", &t.outcome.stdout), ("stderr", &t.outcome.stderr)] {
        let text = payload.display();
        if !text.is_empty() {
            println!("{name}");
            for line in text.lines() {
                println!("  | {line}");
            }
        }
    }
    match verified {
        Ok(()) => println!("signature   ok"),
        Err(error) => println!("signature   FAILED: {error}"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify_one(mother: &Door, args: ReceiptArg) -> Result<ExitCode> {
    let (receipt, link) = mother.verify(&reference(&args)).await?;
    if args.json {
        output::print_json(&serde_json::json!({
            "receipt": receipt.id, "verified": true, "mother": receipt.mother, "chain": link,
        }));
    } else {
        println!(
            "ok: {} — signed by {}, hashes intact, {link}",
            receipt.id, receipt.mother
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(mother: &Door, args: ReceiptArg) -> Result<ExitCode> {
    let export = mother.export(&reference(&args)).await?;
    println!("{}", String::from_utf8_lossy(&export));
    Ok(ExitCode::SUCCESS)
}

async fn import(mother: &patina_mother::Mother, args: ImportArgs) -> Result<ExitCode> {
    let Imported { receipt, new } = mother.import_receipt_file(args.file).await?;
    if args.json {
        output::print_json(
            &serde_json::json!({ "receipt": receipt.id, "new": new, "mother": receipt.mother }),
        );
    } else if new {
        println!("imported {} (signed by {})", receipt.id, receipt.mother);
    } else {
        println!("already held: {}", receipt.id);
    }
    Ok(ExitCode::SUCCESS)
}
