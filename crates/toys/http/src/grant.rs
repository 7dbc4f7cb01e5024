//! The `http` grant: parsing a scope into an [`HttpGrant`], its canonical text,
//! and matching a request's scheme, host and port against the allowlist.
//!
//! Accepted scopes (case-insensitive, hosts IDNA-normalised by the `url`
//! crate, one trailing dot dropped):
//!
//! - `HOST`, `https://HOST`: https to HOST on port 443.
//! - `HOST:PORT`, `https://HOST:PORT`: https to HOST on PORT.
//! - `http://HOST[:PORT]`: plain http to HOST on PORT (default 80), and https
//!   to HOST on PORT (default 443): an upgrade never widens what is reached.
//! - `*.HOST` in any of the above: any subdomain of HOST, at any depth, but
//!   not HOST itself.
//! - HOST may be an IP literal (`127.0.0.1`, `[::1]`); a name never matches an
//!   address or the reverse (`localhost` is not `127.0.0.1`).
//!
//! The canonical text is `SCHEME://HOST[:PORT]` with the port written only when
//! it is not the scheme's default: `https://api.example.com`,
//! `https://*.example.com`, `http://127.0.0.1:8080`, `https://[::1]:8443`.
//!
//! This module must never admit a wildcard other than one leading `*.`, empty
//! labels, paths, queries, fragments or userinfo, and never let a grant for one
//! host match another.

use std::net::IpAddr;

use url::{Host, Url};

/// The port https uses when none is written.
const HTTPS_PORT: u16 = 443;
/// The port plain http uses when none is written.
const HTTP_PORT: u16 = 80;

/// Which hosts a grant covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HostPattern {
    /// Exactly this (normalised, ASCII) domain name.
    Name(String),
    /// Any name ending in `.` + this domain (not the domain itself).
    Subdomains(String),
    /// Exactly this IP address.
    Ip(IpAddr),
}

/// One parsed `http` grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpGrant {
    /// Whether plain http is allowed (https always is).
    pub plain_http: bool,
    /// The hosts covered.
    pub host: HostPattern,
    /// The one port allowed; `None` means the scheme's default port.
    pub port: Option<u16>,
}

/// Where a request goes: checked against the grants, and the text named in
/// a `denied` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// `https` (true) or plain `http` (false).
    pub https: bool,
    /// The normalised host.
    pub host: TargetHost,
    /// The port the request connects to (the scheme's default if unwritten).
    pub port: u16,
}

/// The host of a request URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TargetHost {
    /// A domain name (normalised, ASCII, no trailing dot).
    Name(String),
    /// An IP literal.
    Ip(IpAddr),
}

impl std::fmt::Display for TargetHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Self::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

impl HttpGrant {
    /// Parses a grant scope (the text after `http:`).
    pub fn parse(scope: &str) -> Result<Self, String> {
        let scope = scope.trim().to_ascii_lowercase();
        let (plain_http, authority) = if let Some(rest) = scope.strip_prefix("https://") {
            (false, rest)
        } else if let Some(rest) = scope.strip_prefix("http://") {
            (true, rest)
        } else if scope.contains("://") {
            return Err("only `http://` and `https://` may precede the host".into());
        } else {
            (false, scope.as_str())
        };
        if let Some(bad) = authority
            .chars()
            .find(|c| matches!(c, '/' | '\\' | '?' | '#' | '@' | '%') || c.is_whitespace())
        {
            return Err(format!(
                "`{bad}` is not allowed: give a host and optional port only \
                 (no path, query, userinfo or escapes)"
            ));
        }
        let (host, port) = split_port(authority)?;
        let host = match host.strip_prefix("*.") {
            Some(suffix) => match parse_host(suffix)? {
                TargetHost::Name(name) => HostPattern::Subdomains(name),
                TargetHost::Ip(_) => return Err("`*.` must be followed by a domain name".into()),
            },
            None => match parse_host(host)? {
                TargetHost::Name(name) => HostPattern::Name(name),
                TargetHost::Ip(ip) => HostPattern::Ip(ip),
            },
        };
        let default = if plain_http { HTTP_PORT } else { HTTPS_PORT };
        Ok(Self {
            plain_http,
            host,
            port: port.filter(|p| *p != default),
        })
    }

