//! `mother peers`, `mother find <CHILD>` and `mother push <CHILD> --to
//! <PEER>`: the network of the served Mother (`mother serve --listen`),
//! reached through its membrane (`network.*` methods, `admin` by default).
//! They print; the served Mother decides and acts.

use std::process::ExitCode;

use anyhow::Result;
use patina_mother::ChildRef;

use crate::cli_peer::{FindArgs, PeersArgs, PushArgs};
use crate::door::Door;
use crate::output;

pub async fn peers(door: &Door, args: PeersArgs) -> Result<ExitCode> {
    let info = door.session("peers")?.network_info().await?;
    if args.json {
        output::print_json(&serde_json::to_value(&info)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("peer {}", info.peer_id);
    for addr in &info.listen {
        println!("listen {addr}");
    }
    if info.peers.is_empty() {
        println!("no peers connected");
    }
    for peer in &info.peers {
        let rtt = peer
            .rtt_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.2} ms"));
        println!("{}  {}  {rtt}", peer.peer, peer.addresses.join(" "));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn find(door: &Door, args: FindArgs) -> Result<ExitCode> {
    let providers = door
        .session("find")?
        .network_find(&args.child, args.limit)
        .await?;
    if args.json {
        output::print_json(&serde_json::json!({ "child": args.child, "providers": providers }));
    } else {
        if providers.is_empty() {
            eprintln!("no provider of {} found", args.child);
        }
        for provider in providers {
            println!("{provider}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn push(door: &Door, args: PushArgs) -> Result<ExitCode> {
    let child = door
        .served_child(&ChildRef::from_argument(&args.child))
        .await?;
    let installed = door.session("push")?.network_push(&child, &args.to).await?;
    if args.json {
        output::print_json(&serde_json::to_value(&installed)?);
    } else {
        println!("{} installed on {}", installed.child, args.to);
    }
    Ok(ExitCode::SUCCESS)
}
