//! Unit tests of the `blob` toy: round trips, idempotence, permissions,
//! malformed ids, corrupt files and limits.

use super::*;
use patina_core::{ChildId, Grant};

fn instance(dir: &Path) -> Box<dyn ToyInstance> {
    let ctx = ToyContext::new(
        ChildId::of(b"child"),
        vec!["blob".parse::<Grant>().unwrap()],
    );
    BlobToy::new(dir.join("blobs")).instantiate(&ctx).unwrap()
}

async fn put(blob: &mut Box<dyn ToyInstance>, data: &[u8]) -> String {
    match blob.call("put", &[vals::bytes(data)]).await.unwrap().pop() {
        Some(Val::Result(Ok(Some(id)))) => match *id {
            Val::String(id) => id,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

async fn call1(blob: &mut Box<dyn ToyInstance>, function: &str, id: &str) -> Val {
    let mut answer = blob
        .call(function, &[Val::String(id.into())])
        .await
        .unwrap();
    assert_eq!(answer.len(), 1);
    answer.pop().unwrap()
}

#[cfg(unix)]
fn file_identity(path: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).unwrap())
}

#[cfg(not(unix))]
fn file_identity(path: &Path) -> std::time::SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

fn is_err(val: &Val) -> bool {
    matches!(val, Val::Result(Err(Some(_))))
}

#[tokio::test]
async fn put_get_has_round_trip_and_put_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let mut blob = instance(tmp.path());
    let id = put(&mut blob, b"hello blob").await;
    assert_eq!(id, format!("b3:{}", blake3::hash(b"hello blob").to_hex()));
    let hex = &id[3..];
    let file = tmp.path().join("blobs").join(&hex[..2]).join(hex);
    assert_eq!(fs::read(&file).unwrap(), b"hello blob");
    let identity = file_identity(&file);

    assert_eq!(put(&mut blob, b"hello blob").await, id);
    assert_eq!(
        file_identity(&file),
        identity,
        "an intact blob is not rewritten"
    );
    assert_eq!(
        call1(&mut blob, "get", &id).await,
        vals::ok(Some(vals::option(Some(vals::bytes(b"hello blob")))))
    );
    assert_eq!(
        call1(&mut blob, "has", &id).await,
        vals::ok(Some(Val::Bool(true)))
    );
    // No temporary files are left behind.
    let names: Vec<_> = fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // Empty bytes are a blob too.
    let empty = put(&mut blob, b"").await;
    assert_eq!(
        call1(&mut blob, "get", &empty).await,
        vals::ok(Some(vals::option(Some(vals::bytes(b"")))))
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_store_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let mut blob = instance(tmp.path());
    let id = put(&mut blob, b"private").await;
    let hex = &id[3..];
    let root = tmp.path().join("blobs");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&root), 0o700);
    assert_eq!(mode(&root.join(&hex[..2])), 0o700);
    assert_eq!(mode(&root.join(&hex[..2]).join(hex)), 0o600);
}

#[tokio::test]
async fn missing_blobs_are_none_and_the_store_is_created_lazily() {
    let tmp = tempfile::tempdir().unwrap();
    let mut blob = instance(tmp.path());
    let id = format!("b3:{}", "0".repeat(64));
    assert_eq!(
        call1(&mut blob, "get", &id).await,
        vals::ok(Some(vals::option(None)))
    );
    assert_eq!(
        call1(&mut blob, "has", &id).await,
        vals::ok(Some(Val::Bool(false)))
    );
    assert!(!tmp.path().join("blobs").exists());
}

#[tokio::test]
async fn malformed_ids_are_refused_before_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    // A file an escaping id would reach.
    fs::write(tmp.path().join("secret"), b"secret").unwrap();
    let mut blob = instance(tmp.path());
    let good = blake3::hash(b"x").to_hex().to_string();
    let bad = [
        "b3:../../etc/passwd".to_owned(),
        "b3:../secret".to_owned(),
        format!("b3:{}", good.to_uppercase()),
        format!("b3:{}", &good[..63]),
        format!("b3:{good}0"),
        good.clone(),
        format!("B3:{good}"),
        format!("b3:{}/..", &good[..61]),
        format!("b3:{}\0", &good[..63]),
        String::new(),
        format!("sha256:{good}"),
    ];
    for id in &bad {
        for function in ["get", "has"] {
            let answer = call1(&mut blob, function, id).await;
            assert!(is_err(&answer), "{function}({id:?}) = {answer:?}");
        }
    }
    assert!(!tmp.path().join("blobs").exists());
}

