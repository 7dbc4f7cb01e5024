//! Installing children and looking at them: [`Mother::install`],
//! [`Mother::install_file`], [`Mother::list`] and [`Mother::inspect`].
//!
//! Installing validates and compiles the bytes (into the artifact cache),
//! checks the install grants — the ones the child runs with when another
//! child invokes it by name — and keeps both. Every step runs on a blocking
//! thread. This module must never keep bytes the host refused, nor grants
//! that reach the Mother's protected directories.

use std::path::PathBuf;

use patina_host::{Child, Description, ImportStatus, import_status};
use serde::{Deserialize, Serialize};

use crate::wire::{Installed, parse_grants};
use crate::{ChildRef, InstalledChild, Mother, MotherError};

/// How to install a child.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSpec {
    /// A name to run it by (letters, digits, `-`, `_`, `.`).
    #[serde(default)]
    pub name: Option<String>,
    /// Grants (text form) the child runs with when another child invokes it
    /// by `name`; they need a name. The caller's grants never pass to it.
    #[serde(default)]
    pub grants: Vec<String>,
}

/// A child with its imports and exports described.
#[derive(Debug)]
pub struct Inspection {
    /// The loaded child.
    pub child: Child,
    /// Its imports and exports with their WIT types.
    pub description: Description,
    /// How this Mother would serve each import, in the order of
    /// `description.imports`.
    pub statuses: Vec<ImportStatus>,
    /// The size of the component, in bytes.
    pub size: u64,
}

impl Mother {
    /// Installs the component in the file at `path`.
    pub async fn install_file(
        &self,
        path: PathBuf,
        spec: InstallSpec,
    ) -> Result<Installed, MotherError> {
        self.blocking(move |mother| {
            let bytes = std::fs::read(&path).map_err(|source| MotherError::Read {
                path: path.clone(),
                source,
            })?;
            mother.install_now(&bytes, &path.display().to_string(), &spec, false)
        })
        .await
    }

    /// Installs the component `bytes`.
    pub async fn install(
        &self,
        bytes: Vec<u8>,
        spec: InstallSpec,
    ) -> Result<Installed, MotherError> {
        self.blocking(move |mother| mother.install_now(&bytes, "the component", &spec, false))
            .await
    }

    /// [`Self::install`] with `spec.grants` in the form a caller's ceiling
    /// checked them (path grants resolved once, as a membrane admits
    /// them): a grant that no longer resolves to itself is refused
    /// ([`MotherError::GrantRefused`]) rather than stored as it resolves
    /// now. (Every install grant runs that way when the child is invoked.)
    pub async fn install_checked(
        &self,
        bytes: Vec<u8>,
        spec: InstallSpec,
    ) -> Result<Installed, MotherError> {
        self.blocking(move |mother| mother.install_now(&bytes, "the component", &spec, true))
            .await
    }

    fn install_now(
        &self,
        bytes: &[u8],
        what: &str,
        spec: &InstallSpec,
        checked: bool,
    ) -> Result<Installed, MotherError> {
        let _span = tracing::info_span!("install", name = spec.name.as_deref()).entered();
        let child = self
            .host()
            .load(bytes)
            .map_err(|source| MotherError::Install {
                what: what.to_owned(),
                source,
            })?;
        let grants = parse_grants(&spec.grants)?;
        if spec.name.is_none() && !grants.is_empty() {
            return Err(MotherError::GrantsWithoutName);
        }
        // Checked and canonicalised now, so an invoked child never fails on a
        // grant that was wrong from the start.
        let host = self.host();
        let resolved = match checked {
            true => host.resolve_fixed_grants(&grants),
            false => host.resolve_grants(&grants),
        };
        let grants = resolved.map_err(MotherError::GrantRefused)?.canonical;
        let id = self.children().install(bytes, spec.name.as_deref())?;
        debug_assert_eq!(id, child.id());
        if let Some(name) = &spec.name {
            self.children().set_grants(name, &id, &grants)?;
        }
        tracing::info!(child = %id, "installed");
        Ok(Installed {
            child: id,
            name: spec.name.clone(),
            size: bytes.len() as u64,
            grants,
        })
    }

    /// Every installed child with its names, sorted by first name then id.
    pub async fn list(&self) -> Result<Vec<InstalledChild>, MotherError> {
        self.blocking(|mother| mother.children().list()).await
    }

    /// Loads the child `reference` names (reading, hashing and compiling off
    /// the async runtime).
    pub async fn load(&self, reference: &ChildRef) -> Result<Child, MotherError> {
        self.runner().load(reference).await
    }

    /// Describes the child `reference` names: its imports (and how this
    /// Mother would serve each) and exports, with WIT types.
    pub async fn inspect(&self, reference: &ChildRef) -> Result<Inspection, MotherError> {
        let child = self.load(reference).await?;
        self.blocking(move |mother| {
            let description = child.describe()?;
            let size = child.bytes()?.len() as u64;
            let statuses = description
                .imports
                .iter()
                .map(|item| import_status(mother.host().toys(), &item.name))
                .collect();
            Ok(Inspection {
                child,
                description,
                statuses,
                size,
            })
        })
        .await
    }
}
