//! [`Grant`]: a toy plus its scope, parsed and canonicalised once.
//!
//! Text form `kind[:scope]`: `log`, `fs:/data:ro`, `net:127.0.0.1:8080`,
//! `http:*.example.com`. This module checks the *syntax* of every grant and of
//! the scopes it knows (`fs`, `net`); whether a kind exists is decided by the
//! host's toy registry, and a directory is canonicalised by the host (that needs
//! the file system, which this crate never touches).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One grant: a toy kind and its scope.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Grant {
    kind: String,
    scope: Option<String>,
}

/// A grant text that cannot be a grant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// Empty text.
    #[error("empty grant")]
    Empty,
    /// The kind is not a lowercase kebab-case word.
    #[error(
        "grant `{0}`: the kind before `:` must be a lowercase word such as `log`, `fs` or `net`"
    )]
    BadKind(String),
    /// `kind:` with nothing after it.
    #[error("grant `{0}`: empty scope after `:`")]
    EmptyScope(String),
    /// A scope that the kind's syntax rejects.
    #[error("grant `{grant}`: {reason}")]
    BadScope {
        /// The whole grant text.
        grant: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A kind no toy answers to.
    #[error("unknown grant kind `{kind}` in `{grant}` (known: {known})")]
    UnknownKind {
        /// The whole grant text.
        grant: String,
        /// The unknown kind.
        kind: String,
        /// The kinds this host knows, comma-separated.
        known: String,
    },
    /// A kind that takes no scope was given one (or the reverse).
    #[error("grant `{grant}`: {reason}")]
    Scope {
        /// The whole grant text.
        grant: String,
        /// What the kind expects.
        reason: String,
    },
}

impl Grant {
    /// A grant of `kind` with an optional scope; the same checks as parsing.
    pub fn new(kind: &str, scope: Option<&str>) -> Result<Self, GrantError> {
        let text = match scope {
            Some(scope) => format!("{kind}:{scope}"),
            None => kind.to_owned(),
        };
        text.parse()
    }

    /// The toy kind, e.g. `fs`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The scope, e.g. `/data:ro`, if any.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The same kind with a (canonical) scope put in place of this one's.
    /// Refuses control characters, as parsing does: a canonical path may
    /// hold a newline, and a grant must stay one line of text wherever it is
    /// written down.
    pub fn with_scope(&self, scope: Option<String>) -> Result<Self, GrantError> {
        if scope
            .as_deref()
            .is_some_and(|s| s.chars().any(char::is_control))
        {
            return Err(self.scope_error("control characters are not allowed"));
        }
        Ok(Self {
            kind: self.kind.clone(),
            scope,
        })
    }

    /// A scope error for this grant.
    pub fn scope_error(&self, reason: impl Into<String>) -> GrantError {
        GrantError::BadScope {
            grant: self.to_string(),
            reason: reason.into(),
        }
    }
}

fn is_kind(s: &str) -> bool {
    !s.is_empty()
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl FromStr for Grant {
    type Err = GrantError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(GrantError::Empty);
        }
        let (kind, scope) = match text.split_once(':') {
            Some((kind, scope)) => (kind, Some(scope)),
            None => (text, None),
        };
        if !is_kind(kind) {
            return Err(GrantError::BadKind(text.to_owned()));
        }
        if scope.is_some_and(str::is_empty) {
            return Err(GrantError::EmptyScope(text.to_owned()));
        }
        if scope.is_some_and(|s| s.chars().any(char::is_control)) {
            return Err(GrantError::BadScope {
                grant: text.escape_debug().to_string(),
                reason: "control characters are not allowed".into(),
            });
        }
        Ok(Self {
            kind: kind.to_owned(),
            scope: scope.map(str::to_owned),
        })
    }
}

impl TryFrom<String> for Grant {
    type Error = GrantError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Grant> for String {
    fn from(g: Grant) -> String {
        g.to_string()
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if let Some(scope) = &self.scope {
            write!(f, ":{scope}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Grant({self})")
    }
}

/// Read-only or read-write access to a granted directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FsAccess {
    /// `ro`: read, list, stat.
    ReadOnly,
    /// `rw`: also create, write, rename, remove.
    ReadWrite,
}

impl fmt::Display for FsAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ReadOnly => "ro",
            Self::ReadWrite => "rw",
        })
    }
}

/// The scope of an `fs` grant: `PATH[:ro|:rw]` (read-only when not said).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsScope {
    /// The directory as written (the host canonicalises it).
    pub path: String,
    /// The access granted.
    pub access: FsAccess,
}

impl FsScope {
    /// Parses the scope of `grant`, which must be an `fs` grant with a scope.
    pub fn parse(grant: &Grant) -> Result<Self, GrantError> {
        let scope = grant.scope().ok_or_else(|| {
            grant.scope_error("`fs` needs a directory: `fs:PATH:ro` or `fs:PATH:rw`")
        })?;
        let (path, access) = match scope.rsplit_once(':') {
            Some((path, "ro")) => (path, FsAccess::ReadOnly),
            Some((path, "rw")) => (path, FsAccess::ReadWrite),
            _ => (scope, FsAccess::ReadOnly),
        };
        if path.is_empty() {
            return Err(grant.scope_error("empty directory path"));
        }
        Ok(Self {
            path: path.to_owned(),
            access,
        })
    }
}

