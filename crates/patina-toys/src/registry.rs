//! [`ToyRegistry`]: the toys a host offers, looked up by grant kind or by the
//! interface a child imports.

use std::sync::Arc;

use patina_core::ToyName;

use crate::{LogToy, Toy};

/// The set of toys a host can link. Cheap to clone.
#[derive(Clone, Default)]
pub struct ToyRegistry {
    toys: Vec<Arc<dyn Toy>>,
}

impl ToyRegistry {
    /// An empty registry: no toy can be granted.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The toys that ship with Patina.
    pub fn builtin() -> Self {
        let mut registry = Self::empty();
        registry.register(Arc::new(LogToy::new()));
        registry
    }

    /// Adds a toy. A toy registered later with the same grant kind or
    /// interface replaces the earlier one, so an embedder can swap a backend.
    pub fn register(&mut self, toy: Arc<dyn Toy>) {
        self.toys.retain(|t| {
            t.grant_kind() != toy.grant_kind()
                && t.interface().unversioned() != toy.interface().unversioned()
        });
        self.toys.push(toy);
    }

    /// The toy granted with `kind`.
    pub fn by_kind(&self, kind: &str) -> Option<&Arc<dyn Toy>> {
        self.toys.iter().find(|t| t.grant_kind() == kind)
    }

    /// The toy that serves an import of `interface`, if any.
    pub fn serving(&self, interface: &ToyName) -> Option<&Arc<dyn Toy>> {
        self.toys.iter().find(|t| t.interface().serves(interface))
    }

    /// Every registered toy.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Toy>> {
        self.toys.iter()
    }

    /// The grant kinds of all toys, sorted, comma-separated (for error texts).
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .toys
            .iter()
            .map(|t| t.grant_kind().to_owned())
            .collect();
        kinds.sort();
        kinds
    }
}

impl std::fmt::Debug for ToyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.toys.iter().map(|t| t.interface().to_string()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_log_by_kind_and_interface() {
        let registry = ToyRegistry::builtin();
        assert!(registry.by_kind("log").is_some());
        let import: ToyName = "patina:toys/log@0.1.0".parse().unwrap();
        assert!(registry.serving(&import).is_some());
        let newer: ToyName = "patina:toys/log@0.2.0".parse().unwrap();
        assert!(registry.serving(&newer).is_none());
        assert!(registry.by_kind("fs").is_none());
        assert_eq!(registry.kinds(), vec!["log".to_owned()]);
    }

    #[test]
    fn registering_the_same_kind_replaces() {
        let mut registry = ToyRegistry::builtin();
        registry.register(Arc::new(LogToy::new()));
        assert_eq!(registry.iter().count(), 1);
    }
}
