//! Part 10 of `mother demo`: the same child on two Mothers. A second Mother
//! (its own home beside the demo's folders, its own key) and this one join
//! on libp2p over 127.0.0.1; this Mother asks the other to run `calc`,
//! which the other lacks and fetches by digest from the asker, under the
//! other's own policy, and keeps the other's signed receipt, which then
//! verifies and replays here. The same call run here gives the same result
//! and the same transcript hash under another signer.
//!
//! It listens on loopback only, never on another address, and stops both
//! nodes before it returns. It decides nothing itself: the second Mother's
//! policy (written as `mother policy allow` writes it) does.

use anyhow::{Context, Result, anyhow, bail};
use patina_membrane::{CallerKey, EpochGuard, MembraneServer, Policy, ServeConfig};
use patina_mother::{CallSpec, ChildRef, Mother, MotherConfig, RunSpec};
use patina_peer::{PeerConfig, PeerNode, PeerTarget};
use patina_receipts::Receipt;

use super::steps::{replay_step, section, workspace};
use crate::cli::{ReceiptArg, ReceiptsCommand};
use crate::commands::receipts;

/// The call both Mothers run.
const CALL: &str = "add(2, 3)";

/// What the two Mothers answered.
struct TwoRuns {
    second_home: std::path::PathBuf,
    second_peer: String,
    address: String,
    remote: Receipt,
    remote_result: String,
    /// Whether the second Mother lacked calc and fetched it from here
    /// (a second demo finds it there already).
    fetched: bool,
    local: Receipt,
}

pub async fn run(mother: &Mother) -> Result<()> {
    section("10. The same child on two Mothers (peers over libp2p, on 127.0.0.1 only)");
    let second_home = workspace(mother).join("second-mother");
    // A peer node needs a multi-thread runtime (the demo's is a
    // single-thread one): both nodes live on their own, on a thread of
    // their own, and stop before it ends.
    let here = mother.clone();
    let runs = std::thread::spawn(move || on_the_network(here, second_home))
        .join()
        .map_err(|_| anyhow!("the peers part of the demo stopped unexpectedly"))??;

    println!(
        "$ PATINA_HOME={} mother policy allow {} --role runner",
        runs.second_home.display(),
        CallerKey(*mother.identity().id().bytes())
    );
    println!("  (the second Mother lets this Mother's key run children, as a `runner`)");
    println!(
        "$ PATINA_HOME={} mother serve --listen /ip4/127.0.0.1/tcp/0",
        runs.second_home.display()
    );
    println!("  peer {} on {}", runs.second_peer, runs.address);
    println!("$ mother run --on {} calc '{CALL}'", runs.address);
    let how = if runs.fetched {
        "the second Mother fetched calc by its digest from here, verified it, ran it"
    } else {
        "the second Mother held calc already, from an earlier demo"
    };
    println!("  {}    ({how})", runs.remote_result);
    println!(
        "  receipt {} signed by {} (the peer that answered), kept here",
        runs.remote.id.short(),
        runs.remote.mother
    );
    println!("$ mother run calc '{CALL}'    # the same call on this Mother");
    println!(
        "  receipt {} signed by {}",
        runs.local.id.short(),
        runs.local.mother
    );
    if runs.remote.transcript_hash == runs.local.transcript_hash {
        println!(
            "  the same transcript hash on both Mothers: {}",
            runs.local.transcript_hash
        );
    } else {
        println!(
            "  the transcript hashes differ: {} there, {} here",
            runs.remote.transcript_hash, runs.local.transcript_hash
        );
    }
    println!("$ mother receipts verify {}", runs.remote.id.short());
    receipts::run(
        &crate::door::Door::Embedded(mother.clone()),
        ReceiptsCommand::Verify(ReceiptArg {
            receipt: runs.remote.id.short(),
            json: false,
        }),
    )
    .await?;
    replay_step(
        mother,
        &runs.remote.id,
        "the peer's run, replayed on this Mother",
    )
    .await
}

/// Starts both nodes on a runtime of this thread, runs the call there and
/// here, and stops both nodes.
fn on_the_network(here: Mother, second_home: std::path::PathBuf) -> Result<TwoRuns> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the peers' runtime")?;
    runtime.block_on(async move {
        let mut config = MotherConfig::new(&second_home);
        // Two Mothers in one process: instances on demand, no reserved pool.
        config.engine.pooling = false;
        let there = Mother::open(config)
            .with_context(|| format!("opening the second Mother in {}", second_home.display()))?;
        let policy_file = second_home.join("policy.toml");
        let policy = patina_membrane::policy::allow_in_file(
            &policy_file,
            CallerKey(*here.identity().id().bytes()),
            "runner",
        )
        .with_context(|| format!("writing {}", policy_file.display()))?;
        let second = PeerNode::start(
            MembraneServer::new(
                there.clone(),
                policy,
                EpochGuard::new(1),
                ServeConfig::default(),
            ),
            PeerConfig::loopback(),
        )
        .await
        .context("putting the second Mother on the network")?;
        let first = PeerNode::start(
            MembraneServer::new(
                here.clone(),
                Policy::default(),
                EpochGuard::new(1),
                ServeConfig::default(),
            ),
            PeerConfig::loopback(),
        )
        .await
        .context("putting this Mother on the network")?;
        let calc = patina_core::ChildId::of(
            children_artifacts::by_name("calc")
                .ok_or_else(|| anyhow!("the example child calc is not built in"))?
                .bytes,
        );
        let fetched = !there.children().contains(&calc);
        let ran = both_runs(&here, &first, &second, second_home, fetched).await;
        first.shutdown().await;
        second.shutdown().await;
        ran
    })
}

async fn both_runs(
    here: &Mother,
    first: &PeerNode,
    second: &PeerNode,
    second_home: std::path::PathBuf,
    fetched: bool,
) -> Result<TwoRuns> {
    let address = second
        .listen_addrs()
        .await?
        .into_iter()
        .find(|a| a.to_string().starts_with("/ip4/127.0.0.1/tcp/"))
        .ok_or_else(|| anyhow!("the second Mother has no TCP address on 127.0.0.1"))?;
    let spec = || {
        RunSpec::new(
            ChildRef::Installed("calc".into()),
            CallSpec::Wave(CALL.into()),
        )
    };
    let remote = first
        .run_on(&PeerTarget::Addr(address.clone()), spec())
        .await
        .context("running calc on the second Mother")?;
    let remote_result = match &remote.run.summary.outcome {
        patina_mother::RunOutcome::Returned { wave, .. } => wave.clone(),
        other => bail!("the second Mother's run did not return: {other:?}"),
    };
    let remote_receipt = remote
        .run
        .receipt
        .ok_or_else(|| anyhow!("the second Mother's run came back without a receipt"))?;
    let local = here.run(spec()).await.context("running calc here")?;
    let local_receipt = local
        .receipt
        .ok_or_else(|| anyhow!("the run here has no receipt"))?;
    Ok(TwoRuns {
        second_home,
        second_peer: second.peer_id().to_string(),
        address: address.to_string(),
        remote: remote_receipt,
        remote_result,
        fetched,
        local: local_receipt,
    })
}
