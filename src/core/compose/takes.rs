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
    let bytes = files::read_bounded(path, MAX_FILE_BYTES).map_err(|err| err.to_string());
    match bytes.as_deref().map_err(Clone::clone).and_then(entries) {
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
        Err(reason) => recover(path, bytes.as_deref().unwrap_or_default(), &reason),
    }
}

/// A takes file that does not parse (a save cut short, a damaged disk), whose bytes are `damaged`
/// (none when it could not be read): the complete takes before the damage are kept, the backup
/// (`takes.json.bak`) adds the ones it holds beyond them, and the damaged file is moved aside, all
/// said in plain words.
fn recover(path: &Path, damaged: &[u8], reason: &str) -> Loaded {
    let mut takes = readable(complete_entries(&String::from_utf8_lossy(damaged)));
    let from_file = takes.len();
    let backup = files::with_suffix(path, ".bak");
    let known: std::collections::HashSet<u64> = takes.iter().map(|t| t.id).collect();
    if let Ok(entries) = files::read_bounded(&backup, MAX_FILE_BYTES)
        .map_err(|err| err.to_string())
        .and_then(|bytes| entries(&bytes))
    {
        takes.extend(
            readable(entries)
                .into_iter()
                .filter(|t| !known.contains(&t.id)),
        );
    }
    let from_backup = takes.len() - from_file;
    assign_ids(&mut takes);
    break_cycles(&mut takes);
    // serde's "EOF while parsing …" means the file stops partway: say so in plain words.
    let cause = if reason.contains("EOF") {
        "it ends partway, as when a save does not finish"
    } else {
        reason
    };
    let kept = match files::move_aside(path) {
        Ok(aside) => format!("the damaged file was kept as {}", aside.display()),
        Err(err) => format!("the damaged file could not be moved aside: {err}"),
    };
    let backup_part = if from_backup > 0 {
        format!(
            " and {from_backup} more from the backup {}",
            backup.display()
        )
    } else {
        String::new()
    };
    Loaded {
        takes,
        problem: Some(format!(
            "The takes file {} was damaged ({cause}): {from_file} complete takes were recovered from it{backup_part}; {kept}",
            path.display()
        )),
    }
}

/// The takes of `entries` that can be read.
fn readable(entries: Vec<serde_json::Value>) -> Vec<Take> {
    entries
        .into_iter()
        .filter_map(|entry| serde_json::from_value(entry).ok())
        .collect()
}

/// The complete take entries at the start of a damaged takes file: each whole object of its list,
/// up to the first one that is cut or broken.
fn complete_entries(text: &str) -> Vec<serde_json::Value> {
    let list_start = text
        .find("\"takes\":[")
        .map(|at| at + "\"takes\":[".len())
        .or_else(|| {
            text.trim_start()
                .starts_with('[')
                .then(|| text.find('[').map(|at| at + 1))
                .flatten()
        });
    let Some(start) = list_start else {
        return Vec::new();
    };
    let mut rest = &text[start..];
    let mut found = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(entry)) if entry.is_object() => {
                found.push(entry);
                rest = &rest[stream.byte_offset()..];
            }
            _ => return found,
        }
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
