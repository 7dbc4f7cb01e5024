//! `conf-kvstore`: the `kv` toy's ordinary answers and its errors
//! (conformance suite).

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-kv/kvstore",
    with: { "patina:toys/kv@0.1.0": generate },
});

use patina::toys::kv;

struct Store;

fn text(value: Option<Vec<u8>>) -> Option<String> {
    value.map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

impl Guest for Store {
    fn put_get(ns: String, key: String, value: String) -> Result<Option<String>, String> {
        kv::set(&ns, &key, value.as_bytes())?;
        kv::get(&ns, &key).map(text)
    }

    fn get(ns: String, key: String) -> Result<Option<String>, String> {
        kv::get(&ns, &key).map(text)
    }

    fn churn(ns: String) -> Result<(Vec<String>, bool, u64), String> {
        for key in ["a", "b", "c"] {
            kv::set(&ns, key, key.as_bytes())?;
        }
        let deleted = kv::delete(&ns, "b")?;
        let keys = kv::keys(&ns, "")?;
        let cleared = kv::clear(&ns)?;
        Ok((keys, deleted, cleared))
    }

    fn too_long_key() -> Result<(), String> {
        kv::set("ns", &"k".repeat(2000), b"v")
    }
}

export!(Store);
