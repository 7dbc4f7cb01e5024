//! `mother token create|list|revoke`: bearer tokens for the doors that speak
//! HTTP. The tokens are `patina-membrane`'s (`TokenStore`, hashed in
//! `$PATINA_HOME/tokens.toml`); this checks the role exists and prints.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use patina_membrane::{Policy, TokenStore};

use crate::cli::TokenCommand;
use crate::output;

fn time(ms: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
        .to_string()
}

pub fn run(home: &Path, command: TokenCommand) -> Result<ExitCode> {
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    let store = TokenStore::open(home.join("tokens.toml"))?;
    match command {
        TokenCommand::Create {
            role,
            name,
            expires,
        } => {
            let policy = Policy::load(&home.join("policy.toml"))?;
            if policy.role(&role).is_none() {
                bail!(
                    "no role `{role}` in {} (roles: {})",
                    home.join("policy.toml").display(),
                    policy.role_names().collect::<Vec<_>>().join(", ")
                );
            }
            let (info, text) = store.create(&role, &name, expires)?;
            eprintln!(
                "token {} for role `{role}`{}: shown once, keep it secret",
                info.id,
                info.expires_at_ms
                    .map(|at| format!(", good until {}", time(at)))
                    .unwrap_or_default()
            );
            println!("{text}");
        }
        TokenCommand::List { json } => {
            let tokens = store.list()?;
            if json {
                output::print_json(&serde_json::to_value(&tokens)?);
            } else if tokens.is_empty() {
                println!("no tokens (mother token create --role ROLE)");
            } else {
                for t in tokens {
                    let state = if t.revoked {
                        "revoked".to_owned()
                    } else {
                        t.expires_at_ms
                            .map_or("live".to_owned(), |at| format!("until {}", time(at)))
                    };
                    println!(
                        "{}  {:<10} {:<24} made {}  {state}",
                        t.id,
                        t.role,
                        if t.name.is_empty() { "-" } else { &t.name },
                        time(t.created_at_ms)
                    );
                }
            }
        }
        TokenCommand::Revoke { id } => {
            let info = store.revoke(&id)?;
            println!("revoked token {} (role `{}`)", info.id, info.role);
        }
    }
    Ok(ExitCode::SUCCESS)
}
