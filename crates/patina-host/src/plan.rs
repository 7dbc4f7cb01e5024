//! Import planning: what each import of a child is linked to, decided before
//! instantiation. An import is either a WASI base interface (linked, no
//! authority), a granted toy, a deny stub (only when asked), or missing — and a
//! missing import refuses the run with the full list.

use std::sync::Arc;

use patina_core::{Grant, ToyName};
use patina_toy::{OutgoingHttp, Toy, ToyRegistry};
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;

use crate::base::is_base;
use crate::grants::ResolvedGrants;
use crate::{Child, MissingGrant, RunRefused};

/// A granted toy linked to one import of the child.
#[derive(Clone)]
pub struct ToyLink {
    /// The import name as the child writes it.
    pub import: String,
    /// The toy serving it.
    pub toy: Arc<dyn Toy>,
    /// The canonical grants that allowed it.
    pub grants: Vec<Grant>,
    /// The functions the child imports from it.
    pub functions: Vec<String>,
}

/// An import linked to stubs that fail with `denied: <import>`.
#[derive(Clone)]
pub struct DeniedImport {
    /// The import name.
    pub import: String,
    /// Its type, to stub each function and resource.
    pub item: ComponentItem,
}

/// How every import of a child will be linked.
#[derive(Clone, Default)]
pub struct LinkPlan {
    /// Toy imports, in import order. The index is the toy's slot in the run state.
    pub toys: Vec<ToyLink>,
    /// Imports linked as deny stubs.
    pub denied: Vec<DeniedImport>,
    /// Where the child's `wasi:http` requests go (under the run's grants);
    /// `None` refuses them all.
    pub outgoing_http: Option<Arc<dyn OutgoingHttp>>,
}

impl LinkPlan {
    /// A key that identifies the linker this plan needs for `child`.
    pub fn cache_key(&self, child: &Child) -> String {
        let mut key = child.id().to_string();
        for link in &self.toys {
            key.push_str(&format!("|toy:{}={}", link.import, link.toy.grant_kind()));
        }
        for denied in &self.denied {
            key.push_str(&format!("|deny:{}", denied.import));
        }
        key
    }
}

/// How an import of a child can be served by a host with `registry`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ImportStatus {
    /// A WASI base interface: always linked, carries no authority by itself.
    Base,
    /// Served by a toy when `grant` is given.
    Toy {
        /// The grant kind that enables it.
        grant: String,
    },
    /// Nothing on this host serves it: a run is refused unless `--deny-missing`.
    Unserved,
}

/// How `import` would be served by a host offering `registry`.
pub fn import_status(registry: &ToyRegistry, import: &str) -> ImportStatus {
    if is_base(import) {
        return ImportStatus::Base;
    }
    match import
        .parse::<ToyName>()
        .ok()
        .and_then(|name| registry.serving(&name).cloned())
    {
        Some(toy) => ImportStatus::Toy {
            grant: toy.grant_kind().to_owned(),
        },
        None => ImportStatus::Unserved,
    }
}

/// Plans the linking of `child`'s imports under `grants`.
pub fn plan_imports(
    engine: &Engine,
    child: &Child,
    grants: &ResolvedGrants,
    registry: &ToyRegistry,
    deny_missing: bool,
) -> Result<LinkPlan, RunRefused> {
    let mut plan = LinkPlan {
        outgoing_http: registry.outgoing_http().cloned(),
        ..LinkPlan::default()
    };
    let mut missing = Vec::new();
    for (import, item) in child.authority_imports() {
        let import = import.as_str();
        let toy = import
            .parse::<ToyName>()
            .ok()
            .and_then(|name| registry.serving(&name).cloned());
        let granted = toy
            .as_ref()
            .and_then(|toy| Some((toy.clone(), grants.for_toy(toy)?.to_vec())));
        match (granted, item) {
            (Some((toy, toy_grants)), ComponentItem::ComponentInstance(instance)) => {
                toy.combine(&toy_grants)?;
                let mut functions = Vec::new();
                for (name, export) in instance.exports(engine) {
                    match export.ty {
                        ComponentItem::ComponentFunc(_) if toy.functions().contains(&name) => {
                            functions.push(name.to_owned());
                        }
                        ComponentItem::ComponentFunc(_) => {
                            return Err(RunRefused::Link(format!(
                                "the child imports `{name}` from `{import}`, which toy `{}` does not provide",
                                toy.interface()
                            )));
                        }
                        ComponentItem::Type(_) => {}
                        _ => {
                            return Err(RunRefused::Link(format!(
                                "the child imports `{name}` from `{import}` as something toy `{}` does not provide",
                                toy.interface()
                            )));
                        }
                    }
                }
                plan.toys.push(ToyLink {
                    import: import.to_owned(),
                    toy,
                    grants: toy_grants,
                    functions,
                });
            }
            _ if deny_missing => plan.denied.push(DeniedImport {
                import: import.to_owned(),
                item: item.clone(),
            }),
            _ => missing.push(MissingGrant {
                import: import.to_owned(),
                grant: toy.map(|toy| toy.grant_kind().to_owned()),
            }),
        }
    }
    if missing.is_empty() {
        Ok(plan)
    } else {
        Err(RunRefused::MissingGrants { missing })
    }
}
