//! `conf-values`: a pure child whose exports carry every kind of WIT value
//! across the boundary, for the conformance suite.

wit_bindgen::generate!({
    path: "wit",
    world: "patina:conformance/pure",
});

use exports::patina::conformance::values::{self, Color, Perms, Shape, ShapeSet};

struct Values;

impl Guest for Values {
    fn add(a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }
}

type Ints = (i8, u8, i16, u16, i32, u32, i64, u64);

impl values::Guest for Values {
    fn echo_bool(b: bool) -> bool {
        b
    }

    #[allow(clippy::too_many_arguments)]
    fn echo_ints(a: i8, b: u8, c: i16, d: u16, e: i32, f: u32, g: i64, h: u64) -> Ints {
        (a, b, c, d, e, f, g, h)
    }

    fn echo_floats(a: f32, b: f64) -> (f32, f64) {
        (a, b)
    }

    fn echo_char(c: char) -> char {
        c
    }

    fn echo_string(s: String) -> String {
        s
    }

    fn echo_bytes(b: Vec<u8>) -> Vec<u8> {
        b
    }

    fn reverse(mut xs: Vec<i32>) -> Vec<i32> {
        xs.reverse();
        xs
    }

    fn echo_record(s: ShapeSet) -> ShapeSet {
        s
    }

    fn area(s: Shape) -> f64 {
        match s {
            Shape::Circle(r) => std::f64::consts::PI * r * r,
            Shape::Rect(p) => (f64::from(p.x) * f64::from(p.y)).abs(),
            Shape::Empty => 0.0,
        }
    }

    fn next_color(c: Color) -> Color {
        match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        }
    }

    fn toggle_exec(p: Perms) -> Perms {
        p ^ Perms::EXEC
    }

    fn maybe_div(a: u64, b: u64) -> Option<u64> {
        a.checked_div(b)
    }

    fn nested_option(x: Option<u32>) -> Option<Option<u32>> {
        x.map(|n| if n == 0 { None } else { Some(n) })
    }

    fn checked_div(a: i64, b: i64) -> Result<i64, String> {
        if b == 0 {
            Err("division by zero".to_string())
        } else {
            Ok(a.wrapping_div(b))
        }
    }

    fn even(n: u32) -> Result<(), ()> {
        if n % 2 == 0 { Ok(()) } else { Err(()) }
    }

    fn swap(t: (String, u8)) -> (u8, String) {
        (t.1, t.0)
    }

    fn nothing() {}

    fn boom(message: String) -> u32 {
        panic!("{message}")
    }
}

export!(Values);
