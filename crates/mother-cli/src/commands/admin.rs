//! `mother key`, `mother policy check|explain|allow` and `mother epoch
//! show|bump`: the Mother's identity and the membrane's settings in the
//! home. The decisions are `patina-membrane`'s; this only prints.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use patina_membrane::policy::{Children, ReceiptScope, allow_in_file};
use patina_membrane::{CallerKey, HomeLock, Policy, Role, read_epoch, write_epoch};
use patina_receipts::Identity;

use crate::cli::{EpochCommand, KeyArgs, PolicyCommand};
use crate::output;

fn identity(home: &Path) -> Result<Identity> {
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    Ok(Identity::load_or_create(&home.join("identity.key"))?)
}

pub fn key(home: &Path, args: KeyArgs) -> Result<ExitCode> {
    let identity = match args.of {
        Some(file) => Identity::load_or_create(&file)?,
        None => identity(home)?,
    };
    println!("{}", identity.id());
    Ok(ExitCode::SUCCESS)
}

fn describe(role: &Role) {
    println!("role      {}", role.name);
    println!(
        "methods   {}",
        role.methods.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    match &role.children {
        Children::Any => println!("children  any"),
        Children::Only(list) => println!("children  {}", list.join(", ")),
    }
    let grants: Vec<String> = role.grants.iter().map(ToString::to_string).collect();
    println!(
        "grants    {}",
        if grants.is_empty() {
            "none".to_owned()
        } else {
            grants.join(" ")
        }
    );
    let limit = |value: Option<u64>, unit: &str| {
        value.map_or("host maximum".to_owned(), |v| format!("{v}{unit}"))
    };
    println!(
        "limits    fuel {}, timeout {}, memory {}, output {}",
        limit(role.limits.fuel, ""),
        limit(role.limits.timeout_ms, " ms"),
        limit(role.limits.memory, " bytes"),
        limit(role.limits.output, " bytes")
    );
    println!(
        "receipts  {}",
        match role.receipts {
            ReceiptScope::All => "all",
            ReceiptScope::Own => "of its own runs",
        }
    );
    println!(
        "installs  {}",
        if role.install_names {
            "named, with install grants"
        } else {
            "by digest only"
        }
    );
    println!(
        "runs      {}",
        if role.live {
            "recorded or live"
        } else {
            "recorded only"
        }
    );
    match role.rate {
        Some(rate) => println!("rate      {} runs/s, burst {}", rate.per_second, rate.burst),
        None => println!("rate      unbounded"),
    }
}

/// Tells a serving Mother (if one holds the home) with `signal`.
fn signal_server(home: &Path, signal: libc::c_int) -> Option<u32> {
    let pid = HomeLock::holder(home)?;
    let pid_t = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: kill(2) with a pid read from the home's lock, held right now.
    (unsafe { libc::kill(pid_t, signal) } == 0).then_some(pid)
}

pub fn policy(home: &Path, command: PolicyCommand) -> Result<ExitCode> {
    let file = home.join("policy.toml");
    match command {
        PolicyCommand::Check { file: other } => {
            let file = other.unwrap_or(file);
            if !file.exists() {
                bail!("{}: no such file", file.display());
            }
            let policy = Policy::load(&file)?;
            println!(
                "ok: {} — {} callers; roles {}",
                file.display(),
                policy.callers().count(),
                policy.role_names().collect::<Vec<_>>().join(", ")
            );
        }
        PolicyCommand::Explain { key, json } => {
            let caller: CallerKey = key.parse()?;
            let policy = Policy::load(&file)?;
            let own = CallerKey(*identity(home)?.id().bytes()) == caller;
            let role = policy
                .role_of(&caller)
                .or_else(|| own.then(|| std::sync::Arc::new(Role::admin())));
            match role {
                Some(role) if json => {
                    let mut value = role.explain();
                    value["caller"] = serde_json::json!(caller.to_string());
                    output::print_json(&value);
                }
                Some(role) => {
                    println!(
                        "caller    {caller}{}",
                        if own { " (this Mother's own key)" } else { "" }
                    );
                    describe(&role);
                }
                None => bail!(
                    "{caller} is not in {}: every login with it is refused",
                    file.display()
                ),
            }
        }
        PolicyCommand::Allow { key, role } => {
            let caller: CallerKey = key.parse()?;
            allow_in_file(&file, caller, &role)?;
            println!("{caller} is now {role} in {}", file.display());
            if let Some(pid) = signal_server(home, libc::SIGHUP) {
                println!(
                    "told the serving Mother (pid {pid}): it reloads the policy and bumps the epoch"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn epoch(home: &Path, command: EpochCommand) -> Result<ExitCode> {
    let file = home.join("epoch");
    let before = read_epoch(&file)?;
    match command {
        EpochCommand::Show => println!("{before}"),
        EpochCommand::Bump => {
            if let Some(pid) = signal_server(home, libc::SIGUSR1) {
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    let now = read_epoch(&file)?;
                    if now > before {
                        println!("{now} (the serving Mother, pid {pid}, moved to it)");
                        break;
                    }
                    if Instant::now() > deadline {
                        bail!("the serving Mother (pid {pid}) did not advance the epoch");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            } else {
                std::fs::create_dir_all(home)?;
                write_epoch(&file, before + 1)?;
                println!("{}", before + 1);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
