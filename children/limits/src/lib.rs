//! `limits`: a typed child that spins, computes or hogs memory, to test the host's limits.

wit_bindgen::generate!({
    path: "wit",
    world: "patina:limits/limits",
});

use std::hint::black_box;

const MIB: usize = 1 << 20;
const PAGE: usize = 4096;

/// One 1 MiB chunk with every page written, so the memory is really used.
fn chunk() -> Vec<u8> {
    let mut v = vec![0u8; MIB];
    for i in (0..MIB).step_by(PAGE) {
        v[i] = 1;
    }
    black_box(v)
}

struct Limits;

impl Guest for Limits {
    fn noop() {}

    fn spin() {
        let mut n: u64 = 0;
        loop {
            n = black_box(n.wrapping_add(1));
        }
    }

    fn fib(n: u32) -> u64 {
        let (mut a, mut b) = (0u64, 1u64);
        for _ in 0..n {
            (a, b) = (b, a.wrapping_add(b));
        }
        a
    }

    fn hog(mib: u32) -> u32 {
        let chunks: Vec<Vec<u8>> = (0..mib).map(|_| chunk()).collect();
        let n = black_box(&chunks).len();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn hog_forever() {
        let mut chunks = Vec::new();
        loop {
            chunks.push(chunk());
            black_box(&chunks);
        }
    }
}

export!(Limits);
