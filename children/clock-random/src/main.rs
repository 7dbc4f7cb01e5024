//! `clock-random`: a command child that reads the wall and monotonic clocks,
//! `wasi:random/random`, `wasi:random/insecure` and a std `HashMap`'s seed, and
//! prints what it saw. Replay must reproduce its output exactly.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    println!("wall: {}.{:09}", wall.as_secs(), wall.subsec_nanos());

    let start = Instant::now();
    let mut acc = 0u64;
    for i in 0..10_000u64 {
        acc = black_box(acc.wrapping_mul(31).wrapping_add(i));
    }
    black_box(acc);
    println!("mono: {}", start.elapsed().as_nanos());

    println!(
        "random: {}",
        hex(&wasip2::random::random::get_random_bytes(16))
    );
    println!(
        "insecure: {:016x}",
        wasip2::random::insecure::get_insecure_random_u64()
    );

    let mut map: HashMap<String, u32> = HashMap::new();
    for (i, key) in ('a'..='h').enumerate() {
        map.insert(key.to_string(), i as u32);
    }
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    println!("hash-order: {}", keys.join(","));
}

/// Lowercase hex of `bytes`, two digits a byte.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
