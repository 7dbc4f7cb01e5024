//! `conf-limits`: spins, computes or hogs memory (conformance suite).

wit_bindgen::generate!({
    path: "wit",
    world: "patina:conformance-limits/limits",
});

use std::hint::black_box;

const MIB: usize = 1 << 20;

struct Limits;

impl Guest for Limits {
    fn spin() {
        let mut n: u64 = 0;
        loop {
            n = black_box(n.wrapping_add(1));
        }
    }

    fn hog(mib: u32) -> u32 {
        let chunks: Vec<Vec<u8>> = (0..mib)
            .map(|_| {
                let mut v = vec![0u8; MIB];
                for i in (0..MIB).step_by(4096) {
                    v[i] = 1;
                }
                black_box(v)
            })
            .collect();
        u32::try_from(black_box(&chunks).len()).unwrap_or(u32::MAX)
    }

    fn fib(n: u32) -> u64 {
        let (mut a, mut b) = (0u64, 1u64);
        for _ in 0..n {
            (a, b) = (b, a.wrapping_add(b));
        }
        a
    }
}

export!(Limits);
