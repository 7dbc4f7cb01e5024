//! The describer against hand-written WIT, for shapes the built children
//! lack: world-level types, resources, results, keywords, depth and
//! sharing bounds, and the schemas of trailing options. They never need an
//! engine or a component.

use super::super::describer::{Describer, MAX_DEPTH};
use super::super::*;
use super::{find, signature};
use wit_parser::{Resolve, Type, TypeDefKind, WorldItem};

/// Describes world `world` of a WIT source, for shapes the children lack.
fn try_describe_wit(source: &str, world: &str) -> Result<Description, DescribeError> {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_source("test.wit", source).expect("parses");
    let world = resolve.select_world(&[pkg], Some(world)).expect("world");
    Describer::new(&resolve).describe(world)
}

fn describe_wit(source: &str, world: &str) -> Description {
    try_describe_wit(source, world).expect("describes")
}

#[test]
fn world_level_types_are_not_items_but_are_described() {
    let d = describe_wit(
        r#"
        package test:root;

        interface fs {
            resource descriptor;
        }

        world w {
            use fs.{descriptor};
            type count = u32;
            record pair { a: count, b: option<count> }
            export f: func(p: pair, d: borrow<descriptor>) -> count;
        }
        "#,
        "w",
    );
    assert!(
        d.imports.iter().all(|i| i.kind == ItemKind::Interface),
        "{d:#?}"
    );
    let f = find(&d.exports, |n| n == "f");
    assert_eq!(
        signature(f, "f"),
        "func(p: pair, d: borrow<descriptor>) -> count"
    );
    assert_eq!(
        f.types,
        vec![
            "type count = u32",
            "resource descriptor",
            "record pair { a: count, b: option<count> }",
        ]
    );
    assert!(
        d.wit.contains("  use test:root/fs.{descriptor};\n"),
        "{}",
        d.wit
    );
    assert!(d.wit.contains("  type count = u32;\n"), "{}", d.wit);
    assert!(
        d.wit
            .contains("  export f: func(p: pair, d: borrow<descriptor>) -> count;\n"),
        "{}",
        d.wit
    );
}

#[test]
fn refuses_absurdly_deep_types() {
    // The WIT parser itself refuses such nesting, so build it by hand:
    // `list<list<...<u8>...>>`, deeper than the printer goes.
    let mut resolve = Resolve::default();
    let pkg = resolve
        .push_source(
            "t.wit",
            "package test:deep;\nworld w { export f: func(x: list<u8>); }",
        )
        .expect("parses");
    let world = resolve.select_world(&[pkg], Some("w")).expect("world");
    let Some(WorldItem::Function(f)) = resolve.worlds[world].exports.values().next() else {
        panic!("no function");
    };
    let mut ty = f.params[0].ty;
    let Type::Id(id) = ty else {
        panic!("not a list")
    };
    let template = resolve.types[id].clone();
    for _ in 0..MAX_DEPTH + 10 {
        let mut def = template.clone();
        def.kind = TypeDefKind::List(ty);
        ty = Type::Id(resolve.types.alloc(def));
    }
    if let Some(WorldItem::Function(f)) = resolve.worlds[world].exports.values_mut().next() {
        f.params[0].ty = ty;
    }
    let err = Describer::new(&resolve)
        .describe(world)
        .expect_err("too deep");
    assert_eq!(err, DescribeError::TooDeep { max: MAX_DEPTH });
    assert!(err.to_string().contains("nested"), "{err}");
}

