//! Checking a toy against its WIT interface (feature `wit`, for tests): the
//! functions a toy says it serves ([`Toy::functions`]) must be exactly the
//! functions of the interface it names ([`Toy::interface`]), so a function
//! added to the WIT without a backend (or the other way round) fails a test
//! instead of a child's run.

use std::collections::BTreeSet;

use wit_parser::{Resolve, Type};

use crate::{ChildId, Grant, Toy, ToyContext, ToyError, Val};

/// One function of a WIT interface: its name, its parameters (`name: type`)
/// and its result type, as WIT text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitFunction {
    /// The function's name.
    pub name: String,
    /// `name: type` per parameter, in order.
    pub params: Vec<String>,
    /// The result type, if any.
    pub result: Option<String>,
}

/// Why a toy does not match its WIT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitMismatch {
    /// The WIT text did not parse.
    #[error("the WIT `{path}` does not parse: {reason}")]
    Parse {
        /// The name the text was parsed under.
        path: String,
        /// The parser's message.
        reason: String,
    },
    /// The WIT has no interface of the toy's name and version.
    #[error("the WIT `{path}` has no interface `{interface}` (it has {found:?})")]
    NoInterface {
        /// The name the text was parsed under.
        path: String,
        /// The toy's interface.
        interface: String,
        /// The interfaces the WIT has.
        found: Vec<String>,
    },
    /// The toy's functions differ from the interface's.
    #[error(
        "`{interface}`: the toy serves {extra:?} that the WIT lacks, and lacks {missing:?} that the WIT has"
    )]
    Functions {
        /// The toy's interface.
        interface: String,
        /// Functions of the WIT the toy does not serve.
        missing: Vec<String>,
        /// Functions the toy serves that the WIT does not have.
        extra: Vec<String>,
    },
    /// The toy could not be instantiated for the arity check.
    #[error("`{interface}` did not instantiate: {reason}")]
    Instantiate {
        /// The toy's interface.
        interface: String,
        /// Its error.
        reason: String,
    },
    /// A function of the toy reads another number of arguments than the WIT
    /// passes it.
    #[error(
        "`{interface}`: `{function}` takes {params} arguments in the WIT, but the toy answered {answer}"
    )]
    Arity {
        /// The toy's interface.
        interface: String,
        /// The function.
        function: String,
        /// Its parameter count in the WIT.
        params: usize,
        /// What the toy answered a call with one argument too many.
        answer: String,
    },
    /// The toy lists a function twice.
    #[error("`{interface}`: the toy lists `{function}` twice")]
    Repeated {
        /// The toy's interface.
        interface: String,
        /// The repeated function.
        function: String,
    },
}

/// The functions of the interface `interface` (`patina:toys/fs@0.1.0`) in
/// the WIT package text `wit` (parsed under the name `path`).
pub fn interface_functions(
    path: &str,
    wit: &str,
    interface: &str,
) -> Result<Vec<WitFunction>, WitMismatch> {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str(path, wit)
        .map_err(|e| WitMismatch::Parse {
            path: path.to_owned(),
            reason: format!("{e:#}"),
        })?;
    let ids: Vec<_> = resolve.packages[package]
        .interfaces
        .values()
        .copied()
        .collect();
    let names: Vec<String> = ids.iter().filter_map(|id| resolve.id_of(*id)).collect();
    let Some(id) = ids
        .iter()
        .copied()
        .find(|id| resolve.id_of(*id).as_deref() == Some(interface))
    else {
        return Err(WitMismatch::NoInterface {
            path: path.to_owned(),
            interface: interface.to_owned(),
            found: names,
        });
    };
    let render = |ty: &Type| type_text(&resolve, ty);
    Ok(resolve.interfaces[id]
        .functions
        .values()
        .map(|f| WitFunction {
            name: f.name.clone(),
            params: f
                .params
                .iter()
                .map(|param| format!("{}: {}", param.name, render(&param.ty)))
                .collect(),
            result: f.result.as_ref().map(render),
        })
        .collect())
}

