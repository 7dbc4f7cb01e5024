//! Linking a child from its [`LinkPlan`]: the WASI base (empty of authority),
//! each granted toy through one generic dynamic wrapper, and deny stubs.
//!
//! Every toy function is linked with `func_new_async`, which sees each call as
//! component values; that single wrapper is where every toy call passes, so a
//! new toy gets linking (and later recording and replay) with no code of its own.
//! This module must never link anything the plan did not decide.

use std::any::Any;

use patina_receipts::{EventResult, Text};
use patina_toy::ToyError;
use patina_toy::typed::TypedLinker;
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{InstancePre, Linker, LinkerInstance, ResourceType};

use crate::plan::{DeniedImport, LinkPlan, ToyLink};
use crate::state::RunState;
use crate::tape::{Diverged, Replayed, Tape};
use crate::{Child, RunRefused};

/// A toy call that failed; ends the run as [`RunFailure::Toy`](crate::RunFailure::Toy).
#[derive(Debug, thiserror::Error)]
#[error("toy `{toy}`: {source}")]
pub(crate) struct ToyCallFailed {
    pub toy: String,
    #[source]
    pub source: ToyError,
}

/// A call to a deny stub; ends the run as [`RunFailure::Denied`](crate::RunFailure::Denied).
#[derive(Debug, thiserror::Error)]
#[error("denied: {import}")]
pub(crate) struct DeniedCall {
    pub import: String,
}

/// A toy call after the run went over its recording budget; ends the run as
/// [`RunFailure::TranscriptLimitExceeded`](crate::RunFailure::TranscriptLimitExceeded).
#[derive(Debug, thiserror::Error)]
#[error("the run recorded more than its transcript budget")]
pub(crate) struct TranscriptFull;

/// The host type behind every resource of a denied import.
struct DeniedResource;

fn link_error(error: wasmtime::Error) -> RunRefused {
    RunRefused::Link(crate::child::one_line(&error))
}

/// Builds the pre-instantiated child for `plan`.
pub(crate) fn instance_pre(
    engine: &Engine,
    child: &Child,
    plan: &LinkPlan,
) -> Result<InstancePre<RunState>, RunRefused> {
    let mut linker: Linker<RunState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link_error)?;
    // wasi:http's base has many functions; a child that imports none of
    // them does not pay for defining them.
    if child.imports_package("wasi:http") {
        crate::http::link(&mut linker)?;
    }
    for (slot, link) in plan.toys.iter().enumerate() {
        link_toy(&mut linker, slot, link)?;
    }
    for denied in &plan.denied {
        let defined = resources_before(engine, child, &denied.import);
        link_denied(engine, &mut linker, denied, &defined)?;
    }
    linker
        .instantiate_pre(child.component())
        .map_err(link_error)
}

/// The run's tape, as this host made it.
fn host_tape(store: &RunState) -> Result<Tape, wasmtime::Error> {
    let tape: &dyn Any = store.tape().as_ref();
    tape.downcast_ref::<Tape>()
        .cloned()
        .ok_or_else(|| wasmtime::Error::msg("the run's tape is not this host's"))
}

