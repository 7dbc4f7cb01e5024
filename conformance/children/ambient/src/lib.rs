//! `conf-ambient`: reads the wall and monotonic clocks, secure and insecure
//! random, and a HashMap's seed (conformance suite).

wit_bindgen::generate!({
    path: "wit",
    world: "patina:conformance-ambient/ambient",
});

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

struct Ambient;

impl Guest for Ambient {
    fn sample() -> (u64, u64, Vec<u8>, u64) {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let start = Instant::now();
        let mut acc = 0u64;
        for i in 0..1000u64 {
            acc = black_box(acc.wrapping_mul(31).wrapping_add(i));
        }
        black_box(acc);
        let mono = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let random = wasip2::random::random::get_random_bytes(16);
        let insecure = wasip2::random::insecure::get_insecure_random_u64();
        (wall, mono, random, insecure)
    }

    fn hash_order() -> String {
        let mut map: HashMap<String, u32> = HashMap::new();
        for (i, key) in ('a'..='h').enumerate() {
            map.insert(key.to_string(), i as u32);
        }
        map.keys().map(String::as_str).collect::<Vec<_>>().join(",")
    }
}

export!(Ambient);
