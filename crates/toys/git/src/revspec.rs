//! The revisions `diff-stat` accepts: a full or abbreviated hex commit id or
//! a ref name (`HEAD`, a branch, tag or remote-tracking name, or a full
//! `refs/...` name), followed by any number of `~N` / `^N` suffixes.
//!
//! It must refuse everything else before gix sees it: `:/text` and
//! `^{/text}` (which search whole histories), `@{...}` (reflogs, upstreams),
//! ranges, `^{type}` peeling, and suffixes walking more than
//! [`MAX_ANCESTRY`] generations.

/// Longest revision accepted, in bytes.
pub const MAX_SPEC: usize = 256;

/// Most generations one revision's suffixes may walk back (sum of the `N`s).
pub const MAX_ANCESTRY: u64 = 10_000;

/// Checks `spec` against the accepted grammar; the message says why not.
pub fn check(spec: &str) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "unsupported revision `{spec}`: {why} (only commit ids, ref names and ~N / ^N suffixes are accepted)"
        ))
    };
    if spec.len() > MAX_SPEC {
        return refuse("too long");
    }
    let base_end = spec.find(['~', '^']).unwrap_or(spec.len());
    let (base, mut suffixes) = spec.split_at(base_end);
    if !is_ref_name(base) {
        return refuse("not a commit id or ref name");
    }
    let mut generations = 0u64;
    while let Some(op) = suffixes.chars().next() {
        let digits_end = suffixes[1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(suffixes.len(), |i| i + 1);
        let digits = &suffixes[1..digits_end];
        if digits.len() > 6 {
            return refuse("suffix number too large");
        }
        let n = if digits.is_empty() {
            1
        } else {
            digits.parse::<u64>().unwrap_or(u64::MAX)
        };
        generations = generations.saturating_add(if op == '~' { n } else { 1 });
        suffixes = &suffixes[digits_end..];
        if !suffixes.is_empty() && !suffixes.starts_with(['~', '^']) {
            return refuse("unsupported suffix");
        }
    }
    if generations > MAX_ANCESTRY {
        return refuse("walks back too far");
    }
    Ok(())
}

/// Whether `name` is a plausible ref name or hex id (git's ref-name rules,
/// minus `@{` and the characters revision syntax gives meaning to).
fn is_ref_name(name: &str) -> bool {
    if name.is_empty() || name == "@" || name.starts_with(['-', '/']) || name.ends_with('/') {
        return false;
    }
    let bad_char =
        |c: char| c.is_control() || c.is_whitespace() || "~^:?*[]\\{}".contains(c) || c == '\u{7f}';
    if name.chars().any(bad_char) || name.contains("..") || name.contains("//") {
        return false;
    }
    name.split('/')
        .all(|part| !part.starts_with('.') && !part.ends_with('.') && !part.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn ids_names_and_ancestry_suffixes_are_accepted() {
        for spec in [
            "HEAD",
            "HEAD~1",
            "HEAD~",
            "HEAD^",
            "HEAD^2~3^",
            "main",
            "origin/main",
            "refs/tags/v1.0",
            "feature/x-y_z",
            "v1.2.3",
            "abcd",
            "0123456789abcdef0123456789abcdef01234567",
            "HEAD~10000",
        ] {
            assert_eq!(check(spec), Ok(()), "{spec}");
        }
    }

    #[test]
    fn searches_reflogs_ranges_and_peels_are_refused() {
        for spec in [
            ":/secret",
            "HEAD^{/secret}",
            "HEAD^{tree}",
            "@{1}",
            "main@{upstream}",
            "@",
            "HEAD@{0}",
            "HEAD:path",
            "a..b",
            "a...b",
            "",
            " HEAD",
            "-x",
            "HEAD~10001",
            "HEAD~5000~5001",
            "HEAD~99999999999",
            "HEAD~1x",
            "x.lock",
            ".hidden",
            "a//b",
        ] {
            let err = check(spec).unwrap_err();
            assert!(err.contains("unsupported revision"), "{spec}: {err}");
        }
        let err = check(&"a".repeat(300)).unwrap_err();
        assert!(err.contains(": too long"), "{err}");
    }
}
