//! The `indexer` child with the real `fs` and `kv` toys: it indexes a real
//! folder (only `.txt` and `.md`, nested directories too), its searches agree
//! with a plain grep computed here, another child id never sees its index, and
//! a recorded search replays to the recorded answer after the folder changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use patina_host::{Child, Host, ReplaySource, RunReport};
use patina_tests::{host_with, run};
use patina_toys::{FsToy, KvToy, Val};
use tempfile::TempDir;

/// One hit as the test compares it: path, score, (line, text) snippets.
type Hit = (String, u32, Vec<(u32, String)>);

struct World {
    folder: TempDir,
    _state: TempDir,
    host: Host,
    indexer: Child,
}

fn world() -> World {
    let folder = tempfile::tempdir().unwrap();
    write_folder(folder.path());
    let state = tempfile::tempdir().unwrap();
    let mut toys = patina_toys::log_only();
    toys.register(Arc::new(FsToy::new()));
    toys.register(Arc::new(
        KvToy::open(state.path().join("kv.sqlite")).unwrap(),
    ));
    let host = host_with(toys);
    let bytes = children_artifacts::by_name("indexer")
        .expect("indexer built")
        .bytes;
    let indexer = host.load(bytes).unwrap();
    World {
        folder,
        _state: state,
        host,
        indexer,
    }
}

fn write_folder(root: &Path) {
    let long = format!("{} rust at the end", "padding ".repeat(40));
    let files: &[(&str, String)] = &[
        (
            "guide.md",
            "# Patina guide\n\nRust children run in wasm.\nCapability grants: fs, kv, log.\n\
             rust RUST Rust! (three times, one line)\n\n  indented wasm line  \n"
                .into(),
        ),
        (
            "notes.txt",
            "grocery list\r\nmilk, eggs\r\nrust remover for the bike\r\n".into(),
        ),
        (
            "nested/deep/plan.md",
            format!("plan: index wasm files\n{long}\nünïcode Wörter\n"),
        ),
        (
            "nested/readme.TXT",
            "Uppercase extension, still text: capability.\n".into(),
        ),
        ("nested/empty.md", String::new()),
        ("data.bin", "rust wasm capability binaryonlyword\n".into()),
        ("script.rs", "fn rust() { sourceonlyword }\n".into()),
        ("nested/deep/image.png", "wasm rust\n".into()),
    ];
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn grants(folder: &Path) -> [String; 2] {
    [format!("fs:{}:ro", folder.display()), "kv".to_owned()]
}

/// Runs `search(query)` on the world's indexer over its folder.
async fn search(world: &World, query: &str) -> RunReport {
    call(
        world,
        &world.indexer,
        &format!("search({query:?})"),
        world.folder.path(),
    )
    .await
}

async fn call(world: &World, child: &Child, call: &str, folder: &Path) -> RunReport {
    let [fs, kv] = grants(folder);
    let report = run(&world.host, child, call, &[&fs, &kv])
        .await
        .unwrap_or_else(|e| panic!("{call}: refused: {e}"));
    if let Err(e) = &report.outcome {
        panic!("{call}: failed: {e}");
    }
    report
}

fn result(report: &RunReport) -> Result<Val, String> {
    let results = &report.outcome.as_ref().unwrap().results;
    match results.as_slice() {
        [Val::Result(Ok(Some(value)))] => Ok(value.as_ref().clone()),
        [Val::Result(Err(Some(message)))] => Err(format!("{message:?}")),
        other => panic!("unexpected results {other:?}"),
    }
}

fn field<'a>(fields: &'a [(String, Val)], name: &str) -> &'a Val {
    &fields.iter().find(|(n, _)| n == name).unwrap().1
}

fn u32_of(val: &Val) -> u32 {
    match val {
        Val::U32(n) => *n,
        other => panic!("{other:?}"),
    }
}

fn string_of(val: &Val) -> String {
    match val {
        Val::String(s) => s.clone(),
        other => panic!("{other:?}"),
    }
}

fn hits(report: &RunReport) -> Vec<Hit> {
    let Val::List(hits) = result(report).unwrap() else {
        panic!()
    };
    hits.iter()
        .map(|hit| {
            let Val::Record(fields) = hit else { panic!() };
            let Val::List(lines) = field(fields, "lines") else {
                panic!()
            };
            let lines = lines
                .iter()
                .map(|s| {
                    let Val::Record(f) = s else { panic!() };
                    (u32_of(field(f, "line")), string_of(field(f, "text")))
                })
                .collect();
            (
                string_of(field(fields, "path")),
                u32_of(field(fields, "score")),
                lines,
            )
        })
        .collect()
}

