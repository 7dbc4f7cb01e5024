//! [`Child`]: a validated, compiled component with its id and export index.
//!
//! Loading checks the bytes before anything else (wasm magic, component layer),
//! computes the [`ChildId`], and compiles once — or takes the compiled artifact
//! from the on-disk cache. A child whose id is already known (an installed
//! one) can be loaded from its artifact alone, its bytes read — and checked
//! against the id — only if something asks for them. A `Child` never holds
//! per-run state; it is cheap to clone and shared by every run of the same
//! bytes. It must never hand out bytes that do not hash to its id.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use patina_core::ChildId;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::base::is_base;
use crate::describe::{Description, describe_component};
use crate::error::IoError;
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
    /// The component bytes, once known.
    bytes: OnceLock<Arc<[u8]>>,
    /// Where the bytes are, when they were not read at load time.
    source: Option<PathBuf>,
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

    /// The component bytes (read from the child's file, and checked against
    /// its id, the first time they are asked for if it was loaded from its
    /// compiled artifact alone).
    pub fn bytes(&self) -> Result<Arc<[u8]>, LoadError> {
        if let Some(bytes) = self.inner.bytes.get() {
            return Ok(bytes.clone());
        }
        let Some(path) = &self.inner.source else {
            return Err(LoadError::Cache("the child's bytes are not known".into()));
        };
        let bytes = std::fs::read(path)
            .map_err(|e| IoError::new(format!("reading {}", path.display()), e))?;
        if ChildId::of(&bytes) != self.inner.id {
            return Err(LoadError::InvalidComponent(format!(
                "{} no longer hashes to {}",
                path.display(),
                self.inner.id
            )));
        }
        Ok(self.inner.bytes.get_or_init(|| bytes.into()).clone())
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
        describe_component(&self.bytes()?).map_err(LoadError::Undescribable)
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
    let bytes = OnceLock::from(Arc::<[u8]>::from(bytes));
    Ok(assemble(engine, id, bytes, None, component))
}

/// The installed child `id`, whose bytes are in the file `source`, from its
/// compiled artifact in `cache` alone (`None`: no usable artifact; load the
/// bytes instead). Its bytes are read only if asked for.
pub(crate) fn load_compiled(
    engine: &Engine,
    cache: &ArtifactCache,
    id: ChildId,
    source: PathBuf,
) -> Option<Child> {
    let span = tracing::debug_span!("load_compiled", child = %id);
    let _enter = span.enter();
    let component = cache.load(engine, &id)?;
    tracing::debug!("compiled artifact taken from the cache, bytes not read");
    Some(assemble(
        engine,
        id,
        OnceLock::new(),
        Some(source),
        component,
    ))
}

fn assemble(
    engine: &Engine,
    id: ChildId,
    bytes: OnceLock<Arc<[u8]>>,
    source: Option<PathBuf>,
    component: Component,
) -> Child {
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
    Child {
        inner: Arc::new(ChildInner {
            id,
            bytes,
            source,
            component,
            functions,
            authority_imports,
            import_packages,
        }),
    }
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