fn link_toy(linker: &mut Linker<RunState>, slot: usize, link: &ToyLink) -> Result<(), RunRefused> {
    // Errors and events name the import as the child wrote it, not the
    // host's toy version, so they read the same on every host. The names
    // are made once here; every recorded event shares them.
    let import = Text::from(link.import.as_str());
    let mut instance = linker.instance(&link.import).map_err(link_error)?;
    // The functions the toy serves typed first; the others dynamically.
    let mut typed = TypedLinker::new(&mut instance, &link.import, slot);
    link.toy
        .link_typed(&mut typed)
        .map_err(|e| RunRefused::Link(e.to_string()))?;
    let typed = typed.linked().to_vec();
    for function in link.functions.iter().filter(|f| !typed.contains(f)) {
        let import = import.clone();
        let name = Text::from(function.as_str());
        instance
            .func_new_async(function, move |mut store, ty, params, results| {
                let (import, name) = (import.clone(), name.clone());
                Box::new(async move {
                    let failed = |source| {
                        wasmtime::Error::new(ToyCallFailed {
                            toy: import.to_string(),
                            source,
                        })
                    };
                    let tape = host_tape(store.data())?;
                    if tape.full() {
                        return Err(wasmtime::Error::new(TranscriptFull));
                    }
                    let values = if tape.replaying() {
                        match tape.replay_call(&import, &name, params, &ty) {
                            Ok(Replayed::Results(values)) => values,
                            Ok(Replayed::Denied) => {
                                return Err(wasmtime::Error::new(DeniedCall {
                                    import: import.to_string(),
                                }));
                            }
                            Ok(Replayed::Failed(message)) => {
                                return Err(failed(ToyError::Replayed(message)));
                            }
                            Err(divergence) => {
                                return Err(wasmtime::Error::new(Diverged(divergence)));
                            }
                        }
                    } else {
                        let Some(instance) = store.data_mut().toys_mut().get_mut(slot) else {
                            return Err(failed(ToyError::Backend("toy instance missing".into())));
                        };
                        let answer = instance.call(&name, params).await.and_then(|values| {
                            if values.len() == results.len() {
                                Ok(values)
                            } else {
                                Err(ToyError::Backend(format!(
                                    "`{name}` returned {} values for {} results",
                                    values.len(),
                                    results.len()
                                )))
                            }
                        });
                        match answer {
                            Ok(values) => {
                                tape.record(&import, &name, params, Ok(&values));
                                values
                            }
                            Err(error) => {
                                tape.record(
                                    &import,
                                    &name,
                                    params,
                                    Err(EventResult::Failed(error.to_string())),
                                );
                                return Err(failed(error));
                            }
                        }
                    };
                    for (slot, value) in results.iter_mut().zip(values) {
                        *slot = value;
                    }
                    Ok(())
                })
            })
            .map_err(link_error)?;
    }
    Ok(())
}

fn deny_function(
    instance: &mut LinkerInstance<'_, RunState>,
    name: &str,
    import: &str,
) -> Result<(), RunRefused> {
    let import = Text::from(import);
    let function = Text::from(name);
    instance
        .func_new(name, move |store, _, params, _| {
            let tape = host_tape(store.data())?;
            if let Err(divergence) = tape.denied(&import, &function, params) {
                return Err(wasmtime::Error::new(Diverged(divergence)));
            }
            Err(wasmtime::Error::new(DeniedCall {
                import: import.to_string(),
            }))
        })
        .map_err(link_error)
}

/// The resource types the child's imports before `import` define or use
/// (in import order, a resource is always defined before it is used).
fn resources_before(engine: &Engine, child: &Child, import: &str) -> Vec<ResourceType> {
    let mut seen = Vec::new();
    for (name, item) in child.component().component_type().imports(engine) {
        if name == import {
            break;
        }
        match item.ty {
            ComponentItem::Resource(resource) => seen.push(resource),
            ComponentItem::ComponentInstance(instance) => {
                seen.extend(
                    instance
                        .exports(engine)
                        .filter_map(|(_, export)| match export.ty {
                            ComponentItem::Resource(resource) => Some(resource),
                            _ => None,
                        }),
                );
            }
            _ => {}
        }
    }
    seen
}

/// Links `denied` to stubs: each function fails with `denied: <import>`,
/// each resource it defines is a host type no function ever makes. A
/// resource it only *uses* — defined by an import before it (`wasi:io`'s
/// `input-stream` in an interface returning streams) — is left to that
/// import's definition, which the child's type refers to.
fn link_denied(
    engine: &Engine,
    linker: &mut Linker<RunState>,
    denied: &DeniedImport,
    defined_before: &[ResourceType],
) -> Result<(), RunRefused> {
    let import = denied.import.as_str();
    match &denied.item {
        ComponentItem::ComponentInstance(instance_type) => {
            let mut instance = linker.instance(import).map_err(link_error)?;
            for (name, export) in instance_type.exports(engine) {
                match export.ty {
                    ComponentItem::ComponentFunc(_) => deny_function(&mut instance, name, import)?,
                    ComponentItem::Resource(used) if defined_before.contains(&used) => {}
                    ComponentItem::Resource(_) => instance
                        .resource(name, ResourceType::host::<DeniedResource>(), |_, _| Ok(()))
                        .map_err(link_error)?,
                    _ => {}
                }
            }
            Ok(())
        }
        ComponentItem::ComponentFunc(_) => deny_function(&mut linker.root(), import, import),
        ComponentItem::Resource(_) => linker
            .root()
            .resource(
                import,
                ResourceType::host::<DeniedResource>(),
                |_, _| Ok(()),
            )
            .map_err(link_error),
        _ => Err(RunRefused::Link(format!(
            "cannot stub the import `{import}`: it is not an interface, function or resource"
        ))),
    }
}