/// Checks that `toy` serves exactly the functions of its interface in the
/// WIT package text `wit` (parsed under the name `path`), and returns them.
pub fn check_functions(
    toy: &dyn Toy,
    path: &str,
    wit: &str,
) -> Result<Vec<WitFunction>, WitMismatch> {
    let interface = toy.interface().to_string();
    let functions = interface_functions(path, wit, &interface)?;
    let mut served = BTreeSet::new();
    for function in toy.functions() {
        if !served.insert(*function) {
            return Err(WitMismatch::Repeated {
                interface,
                function: (*function).to_owned(),
            });
        }
    }
    let declared: BTreeSet<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    if declared != served {
        return Err(WitMismatch::Functions {
            missing: declared
                .difference(&served)
                .map(|f| (*f).to_owned())
                .collect(),
            extra: served
                .difference(&declared)
                .map(|f| (*f).to_owned())
                .collect(),
            interface,
        });
    }
    Ok(functions)
}

/// Checks, for every function of `functions` (as [`check_functions`]
/// returned them), that a `toy` instance made from `ctx` reads exactly the
/// WIT's number of parameters: a call with one argument too many must be
/// refused with [`ToyError::BadArguments`] naming that count. No call does
/// any work, since every one is refused before it starts.
pub async fn check_arity(
    toy: &dyn Toy,
    ctx: &ToyContext,
    functions: &[WitFunction],
) -> Result<(), WitMismatch> {
    let interface = toy.interface().to_string();
    let mut instance = toy.instantiate(ctx).map_err(|e| WitMismatch::Instantiate {
        interface: interface.clone(),
        reason: e.to_string(),
    })?;
    for function in functions {
        let params = function.params.len();
        let args = vec![Val::Bool(false); params + 1];
        let answer = instance.call(&function.name, &args).await;
        let expected = format!("expected {params} arguments, got {}", params + 1);
        match answer {
            Err(ToyError::BadArguments { reason, .. }) if reason == expected => {}
            other => {
                return Err(WitMismatch::Arity {
                    interface,
                    function: function.name.clone(),
                    params,
                    answer: format!("{other:?}"),
                });
            }
        }
    }
    Ok(())
}

/// [`check_functions`], then [`check_arity`] on an instance made for a run
/// under `grants`: the whole check of a toy against its WIT, for its tests.
pub async fn check_toy(
    toy: &dyn Toy,
    path: &str,
    wit: &str,
    grants: Vec<Grant>,
) -> Result<Vec<WitFunction>, WitMismatch> {
    let functions = check_functions(toy, path, wit)?;
    let ctx = ToyContext::new(ChildId::of(path.as_bytes()), grants);
    check_arity(toy, &ctx, &functions).await?;
    Ok(functions)
}

/// `ty` as WIT text: a named type by its name, anonymous ones spelled out.
fn type_text(resolve: &Resolve, ty: &Type) -> String {
    use wit_parser::TypeDefKind;
    let Type::Id(id) = ty else {
        return match ty {
            Type::Bool => "bool",
            Type::U8 => "u8",
            Type::U16 => "u16",
            Type::U32 => "u32",
            Type::U64 => "u64",
            Type::S8 => "s8",
            Type::S16 => "s16",
            Type::S32 => "s32",
            Type::S64 => "s64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::Char => "char",
            Type::String => "string",
            Type::ErrorContext => "error-context",
            Type::Id(_) => unreachable!("handled above"),
        }
        .to_owned();
    };
    let def = &resolve.types[*id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    let text = |t: &Type| type_text(resolve, t);
    match &def.kind {
        TypeDefKind::List(t) => format!("list<{}>", text(t)),
        TypeDefKind::Option(t) => format!("option<{}>", text(t)),
        TypeDefKind::Result(r) => match (&r.ok, &r.err) {
            (None, None) => "result".to_owned(),
            (Some(ok), None) => format!("result<{}>", text(ok)),
            (None, Some(err)) => format!("result<_, {}>", text(err)),
            (Some(ok), Some(err)) => format!("result<{}, {}>", text(ok), text(err)),
        },
        TypeDefKind::Tuple(t) => format!(
            "tuple<{}>",
            t.types.iter().map(text).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Type(t) => text(t),
        other => format!("{other:?}"),
    }
}
