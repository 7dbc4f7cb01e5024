//! `calc`: a pure typed child (no toys) whose exports cover every kind of WIT value.

wit_bindgen::generate!({
    path: "wit",
    world: "patina:calc/calc",
});

use exports::patina::calc::types::{self, Color, Perms, Point, Shape};

struct Calc;

impl Guest for Calc {
    fn add(a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }
}

impl types::Guest for Calc {
    fn echo_point(p: Point) -> Point {
        p
    }

    fn scale(p: Point, k: i32) -> Point {
        Point {
            x: p.x.wrapping_mul(k),
            y: p.y.wrapping_mul(k),
        }
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

    fn checked_div(a: i64, b: i64) -> Result<i64, String> {
        if b == 0 {
            Err("division by zero".to_string())
        } else {
            Ok(a.wrapping_div(b))
        }
    }

    fn sum_list(xs: Vec<u32>) -> u64 {
        xs.iter().map(|&x| u64::from(x)).sum()
    }

    fn swap(t: (String, u8)) -> (u8, String) {
        (t.1, t.0)
    }

    fn describe_widths(a: i8, b: u8, c: i16, d: u16, e: u32, f: i64, g: f32, h: char) -> String {
        format!("{a} {b} {c} {d} {e} {f} {g} {h}")
    }

    fn bytes_len(b: Vec<u8>) -> u32 {
        u32::try_from(b.len()).unwrap_or(u32::MAX)
    }
}

export!(Calc);
