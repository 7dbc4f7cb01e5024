//! Words and posting lists: the pure part of the indexer (no toy calls).
//!
//! A word is a maximal run of letters and digits, lowercased. A posting list
//! (the kv value of one word) is, per file, the path, a NUL byte, the line
//! numbers in ascending order joined by `,`, and a newline. Decoding never
//! panics on a damaged value: it yields what it can parse.

use std::collections::BTreeSet;

/// Longest word indexed, in bytes (longer runs are skipped: no key limit is hit).
pub const MAX_WORD: usize = 64;

/// The words of `line`, lowercased, in order, with repeats.
pub fn words(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| w.len() <= MAX_WORD)
}

/// The distinct words of a query, sorted.
pub fn query_words(query: &str) -> BTreeSet<String> {
    words(query).collect()
}

/// The lines of a text, numbered from 1, without `\n` or a trailing `\r`.
pub fn lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .zip(1u32..)
        .map(|(line, n)| (n, line))
}

/// Encodes one posting list.
pub fn encode(postings: &[(String, Vec<u32>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, lines) in postings {
        out.extend_from_slice(path.as_bytes());
        out.push(0);
        let numbers: Vec<String> = lines.iter().map(u32::to_string).collect();
        out.extend_from_slice(numbers.join(",").as_bytes());
        out.push(b'\n');
    }
    out
}

/// Decodes a posting list written by [`encode`].
pub fn decode(bytes: &[u8]) -> Vec<(String, Vec<u32>)> {
    let mut postings = Vec::new();
    let mut rest = bytes;
    while let Some(nul) = rest.iter().position(|&b| b == 0) {
        let path = String::from_utf8_lossy(&rest[..nul]).into_owned();
        rest = &rest[nul + 1..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let lines = String::from_utf8_lossy(&rest[..end])
            .split(',')
            .filter_map(|n| n.parse().ok())
            .collect();
        postings.push((path, lines));
        rest = rest.get(end + 1..).unwrap_or_default();
    }
    postings
}

/// `line` trimmed and cut to at most `max` characters.
pub fn snippet(line: &str, max: usize) -> String {
    line.trim()
        .chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}