#[tokio::test]
async fn a_corrupt_blob_is_refused_and_a_put_repairs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut blob = instance(tmp.path());
    let id = put(&mut blob, b"precious bytes").await;
    let hex = &id[3..];
    let file = tmp.path().join("blobs").join(&hex[..2]).join(hex);
    fs::write(&file, b"precious bytez").unwrap();
    let answer = call1(&mut blob, "get", &id).await;
    let Val::Result(Err(Some(message))) = &answer else {
        panic!("{answer:?}")
    };
    assert!(format!("{message:?}").contains("corrupt"), "{message:?}");
    // `has` agrees with `get`: a corrupt blob is not held.
    let answer = call1(&mut blob, "has", &id).await;
    assert!(format!("{answer:?}").contains("corrupt"), "{answer:?}");
    // A truncated (torn) copy is refused too.
    fs::write(&file, b"prec").unwrap();
    assert!(is_err(&call1(&mut blob, "get", &id).await));
    assert!(is_err(&call1(&mut blob, "has", &id).await));
    // So is a directory or an oversized file where the blob should be.
    fs::remove_file(&file).unwrap();
    fs::write(&file, vec![0u8; MAX_BLOB + 1]).unwrap();
    assert!(is_err(&call1(&mut blob, "has", &id).await));
    fs::remove_file(&file).unwrap();
    fs::create_dir(&file).unwrap();
    assert!(is_err(&call1(&mut blob, "has", &id).await));
    assert!(is_err(&call1(&mut blob, "get", &id).await));
    fs::remove_dir(&file).unwrap();
    // Putting the bytes again replaces a damaged copy in place.
    fs::write(&file, b"precious bytez").unwrap();
    assert!(is_err(&call1(&mut blob, "get", &id).await));
    assert_eq!(put(&mut blob, b"precious bytes").await, id);
    assert_eq!(fs::read(&file).unwrap(), b"precious bytes");
    assert_eq!(
        call1(&mut blob, "get", &id).await,
        vals::ok(Some(vals::option(Some(vals::bytes(b"precious bytes")))))
    );
}

#[tokio::test]
async fn oversized_blobs_and_bad_calls() {
    let tmp = tempfile::tempdir().unwrap();
    let mut blob = instance(tmp.path());
    // The cap is 16 MiB, served by the typed `put` (the dynamic path is
    // checked with a small blob elsewhere).
    let typed: &mut dyn std::any::Any = blob.as_mut();
    let typed = typed.downcast_mut::<BlobInstance>().unwrap();
    let over = typed.put(vec![0u8; MAX_BLOB + 1]).await.unwrap();
    assert_eq!(
        over,
        Err(format!(
            "a blob holds at most {MAX_BLOB} bytes, got {}",
            MAX_BLOB + 1
        ))
    );
    assert!(!tmp.path().join("blobs").exists());
    let id = typed.put(vec![1u8; MAX_BLOB]).await.unwrap().unwrap();
    assert_eq!(
        call1(&mut blob, "has", &id).await,
        vals::ok(Some(Val::Bool(true)))
    );
    assert!(matches!(
        blob.call("delete", &[]).await,
        Err(ToyError::NoSuchFunction { .. })
    ));
    assert!(matches!(
        blob.call("get", &[Val::U32(1)]).await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        blob.call("put", &[]).await,
        Err(ToyError::BadArguments { .. })
    ));
}

#[test]
fn scopes_are_refused() {
    let toy = BlobToy::new(PathBuf::from("/nonexistent"));
    let err = toy.canonicalize(&"blob:/tmp".parse().unwrap()).unwrap_err();
    assert!(err.to_string().contains("`blob` takes no scope"), "{err}");
    assert!(toy.canonicalize(&"blob".parse().unwrap()).is_ok());
}

#[tokio::test]
async fn the_store_quota_counts_what_is_there_and_refuses_past_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("blobs");
    let ctx = ToyContext::new(
        ChildId::of(b"child"),
        vec!["blob".parse::<Grant>().unwrap()],
    );
    // 60 bytes already stored by an earlier Mother are counted by the walk.
    let mut earlier = BlobToy::new(dir.clone()).instantiate(&ctx).unwrap();
    put(&mut earlier, &[1; 60]).await;
    let toy = BlobToy::new(dir.clone()).with_quota(100);
    let mut blob = toy.instantiate(&ctx).unwrap();
    let answer = blob.call("put", &[vals::bytes(&[2; 41])]).await.unwrap();
    match &answer[..] {
        [Val::Result(Err(Some(message)))] => {
            assert!(
                matches!(message.as_ref(), Val::String(m) if m.contains("the blob store is full")),
                "{message:?}"
            );
        }
        other => panic!("not refused: {other:?}"),
    }
    // Nothing of the refused blob was written.
    let hex = blake3::hash(&[2; 41]).to_hex();
    assert!(!dir.join(&hex[..2]).join(hex.as_str()).exists());
    // Up to the quota is allowed; a blob already there costs nothing more.
    put(&mut blob, &[3; 40]).await;
    put(&mut blob, &[1; 60]).await;
    put(&mut blob, &[3; 40]).await;
    let answer = blob.call("put", &[vals::bytes(&[4; 1])]).await.unwrap();
    assert!(is_err(&answer[0]), "{answer:?}");
    // Replacing a damaged copy of the same size takes no more of the quota.
    let hex = blake3::hash(&[3; 40]).to_hex();
    fs::write(dir.join(&hex[..2]).join(hex.as_str()), [9; 40]).unwrap();
    put(&mut blob, &[3; 40]).await;
    put(&mut blob, &[3; 40]).await;
    let answer = blob.call("put", &[vals::bytes(&[4; 1])]).await.unwrap();
    assert!(is_err(&answer[0]), "{answer:?}");
}
