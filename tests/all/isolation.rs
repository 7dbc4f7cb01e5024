//! No run sees what a run before it left in memory. A served host reuses
//! pooled memory and table slots and resets them in place (every byte of
//! the low part restored from the child's image or zeroed) rather than
//! handing them back to the kernel; this checks the reset from inside a
//! child, for the same child and for a slot another child used.

use patina_host::{EngineConfig, Host, HostConfig};
use patina_tests::{host, wat_child, wave};

/// A child that counts what in its memory and table differs from how a
/// fresh instance starts — zeros below 4096, a data segment of 4 KiB of
/// `fill` at 4096, zeros after it, a page grown at run time, and an empty
/// table slot — then overwrites all of it (0xAA, a function in the slot).
/// `residue-twice` does that twice in one instance and returns the second
/// count, which shows the count sees what was left. `far-residue` grows
/// the memory past the 2 MiB the pool resets in place and does the same
/// with its last page, which goes back to the kernel instead.
fn residue_wat(fill: u8) -> String {
    let image = format!("\\{fill:02x}").repeat(4096);
    format!(
        r#"
(component
  (core module $m
    (memory 2)
    (table $t 2 funcref)
    (func $f)
    (elem declare func $f)
    (data (i32.const 4096) "{image}")
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
      (local.set $n (call $differ (i32.const 0) (i32.const 4096) (i32.const 0)))
      (local.set $n (i32.add (local.get $n)
        (call $differ (i32.const 4096) (i32.const 4096) (i32.const {fill}))))
      (local.set $n (i32.add (local.get $n)
        (call $differ (i32.const 8192) (i32.const 122880) (i32.const 0))))
      (local.set $grown (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (local.set $n (i32.add (local.get $n)
        (call $differ (local.get $grown) (i32.const 65536) (i32.const 0))))
      (if (i32.eqz (ref.is_null (table.get $t (i32.const 1))))
        (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (memory.fill (i32.const 0) (i32.const 0xAA) (i32.add (local.get $grown) (i32.const 65536)))
      (table.set $t (i32.const 1) (ref.func $f))
      (local.get $n))
    (func (export "residue-twice") (result i32)
      (drop (call $residue))
      (call $residue))
    (func (export "far-residue") (result i32)
      (local $far i32) (local $n i32)
      (local.set $far (i32.mul
        (i32.add (memory.grow (i32.const 48)) (i32.const 47))
        (i32.const 65536)))
      (local.set $n (call $differ (local.get $far) (i32.const 65536) (i32.const 0)))
      (memory.fill (local.get $far) (i32.const 0xAA) (i32.const 65536))
      (local.get $n)))
  (core instance $i (instantiate $m))
  (func (export "residue") (result u32) (canon lift (core func $i "residue")))
  (func (export "residue-twice") (result u32) (canon lift (core func $i "residue-twice")))
  (func (export "far-residue") (result u32) (canon lift (core func $i "far-residue"))))
"#
    )
}

#[tokio::test]
async fn a_run_never_sees_the_memory_a_run_before_it_wrote() {
    let host = host();
    let child = wat_child(&host, &residue_wat(7));
    // The count sees leftovers: the first pass of the same instance
    // overwrote 4 KiB of zeros, the 4 KiB image, 120 KiB of zeros and the
    // table slot (the second pass grows a page of its own).
    assert_eq!(
        wave(&host, &child, "residue-twice()").await,
        (4096 + 4096 + 122_880 + 1).to_string()
    );
    // Each run gets its memory and table as a fresh instance has them,
    // though the pool hands the same slots back and the run before
    // overwrote all of it.
    for _ in 0..4 {
        assert_eq!(wave(&host, &child, "residue()").await, "0");
    }
    // Past the part reset in place too.
    for _ in 0..3 {
        assert_eq!(wave(&host, &child, "far-residue()").await, "0");
    }
    // So does a run after another child used the pool.
    let limits = patina_tests::child(&host, "limits");
    assert_eq!(wave(&host, &limits, "hog(4)").await, "4");
    assert_eq!(wave(&host, &child, "residue()").await, "0");
}

#[tokio::test]
async fn a_slot_another_child_used_starts_as_this_childs_image() {
    // One instance at a time and two memory slots: with three children,
    // each run takes a slot another child used last (and its image is
    // replaced), and the one table slot every time.
    let mut config = HostConfig::with_toys(patina_toys::log_only(), None);
    config.engine = EngineConfig {
        max_instances: 1,
        ..EngineConfig::default()
    };
    let host = Host::new(config).expect("host");
    let children: Vec<_> = [7, 8, 9]
        .into_iter()
        .map(|fill| wat_child(&host, &residue_wat(fill)))
        .collect();
    for _ in 0..3 {
        for child in &children {
            assert_eq!(wave(&host, child, "residue()").await, "0");
        }
    }
}
