//! `indexer`: a full-text index of one granted folder, kept in the child's own
//! kv store. `index()` walks the folder with the `fs` toy and stores one
//! posting list per word (namespace `words`); `search(query)` ranks the files
//! by the query words they contain and reads the matching lines back.
//!
//! It only reaches the folder through `patina:toys/fs` and its index only
//! through `patina:toys/kv`, so every read is a recorded toy call and a
//! replay answers exactly what the recorded run answered.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:indexer/indexer",
    with: {
        "patina:toys/fs@0.1.0": generate,
        "patina:toys/kv@0.1.0": generate,
    },
});

mod words;

use std::collections::{BTreeMap, BTreeSet};

use patina::toys::{fs, kv};

/// The kv namespace of the posting lists.
const WORDS: &str = "words";
/// Most files indexed.
const MAX_FILES: usize = 100_000;
/// Deepest directory walked.
const MAX_DEPTH: usize = 64;
/// Most hits a search answers with.
const MAX_HITS: usize = 100;
/// Snippets per hit.
const SNIPPETS: usize = 3;
/// Characters per snippet.
const SNIPPET_CHARS: usize = 200;

struct Indexer;

/// Whether `name` is a file the indexer reads.
fn indexed(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".txt") || lower.ends_with(".md")
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The `.txt` and `.md` files under the root, sorted by path; symlinks are
/// not followed.
fn walk() -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    // Directories still to list, with their depth; listing is sorted by name,
    // so pushing in reverse keeps the walk in path order.
    let mut pending = vec![(String::new(), 0usize)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = match fs::list(&dir) {
            Ok(entries) => entries,
            Err(e) if dir.is_empty() => {
                return Err(format!("cannot list the granted folder: {e:?}"));
            }
            Err(_) => continue,
        };
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = join(&dir, &entry.name);
            match entry.kind {
                fs::Kind::Directory if depth + 1 < MAX_DEPTH => subdirs.push((path, depth + 1)),
                fs::Kind::File if indexed(&entry.name) => {
                    if files.len() == MAX_FILES {
                        return Err(format!("more than {MAX_FILES} files to index"));
                    }
                    files.push(path);
                }
                _ => {}
            }
        }
        pending.extend(subdirs.into_iter().rev());
    }
    files.sort();
    Ok(files)
}

impl Guest for Indexer {
    fn index() -> Result<Stats, String> {
        let files = walk()?;
        let mut index: BTreeMap<String, Vec<(String, Vec<u32>)>> = BTreeMap::new();
        let (mut indexed_files, mut skipped, mut postings) = (0u32, 0u32, 0u32);
        for path in files {
            let Ok(bytes) = fs::read(&path) else {
                skipped += 1;
                continue;
            };
            indexed_files += 1;
            let text = String::from_utf8_lossy(&bytes);
            let mut in_file: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for (n, line) in words::lines(&text) {
                for word in words::words(line) {
                    let lines = in_file.entry(word).or_default();
                    if lines.last() != Some(&n) {
                        lines.push(n);
                        postings = postings.saturating_add(1);
                    }
                }
            }
            for (word, lines) in in_file {
                index.entry(word).or_default().push((path.clone(), lines));
            }
        }
        kv::clear(WORDS).map_err(|e| format!("cannot clear the old index: {e}"))?;
        for (word, list) in &index {
            kv::set(WORDS, word, &words::encode(list))
                .map_err(|e| format!("cannot store the postings of {word:?}: {e}"))?;
        }
        Ok(Stats {
            files: indexed_files,
            words: u32::try_from(index.len()).unwrap_or(u32::MAX),
            postings,
            skipped,
        })
    }

    fn search(query: String) -> Result<Vec<Hit>, String> {
        struct Found {
            score: u32,
            occurrences: u32,
            lines: BTreeSet<u32>,
        }
        let mut found: BTreeMap<String, Found> = BTreeMap::new();
        for word in words::query_words(&query) {
            let Some(bytes) =
                kv::get(WORDS, &word).map_err(|e| format!("cannot read the index: {e}"))?
            else {
                continue;
            };
            for (path, lines) in words::decode(&bytes) {
                let entry = found.entry(path).or_insert(Found {
                    score: 0,
                    occurrences: 0,
                    lines: BTreeSet::new(),
                });
                entry.score += 1;
                entry.occurrences = entry
                    .occurrences
                    .saturating_add(u32::try_from(lines.len()).unwrap_or(u32::MAX));
                entry.lines.extend(lines);
            }
        }
        let mut ranked: Vec<(String, Found)> = found.into_iter().collect();
        ranked.sort_by(|(pa, a), (pb, b)| {
            b.score
                .cmp(&a.score)
                .then(b.occurrences.cmp(&a.occurrences))
                .then(pa.cmp(pb))
        });
        ranked.truncate(MAX_HITS);
        Ok(ranked
            .into_iter()
            .map(|(path, found)| {
                // A file that changed or vanished since indexing gives fewer snippets.
                let text = fs::read(&path)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_default();
                let all: Vec<&str> = words::lines(&text).map(|(_, line)| line).collect();
                let lines = found
                    .lines
                    .iter()
                    .filter_map(|&n| {
                        let line = all.get(usize::try_from(n).ok()?.checked_sub(1)?)?;
                        Some(Snippet {
                            line: n,
                            text: words::snippet(line, SNIPPET_CHARS),
                        })
                    })
                    .take(SNIPPETS)
                    .collect();
                Hit {
                    path,
                    score: found.score,
                    lines,
                }
            })
            .collect())
    }
}

export!(Indexer);