impl fmt::Display for FsScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path, self.access)
    }
}

/// The scope of a `net` grant: `HOST[:PORT|:*]`, where HOST is an IP address
/// (IPv6 in brackets) and a missing port means any port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetScope {
    /// The address the child may connect to or bind.
    pub ip: IpAddr,
    /// The port, or `None` for any port.
    pub port: Option<u16>,
}

impl NetScope {
    /// Parses the scope of `grant`, which must be a `net` grant with a scope.
    pub fn parse(grant: &Grant) -> Result<Self, GrantError> {
        let scope = grant
            .scope()
            .ok_or_else(|| grant.scope_error("`net` needs an address: `net:127.0.0.1:8080`"))?;
        let (host, port) = if let Some(rest) = scope.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| grant.scope_error("missing `]` after an IPv6 address"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(grant.scope_error("expected `:PORT` after `]`")),
                },
            }
        } else {
            match scope.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (scope, None),
            }
        };
        let ip: IpAddr = host.parse().map_err(|_| {
            grant.scope_error(format!(
                "`{host}` is not an IP address (names are not resolved)"
            ))
        })?;
        let port =
            match port {
                None | Some("*") => None,
                Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
                    grant.scope_error(format!("`{p}` is not a port (1-65535 or *)"))
                })?),
            };
        Ok(Self { ip, port })
    }

    /// Whether a connection to (or bind of) `addr` is allowed by this scope.
    pub fn allows(&self, addr: std::net::SocketAddr) -> bool {
        addr.ip() == self.ip && self.port.is_none_or(|p| p == addr.port())
    }
}

impl fmt::Display for NetScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}")?,
            IpAddr::V6(ip) => write!(f, "[{ip}]")?,
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => write!(f, ":*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(s: &str) -> Grant {
        s.parse().unwrap()
    }

    #[test]
    fn parses_kinds_and_scopes() {
        assert_eq!(grant("log").kind(), "log");
        assert_eq!(grant("log").scope(), None);
        let fs = grant("fs:/data:rw");
        assert_eq!((fs.kind(), fs.scope()), ("fs", Some("/data:rw")));
        assert_eq!(grant("  log ").to_string(), "log");
    }

    #[test]
    fn rejects_malformed_grants() {
        assert_eq!("".parse::<Grant>(), Err(GrantError::Empty));
        assert!(matches!(
            "Fs:/x".parse::<Grant>(),
            Err(GrantError::BadKind(_))
        ));
        assert!(matches!(":x".parse::<Grant>(), Err(GrantError::BadKind(_))));
        assert!(matches!(
            "fs:".parse::<Grant>(),
            Err(GrantError::EmptyScope(_))
        ));
        assert!(matches!(
            "fs:/a\nb".parse::<Grant>(),
            Err(GrantError::BadScope { .. })
        ));
    }

    #[test]
    fn fs_scope_defaults_to_read_only() {
        let scope = FsScope::parse(&grant("fs:/data")).unwrap();
        assert_eq!(
            scope,
            FsScope {
                path: "/data".into(),
                access: FsAccess::ReadOnly
            }
        );
        assert_eq!(scope.to_string(), "/data:ro");
        let rw = FsScope::parse(&grant("fs:C:/x:rw")).unwrap();
        assert_eq!((rw.path.as_str(), rw.access), ("C:/x", FsAccess::ReadWrite));
        let reason = |text: &str| match FsScope::parse(&grant(text)) {
            Err(GrantError::BadScope { grant, reason }) => (grant, reason),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            reason("fs::rw"),
            ("fs::rw".to_owned(), "empty directory path".to_owned())
        );
        assert_eq!(
            reason("fs").1,
            "`fs` needs a directory: `fs:PATH:ro` or `fs:PATH:rw`"
        );
    }

    #[test]
    fn net_scope_parses_addresses_and_ports() {
        let any = NetScope::parse(&grant("net:127.0.0.1")).unwrap();
        assert_eq!(any.to_string(), "127.0.0.1:*");
        assert!(any.allows("127.0.0.1:9".parse().unwrap()));
        assert!(!any.allows("127.0.0.2:9".parse().unwrap()));
        let one = NetScope::parse(&grant("net:[::1]:8080")).unwrap();
        assert_eq!(one.to_string(), "[::1]:8080");
        assert!(one.allows("[::1]:8080".parse().unwrap()));
        assert!(!one.allows("[::1]:8081".parse().unwrap()));
        for (bad, why) in [
            ("net:example.com:80", "is not an IP address"),
            ("net:127.0.0.1:0", "`0` is not a port"),
            ("net:127.0.0.1:x", "`x` is not a port"),
            ("net:[::1", "missing `]`"),
            ("net", "`net` needs an address"),
        ] {
            match NetScope::parse(&grant(bad)) {
                Err(GrantError::BadScope { grant, reason }) => {
                    assert_eq!(grant, bad);
                    assert!(reason.contains(why), "{bad}: {reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn serde_uses_the_text_form() {
        let g = grant("fs:/data:ro");
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, "\"fs:/data:ro\"");
        assert_eq!(serde_json::from_str::<Grant>(&json).unwrap(), g);
        let err = serde_json::from_str::<Grant>("\"BAD\"").unwrap_err();
        assert!(
            err.to_string().contains("must be a lowercase word"),
            "{err}"
        );
    }
}
