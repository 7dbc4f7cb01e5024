//! Tool names: `<child>.<function>` made to fit MCP's rules for a tool name
//! (1–128 characters of `A–Z a–z 0–9 _ - .`), and kept unique.
//!
//! Every character outside the rule becomes `_`; a name that collides with
//! one given before (two children whose sanitised names meet, say) gets the
//! first hex digits of its child's id appended, so the same catalogue always
//! gives the same names. This module only names; it never decides which
//! tools exist.

use std::collections::BTreeSet;

/// The longest tool name MCP allows.
pub const MAX_TOOL_NAME: usize = 128;

/// Names that the fixed tools take; no child command is given one of them.
pub const RESERVED: &[&str] = &["list_children", "describe_child", "get_receipt", "replay"];

/// `text` with every character MCP does not allow in a tool name made `_`.
pub fn sanitise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Hands out unique tool names.
#[derive(Debug, Default)]
pub struct Namer {
    taken: BTreeSet<String>,
}

impl Namer {
    /// A namer with the fixed tools' names already taken.
    pub fn new() -> Self {
        Self {
            taken: RESERVED.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    /// The name of `function` of the child called `child` (whose id's hex
    /// digits are `id_hex`): `child.function`, sanitised, cut to fit, and
    /// made unique with the id's digits when it collides.
    pub fn name(&mut self, child: &str, function: &str, id_hex: &str) -> String {
        let base = cut(&sanitise(&format!("{child}.{function}")), MAX_TOOL_NAME);
        if self.taken.insert(base.clone()) {
            return base;
        }
        for digits in [8, 16, 32, 64] {
            let suffix = format!("-{}", &id_hex[..digits.min(id_hex.len())]);
            let name = format!("{}{suffix}", cut(&base, MAX_TOOL_NAME - suffix.len()));
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
        // The same child and function twice: number it (never reached from
        // one catalogue, where (child, function) pairs are unique).
        let mut n = 2u32;
        loop {
            let suffix = format!("-{n}");
            let name = format!("{}{suffix}", cut(&base, MAX_TOOL_NAME - suffix.len()));
            if self.taken.insert(name.clone()) {
                return name;
            }
            n += 1;
        }
    }
}

/// `text` cut to at most `max` bytes (it is ASCII after [`sanitise`]).
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Whether `name` fits MCP's rules for a tool name.
pub fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOOL_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "c79c7d88aa00bb11cc22dd33ee44ff5500112233445566778899aabbccddeeff";

    #[test]
    fn plain_names_pass_through() {
        let mut namer = Namer::new();
        assert_eq!(namer.name("calc", "add", ID), "calc.add");
    }

    #[test]
    fn interface_functions_and_odd_characters_are_sanitised() {
        let mut namer = Namer::new();
        let name = namer.name("calc", "patina:calc/ops@0.1.0#add", ID);
        assert_eq!(name, "calc.patina_calc_ops_0.1.0_add");
        assert!(is_valid(&name));
        let name = namer.name("notes é", "run", ID);
        assert_eq!(name, "notes__.run");
    }

    #[test]
    fn collisions_get_the_child_id_and_stay_unique() {
        let mut namer = Namer::new();
        let first = namer.name("a:b", "f", ID);
        let second = namer.name("a/b", "f", ID);
        assert_eq!(first, "a_b.f");
        assert_eq!(second, "a_b.f-c79c7d88");
        let third = namer.name("a b", "f", ID);
        assert_eq!(third, "a_b.f-c79c7d88aa00bb11");
    }

    #[test]
    fn fixed_tool_names_are_never_given_to_a_child() {
        let mut namer = Namer::new();
        // A child whose sanitised name would be a fixed tool's name cannot
        // be made of one part, but check the rule holds anyway.
        assert!(
            RESERVED
                .iter()
                .all(|r| !namer.taken.insert((*r).to_owned()))
        );
    }

    #[test]
    fn long_names_are_cut_to_the_limit() {
        let mut namer = Namer::new();
        let long = "x".repeat(200);
        let name = namer.name(&long, "f", ID);
        assert_eq!(name.len(), MAX_TOOL_NAME);
        let again = namer.name(&long, "g", ID);
        assert_eq!(again.len(), MAX_TOOL_NAME);
        assert_ne!(name, again);
        assert!(is_valid(&again));
    }
}