/// The words of a line as the indexer defines them, computed independently.
fn words_of(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            if word.len() <= 64 {
                words.push(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    words
}

/// Every `.txt`/`.md` file under `root` (any case of the extension), by
/// relative `/` path, with its lines.
fn text_files(root: &Path) -> BTreeMap<String, Vec<String>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        for entry in std::fs::read_dir(root.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let rel = rel.join(entry.file_name());
            let kind = entry.file_type().unwrap();
            let name = entry.file_name().to_string_lossy().to_lowercase();
            if kind.is_dir() {
                pending.push(rel);
            } else if kind.is_file() && (name.ends_with(".md") || name.ends_with(".txt")) {
                let text = std::fs::read_to_string(root.join(&rel)).unwrap();
                let lines = text
                    .split('\n')
                    .map(|l| l.trim_end_matches('\r').to_owned())
                    .collect();
                files.insert(rel.to_string_lossy().replace('\\', "/"), lines);
            }
        }
    }
    files
}

/// What a search for `query` must answer: a grep over the folder.
fn grep(root: &Path, query: &str) -> Vec<Hit> {
    let wanted: BTreeSet<String> = words_of(query).into_iter().collect();
    let mut found = Vec::new();
    for (path, lines) in text_files(root) {
        let mut present = BTreeSet::new();
        let mut occurrences = 0;
        let mut matching = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let words: BTreeSet<String> = words_of(line).into_iter().collect();
            let here: Vec<_> = wanted.intersection(&words).collect();
            occurrences += here.len();
            if !here.is_empty() {
                present.extend(here.into_iter().cloned());
                let text: String = line.trim().chars().take(200).collect();
                matching.push((i as u32 + 1, text.trim_end().to_owned()));
            }
        }
        if !present.is_empty() {
            matching.truncate(3);
            found.push((present.len(), occurrences, path, matching));
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    found
        .into_iter()
        .map(|(score, _, path, lines)| (path, score as u32, lines))
        .collect()
}

#[tokio::test]
async fn index_then_search_agrees_with_grep() {
    let w = world();
    let report = call(&w, &w.indexer, "index()", w.folder.path()).await;
    let Val::Record(stats) = result(&report).unwrap() else {
        panic!()
    };
    let files = text_files(w.folder.path());
    assert_eq!(files.len(), 5, "{files:?}");
    let words: BTreeSet<String> = files.values().flatten().flat_map(|l| words_of(l)).collect();
    assert_eq!(u32_of(field(&stats, "files")), 5);
    assert_eq!(u32_of(field(&stats, "words")), words.len() as u32);
    assert_eq!(u32_of(field(&stats, "skipped")), 0);

    for query in [
        "rust",
        "Rust wasm",
        "capability grants",
        "WASM rust capability milk",
        "wörter ÜNÏCODE",
        "padding",
        "bike, remover!",
    ] {
        let got = hits(&search(&w, query).await);
        let expected = grep(w.folder.path(), query);
        assert!(!expected.is_empty(), "{query}");
        assert_eq!(got, expected, "search({query:?})");
    }

    // The long line is cut to 200 characters.
    let got = hits(&call(&w, &w.indexer, "search(\"end\")", w.folder.path()).await);
    assert_eq!(got[0].0, "nested/deep/plan.md");
    assert_eq!(got[0].2[0].1, "padding ".repeat(25).trim_end());

    // Words found only in a .bin, a .rs or a .png file are not indexed;
    // a query without words finds nothing.
    for query in [
        "binaryonlyword",
        "sourceonlyword",
        "nothinglikethis",
        "",
        "!?",
    ] {
        assert_eq!(
            hits(&search(&w, query).await),
            Vec::<Hit>::new(),
            "{query:?}"
        );
    }

    // Every file access went through the recorded `fs` toy; the index
    // through `kv`: nothing of the run is unrecorded.
    let toys: BTreeSet<&str> = report.events.iter().map(|e| e.toy.as_str()).collect();
    assert_eq!(
        toys,
        BTreeSet::from(["patina:toys/fs@0.1.0", "patina:toys/kv@0.1.0"])
    );
    assert_eq!(report.unrecorded, Vec::<String>::new());

    // Reindexing a changed folder replaces the old index.
    std::fs::remove_file(w.folder.path().join("guide.md")).unwrap();
    std::fs::write(w.folder.path().join("new.txt"), "freshword rust\n").unwrap();
    call(&w, &w.indexer, "index()", w.folder.path()).await;
    for query in ["rust", "freshword", "patina"] {
        let report = call(
            &w,
            &w.indexer,
            &format!("search({query:?})"),
            w.folder.path(),
        )
        .await;
        assert_eq!(hits(&report), grep(w.folder.path(), query), "{query}");
    }
}

/// The indexer's bytes with a custom section appended: the same code under
/// another child id.
fn twin(w: &World) -> Child {
    let mut bytes = children_artifacts::by_name("indexer")
        .unwrap()
        .bytes
        .to_vec();
    let name = b"twin";
    let payload = b"another child id";
    bytes.push(0); // custom section
    bytes.push((1 + name.len() + payload.len()) as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    w.host.load(&bytes).unwrap()
}

#[tokio::test]
async fn another_child_never_sees_the_index() {
    let w = world();
    let twin = twin(&w);
    assert_ne!(twin.id(), w.indexer.id());
    call(&w, &w.indexer, "index()", w.folder.path()).await;
    let report = call(&w, &twin, "search(\"rust\")", w.folder.path()).await;
    assert_eq!(hits(&report), Vec::<Hit>::new(), "the twin has no index");

    // The twin indexes another folder; the first child's index is intact.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("only.md"), "twinword rust\n").unwrap();
    call(&w, &twin, "index()", other.path()).await;
    let report = call(&w, &twin, "search(\"rust twinword\")", other.path()).await;
    assert_eq!(hits(&report), grep(other.path(), "rust twinword"));
    let report = call(&w, &w.indexer, "search(\"rust twinword\")", w.folder.path()).await;
    assert_eq!(hits(&report), grep(w.folder.path(), "rust"));
}

#[tokio::test]
async fn a_recorded_search_replays_exactly_after_the_folder_changed() {
    let w = world();
    call(&w, &w.indexer, "index()", w.folder.path()).await;
    let recorded = call(&w, &w.indexer, "search(\"rust wasm\")", w.folder.path()).await;
    let answer = hits(&recorded);
    assert_eq!(answer, grep(w.folder.path(), "rust wasm"));
    let (transcript, blobs) = recorded.transcript().unwrap();

    // Change the world: files edited and removed, the index rebuilt.
    std::fs::write(w.folder.path().join("notes.txt"), "rust, rewritten\n").unwrap();
    std::fs::remove_file(w.folder.path().join("guide.md")).unwrap();
    call(&w, &w.indexer, "index()", w.folder.path()).await;
    let live = call(&w, &w.indexer, "search(\"rust wasm\")", w.folder.path()).await;
    assert_ne!(hits(&live), answer, "the edit changes a live search");

    let replay = w
        .host
        .replay(&w.indexer, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert!(
        replay.exact,
        "no unrecorded authority: {:?}",
        recorded.unrecorded
    );
    assert_eq!(hits(&replay.report), answer);
    assert_eq!(replay.report.wave(), recorded.wave());
}

/// A file's bytes (`fs.read`, linked typed) over the inline byte limit are
/// recorded by reference to a blob, `<blob:HEX>`; the replay finds it by
/// digest (hashed once) and answers exactly, and a blob that no longer
/// hashes to its digest is never used as an answer.
#[tokio::test]
async fn large_toy_answers_replay_from_their_blobs_and_damaged_blobs_diverge() {
    let w = world();
    let big = "bigword rust ".repeat(patina_receipts::INLINE_LIMIT / 8);
    std::fs::write(w.folder.path().join("big.md"), big).unwrap();
    let index = call(&w, &w.indexer, "index()", w.folder.path()).await;
    let (transcript, blobs) = index.transcript().unwrap();
    let referenced = transcript
        .events
        .iter()
        .filter(|e| {
            matches!(
                &e.result,
                patina_receipts::EventResult::Ok(patina_receipts::Payload::Text(text))
                    if e.function == "read" && text.starts_with("(ok(<blob:")
            )
        })
        .count();
    assert!(
        referenced > 0 && !blobs.is_empty(),
        "indexing a file over {} bytes records its read by reference",
        patina_toys::typed::INLINE_BYTES
    );
    let source = ReplaySource {
        transcript: transcript.clone(),
        blobs: blobs.clone(),
    };
    let replay = w.host.replay(&w.indexer, source).await.unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);

    let mut damaged = blobs;
    for blob in &mut damaged {
        blob.bytes[0] ^= 1;
    }
    let source = ReplaySource {
        transcript,
        blobs: damaged,
    };
    let replay = w.host.replay(&w.indexer, source).await.unwrap();
    let divergence = replay.divergence.expect("a damaged blob diverges");
    let got = divergence.got.as_deref().unwrap_or_default();
    assert!(
        got.starts_with("recorded results that do not fit the signature: the blob ")
            && got.contains("is not in the receipt"),
        "{divergence:?}"
    );
}