#[test]
fn prints_resources_uses_results_and_keywords() {
    let d = describe_wit(
        r#"
        package test:shapes@1.0.0;

        interface fs {
            type size = u64;
            enum error-code { access, %type }
            resource descriptor {
                constructor(path: string);
                read: func(len: size) -> result<list<u8>, error-code>;
                open: static func(path: string) -> descriptor;
            }
            stat: func(d: borrow<descriptor>) -> result<_, error-code>;
            touch: func() -> result;
            tick: func() -> result<u32>;
            pairs: func(%list: list<tuple<string, option<u8>>>);
            later: async func(f: future<u32>, s: stream<u8>, e: future);
        }

        interface user {
            use fs.{descriptor, error-code as code};
            keep: func(d: descriptor) -> code;
        }

        world w {
            import user;
            export fs;
            export ping: func();
        }
        "#,
        "w",
    );
    let fs = find(&d.exports, |n| n == "test:shapes/fs@1.0.0");
    assert_eq!(fs.kind, ItemKind::Interface);
    assert_eq!(
        fs.types,
        vec![
            "resource descriptor",
            "enum error-code { access, %type }",
            "type size = u64",
        ]
    );
    assert_eq!(
        signature(fs, "[constructor]descriptor"),
        "func(path: string) -> descriptor"
    );
    assert_eq!(
        signature(fs, "[method]descriptor.read"),
        "func(self: borrow<descriptor>, len: size) -> result<list<u8>, error-code>"
    );
    assert_eq!(
        signature(fs, "[static]descriptor.open"),
        "func(path: string) -> descriptor"
    );
    assert_eq!(
        signature(fs, "stat"),
        "func(d: borrow<descriptor>) -> result<_, error-code>"
    );
    assert_eq!(signature(fs, "touch"), "func() -> result");
    assert_eq!(signature(fs, "tick"), "func() -> result<u32>");
    assert_eq!(
        signature(fs, "pairs"),
        "func(%list: list<tuple<string, option<u8>>>)"
    );
    assert_eq!(
        signature(fs, "later"),
        "async func(f: future<u32>, s: stream<u8>, e: future)"
    );

    let user = find(&d.imports, |n| n == "test:shapes/user@1.0.0");
    assert_eq!(signature(user, "keep"), "func(d: descriptor) -> code");
    assert_eq!(
        user.types,
        vec![
            "type code = error-code",
            "resource descriptor",
            "enum error-code { access, %type }",
        ]
    );

    assert!(
        d.wit.contains("  import test:shapes/user@1.0.0;\n"),
        "{}",
        d.wit
    );
    assert!(d.wit.contains("  export ping: func();\n"), "{}", d.wit);
    assert!(
        d.wit.contains("  use test:shapes/fs@1.0.0.{descriptor};\n"),
        "{}",
        d.wit
    );
    assert!(
        d.wit
            .contains("  use test:shapes/fs@1.0.0.{error-code as code};\n"),
        "{}",
        d.wit
    );
    assert!(
        d.wit.contains(
            "  resource descriptor {\n    constructor(path: string);\n    read: func(len: size) -> result<list<u8>, error-code>;\n    open: static func(path: string) -> descriptor;\n  }\n"
        ),
        "{}",
        d.wit
    );
}

#[test]
fn schemas_mark_trailing_options_optional_and_skip_what_json_cannot_call() {
    let d = describe_wit(
        r#"
        package test:schema;

        interface fs {
            resource descriptor {
                read: func(len: u64) -> list<u8>;
            }
        }

        world w {
            use fs.{descriptor};
            /// Takes a u32 and two options.
            export trailing: func(a: u32, b: option<u32>, c: option<option<u32>>) -> u32;
            export middle: func(a: option<u32>, b: u32);
            export takes-resource: func(d: borrow<descriptor>) -> u32;
            export fs;
        }
        "#,
        "w",
    );
    let function = |name: &str| {
        d.exports
            .iter()
            .flat_map(|e| &e.functions)
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no {name} in {d:#?}"))
    };
    let trailing = function("trailing").schema.as_ref().expect("callable");
    let optional: Vec<bool> = trailing.params.iter().map(|p| p.optional).collect();
    assert_eq!(optional, [false, true, true]);
    assert_eq!(trailing.arguments["minItems"], 1);
    assert_eq!(trailing.arguments["maxItems"], 3);
    assert_eq!(
        trailing.arguments_object()["required"],
        serde_json::json!(["a"])
    );
    assert_eq!(
        function("trailing").docs.as_deref(),
        Some("Takes a u32 and two options.")
    );
    let middle = function("middle").schema.as_ref().expect("callable");
    assert!(
        middle.params.iter().all(|p| !p.optional),
        "only trailing options"
    );
    assert_eq!(function("takes-resource").schema, None);
    assert_eq!(function("[method]descriptor.read").schema, None);
}

#[test]
fn a_type_shared_exponentially_is_refused_not_expanded() {
    // r1 uses r0 twice, r2 uses r1 twice, ...: 2^24 schema objects inline.
    let mut wit = String::from("package test:big;\ninterface i {\n  record r0 { a: u32 }\n");
    for n in 1..=24 {
        wit.push_str(&format!(
            "  record r{n} {{ a: r{m}, b: r{m} }}\n",
            m = n - 1
        ));
    }
    wit.push_str("  f: func(x: r24);\n}\nworld w { export i; }\n");
    assert_eq!(
        try_describe_wit(&wit, "w"),
        Err(DescribeError::SchemaTooLarge {
            max: super::schema::MAX_SCHEMA_NODES
        })
    );
}
