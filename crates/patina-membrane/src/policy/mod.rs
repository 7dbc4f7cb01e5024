//! [`Policy`]: who may do what through the membrane — `policy.toml`, per
//! caller key a role; a role's methods, children, grant ceiling, limit
//! ceilings, receipt scope and run rate. Deny by default: a key the policy
//! does not name gets nothing, a method a role does not list is refused.
//!
//! The file is parsed with `deny_unknown_fields` everywhere, and every error
//! names its line. The built-in roles `admin`, `runner` and `reader` exist
//! in every policy; a file may define more, never redefine those. This
//! module decides nothing about a live call by itself: [`Role`]'s checks are
//! called by the capability servers, the one place authority is decided.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use patina_core::Grant;
use serde::Deserialize;

use crate::ceiling::Ceiling;

mod key;
mod role;

pub use key::CallerKey;
pub use role::*;

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A mistake in the file, at a line.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file (or `policy.toml`).
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A caller key that is not 64 hex digits, or a role that does not exist.
    #[error("{0}")]
    Bad(String),
}

impl PolicyError {
    /// `bad-policy` (or `io`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            _ => "bad-policy",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    callers: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    #[serde(default)]
    roles: BTreeMap<toml::Spanned<String>, RoleFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    #[serde(default)]
    methods: Vec<toml::Spanned<String>>,
    /// Installed names or full ids; `["*"]` for any child. Default: none.
    #[serde(default)]
    children: Vec<toml::Spanned<String>>,
    /// The grant ceiling. Default: no grant.
    #[serde(default)]
    grants: Vec<toml::Spanned<String>>,
    /// Grants a person may approve for one run. Default: none.
    #[serde(default)]
    ask: Vec<toml::Spanned<String>>,
    #[serde(default)]
    limits: LimitsFile,
    /// `"own"` (default) or `"all"`.
    #[serde(default)]
    receipts: Option<toml::Spanned<String>>,
    /// Whether installs may name the child and give it install grants.
    #[serde(default)]
    install_names: bool,
    /// Whether runs may be live (no receipt). Default: no.
    #[serde(default)]
    live: bool,
    #[serde(default)]
    rate: Option<RateFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    fuel: Option<u64>,
    timeout_ms: Option<u64>,
    memory: Option<u64>,
    output: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateFile {
    runs_per_second: f64,
    #[serde(default)]
    burst: Option<u32>,
}

/// A loaded policy: callers and roles.
#[derive(Clone, Debug)]
pub struct Policy {
    callers: BTreeMap<CallerKey, Arc<Role>>,
    roles: BTreeMap<String, Arc<Role>>,
}

impl Default for Policy {
    /// The built-in roles and no callers: everyone is refused.
    fn default() -> Self {
        let roles = [Role::admin(), Role::runner(), Role::reader(), Role::agent()]
            .into_iter()
            .map(|r| (r.name.clone(), Arc::new(r)))
            .collect();
        Self {
            callers: BTreeMap::new(),
            roles,
        }
    }
}

impl Policy {
    /// The role of `key`, if the policy names it.
    pub fn role_of(&self, key: &CallerKey) -> Option<Arc<Role>> {
        self.callers.get(key).cloned()
    }

    /// A role by name.
    pub fn role(&self, name: &str) -> Option<Arc<Role>> {
        self.roles.get(name).cloned()
    }

    /// Every caller and its role's name.
    pub fn callers(&self) -> impl Iterator<Item = (&CallerKey, &str)> {
        self.callers.iter().map(|(k, r)| (k, r.name.as_str()))
    }

    /// Every role's name.
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Adds `key` with `role` (in memory; [`allow_in_file`] writes it).
    pub fn allow(&mut self, key: CallerKey, role: &str) -> Result<(), PolicyError> {
        let role = self
            .role(role)
            .ok_or_else(|| PolicyError::Bad(format!("no role `{role}`")))?;
        self.callers.insert(key, role);
        Ok(())
    }

