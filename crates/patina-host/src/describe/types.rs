//! Printing WIT types: references to types (`point`, `list<u8>`,
//! `borrow<descriptor>`), function signatures, and one-line definitions of
//! named types (`record point { x: s32, y: s32 }`, `type size = u64`), with
//! identifiers that are WIT keywords written `%name`.
//!
//! It is text formatting only: it must never panic on an id the resolve does
//! not hold (that prints as `unknown`, or nothing), and never recurse deeper
//! than [`MAX_DEPTH`] — past it, it prints `...` and marks the describer as
//! too deep, which turns the whole description into an `Err`.

use wit_parser::{Function, Handle, Type, TypeDefKind, TypeId};

use super::describer::{Definition, Describer, MAX_DEPTH};

/// WIT keywords; an identifier spelled like one is written `%name`.
const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "bool",
    "borrow",
    "char",
    "constructor",
    "enum",
    "error-context",
    "export",
    "f32",
    "f64",
    "flags",
    "from",
    "func",
    "future",
    "import",
    "include",
    "interface",
    "list",
    "map",
    "option",
    "own",
    "package",
    "record",
    "resource",
    "result",
    "s16",
    "s32",
    "s64",
    "s8",
    "static",
    "stream",
    "string",
    "tuple",
    "type",
    "u16",
    "u32",
    "u64",
    "u8",
    "use",
    "variant",
    "with",
    "world",
];

/// `name`, or `%name` when it is a WIT keyword.
pub(super) fn ident(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("%{name}")
    } else {
        name.to_string()
    }
}

impl Describer<'_> {
    /// `[async ]func(a: t, ...)[ -> r]`, listing the first `skip` params out.
    pub(super) fn signature(&self, f: &Function, skip: usize) -> String {
        let mut s = String::new();
        if f.kind.is_async() {
            s.push_str("async ");
        }
        s.push_str("func");
        s.push_str(&self.params(f, skip));
        if let Some(result) = &f.result {
            s.push_str(" -> ");
            s.push_str(&self.ty(result, 0));
        }
        s
    }

    /// `(a: t, b: u)` without the first `skip` params.
    pub(super) fn params(&self, f: &Function, skip: usize) -> String {
        let params: Vec<String> = f
            .params
            .iter()
            .skip(skip)
            .map(|p| format!("{}: {}", ident(&p.name), self.ty(&p.ty, 0)))
            .collect();
        format!("({})", params.join(", "))
    }

    /// WIT text referring to `ty`: primitives by keyword, named types by
    /// name, anonymous ones structurally.
    fn ty(&self, ty: &Type, depth: usize) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::S8 => "s8".into(),
            Type::S16 => "s16".into(),
            Type::S32 => "s32".into(),
            Type::S64 => "s64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char => "char".into(),
            Type::String => "string".into(),
            Type::ErrorContext => "error-context".into(),
            Type::Id(id) => self.type_ref(*id, depth),
        }
    }

    fn type_ref(&self, id: TypeId, depth: usize) -> String {
        if depth > MAX_DEPTH {
            self.too_deep.set(true);
            return "...".into();
        }
        match self.resolve.types.get(id) {
            None => "unknown".into(),
            Some(def) => match &def.name {
                Some(name) => ident(name),
                None => self.structure(&def.kind, depth + 1),
            },
        }
    }

    /// The structural WIT text of a type's kind (`list<u8>`, `result<_, e>`).
    fn structure(&self, kind: &TypeDefKind, depth: usize) -> String {
        let list = |types: &mut dyn Iterator<Item = &Type>| {
            types
                .map(|t| self.ty(t, depth))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match kind {
            TypeDefKind::Record(r) => braces(
                "record",
                r.fields
                    .iter()
                    .map(|f| format!("{}: {}", ident(&f.name), self.ty(&f.ty, depth))),
            ),
            TypeDefKind::Resource => "resource".into(),
            TypeDefKind::Handle(Handle::Own(r)) => self.type_ref(*r, depth),
            TypeDefKind::Handle(Handle::Borrow(r)) => {
                format!("borrow<{}>", self.type_ref(*r, depth))
            }
            TypeDefKind::Flags(f) => braces("flags", f.flags.iter().map(|f| ident(&f.name))),
            TypeDefKind::Tuple(t) => format!("tuple<{}>", list(&mut t.types.iter())),
            TypeDefKind::Variant(v) => braces(
                "variant",
                v.cases.iter().map(|c| match &c.ty {
                    Some(t) => format!("{}({})", ident(&c.name), self.ty(t, depth)),
                    None => ident(&c.name),
                }),
            ),
            TypeDefKind::Enum(e) => braces("enum", e.cases.iter().map(|c| ident(&c.name))),
            TypeDefKind::Option(t) => format!("option<{}>", self.ty(t, depth)),
            TypeDefKind::Result(r) => match (&r.ok, &r.err) {
                (None, None) => "result".into(),
                (Some(ok), None) => format!("result<{}>", self.ty(ok, depth)),
                (None, Some(err)) => format!("result<_, {}>", self.ty(err, depth)),
                (Some(ok), Some(err)) => {
                    format!("result<{}, {}>", self.ty(ok, depth), self.ty(err, depth))
                }
            },
            TypeDefKind::List(t) => format!("list<{}>", self.ty(t, depth)),
            TypeDefKind::Map(k, v) => format!("map<{}, {}>", self.ty(k, depth), self.ty(v, depth)),
            TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", self.ty(t, depth)),
            TypeDefKind::Future(None) => "future".into(),
            TypeDefKind::Future(Some(t)) => format!("future<{}>", self.ty(t, depth)),
            TypeDefKind::Stream(None) => "stream".into(),
            TypeDefKind::Stream(Some(t)) => format!("stream<{}>", self.ty(t, depth)),
            TypeDefKind::Type(t) => self.ty(t, depth),
            TypeDefKind::Unknown => "unknown".into(),
        }
    }

    /// The WIT definition of a named type, on one line and without a trailing
    /// `;`: `record point { x: s32, y: s32 }`, `type size = u64`.
    pub(super) fn definition(&self, id: TypeId) -> Option<Definition> {
        let def = self.resolve.types.get(id)?;
        let name = def.name.as_ref()?;
        let n = ident(name);
        let text = match &def.kind {
            TypeDefKind::Record(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Variant(_)
            | TypeDefKind::Enum(_) => {
                // `record { .. }` -> `record point { .. }`
                let structure = self.structure(&def.kind, 0);
                match structure.split_once(' ') {
                    Some((keyword, body)) => format!("{keyword} {n} {body}"),
                    None => format!("{structure} {n}"),
                }
            }
            TypeDefKind::Resource => format!("resource {n}"),
            kind => format!("type {n} = {}", self.structure(kind, 0)),
        };
        Some((name.clone(), text))
    }

    /// The type `id` names when it is brought in by `use` (an alias of a
    /// named type that lives elsewhere): `Some(target)`.
    pub(super) fn use_target(&self, id: TypeId) -> Option<TypeId> {
        let def = self.resolve.types.get(id)?;
        let TypeDefKind::Type(Type::Id(target)) = def.kind else {
            return None;
        };
        let target_def = self.resolve.types.get(target)?;
        (def.name.is_some() && target_def.name.is_some() && target_def.owner != def.owner)
            .then_some(target)
    }
}

/// `keyword { a, b }`, or `keyword {}` when empty.
fn braces(keyword: &str, items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        format!("{keyword} {{}}")
    } else {
        format!("{keyword} {{ {} }}", items.join(", "))
    }
}
