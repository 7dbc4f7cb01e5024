//! The JSON conversion tests: the shared fixture (the types of `calc`'s
//! functions plus the `EXTRAS` component's imports) and the helpers the topic
//! files use. The tests themselves live in the topic files, one topic each.
//!
//! This file must never hold a test, and its fixtures must never be opaque
//! bytes: every component is built from source here (`calc` from its crate,
//! `EXTRAS` from WAT), so a reader can see every type the tests use.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value as Json;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Type, Val};
use wasmtime::{Config, Engine};

use super::{JsonValueError, json_to_params, json_to_val, val_to_json};

mod compound;
mod options_results;
mod params;
mod resources;
mod round_trips;
mod scalars;
mod schema;

/// Types `calc` cannot show: `bool`, `map`, fixed-length lists, nested
/// options, options of `{"some": ...}`-shaped values, payload-less results
/// and resources. A component with no code, only these imports. `future`,
/// `stream` and `error-context` cannot be loaded at all: this wasmtime is
/// built without `component-model-async`.
pub(super) const EXTRAS: &str = r#"
(component
  (type $rec (record (field "some" u32)))
  (import "rec-some" (type $rec-some (eq $rec)))
  (type $var (variant (case "some" u32) (case "other" (option u32)) (case "none")))
  (import "var-some" (type $var-some (eq $var)))
  (import "res" (type $res (sub resource)))
  (import "extras" (func
    (param "b" bool) (param "f" float64) (param "oo" (option (option u32)))
    (param "m" (map string u32)) (param "fl" (list u8 3))
    (param "or" (option $rec-some)) (param "ov" (option $var-some))
    (param "r0" (result)) (param "ro" (result u8)) (param "re" (result (error string)))
    (param "own" (own $res)) (param "borrow" (borrow $res))
    (param "lo" (list (option string)))))
  (import "trailing" (func (param "a" u32) (param "b" (option u32))
    (param "c" (option (option u32))))))
"#;

struct Fixture {
    engine: Engine,
    /// `calc`'s functions (`add`, `echo-point`, ...) and the `extras`
    /// imports (`extras`, `trailing`), by name.
    funcs: HashMap<String, ComponentFunc>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut config = Config::new();
        config
            .wasm_component_model_map(true)
            .wasm_component_model_fixed_length_lists(true);
        let engine = Engine::new(&config).unwrap();
        let mut funcs = HashMap::new();
        let calc = Component::new(&engine, children_artifacts::CALC_BYTES).unwrap();
        for (name, item) in calc.component_type().exports(&engine) {
            match item.ty {
                ComponentItem::ComponentFunc(f) => {
                    funcs.insert(name.to_owned(), f);
                }
                ComponentItem::ComponentInstance(instance) => {
                    for (name, item) in instance.exports(&engine) {
                        if let ComponentItem::ComponentFunc(f) = item.ty {
                            funcs.insert(name.to_owned(), f);
                        }
                    }
                }
                _ => {}
            }
        }
        let extras = Component::new(&engine, wat::parse_str(EXTRAS).unwrap()).unwrap();
        for (name, item) in extras.component_type().imports(&engine) {
            if let ComponentItem::ComponentFunc(f) = item.ty {
                funcs.insert(name.to_owned(), f);
            }
        }
        Fixture { engine, funcs }
    })
}

fn func(name: &str) -> &'static ComponentFunc {
    fixture()
        .funcs
        .get(name)
        .unwrap_or_else(|| panic!("no function `{name}`"))
}

fn params(func_name: &str) -> Vec<Type> {
    func(func_name).params().map(|(_, ty)| ty).collect()
}

/// The type of parameter `param` of `func_name`.
fn param(func_name: &str, param: &str) -> Type {
    func(func_name)
        .params()
        .find(|(name, _)| *name == param)
        .map(|(_, ty)| ty)
        .unwrap_or_else(|| panic!("no parameter `{param}` in `{func_name}`"))
}

fn result(func_name: &str) -> Type {
    func(func_name).results().next().unwrap()
}

fn ok(ty: &Type, json: Json) -> Val {
    json_to_val(ty, &json).unwrap_or_else(|e| panic!("{json} should convert: {e}"))
}

fn err(ty: &Type, json: Json) -> JsonValueError {
    match json_to_val(ty, &json) {
        Ok(val) => panic!("{json} should not convert, got {val:?}"),
        Err(e) => e,
    }
}

/// `val` → JSON is `expected`, and back with `ty` is `val` again.
fn round_trip(ty: &Type, val: Val, expected: Json) {
    let json = val_to_json(&val);
    assert_eq!(json, expected, "{val:?}");
    // Through text too, as it travels.
    let json: Json = serde_json::from_str(&json.to_string()).unwrap();
    assert_eq!(json_to_val(ty, &json), Ok(val));
}

fn point(x: i32, y: i32) -> Val {
    Val::Record(vec![("x".into(), Val::S32(x)), ("y".into(), Val::S32(y))])
}

fn some(val: Val) -> Val {
    Val::Option(Some(Box::new(val)))
}
