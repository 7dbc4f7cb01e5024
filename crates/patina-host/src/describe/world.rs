//! The whole-world WIT text printer behind `mother inspect --wit`: the world
//! block with its imports, exports and world-level types, then every named
//! interface it refers to, with its `use` statements, types, resource blocks
//! and functions.
//!
//! It only renders text for people: it must never decide what the imports and
//! exports are (the describer does) and never fail or panic — an id the
//! resolve does not hold is skipped.

use std::fmt::Write as _;

use wit_parser::{
    Function, FunctionKind, Interface, InterfaceId, TypeDefKind, TypeId, TypeOwner, WorldId,
    WorldItem, WorldKey,
};

use super::describer::Describer;
use super::types::ident;

impl Describer<'_> {
    /// The world as compact WIT: the world block, then each named interface
    /// it imports or exports.
    pub(super) fn world_wit(&self, world_id: WorldId) -> String {
        let Some(world) = self.resolve.worlds.get(world_id) else {
            return String::new();
        };
        let mut out = format!("world {} {{\n", ident(&world.name));
        let mut named: Vec<InterfaceId> = Vec::new();
        for (dir, items) in [("import", &world.imports), ("export", &world.exports)] {
            for (key, item) in items {
                match (key, item) {
                    (WorldKey::Interface(_), WorldItem::Interface { id, .. }) => {
                        let _ = writeln!(out, "  {dir} {};", self.key_name(key));
                        if !named.contains(id) {
                            named.push(*id);
                        }
                    }
                    (WorldKey::Name(name), WorldItem::Interface { id, .. }) => {
                        let _ = writeln!(out, "  {dir} {}: interface {{", ident(name));
                        self.interface_body(*id, 2, &mut out);
                        out.push_str("  }\n");
                    }
                    (_, WorldItem::Function(f)) => {
                        let name = match key {
                            WorldKey::Name(name) => ident(name),
                            WorldKey::Interface(_) => ident(&f.name),
                        };
                        let _ = writeln!(out, "  {dir} {name}: {};", self.signature(f, 0));
                    }
                    (_, WorldItem::Type { id, .. }) => self.type_line(*id, 1, None, &mut out),
                }
            }
        }
        out.push_str("}\n");
        for id in named {
            let _ = writeln!(out, "\ninterface {} {{", self.interface_name(id));
            self.interface_body(id, 1, &mut out);
            out.push_str("}\n");
        }
        out
    }

    /// An interface's types (resources with their functions) then its
    /// freestanding functions, one per line, indented `level` steps.
    fn interface_body(&self, id: InterfaceId, level: usize, out: &mut String) {
        let Some(iface) = self.resolve.interfaces.get(id) else {
            return;
        };
        // `use` statements first, as WIT is usually written, then definitions.
        let (uses, defined): (Vec<TypeId>, Vec<TypeId>) = iface
            .types
            .values()
            .partition(|&&tid| self.use_target(tid).is_some());
        for tid in uses.into_iter().chain(defined) {
            self.type_line(tid, level, Some(iface), out);
        }
        let pad = "  ".repeat(level);
        for f in iface.functions.values() {
            let in_resource_block = f
                .kind
                .resource()
                .is_some_and(|r| iface.types.values().any(|&t| t == r));
            if !in_resource_block {
                let _ = writeln!(out, "{pad}{}: {};", ident(&f.name), self.signature(f, 0));
            }
        }
    }

    /// One type definition as a WIT statement; a resource of `iface` that has
    /// functions gets a block listing them.
    fn type_line(&self, id: TypeId, level: usize, iface: Option<&Interface>, out: &mut String) {
        let pad = "  ".repeat(level);
        let Some(def) = self.resolve.types.get(id) else {
            return;
        };
        let Some(name) = &def.name else { return };
        if let Some(target) = self.use_target(id) {
            let target_name = self.resolve.types.get(target).and_then(|t| t.name.as_ref());
            let from = match self.resolve.types.get(target).map(|t| &t.owner) {
                Some(TypeOwner::Interface(i)) => Some(self.interface_name(*i)),
                _ => None,
            };
            if let (Some(from), Some(target_name)) = (from, target_name) {
                let what = if target_name == name {
                    ident(name)
                } else {
                    format!("{} as {}", ident(target_name), ident(name))
                };
                let _ = writeln!(out, "{pad}use {from}.{{{what}}};");
                return;
            }
        }
        let Some((_, text)) = self.definition(id) else {
            return;
        };
        match &def.kind {
            TypeDefKind::Record(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Variant(_)
            | TypeDefKind::Enum(_) => {
                let _ = writeln!(out, "{pad}{text}");
            }
            TypeDefKind::Resource => {
                let functions: Vec<&Function> = iface
                    .map(|i| {
                        i.functions
                            .values()
                            .filter(|f| f.kind.resource() == Some(id))
                            .collect()
                    })
                    .unwrap_or_default();
                if functions.is_empty() {
                    let _ = writeln!(out, "{pad}{text};");
                    return;
                }
                let _ = writeln!(out, "{pad}{text} {{");
                for f in functions {
                    let _ = writeln!(out, "{pad}  {};", self.resource_function(f));
                }
                let _ = writeln!(out, "{pad}}}");
            }
            _ => {
                let _ = writeln!(out, "{pad}{text};");
            }
        }
    }

    /// A resource function as written inside its `resource` block:
    /// `constructor(..)`, `read: func(..)`, `open: static func(..)`.
    fn resource_function(&self, f: &Function) -> String {
        let short = f.name.rsplit_once('.').map_or(f.name.as_str(), |(_, s)| s);
        match f.kind {
            FunctionKind::Constructor(_) => format!("constructor{}", self.params(f, 0)),
            FunctionKind::Method(_) | FunctionKind::AsyncMethod(_) => {
                format!("{}: {}", ident(short), self.signature(f, 1))
            }
            FunctionKind::Static(_) | FunctionKind::AsyncStatic(_) => {
                format!("{}: static {}", ident(short), self.signature(f, 0))
            }
            FunctionKind::Freestanding | FunctionKind::AsyncFreestanding => {
                format!("{}: {}", ident(&f.name), self.signature(f, 0))
            }
        }
    }
}