    /// Parses policy text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, PolicyError> {
        let invalid = |offset: usize, message: String| PolicyError::Invalid {
            file: file.to_owned(),
            line: patina_core::line_at(text, offset),
            message,
        };
        let parsed: File = toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            invalid(offset, error.message().to_owned())
        })?;
        let mut policy = Self::default();
        for (name, role) in parsed.roles {
            let at = name.span().start;
            let name = name.into_inner();
            if BUILT_IN.contains(&name.as_str()) {
                return Err(invalid(
                    at,
                    format!("`{name}` is a built-in role and cannot be redefined"),
                ));
            }
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(at, format!("bad role name `{name}`")));
            }
            let mut methods = BTreeSet::new();
            for method in role.methods {
                let at = method.span().start;
                let method = method.into_inner();
                let expanded: Vec<&str> = if method == "*" {
                    METHODS.to_vec()
                } else if let Some(prefix) = method.strip_suffix(".*") {
                    METHODS
                        .iter()
                        .copied()
                        .filter(|m| m.split_once('.').is_some_and(|(i, _)| i == prefix))
                        .collect()
                } else {
                    METHODS.iter().copied().filter(|m| *m == method).collect()
                };
                if expanded.is_empty() {
                    return Err(invalid(
                        at,
                        format!(
                            "unknown method `{method}` (one of {}, `INTERFACE.*` or `*`)",
                            METHODS.join(", ")
                        ),
                    ));
                }
                methods.extend(expanded.into_iter().map(str::to_owned));
            }
            let ceilings = |list: Vec<toml::Spanned<String>>, what: &str| {
                list.into_iter()
                    .map(|grant| {
                        Ceiling::parse(grant.get_ref())
                            .map_err(|e| invalid(grant.span().start, format!("{what}: {e}")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            let grants = ceilings(role.grants, "grant ceiling")?;
            let ask = ceilings(role.ask, "ask")?;
            let receipts = match &role.receipts {
                None => ReceiptScope::Own,
                Some(scope) => match scope.get_ref().as_str() {
                    "own" => ReceiptScope::Own,
                    "all" => ReceiptScope::All,
                    other => {
                        return Err(invalid(
                            scope.span().start,
                            format!("receipts = `{other}`: use \"own\" or \"all\""),
                        ));
                    }
                },
            };
            let children = if role.children.iter().any(|c| c.get_ref() == "*") {
                Children::Any
            } else {
                let mut list = Vec::new();
                for entry in role.children {
                    // An id prefix would match whatever bytes someone
                    // installs with that prefix: only a full id is an id.
                    let text = entry.get_ref();
                    if text.starts_with("b3:") && text.parse::<patina_core::ChildId>().is_err() {
                        return Err(invalid(
                            entry.span().start,
                            format!(
                                "children: `{text}` is not a full child id (b3: and 64 hex digits); \
                                 an entry is an installed name or a full id, never a prefix"
                            ),
                        ));
                    }
                    list.push(entry.into_inner());
                }
                Children::Only(list)
            };
            let rate = match role.rate {
                None => None,
                Some(rate) if rate.runs_per_second > 0.0 && rate.runs_per_second.is_finite() => {
                    Some(Rate {
                        per_second: rate.runs_per_second,
                        burst: rate.burst.unwrap_or(1).max(1),
                    })
                }
                Some(_) => {
                    return Err(invalid(at, "rate.runs_per_second must be above 0".into()));
                }
            };
            policy.roles.insert(
                name.clone(),
                Arc::new(Role {
                    name,
                    methods,
                    children,
                    grants,
                    ask,
                    limits: LimitCeiling {
                        fuel: role.limits.fuel,
                        timeout_ms: role.limits.timeout_ms,
                        memory: role.limits.memory,
                        output: role.limits.output,
                    },
                    receipts,
                    install_names: role.install_names,
                    live: role.live,
                    rate,
                }),
            );
        }
        for (key, role) in parsed.callers {
            let caller: CallerKey = key
                .get_ref()
                .parse()
                .map_err(|e: PolicyError| invalid(key.span().start, e.to_string()))?;
            let found = policy.role(role.get_ref()).ok_or_else(|| {
                invalid(
                    role.span().start,
                    format!(
                        "no role `{}` (built in: admin, runner, reader, agent; or define [roles.{}])",
                        role.get_ref(),
                        role.get_ref()
                    ),
                )
            })?;
            policy.callers.insert(caller, found);
        }
        Ok(policy)
    }

    /// Loads `path`; a missing file is the default policy (nobody allowed).
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(PolicyError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

/// Adds (or changes) `key`'s role in the policy file at `path` without
/// rewriting the rest of it; the result is checked before it replaces the file.
pub fn allow_in_file(path: &Path, key: CallerKey, role: &str) -> Result<Policy, PolicyError> {
    let io = |source| PolicyError::Io {
        path: path.to_owned(),
        source,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(io(source)),
    };
    let before = Policy::parse(&text, &path.display().to_string())?;
    if before.role(role).is_none() {
        return Err(PolicyError::Bad(format!("no role `{role}`")));
    }
    let entry = format!("\"{key}\" = \"{role}\"\n");
    let key_text = key.to_string();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let existing = lines.iter().position(|line| {
        let line = line.trim_start();
        line.starts_with(&format!("\"{key_text}\"")) || line.starts_with(&format!("{key_text} "))
    });
    if let Some(index) = existing {
        lines[index] = entry.trim_end().to_owned();
    } else if let Some(header) = lines.iter().position(|l| l.trim() == "[callers]") {
        lines.insert(header + 1, entry.trim_end().to_owned());
    } else {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push("[callers]".into());
        lines.push(entry.trim_end().to_owned());
    }
    let mut new_text = lines.join("\n");
    new_text.push('\n');
    let policy = Policy::parse(&new_text, &path.display().to_string())?;
    let temporary = path.with_extension("toml.new");
    std::fs::write(&temporary, new_text).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)?;
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let text = "[callers]\n\n[roles.ops]\nmethods = [\"runtime.run\"]\nfule = 3\n";
        let error = Policy::parse(text, "policy.toml").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("policy.toml:5:"), "{message}");
        assert!(message.contains("fule"), "{message}");
    }

    #[test]
    fn unknown_methods_roles_and_keys_are_refused_with_their_line() {
        let error = Policy::parse("[roles.ops]\nmethods = [\"runtime.fly\"]\n", "p").unwrap_err();
        assert!(error.to_string().starts_with("p:2:"), "{error}");
        let error = Policy::parse(&format!("[callers]\n\"{KEY}\" = \"pilot\"\n"), "p").unwrap_err();
        assert!(error.to_string().starts_with("p:2:"), "{error}");
        assert!(error.to_string().contains("no role `pilot`"), "{error}");
        let error = Policy::parse("[callers]\n\"abc\" = \"admin\"\n", "p").unwrap_err();
        assert!(error.to_string().contains("not a caller key"), "{error}");
        let error = Policy::parse("[roles.admin]\n", "p").unwrap_err();
        assert!(error.to_string().contains("built-in"), "{error}");
    }

    #[test]
    fn a_policy_names_roles_and_denies_the_rest() {
        let text = format!(
            "[callers]\n\"{KEY}\" = \"ops\"\n\n[roles.ops]\nmethods = [\"runtime.*\", \"receipts.get\"]\nchildren = [\"calc\"]\ngrants = [\"fs:/srv/data:ro\", \"http:*.example.com\"]\nlimits = {{ fuel = 1000 }}\nrate = {{ runs_per_second = 2.0, burst = 3 }}\n"
        );
        let policy = Policy::parse(&text, "p").unwrap();
        let role = policy.role_of(&KEY.parse().unwrap()).unwrap();
        assert!(role.allows("runtime.run") && role.allows("receipts.get"));
        assert!(!role.allows("receipts.export"));
        assert_eq!(role.children, Children::Only(vec!["calc".into()]));
        assert_eq!(role.limits.fuel, Some(1000));
        assert!(
            role.check_grant(&"fs:/srv/data/x:ro".parse().unwrap())
                .is_ok()
        );
        let error = role
            .check_grant(&"fs:/srv/data:rw".parse().unwrap())
            .unwrap_err();
        assert_eq!(error.kind(), "grant-above-ceiling");
        assert!(error.to_string().contains("fs:/srv/data:rw"), "{error}");
        assert!(policy.role_of(&CallerKey([9; 32])).is_none());
    }

    #[test]
    fn allow_adds_a_caller_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, "# mine\n[roles.ops]\nmethods = [\"runtime.list\"]\n").unwrap();
        let policy = allow_in_file(&path, KEY.parse().unwrap(), "ops").unwrap();
        assert_eq!(policy.role_of(&KEY.parse().unwrap()).unwrap().name, "ops");
        let policy = allow_in_file(&path, KEY.parse().unwrap(), "reader").unwrap();
        assert_eq!(
            policy.role_of(&KEY.parse().unwrap()).unwrap().name,
            "reader"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# mine\n"), "{text}");
        assert_eq!(text.matches(KEY).count(), 1, "{text}");
        assert!(allow_in_file(&path, KEY.parse().unwrap(), "pilot").is_err());
    }
}
