//! The [`Describer`]: walks one decoded [`Resolve`] and builds its
//! [`Description`] — each import and export by name, its function signatures,
//! and the named type definitions it defines or uses, collected transitively.
//!
//! It only reads the `Resolve`: it must never modify it, and never recurse
//! past [`MAX_DEPTH`] — a deeper type sets a flag and the whole description
//! becomes an `Err`. Items keep the component's order and type lists are
//! sorted, so the same bytes always give the same description.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt::Write as _;

use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, WorldId,
    WorldItem, WorldKey,
};

use super::schema::{MAX_SCHEMA_NODES, doc_text};
use super::{DescribeError, Description, FunctionSignature, ItemDescription, ItemKind};

/// Deepest anonymous type nesting printed (`list<option<list<...>>>`).
/// Real interfaces stay far below; deeper input is refused, not recursed into.
pub(super) const MAX_DEPTH: usize = 100;

/// Whether an item is imported or exported: only exports get schemas.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Import,
    Export,
}

/// A named type definition: (name for sorting, WIT text).
pub(super) type Definition = (String, String);

/// Prints the parts of one decoded [`Resolve`] as WIT.
pub(super) struct Describer<'a> {
    pub(super) resolve: &'a Resolve,
    /// Set when some type was nested deeper than [`MAX_DEPTH`].
    pub(super) too_deep: Cell<bool>,
    /// Schema objects built so far (see `schema.rs`).
    pub(super) schema_nodes: Cell<usize>,
    /// Set when the exports' schemas would pass [`MAX_SCHEMA_NODES`].
    pub(super) schema_too_large: Cell<bool>,
}

impl<'a> Describer<'a> {
    pub(super) fn new(resolve: &'a Resolve) -> Self {
        Self {
            resolve,
            too_deep: Cell::new(false),
            schema_nodes: Cell::new(0),
            schema_too_large: Cell::new(false),
        }
    }

