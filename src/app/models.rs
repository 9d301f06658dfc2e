//! The model in use, the recent ones and the starter: what the model picker offers and what
//! generation and training start from.

use std::path::PathBuf;

/// Recent checkpoints kept in the model picker.
const RECENT_CHECKPOINTS: usize = 8;

/// The model in use and the ones used lately: what the model picker offers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Models {
    /// The checkpoint generation uses and training may continue.
    pub current: Option<PathBuf>,
    /// Recently used checkpoints, newest first.
    pub recent: Vec<PathBuf>,
    /// The installed starter model, found once at start-up.
    pub starter: Option<PathBuf>,
}

impl Models {
    /// The remembered choice, with the starter found on this machine: on a first run (or with
    /// a remembered starter that is gone, Cadenza moved or reinstalled) the starter is current,
    /// so a take is one click away.
    pub fn new(current: Option<PathBuf>, recent: Vec<PathBuf>, starter: Option<PathBuf>) -> Self {
        let moved_starter = current.as_deref().is_some_and(|path| {
            path.file_name()
                .is_some_and(|name| name == cadenza_core::starter::STEM_NAME)
                && !cadenza_core::checkpoint::meta_path(path).exists()
        });
        let current = if current.is_none() || moved_starter {
            starter.clone().or(current)
        } else {
            current
        };
        Self {
            current,
            recent,
            starter,
        }
    }

    /// Makes `path` current and the most recent.
    pub fn use_checkpoint(&mut self, path: PathBuf) {
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path.clone());
        self.recent.truncate(RECENT_CHECKPOINTS);
        self.current = Some(path);
    }

    /// The starter, then the recent checkpoints, each once: the model picker's list.
    pub fn choices(&self) -> Vec<PathBuf> {
        self.starter
            .iter()
            .chain(&self.recent)
            .fold(Vec::new(), |mut unique, path| {
                if !unique.contains(path) {
                    unique.push(path.clone());
                }
                unique
            })
    }
}

#[cfg(test)]
mod tests {
    use super::Models;

    #[test]
    fn the_model_picker_offers_the_starter_first_and_each_checkpoint_once() {
        let starter = std::path::PathBuf::from("/opt/cadenza/starter");
        let mut models = Models::new(None, Vec::new(), Some(starter.clone()));
        assert_eq!(models.current.as_ref(), Some(&starter), "a first run");
        models.use_checkpoint("/a".into());
        models.use_checkpoint(starter.clone());
        models.use_checkpoint("/a".into());
        assert_eq!(models.choices(), vec![starter, "/a".into()]);
    }
}
