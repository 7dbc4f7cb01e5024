//! [`Child`]: a validated, compiled component with its id and export index.
//!
//! Loading checks the bytes before anything else (wasm magic, component layer),
//! computes the [`ChildId`], and compiles once — or takes the compiled artifact
//! from the on-disk cache. A `Child` never holds per-run state; it is cheap to
//! clone and shared by every run of the same bytes.

use std::sync::Arc;

use patina_core::ChildId;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::base::is_base;
use crate::describe::{Description, describe_component};
use crate::functions::FunctionIndex;
use crate::{ArtifactCache, LoadError};

const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// The version/layer field of a core module (version 1, layer 0).
const CORE_LAYER: [u8; 4] = [1, 0, 0, 0];

/// A loaded child: its bytes, id, compiled component and exported functions.
#[derive(Clone)]
pub struct Child {
    inner: Arc<ChildInner>,
}

struct ChildInner {
    id: ChildId,
    bytes: Arc<[u8]>,
    component: Component,
    functions: FunctionIndex,
    /// Imports that are not WASI base, sorted out once at load time.
    authority_imports: Vec<(String, ComponentItem)>,
    /// The WIT packages of every import (`wasi:filesystem`, ...), sorted.
    import_packages: Vec<String>,
}

impl Child {
    /// The child's id (blake3 of its bytes).
    pub fn id(&self) -> ChildId {
        self.inner.id
    }

    /// The component bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.inner.bytes
    }

    /// The compiled component.
    pub fn component(&self) -> &Component {
        &self.inner.component
    }

    /// The exported functions.
    pub fn functions(&self) -> &FunctionIndex {
        &self.inner.functions
    }

    /// Whether the child is a `wasi:cli/command` (exports `wasi:cli/run`).
    pub fn is_command(&self) -> bool {
        self.inner.functions.command_entry().is_some()
    }

    /// Every import and export with its WIT types.
    pub fn describe(&self) -> Result<Description, LoadError> {
        describe_component(&self.inner.bytes).map_err(LoadError::Undescribable)
    }

    /// The imports that need a grant (everything but the WASI base), with their types.
    pub fn authority_imports(&self) -> &[(String, ComponentItem)] {
        &self.inner.authority_imports
    }

    /// Whether the child imports any interface of the WIT package `package`
    /// (`wasi:filesystem`, say), base or not.
    pub fn imports_package(&self, package: &str) -> bool {
        self.inner
            .import_packages
            .binary_search_by(|p| p.as_str().cmp(package))
            .is_ok()
    }
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

/// Checks that `bytes` look like a component before handing them to the compiler.
pub(crate) fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
        return Err(LoadError::NotWasm(format!(
            "the {} bytes do not start with the WebAssembly magic `\\0asm`",
            bytes.len()
        )));
    }
    if bytes[4..8] == CORE_LAYER {
        return Err(LoadError::CoreModule);
    }
    Ok(())
}

/// Validates, identifies and compiles `bytes` (or loads them from `cache`).
/// `id` must be `ChildId::of(bytes)`.
pub(crate) fn load(
    engine: &Engine,
    cache: Option<&ArtifactCache>,
    bytes: &[u8],
    id: ChildId,
) -> Result<Child, LoadError> {
    check_header(bytes)?;
    let span = tracing::debug_span!("load", child = %id, size = bytes.len());
    let _enter = span.enter();
    let cached = cache.and_then(|cache| cache.load(engine, &id));
    let component = match cached {
        Some(component) => {
            tracing::debug!("compiled artifact taken from the cache");
            component
        }
        None => {
            let component = Component::new(engine, bytes)
                .map_err(|e| LoadError::InvalidComponent(one_line(&e)))?;
            if let Some(Err(error)) = cache.map(|cache| cache.store(&id, &component)) {
                tracing::warn!(%error, "could not cache the compiled child; it will be compiled again next time");
            }
            component
        }
    };
    let functions = FunctionIndex::new(engine, &component);
    let imports: Vec<(String, ComponentItem)> = component
        .component_type()
        .imports(engine)
        .map(|(name, item)| (name.to_owned(), item.ty))
        .collect();
    let mut import_packages: Vec<String> = imports
        .iter()
        .filter_map(|(name, _)| name.split_once('/').map(|(package, _)| package.to_owned()))
        .collect();
    import_packages.sort();
    import_packages.dedup();
    let authority_imports = imports
        .into_iter()
        .filter(|(name, _)| !is_base(name))
        .collect();
    Ok(Child {
        inner: Arc::new(ChildInner {
            id,
            bytes: bytes.into(),
            component,
            functions,
            authority_imports,
            import_packages,
        }),
    })
}

/// An error and its causes on one line.
pub(crate) fn one_line(error: &wasmtime::Error) -> String {
    let text = format!("{error:#}");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_check_names_the_problem() {
        assert!(matches!(check_header(b""), Err(LoadError::NotWasm(_))));
        assert!(matches!(
            check_header(b"hello world, not wasm"),
            Err(LoadError::NotWasm(_))
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(LoadError::CoreModule)
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
    }
}