    pub(super) fn describe(&self, world_id: WorldId) -> Result<Description, DescribeError> {
        let Some(world) = self.resolve.worlds.get(world_id) else {
            return Err(DescribeError::NoWorld);
        };
        let items = |map: &'a wit_parser::IndexMap<WorldKey, WorldItem>, side| {
            map.iter()
                .filter_map(|(key, item)| self.item(key, item, side))
                .collect::<Vec<_>>()
        };
        let description = Description {
            imports: items(&world.imports, Side::Import),
            exports: items(&world.exports, Side::Export),
            wit: self.world_wit(world_id),
        };
        if self.too_deep.get() {
            return Err(DescribeError::TooDeep { max: MAX_DEPTH });
        }
        if self.schema_too_large.get() {
            return Err(DescribeError::SchemaTooLarge {
                max: MAX_SCHEMA_NODES,
            });
        }
        Ok(description)
    }

    /// One import or export; `None` for world-level types.
    fn item(&self, key: &WorldKey, item: &WorldItem, side: Side) -> Option<ItemDescription> {
        match item {
            WorldItem::Interface { id, .. } => {
                let mut defs = Vec::new();
                let mut seen = HashSet::new();
                let mut functions = Vec::new();
                if let Some(iface) = self.resolve.interfaces.get(*id) {
                    for f in iface.functions.values() {
                        functions.push(self.function_signature(f, side));
                        self.collect_function(f, &mut defs, &mut seen);
                    }
                    for &tid in iface.types.values() {
                        self.collect(&Type::Id(tid), &mut defs, &mut seen, 0);
                    }
                }
                Some(ItemDescription {
                    name: self.key_name(key),
                    kind: ItemKind::Interface,
                    functions,
                    types: sorted(defs),
                })
            }
            WorldItem::Function(f) => {
                let mut defs = Vec::new();
                self.collect_function(f, &mut defs, &mut HashSet::new());
                Some(ItemDescription {
                    name: self.key_name(key),
                    kind: ItemKind::Function,
                    functions: vec![self.function_signature(f, side)],
                    types: sorted(defs),
                })
            }
            WorldItem::Type { .. } => None,
        }
    }

    /// A function's signature and docs; for an export a caller can reach,
    /// also its JSON Schemas.
    fn function_signature(&self, f: &Function, side: Side) -> FunctionSignature {
        let callable = side == Side::Export && matches!(f.kind, FunctionKind::Freestanding);
        FunctionSignature {
            name: f.name.clone(),
            signature: self.signature(f, 0),
            docs: doc_text(&f.docs),
            schema: if callable {
                self.function_schema(f)
            } else {
                None
            },
        }
    }

    /// The name an import or export goes by: its kebab name, or the full id
    /// of a named interface (`wasi:cli/environment@0.2.3`).
    pub(super) fn key_name(&self, key: &WorldKey) -> String {
        match key {
            WorldKey::Name(name) => name.clone(),
            WorldKey::Interface(id) => self.interface_name(*id),
        }
    }

    /// `ns:pkg/name@version`, or as much of it as the resolve knows.
    pub(super) fn interface_name(&self, id: InterfaceId) -> String {
        let Some(iface) = self.resolve.interfaces.get(id) else {
            return "<unknown interface>".to_string();
        };
        let Some(name) = &iface.name else {
            return "<anonymous interface>".to_string();
        };
        match iface.package.and_then(|p| self.resolve.packages.get(p)) {
            Some(pkg) => {
                let pkg = &pkg.name;
                let mut s = format!("{}:{}/{name}", pkg.namespace, pkg.name);
                if let Some(version) = &pkg.version {
                    let _ = write!(s, "@{version}");
                }
                s
            }
            None => name.clone(),
        }
    }

    fn collect_function(
        &self,
        f: &Function,
        defs: &mut Vec<Definition>,
        seen: &mut HashSet<TypeId>,
    ) {
        for p in &f.params {
            self.collect(&p.ty, defs, seen, 0);
        }
        if let Some(result) = &f.result {
            self.collect(result, defs, seen, 0);
        }
    }

    /// Adds the definitions of every named type `ty` refers to, transitively.
    /// A type brought in by `use` under its own name is listed by its real
    /// definition only.
    fn collect(
        &self,
        ty: &Type,
        defs: &mut Vec<Definition>,
        seen: &mut HashSet<TypeId>,
        depth: usize,
    ) {
        let Type::Id(id) = ty else { return };
        if depth > MAX_DEPTH {
            self.too_deep.set(true);
            return;
        }
        if !seen.insert(*id) {
            return;
        }
        let Some(def) = self.resolve.types.get(*id) else {
            return;
        };
        if def.name.is_some() {
            let same_name_use = self
                .use_target(*id)
                .and_then(|t| self.resolve.types.get(t))
                .is_some_and(|t| t.name == def.name);
            if !same_name_use {
                defs.extend(self.definition(*id));
            }
        }
        let mut inner = |t: &Type| self.collect(t, defs, seen, depth + 1);
        match &def.kind {
            TypeDefKind::Record(r) => r.fields.iter().for_each(|f| inner(&f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty.as_ref()).for_each(inner),
            TypeDefKind::Tuple(t) => t.types.iter().for_each(inner),
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => inner(&Type::Id(*r)),
            TypeDefKind::Option(t)
            | TypeDefKind::List(t)
            | TypeDefKind::FixedLengthList(t, _)
            | TypeDefKind::Type(t)
            | TypeDefKind::Future(Some(t))
            | TypeDefKind::Stream(Some(t)) => inner(t),
            TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).for_each(inner),
            TypeDefKind::Map(k, v) => {
                inner(k);
                inner(v);
            }
            TypeDefKind::Resource
            | TypeDefKind::Flags(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Future(None)
            | TypeDefKind::Stream(None)
            | TypeDefKind::Unknown => {}
        }
    }
}

/// Definition texts sorted by name (then text), without duplicates.
fn sorted(mut defs: Vec<Definition>) -> Vec<String> {
    defs.sort();
    defs.dedup_by(|a, b| a.1 == b.1);
    defs.into_iter().map(|(_, text)| text).collect()
}