    /// The canonical scope text (see the module documentation).
    pub fn canonical(&self) -> String {
        let scheme = if self.plain_http { "http" } else { "https" };
        let host = match &self.host {
            HostPattern::Name(name) => name.clone(),
            HostPattern::Subdomains(name) => format!("*.{name}"),
            HostPattern::Ip(ip) => TargetHost::Ip(*ip).to_string(),
        };
        match self.port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }
    }

    /// Whether this grant lets a request reach `target`.
    pub fn allows(&self, target: &Target) -> bool {
        if !target.https && !self.plain_http {
            return false;
        }
        let port = self
            .port
            .unwrap_or(if target.https { HTTPS_PORT } else { HTTP_PORT });
        if port != target.port {
            return false;
        }
        match (&self.host, &target.host) {
            (HostPattern::Name(granted), TargetHost::Name(name)) => granted == name,
            (HostPattern::Subdomains(suffix), TargetHost::Name(name)) => name
                .strip_suffix(suffix.as_str())
                .and_then(|head| head.strip_suffix('.'))
                .is_some_and(|head| !head.is_empty()),
            (HostPattern::Ip(granted), TargetHost::Ip(ip)) => granted == ip,
            _ => false,
        }
    }
}

/// Whether any of `grants` lets a request reach `target`.
pub(crate) fn allowed(grants: &[HttpGrant], target: &Target) -> bool {
    grants.iter().any(|g| g.allows(target))
}

impl Target {
    /// The target of a parsed URL; `Err` says why the URL cannot be requested.
    pub fn of(url: &Url) -> Result<Self, String> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(format!("scheme `{other}` is not http or https")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err("URLs with userinfo (`user:pass@`) are not allowed".into());
        }
        let host = match url.host() {
            Some(Host::Domain(name)) => TargetHost::Name(normalise_name(name)?),
            Some(Host::Ipv4(ip)) => TargetHost::Ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => TargetHost::Ip(IpAddr::V6(ip)),
            None => return Err("the URL has no host".into()),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| "the URL has no port".to_owned())?;
        if port == 0 {
            return Err("port 0 cannot be reached".into());
        }
        Ok(Self { https, host, port })
    }
}

/// Splits `host[:port]`; an IPv6 host must be in brackets.
fn split_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or_else(|| "unclosed `[` in an IPv6 address".to_owned())?;
        let (host, rest) = authority.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => match rest.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected `{rest}` after the IPv6 address")),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    let port = match port {
        None => None,
        Some(text) => {
            let port = text
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0 && text.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!("`{text}` is not a port (1-65535; IPv6 hosts go in brackets)")
                })?;
            Some(port)
        }
    };
    Ok((host, port))
}

/// Parses and normalises a host written in a grant.
fn parse_host(text: &str) -> Result<TargetHost, String> {
    if text.contains('*') {
        return Err("a wildcard is allowed only as a leading `*.`".into());
    }
    if text
        .strip_suffix('.')
        .unwrap_or(text)
        .split('.')
        .any(str::is_empty)
    {
        return Err(format!("`{text}` has an empty label"));
    }
    match Host::parse(text) {
        Ok(Host::Domain(name)) => Ok(TargetHost::Name(normalise_name(&name)?)),
        Ok(Host::Ipv4(ip)) => Ok(TargetHost::Ip(IpAddr::V4(ip))),
        Ok(Host::Ipv6(ip)) => Ok(TargetHost::Ip(IpAddr::V6(ip))),
        Err(e) => Err(format!("`{text}` is not a host name or IP address: {e}")),
    }
}

/// Lowercases, drops one trailing dot, and refuses empty labels and stars.
fn normalise_name(name: &str) -> Result<String, String> {
    let name = name.to_ascii_lowercase();
    let trimmed = name.strip_suffix('.').unwrap_or(&name);
    if trimmed.is_empty() || trimmed.split('.').any(str::is_empty) {
        return Err(format!("`{name}` has an empty label"));
    }
    if trimmed.contains('*') {
        return Err(format!("`{name}` contains `*`"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
#[path = "grant_tests.rs"]
mod tests;
