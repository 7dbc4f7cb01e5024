//! Running the suite: every case row on every selected host, each answer
//! judged (`crate::check`), every receipt replayed on a wasmtime Mother of
//! the suite's own, and each host compared with the first host that passed
//! the row. This module orders the work; it holds no judgement of its own.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use patina_mother::ReceiptRef;
use patina_receipts::{Blob, ExportedReceipt, Receipt};

use crate::case::Case;
use crate::check;
use crate::hosts::{Embedded, HostUnderTest, Prepared, Ran};
use crate::report::{Cell, Row};

/// Reads, identifies and describes each distinct child once (the cases'
/// own and those they install by name).
pub fn prepare(cases: &[Case]) -> Result<HashMap<PathBuf, Prepared>> {
    let mut prepared = HashMap::new();
    let files = cases.iter().flat_map(|case| {
        std::iter::once(&case.child).chain(case.installed.iter().map(|n| &n.child))
    });
    for file in files {
        if prepared.contains_key(file) {
            continue;
        }
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let description = patina_host::describe_component(&bytes)
            .with_context(|| format!("describing {}", file.display()))?;
        prepared.insert(
            file.clone(),
            Prepared {
                id: patina_core::ChildId::of(&bytes).to_string(),
                bytes: Arc::new(bytes),
                path: file.clone(),
                description: serde_json::to_value(description)?,
            },
        );
    }
    Ok(prepared)
}

/// Installs on `host` the children `case` needs by name: `Ok(Some(reason))`
/// when the host cannot.
async fn install_named(
    case: &Case,
    prepared: &HashMap<PathBuf, Prepared>,
    host: &mut dyn HostUnderTest,
) -> Result<Option<String>> {
    for named in &case.installed {
        let child = prepared
            .get(&named.child)
            .with_context(|| format!("{} was not prepared", named.child.display()))?;
        if let Some(reason) = host
            .install_named(named, child)
            .await
            .with_context(|| format!("installing {} as `{}`", named.child.display(), named.name))?
        {
            return Ok(Some(reason));
        }
    }
    Ok(None)
}

/// A passing answer kept to compare the other hosts with.
struct Reference {
    host: &'static str,
    metered: bool,
    receipt: Receipt,
}

/// Runs one row on every host.
pub async fn row(
    case: &Case,
    prepared: &HashMap<PathBuf, Prepared>,
    hosts: &mut [Box<dyn HostUnderTest>],
    replayer: &Embedded,
    scratch: &Path,
) -> Row {
    // `prepare` read every case's child.
    let child = &prepared[&case.child];
    let mut cells = BTreeMap::new();
    let mut reference: Option<Reference> = None;
    for host in hosts.iter_mut() {
        let name = host.name();
        let reason = case
            .not_applicable
            .get(name)
            .cloned()
            .or_else(|| host.not_applicable(case));
        let cell = match reason {
            Some(reason) => Cell::NotApplicable { reason },
            None => {
                let metered = host.metered();
                let ran = match install_named(case, prepared, host.as_mut()).await {
                    Err(error) => Err(error),
                    Ok(Some(reason)) => Ok(Ran::NotApplicable { reason }),
                    Ok(None) => host.run(case, child).await,
                };
                match ran {
                    Err(error) => Cell::Fail {
                        reason: format!("{error:#}"),
                    },
                    Ok(ran) => {
                        let judged = Judged {
                            case,
                            child,
                            host: name,
                            metered,
                        };
                        judge(judged, ran, &mut reference, replayer, scratch).await
                    }
                }
            }
        };
        cells.insert(name.to_owned(), cell);
    }
    Row {
        case: case.name.clone(),
        about: case.about.clone(),
        child: case.child.display().to_string(),
        language: case.language.clone(),
        cells,
    }
}

/// What an answer is judged against.
struct Judged<'a> {
    case: &'a Case,
    child: &'a Prepared,
    host: &'static str,
    metered: bool,
}

