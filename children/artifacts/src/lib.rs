//! The example children (guest components in `children/`), built from source.
//!
//! Its build script runs a nested `cargo build --release --target wasm32-wasip2`
//! on the guest workspace, so tests, benches and `mother demo` get real
//! components with no manual step. It never downloads anything and never ships
//! prebuilt wasm: every byte here was compiled from the sources in this repo.

/// One built child.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    /// Package name, e.g. `"hello-log"`.
    pub name: &'static str,
    /// Absolute path of the component file.
    pub path: &'static str,
    /// The component's bytes.
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/children.rs"));

/// The child called `name` (e.g. `"calc"`), if there is one.
pub fn by_name(name: &str) -> Option<&'static Child> {
    ALL.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First 8 bytes of a component: magic, then version 0x0d and layer 1.
    const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    #[test]
    fn every_child_is_a_component() {
        // Every member of the guest workspace is built and listed.
        let manifest = include_str!("../../Cargo.toml");
        let members = manifest.lines().find(|l| l.starts_with("members")).unwrap();
        let count = members.matches('"').count() / 2;
        assert_eq!(ALL.len(), count, "{members}");
        for child in ALL {
            assert!(members.contains(&format!("\"{}\"", child.name)));
        }
        for child in ALL {
            assert!(!child.bytes.is_empty(), "{} is empty", child.name);
            assert!(
                child.bytes.starts_with(&COMPONENT_HEADER),
                "{} is not a component",
                child.name
            );
            assert_eq!(
                std::fs::read(child.path).unwrap(),
                child.bytes,
                "{}",
                child.name
            );
        }
    }

    #[test]
    fn lookup_by_name() {
        assert_eq!(by_name("hello-cmd").unwrap().path, HELLO_CMD);
        assert!(by_name("nope").is_none());
    }
}
