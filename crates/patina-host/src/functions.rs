//! The exported functions of a child, indexed once at load time, and the
//! lookup of a function by the name a user types.
//!
//! Names: a root export is `add`; a function in an exported interface is
//! `<export>.<function>`, e.g. `ops.greet` or `wasi:cli/run@0.2.3.run`. A user
//! may also write the interface without package or version (`run.run`,
//! `types.echo-point`) or the bare function name when it is unique. An exact
//! full name always wins over a shortened one.

use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::{ComponentFunc, ComponentItem};

use crate::RunRefused;

/// One exported function.
#[derive(Clone)]
pub struct ExportedFunction {
    /// Full name: `add` or `ops.greet`.
    pub name: String,
    /// The export (interface) it belongs to, if not at the root.
    pub interface: Option<String>,
    /// The function's own name.
    pub function: String,
    /// Its type.
    pub ty: ComponentFunc,
}

impl ExportedFunction {
    /// Whether `name` refers to this function, by any of its accepted names.
    fn answers_to(&self, name: &str) -> bool {
        if name == self.name || name == self.function {
            return true;
        }
        let Some(interface) = &self.interface else {
            return false;
        };
        let unversioned = interface.split('@').next().unwrap_or(interface);
        let short = unversioned.rsplit('/').next().unwrap_or(unversioned);
        [unversioned, short]
            .iter()
            .any(|i| name == format!("{i}.{}", self.function))
    }
}

/// All exported functions of a component, in export order.
#[derive(Clone, Default)]
pub struct FunctionIndex {
    functions: Vec<ExportedFunction>,
}

impl FunctionIndex {
    /// Indexes the exports of `component`.
    pub fn new(engine: &Engine, component: &Component) -> Self {
        let mut functions = Vec::new();
        let ty = component.component_type();
        for (export, item) in ty.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(func) => functions.push(ExportedFunction {
                    name: export.to_owned(),
                    interface: None,
                    function: export.to_owned(),
                    ty: func,
                }),
                ComponentItem::ComponentInstance(instance) => {
                    for (name, item) in instance.exports(engine) {
                        let ComponentItem::ComponentFunc(func) = item.ty else {
                            continue;
                        };
                        functions.push(ExportedFunction {
                            name: format!("{export}.{name}"),
                            interface: Some(export.to_owned()),
                            function: name.to_owned(),
                            ty: func,
                        });
                    }
                }
                _ => {}
            }
        }
        Self { functions }
    }

    /// Every exported function.
    pub fn iter(&self) -> impl Iterator<Item = &ExportedFunction> {
        self.functions.iter()
    }

    /// Full names of every exported function.
    pub fn names(&self) -> Vec<String> {
        self.functions.iter().map(|f| f.name.clone()).collect()
    }

    /// The function `name` refers to (see the module doc for accepted names).
    pub fn find(&self, name: &str) -> Result<&ExportedFunction, RunRefused> {
        if let Some(exact) = self.functions.iter().find(|f| f.name == name) {
            return Ok(exact);
        }
        let matches: Vec<&ExportedFunction> = self
            .functions
            .iter()
            .filter(|f| f.answers_to(name))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(RunRefused::UnknownFunction {
                name: name.to_owned(),
                available: self.names(),
            }),
            many => Err(RunRefused::AmbiguousFunction {
                name: name.to_owned(),
                candidates: many.iter().map(|f| f.name.clone()).collect(),
            }),
        }
    }

    /// The `handle` function of an exported `wasi:http/incoming-handler`
    /// interface, if the component is a bridge child.
    pub fn http_handler(&self) -> Option<&ExportedFunction> {
        self.functions.iter().find(|f| {
            f.function == "handle"
                && f.interface.as_deref().is_some_and(|i| {
                    i == "wasi:http/incoming-handler"
                        || i.starts_with("wasi:http/incoming-handler@")
                })
        })
    }

    /// The `run` function of an exported `wasi:cli/run` interface, if the
    /// component is a command.
    pub fn command_entry(&self) -> Option<&ExportedFunction> {
        self.functions.iter().find(|f| {
            f.function == "run"
                && f.interface
                    .as_deref()
                    .is_some_and(|i| i == "wasi:cli/run" || i.starts_with("wasi:cli/run@"))
        })
    }
}
