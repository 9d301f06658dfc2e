//! One guard for every file Cadenza writes: an output may not be a file the same command reads,
//! nor lie in a protected folder (the shipped starter model's). Paths are compared by what they
//! lead to, not how they are spelled: by device and inode where the file exists, else by the
//! canonical folder plus the name (so `tiny`, `./tiny` and `/abs/ck/tiny` from inside `ck/` are
//! one file, and so are a symlink and its target).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// An output the guard refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputConflict {
    /// The output is a file the command reads.
    #[error("{} would overwrite {}, which this command reads", output.display(), input.display())]
    Input {
        /// The output as given.
        output: PathBuf,
        /// The input it would overwrite, as given.
        input: PathBuf,
    },
    /// The output lies in a folder that is never written.
    #[error("{} is in {}, which holds the shipped starter model and is never written", output.display(), folder.display())]
    Protected {
        /// The output as given.
        output: PathBuf,
        /// The protected folder.
        folder: PathBuf,
    },
}

/// What a path leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    /// Device and inode, where the file exists.
    inode: Option<(u64, u64)>,
    /// The canonical folder joined with the file name, where the folder exists.
    location: Option<PathBuf>,
}

impl Identity {
    fn of(path: &Path) -> Self {
        Self {
            inode: std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino())),
            location: location(path),
        }
    }

    fn same(&self, other: &Self) -> bool {
        fn both<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_some() && a == b
        }
        both(&self.inode, &other.inode) || both(&self.location, &other.location)
    }
}

/// The canonical folder of `path` (its parent, or the working directory for a bare name) joined
/// with its name.
fn location(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    folder.canonicalize().ok().map(|folder| folder.join(name))
}

/// The files a command reads and the folders it never writes; [`OutputGuard::check`] each output
/// against them before any work is done.
#[derive(Debug, Clone, Default)]
pub struct OutputGuard {
    inputs: Vec<(PathBuf, Identity)>,
    protected: Vec<(PathBuf, PathBuf)>,
}

impl OutputGuard {
    /// A guard that reads nothing and protects nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds files the command reads.
    pub fn reading<P: AsRef<Path>>(mut self, inputs: impl IntoIterator<Item = P>) -> Self {
        self.inputs.extend(inputs.into_iter().map(|input| {
            let input = input.as_ref();
            (input.to_path_buf(), Identity::of(input))
        }));
        self
    }

    /// Adds folders no output may be written into (a folder that does not exist protects nothing).
    pub fn protecting<P: AsRef<Path>>(mut self, folders: impl IntoIterator<Item = P>) -> Self {
        self.protected
            .extend(folders.into_iter().filter_map(|folder| {
                let folder = folder.as_ref();
                let canonical = folder.canonicalize().ok()?;
                Some((folder.to_path_buf(), canonical))
            }));
        self
    }

    /// Refuses `output` when it is one of the inputs or lies in a protected folder.
    pub fn check(&self, output: &Path) -> Result<(), OutputConflict> {
        let identity = Identity::of(output);
        if let Some((input, _)) = self.inputs.iter().find(|(_, i)| i.same(&identity)) {
            return Err(OutputConflict::Input {
                output: output.to_path_buf(),
                input: input.clone(),
            });
        }
        let folder = identity.location.as_deref().and_then(Path::parent);
        if let Some((given, _)) = self
            .protected
            .iter()
            .find(|(_, canonical)| Some(canonical.as_path()) == folder)
        {
            return Err(OutputConflict::Protected {
                output: output.to_path_buf(),
                folder: given.clone(),
            });
        }
        Ok(())
    }

    /// Checks every output in turn.
    pub fn check_all<P: AsRef<Path>>(
        &self,
        outputs: impl IntoIterator<Item = P>,
    ) -> Result<(), OutputConflict> {
        outputs
            .into_iter()
            .try_for_each(|output| self.check(output.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_recognised_however_its_path_is_spelled() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("tiny.json");
        std::fs::write(&file, "{}").expect("written");
        let guard = OutputGuard::new().reading([&file]);
        let spelled = dir.path().join(".").join("tiny.json");
        assert!(matches!(
            guard.check(&spelled),
            Err(OutputConflict::Input { .. })
        ));
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        assert!(guard.check(&link).is_err(), "a symlink to an input");
        assert!(guard.check(&dir.path().join("other.json")).is_ok());
    }

    #[test]
    fn an_input_that_does_not_exist_yet_is_matched_by_its_location() {
        let dir = tempfile::tempdir().expect("temp dir");
        let guard = OutputGuard::new().reading([dir.path().join("a").join("..").join("x.mid")]);
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        // The input's folder did not exist when it was added: only existing folders match.
        assert!(guard.check(&dir.path().join("x.mid")).is_ok());
        let guard = OutputGuard::new().reading([dir.path().join("a").join("..").join("x.mid")]);
        assert!(guard.check(&dir.path().join("x.mid")).is_err());
    }

    #[test]
    fn nothing_is_written_into_a_protected_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let models = dir.path().join("models");
        std::fs::create_dir(&models).expect("mkdir");
        let guard = OutputGuard::new().protecting([&models]);
        let err = guard
            .check(&models.join("new.json"))
            .expect_err("protected");
        assert!(err.to_string().contains("never written"), "{err}");
        assert!(guard.check(&dir.path().join("new.json")).is_ok());
    }
}