async fn judge(
    judged: Judged<'_>,
    ran: Ran,
    reference: &mut Option<Reference>,
    replayer: &Embedded,
    scratch: &Path,
) -> Cell {
    let Judged {
        case,
        child,
        host,
        metered,
    } = judged;
    let fail = |reason: String| Cell::Fail { reason };
    let (receipt, blobs) = match (ran, &case.expect.refused) {
        (Ran::NotApplicable { reason }, _) => return Cell::NotApplicable { reason },
        (Ran::Refused { kind, .. }, Some(want)) if &kind == want => {
            return Cell::Pass {
                transcript_hash: None,
                portable_hash: None,
                fuel: None,
                receipt: None,
                note: Some(format!("refused: {kind}")),
            };
        }
        (Ran::Refused { kind, message }, Some(want)) => {
            return fail(format!("refused as {kind} ({message}), expected {want}"));
        }
        (Ran::Refused { kind, message }, None) => {
            return fail(format!("refused before starting: {kind}: {message}"));
        }
        (Ran::Recorded { receipt, .. }, Some(want)) => {
            return fail(format!(
                "ran (receipt {}), expected a refusal ({want})",
                receipt.id.short()
            ));
        }
        (Ran::Recorded { receipt, blobs }, None) => (*receipt, blobs),
    };
    if let Err(reason) = check::integrity(&receipt, metered) {
        return fail(reason);
    }
    if let Err(reason) = check::expectations(case, &receipt.transcript, &blobs) {
        return fail(reason);
    }
    if let Err(reason) = replay(child, &receipt, &blobs, replayer, scratch).await {
        return fail(reason);
    }
    if case.tamper
        && let Err(reason) = check::tampering(&receipt)
    {
        return fail(reason);
    }
    let mut note = case
        .varies
        .as_ref()
        .map(|why| format!("values vary run by run ({why}): compared by pattern and by replay"));
    match reference {
        None => {
            *reference = Some(Reference {
                host,
                metered,
                receipt: receipt.clone(),
            });
        }
        Some(theirs) if case.varies.is_none() => {
            if let Err(reason) = check::agreement(
                case,
                (theirs.host, &theirs.receipt),
                &receipt,
                metered && theirs.metered,
            ) {
                return fail(reason);
            }
            if case.runtime_reads_ambient() {
                note = Some(format!(
                    "the {} runtime reads clocks and random by itself: compared with {} without those reads, and by replay",
                    case.language, theirs.host
                ));
            } else if !(metered && theirs.metered) {
                note = Some(format!(
                    "compared with {} on the portable hash",
                    theirs.host
                ));
            }
        }
        Some(_) => {}
    }
    let (full, portable) = check::hashes(&receipt);
    Cell::Pass {
        transcript_hash: Some(full.hex()),
        portable_hash: Some(portable.hex()),
        fuel: Some(receipt.transcript.fuel),
        receipt: Some(receipt.id.hex()),
        note,
    }
}

/// Replays `receipt` on the suite's own wasmtime Mother: it must match
/// (on the portable hash when the receipt has no fuel meter). The receipt
/// is written to `scratch/<id>.json` first (what `--keep-receipts` keeps).
async fn replay(
    child: &Prepared,
    receipt: &Receipt,
    blobs: &[Blob],
    replayer: &Embedded,
    scratch: &Path,
) -> Result<(), String> {
    replayer
        .install(child)
        .await
        .map_err(|e| format!("installing the child to replay: {e:#}"))?;
    let file = scratch.join(format!("{}.json", receipt.id.hex()));
    std::fs::write(&file, ExportedReceipt::new(receipt.clone(), blobs).encode())
        .map_err(|e| format!("writing the receipt to replay: {e}"))?;
    let replayed = replayer
        .mother()
        .replay(&ReceiptRef::File(file))
        .await
        .map_err(|e| format!("the replay was refused: {e}"))?;
    match &replayed.replay.divergence {
        None => Ok(()),
        Some(divergence) => Err(format!("its replay on wasmtime diverged: {divergence}")),
    }
}
