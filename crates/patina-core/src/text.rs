//! Positions in the text of a file a person wrote (`policy.toml`,
//! `config.toml`), so an error can name the line it is about. Lexical
//! only: it never reads a file.

/// The 1-based line of byte `offset` in `text` (an offset past the end is
/// on the last line; one inside a character counts as the line it is on).
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::line_at;

    #[test]
    fn counts_lines_before_the_offset() {
        let text = "a = 1\nb = 2\n\nc = é\n";
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, 5), 1, "the newline itself ends line 1");
        assert_eq!(line_at(text, 6), 2);
        assert_eq!(line_at(text, 13), 4);
        assert_eq!(
            line_at(text, text.find('é').unwrap() + 1),
            4,
            "inside a character"
        );
        assert_eq!(line_at(text, 10_000), 5, "past the end: the last line");
        assert_eq!(line_at("", 3), 1);
    }
}
