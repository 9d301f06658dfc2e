//! The takes list kept across restarts (`takes.json` in the data folder). Loading keeps every
//! readable take and moves an unreadable file aside instead of losing it; saving is atomic and
//! keeps the previous version as `takes.json.bak`.

use std::path::Path;

use crate::base::files::{self, WriteError};
use crate::compose::generate::Take;

/// Version of the takes file; a file without one is the plain array written before versions.
pub const FORMAT_VERSION: u32 = 1;

#[derive(serde::Serialize)]
struct TakesFile<'a> {
    format_version: u32,
    takes: &'a [Take],
}

/// What loading found: the readable takes, and what the user should be told about the rest.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every take that could be read, in order.
    pub takes: Vec<Take>,
    /// Takes or a file that could not be read, and where the original was kept.
    pub problem: Option<String>,
}

/// Gives every take without an identity (0) one not used by another, keeping the others.
pub fn assign_ids(takes: &mut [Take]) {
    let mut next = takes.iter().map(|t| t.id).max().unwrap_or(0) + 1;
    let mut seen = std::collections::HashSet::new();
    for take in takes.iter_mut() {
        if take.id == 0 || !seen.insert(take.id) {
            take.id = next;
            seen.insert(next);
            next += 1;
        }
    }
}

/// The largest takes file read: thousands of takes of a few minutes each stay far below it.
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// Makes the first take of each cycle of versions (a damaged file: A made from B made from A)
/// a root, so every take can be shown in the tree; returns how many cycles there were.
pub fn break_cycles(takes: &mut [Take]) -> usize {
    let index_of: std::collections::HashMap<u64, usize> =
        takes.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    // 0: not seen, 1: on the path being followed, 2: done.
    let mut state = vec![0u8; takes.len()];
    let mut broken = 0;
    for start in 0..takes.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(index) = at.filter(|&i| state[i] == 0) {
            state[index] = 1;
            path.push(index);
            at = takes[index].parent.and_then(|p| index_of.get(&p).copied());
        }
        if let Some(index) = at.filter(|&i| state[i] == 1) {
            takes[index].parent = None;
            broken += 1;
        }
        path.into_iter().for_each(|i| state[i] = 2);
    }
    broken
}

/// Reads the takes at `path`; a missing file is an empty list. Only a regular file of at most
/// [`MAX_FILE_BYTES`] is read (a FIFO would block the app at start).
pub fn load(path: &Path) -> Loaded {
    if !path.exists() {
        return Loaded::default();
    }
    let entries = files::read_bounded(path, MAX_FILE_BYTES)
        .map_err(|err| err.to_string())
        .and_then(|bytes| entries(&bytes));
    match entries {
        Ok(entries) => {
            let total = entries.len();
            let mut takes: Vec<Take> = entries
                .into_iter()
                .filter_map(|entry| serde_json::from_value(entry).ok())
                .collect();
            assign_ids(&mut takes);
            let cycles = break_cycles(&mut takes);
            let unreadable = (takes.len() < total).then(|| {
                let kept = keep_copy(path);
                format!(
                    "{} of {total} takes in {} could not be read; {kept}",
                    total - takes.len(),
                    path.display()
                )
            });
            let cyclic = (cycles > 0).then(|| {
                format!(
                    "{cycles} chain(s) of versions in {} led back to themselves; each is shown from its first take",
                    path.display()
                )
            });
            let problem = [unreadable, cyclic]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a}; {b}"));
            Loaded { takes, problem }
        }
        Err(reason) => Loaded {
            takes: Vec::new(),
            problem: Some(format!(
                "{} could not be read ({reason}); {}",
                path.display(),
                match files::move_aside(path) {
                    Ok(aside) => format!("it was moved to {}", aside.display()),
                    Err(err) => format!("it could not be moved aside either: {err}"),
                }
            )),
        },
    }
}

/// The take entries of a takes file: today's `{format_version, takes}` or the older plain array.
fn entries(bytes: &[u8]) -> Result<Vec<serde_json::Value>, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    match value {
        serde_json::Value::Array(entries) => Ok(entries),
        serde_json::Value::Object(mut object) => {
            let version = object.get("format_version").and_then(|v| v.as_u64());
            if version != Some(u64::from(FORMAT_VERSION)) {
                return Err(format!(
                    "format version {version:?}, this Cadenza reads version {FORMAT_VERSION}"
                ));
            }
            match object.remove("takes") {
                Some(serde_json::Value::Array(entries)) => Ok(entries),
                _ => Err("no list of takes".to_string()),
            }
        }
        _ => Err("not a list of takes".to_string()),
    }
}

/// Keeps a copy of a partly readable file, so the takes that could not be read are not lost at
/// the next save.
fn keep_copy(path: &Path) -> String {
    let copy = files::unreadable_name(path);
    match std::fs::copy(path, &copy) {
        Ok(_) => format!("the whole file was kept as {}", copy.display()),
        Err(err) => format!("a copy could not be kept: {err}"),
    }
}

/// Saves `takes` atomically, keeping the previous file as `takes.json.bak`.
pub fn save(path: &Path, takes: &[Take]) -> Result<(), WriteError> {
    let json = serde_json::to_vec(&TakesFile {
        format_version: FORMAT_VERSION,
        takes,
    })
    .map_err(|err| WriteError {
        path: path.to_path_buf(),
        source: std::io::Error::other(err),
    })?;
    files::write_atomic_with_backup(path, &json)
}
