//! Writing files so that a crash, a kill or a full disk never leaves a half-written file where a
//! good one was: every file Cadenza writes goes through [`write_atomic`].

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WriteError {
    /// The file (or its temporary) that failed.
    pub path: PathBuf,
    /// The operating system's error.
    pub source: std::io::Error,
}

fn at(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a whole regular file of at most `limit` bytes. Anything else (a folder, a device such as
/// `/dev/zero`, a FIFO, a larger file) is refused before a byte is read, with a readable reason.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    // Checked before opening: opening a FIFO blocks until someone writes to it.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if metadata.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} MB is over the {} MB limit",
                metadata.len() >> 20,
                limit >> 20
            ),
        ));
    }
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // The file may grow while it is read: never take more than the limit.
    std::io::Read::read_to_end(&mut std::io::Read::take(file, limit + 1), &mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the file grew past the size limit while it was read",
        ));
    }
    Ok(bytes)
}

/// Proves that `path` can be written before long work is done: a temporary file can be created
/// beside it. Nothing is left behind.
pub fn check_writable(path: &Path) -> Result<(), WriteError> {
    if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(WriteError {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "this is a folder; name a file inside it",
            ),
        });
    }
    let probe = Temporary::beside(path, ".probe")?;
    std::fs::File::create(probe.path()).map_err(at(probe.path()))?;
    Ok(())
}

/// `path` with `suffix` appended to its file name (`a.json` + `.bak` = `a.json.bak`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A temporary file beside `path` that is removed unless [`Temporary::commit`] renames it.
#[derive(Debug)]
pub struct Temporary {
    path: PathBuf,
    committed: bool,
}

impl Temporary {
    /// A temporary name beside `path`, unique to this process (its folder must exist).
    pub fn beside(path: &Path, extension: &str) -> Result<Self, WriteError> {
        let suffix = format!(".tmp-{}{extension}", std::process::id());
        Ok(Self {
            path: with_suffix(path, &suffix),
            committed: false,
        })
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the written file to disk and renames it to `destination`.
    pub fn commit(mut self, destination: &Path) -> Result<(), WriteError> {
        std::fs::File::open(&self.path)
            .and_then(|file| file.sync_all())
            .map_err(at(&self.path))?;
        std::fs::rename(&self.path, destination).map_err(at(destination))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed over it.
/// On failure nothing is left behind and the old file is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let temporary = Temporary::beside(path, "")?;
    std::fs::File::create(temporary.path())
        .and_then(|mut file| file.write_all(bytes))
        .map_err(at(temporary.path()))?;
    temporary.commit(path)
}

/// Like [`write_atomic`], but first keeps the current file as `path.bak` (a hard copy, so the
/// backup is the last version that was good enough to be saved).
pub fn write_atomic_with_backup(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    if path.is_file() {
        let backup = with_suffix(path, ".bak");
        std::fs::copy(path, &backup).map_err(at(&backup))?;
    }
    write_atomic(path, bytes)
}

/// Moves an unreadable file aside to `path.unreadable-<timestamp>` so that it is kept for the user
/// and the next save does not overwrite it; returns where it went.
pub fn move_aside(path: &Path) -> Result<PathBuf, WriteError> {
    let aside = unreadable_name(path);
    std::fs::rename(path, &aside).map_err(at(&aside))?;
    Ok(aside)
}

/// `path.unreadable-<timestamp>`: where an unreadable file (or a copy of it) is kept.
pub fn unreadable_name(path: &Path) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "-");
    with_suffix(path, &format!(".unreadable-{stamp}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("cadenza-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.json");
        write_atomic(&file, b"old").unwrap();
        // A folder where the temporary's folder should be: creating the temporary fails.
        let impossible = file.join("below-a-file.json");
        assert!(write_atomic(&impossible, b"new").is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"old");
        write_atomic_with_backup(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert_eq!(std::fs::read(with_suffix(&file, ".bak")).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_full_disk_is_an_error_and_leaves_nothing() {
        // /dev/full accepts the open and fails the write with ENOSPC; the rename then never happens.
        if !Path::new("/dev/full").exists() {
            return;
        }
        let err = std::fs::File::create("/dev/full")
            .and_then(|mut f| f.write_all(&[0; 1 << 16]).and_then(|()| f.sync_all()))
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    }
}
