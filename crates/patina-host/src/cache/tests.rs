//! Tests of the keyed artifact cache: what is mapped without a read, what
//! is read and re-tagged, and what is refused. Tests only; every file lives
//! in a temporary directory.

use std::fs::File;
use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, SystemTime};

use super::*;

const KEY: [u8; 32] = [5; 32];

fn compiled(engine: &Engine) -> Component {
    let wat = r#"(component (core module (func (export "f"))))"#;
    Component::new(engine, wat::parse_str(wat).unwrap()).unwrap()
}

fn tag_of(cache: &ArtifactCache, id: &ChildId) -> Option<TagFile> {
    cache.read_tag(&KEY, id)
}

fn identity_of(path: &Path) -> FileIdentity {
    FileIdentity::of(&std::fs::metadata(path).unwrap())
}

/// Whether this process maps the file at `path` (what `deserialize_file` does).
fn mapped(path: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let path = path.to_str().unwrap();
    maps.lines().any(|line| line.ends_with(path))
}

#[test]
fn a_stored_artifact_is_known_by_its_identity_and_mapped_without_a_read() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::default();
    let cache = ArtifactCache::new(dir.path(), &engine, Some(KEY)).mapping(true);
    let id = ChildId::of(b"child");
    cache.store(&id, &compiled(&engine)).unwrap();
    let path = cache.artifact_path(&id);
    let tag = tag_of(&cache, &id).expect("a tag file");
    assert_eq!(tag.identity, Some(identity_of(&path)), "recorded at store");

    let loaded = cache.load(&engine, &id).expect("loads");
    assert!(mapped(&path), "the known file is mapped, not read");
    assert_eq!(
        tag_of(&cache, &id),
        Some(tag.clone()),
        "and its tag left as it was"
    );
    drop(loaded);

    // Not mapping (a long-lived host): read into memory, never mapped.
    let reading = ArtifactCache::new(dir.path(), &engine, Some(KEY));
    let loaded = reading.load(&engine, &id).expect("loads");
    assert!(!mapped(&path), "read, not mapped");
    assert_eq!(tag_of(&cache, &id), Some(tag));
    drop(loaded);
}

#[test]
fn another_identity_costs_one_read_and_a_new_tag() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::default();
    let cache = ArtifactCache::new(dir.path(), &engine, Some(KEY));
    let id = ChildId::of(b"child");
    cache.store(&id, &compiled(&engine)).unwrap();
    let path = cache.artifact_path(&id);
    let before = tag_of(&cache, &id).unwrap();
    // Same bytes, another identity (a restored backup, say).
    let later = SystemTime::now() + Duration::from_secs(60);
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_ne!(before.identity, Some(identity_of(&path)));
    assert!(cache.load(&engine, &id).is_some(), "the bytes check out");
    let after = tag_of(&cache, &id).unwrap();
    assert_eq!(after.content, before.content);
    assert_eq!(after.identity, Some(identity_of(&path)), "re-tagged");
}

#[test]
fn altered_renamed_or_foreign_artifacts_are_refused_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::default();
    let cache = ArtifactCache::new(dir.path(), &engine, Some(KEY));
    let (id, other) = (ChildId::of(b"child"), ChildId::of(b"other"));
    cache.store(&id, &compiled(&engine)).unwrap();
    let path = cache.artifact_path(&id);
    let tag_path = cache.dir().join(ArtifactCache::tag_name(&id));

    // Another child's name on these files: the tags bind the id.
    std::fs::copy(&path, cache.artifact_path(&other)).unwrap();
    std::fs::copy(&tag_path, cache.dir().join(ArtifactCache::tag_name(&other))).unwrap();
    assert!(cache.load(&engine, &other).is_none());
    assert!(!cache.artifact_path(&other).exists(), "removed");

    // Another key's cache trusts nothing here.
    let stranger = ArtifactCache::new(dir.path(), &engine, Some([6; 32]));
    assert!(stranger.load(&engine, &id).is_none());
    assert!(!path.exists() && !tag_path.exists(), "removed");

    // One byte changed in place, same length: the identity moved, so the
    // bytes are read, and they do not check out.
    cache.store(&id, &compiled(&engine)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    assert!(cache.load(&engine, &id).is_none());
    assert!(!path.exists(), "removed");

    // No tag file at all (an artifact of an older layout): refused.
    cache.store(&id, &compiled(&engine)).unwrap();
    std::fs::remove_file(&tag_path).unwrap();
    assert!(cache.load(&engine, &id).is_none());
}

#[test]
fn a_file_others_may_write_is_read_every_time_never_mapped_or_retagged() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::default();
    let cache = ArtifactCache::new(dir.path(), &engine, Some(KEY)).mapping(true);
    let id = ChildId::of(b"child");
    cache.store(&id, &compiled(&engine)).unwrap();
    let path = cache.artifact_path(&id);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let before = tag_of(&cache, &id).unwrap();
    let loaded = cache.load(&engine, &id).expect("the bytes check out");
    assert!(!mapped(&path), "read into memory");
    assert_eq!(tag_of(&cache, &id), Some(before), "not re-tagged");
    drop(loaded);
}
