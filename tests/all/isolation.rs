//! No run sees what a run before it left in memory. A served host reuses
//! pooled memory slots and resets them in place (the pages a run wrote,
//! restored from the child's image or zeroed) rather than handing them back
//! to the kernel; this checks the reset from inside a child.

use patina_tests::{host, wat_child, wave};

/// A child that counts the bytes of its memory that differ from how a fresh
/// instance starts — a data segment of 4 KiB of 7s at 4096, zeros after it,
/// and a page grown at run time — then overwrites all of it with 0xAA.
/// `residue-twice` does that twice in one instance and returns the second
/// count, which shows the count sees what was left.
fn residue_wat() -> String {
    let sevens = "\\07".repeat(4096);
    format!(
        r#"
(component
  (core module $m
    (memory 2)
    (data (i32.const 4096) "{sevens}")
    (func $differ (param $from i32) (param $len i32) (param $expect i32) (result i32)
      (local $n i32) (local $end i32)
      (local.set $end (i32.add (local.get $from) (local.get $len)))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $from) (local.get $end)))
          (if (i32.ne (i32.load8_u (local.get $from)) (local.get $expect))
            (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
          (local.set $from (i32.add (local.get $from) (i32.const 1)))
          (br $next)))
      (local.get $n))
    (func $residue (export "residue") (result i32)
      (local $n i32) (local $grown i32)
      (local.set $n (call $differ (i32.const 4096) (i32.const 4096) (i32.const 7)))
      (local.set $n (i32.add (local.get $n)
        (call $differ (i32.const 8192) (i32.const 122880) (i32.const 0))))
      (local.set $grown (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (local.set $n (i32.add (local.get $n)
        (call $differ (local.get $grown) (i32.const 65536) (i32.const 0))))
      (memory.fill (i32.const 0) (i32.const 0xAA) (i32.add (local.get $grown) (i32.const 65536)))
      (local.get $n))
    (func (export "residue-twice") (result i32)
      (drop (call $residue))
      (call $residue)))
  (core instance $i (instantiate $m))
  (func (export "residue") (result u32) (canon lift (core func $i "residue")))
  (func (export "residue-twice") (result u32) (canon lift (core func $i "residue-twice"))))
"#
    )
}

#[tokio::test]
async fn a_run_never_sees_the_memory_a_run_before_it_wrote() {
    let host = host();
    let child = wat_child(&host, &residue_wat());
    // The count sees leftovers: 4 KiB of the data segment and 120 KiB of
    // zeros were overwritten by the first pass of the same instance.
    assert_eq!(wave(&host, &child, "residue-twice()").await, "126976");
    // Each run gets its memory as a fresh instance has it, though the pool
    // hands the same slot back and the run before overwrote all of it.
    for _ in 0..4 {
        assert_eq!(wave(&host, &child, "residue()").await, "0");
    }
    // So does a run after another child used the pool.
    let limits = patina_tests::child(&host, "limits");
    assert_eq!(wave(&host, &limits, "hog(4)").await, "4");
    assert_eq!(wave(&host, &child, "residue()").await, "0");
}
