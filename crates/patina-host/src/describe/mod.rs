//! The fixed, visible surface of a child: every import and export of a
//! component, with full WIT types.
//!
//! [`describe_component`] turns component bytes into a [`Description`] a
//! person can read (`mother inspect`, `mother inspect --wit`) and a program can
//! consume (it serialises to JSON): each import and export by the name the
//! component gives it, the signatures of its functions, the named types they
//! use as WIT definitions, and the whole world as compact WIT text.
//!
//! It only decodes: it never instantiates, compiles or runs the component, and
//! it never panics on hostile bytes. Every failure — not WebAssembly, a core
//! module, a truncated or malformed component, a WIT package instead of a
//! component, absurdly deep types — is a typed [`DescribeError`]. Before
//! anything is decoded, the top-level section framing is checked against the
//! real length of the input, so a few bytes claiming a 4 GiB section are
//! rejected without the decoder reserving memory for it. The output is a pure
//! function of the bytes: the same bytes always give the same description.
//!
//! Layout: `guard` checks the framing and runs the decoder so that it cannot
//! take the host down; `describer` walks the decoded world into imports and
//! exports; `types` prints WIT types, signatures and definitions; `schema`
//! writes the JSON Schemas of the exports' JSON forms; `world` prints the
//! whole world as WIT text.

mod describer;
mod error;
mod guard;
mod schema;
mod types;
mod world;

#[cfg(test)]
mod tests;

use serde::Serialize;

use describer::Describer;
pub use error::DescribeError;
pub use schema::{FunctionSchema, JSON_SCHEMA_DIALECT, ParamSchema};

/// Everything a component imports and exports, with WIT types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Description {
    /// What the component needs from its host, in the component's order.
    pub imports: Vec<ItemDescription>,
    /// What the component offers, in the component's order.
    pub exports: Vec<ItemDescription>,
    /// The whole world as WIT text (what `mother inspect --wit` prints).
    pub wit: String,
}

/// One import or export of a component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemDescription {
    /// The import/export name as the component writes it:
    /// `patina:toys/log@0.1.0`, `ops`, or a root function name `add`.
    pub name: String,
    /// Whether the item is an interface or a single root function.
    pub kind: ItemKind,
    /// For an interface: its functions, in declaration order; for a root
    /// function: exactly that one function.
    pub functions: Vec<FunctionSignature>,
    /// Named type definitions this item defines or uses, as WIT text, e.g.
    /// `record point { x: s32, y: s32 }`, `enum level { trace, debug, info,
    /// warn, error }`, `resource descriptor`, `type size = u64`. Sorted by
    /// name, no duplicates.
    pub types: Vec<String>,
}

/// What kind of thing an import or export is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A named or inline interface: a bundle of functions and types.
    Interface,
    /// A function imported or exported at the root of the world.
    Function,
}

/// One function and its WIT type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FunctionSignature {
    /// e.g. `greet`, or for resource functions the name wit-parser gives them:
    /// `[method]descriptor.read`, `[static]descriptor.open`,
    /// `[constructor]descriptor`.
    pub name: String,
    /// WIT text of the type: `func(name: string) -> string`, `func()`,
    /// `func(p: point, k: s32) -> point`. A resource method lists its
    /// receiver explicitly: `func(self: borrow<descriptor>, len: u64) -> ...`.
    pub signature: String,
    /// The function's WIT doc comment, trimmed.
    pub docs: Option<String>,
    /// JSON Schemas of its arguments and result (`docs/values.md`): for an
    /// exported freestanding function whose parameters all have a JSON
    /// form; `None` for imports, resource functions, and functions that
    /// take a resource, future or stream.
    pub schema: Option<FunctionSchema>,
}

/// Describes component `bytes`, or says why they are not a describable component.
pub fn describe_component(bytes: &[u8]) -> Result<Description, DescribeError> {
    let (resolve, world) = guard::decode_component(bytes)?;
    Describer::new(&resolve).describe(world)
}

/// Every parameter's and result's schema, by `(function, parameter)` and
/// `(function, "->")`, of every function a component imports or exports,
/// callable or not: for tests that hold schemas against the JSON conversion.
#[cfg(test)]
pub(crate) fn all_schemas_for_tests(
    bytes: &[u8],
) -> std::collections::HashMap<(String, String), serde_json::Value> {
    let (resolve, world) = guard::decode_component(bytes).expect("decodes");
    let describer = Describer::new(&resolve);
    describer.all_schemas(world)
}
