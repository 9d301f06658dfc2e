//! The takes a composer works with: the list kept across restarts, which take is selected, new
//! takes and versions (generated, continued, a regenerated passage kept), deleting, undo / redo
//! between versions, and saving. Saving runs on a worker thread: the caller hands over a copy of
//! the list and goes on; the newest copy is written atomically (with `takes.json.bak`), and a
//! failure comes back as a message while the takes stay in memory.

use std::path::PathBuf;
use std::time::Duration;

use crate::base::worker::{Context, Stop, Worker, no_repaint};
use crate::compose::generate::Take;
use crate::compose::takes;
use crate::compose::versions::{Alternatives, History, tree_order};

/// How long the saver sleeps between looks at its queue; it wakes at once for a new list.
const SAVER_POLL: Duration = Duration::from_millis(200);

/// The takes, the selection and the version history (see the module documentation).
pub struct Workbench {
    takes: Vec<Take>,
    selected: Option<usize>,
    history: History,
    /// Takes deleted, newest last, with where they stood: Ctrl+Z brings them back.
    deleted: Vec<(usize, Take)>,
    /// The number the next new take gets: numbers are never reused while Cadenza runs, so a
    /// take keeps its number when others are deleted.
    next_id: u64,
    saver: Option<Worker<Vec<Take>, String, ()>>,
}

impl std::fmt::Debug for Workbench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbench")
            .field("takes", &self.takes.len())
            .field("selected", &self.selected)
            .field("saving", &self.saver.is_some())
            .finish()
    }
}

/// Why a request to the workbench did nothing, worded for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WorkbenchRefusal {
    /// No take is selected.
    #[error("select a take first")]
    NothingSelected,
    /// The take a version was made from is gone.
    #[error("the take was deleted meanwhile")]
    ParentGone,
    /// Undo from a take that is no version of another.
    #[error("nothing to undo: this take is not a version of another")]
    NothingToUndo,
    /// Redo with no version made from the selected take.
    #[error("nothing to redo")]
    NothingToRedo,
}

impl Workbench {
    /// The takes kept in `file` (`None`: nothing is kept between runs), and what the user should
    /// be told about takes that could not be read.
    pub fn open(file: Option<PathBuf>) -> (Self, Option<String>) {
        let loaded = file.as_deref().map(takes::load).unwrap_or_default();
        let next_id = loaded.takes.iter().map(|t| t.id).max().unwrap_or(0) + 1;
        let bench = Self {
            takes: loaded.takes,
            selected: None,
            history: History::default(),
            deleted: Vec::new(),
            next_id,
            saver: file.map(spawn_saver),
        };
        (bench, loaded.problem)
    }

    /// Every take, oldest first.
    pub fn takes(&self) -> &[Take] {
        &self.takes
    }

    /// Whether takes are kept between runs (there is a data folder).
    pub fn keeps_takes(&self) -> bool {
        self.saver.is_some()
    }

    /// The selected take's index.
    pub fn selected_index(&self) -> Option<usize> {
        self.selected
    }

    /// The selected take.
    pub fn selected(&self) -> Option<&Take> {
        self.selected.and_then(|i| self.takes.get(i))
    }

    /// Selects the take at `index`; returns it.
    pub fn select(&mut self, index: usize) -> Option<&Take> {
        self.selected = (index < self.takes.len()).then_some(index);
        self.selected()
    }

    /// The takes in tree order with their depth (see [`tree_order`]).
    pub fn tree_order(&self) -> Vec<(usize, usize)> {
        tree_order(&self.takes)
    }

    /// Adds newly made takes (a generation's variations, or versions of a take: they carry their
    /// parent and operation), selects the first and saves; returns its index.
    pub fn add(&mut self, new: Vec<Take>) -> Option<usize> {
        let first = self.takes.len();
        if new.iter().any(|take| take.parent.is_some()) {
            self.history.forget();
        }
        for mut take in new {
            take.id = self.next_id;
            self.next_id += 1;
            self.takes.push(take);
        }
        self.save();
        self.select(first).map(|_| first)
    }

    /// Keeps candidate `rank` of `alternatives` as a new version of its take; returns its index.
    pub fn keep(
        &mut self,
        alternatives: &Alternatives,
        rank: usize,
    ) -> Result<usize, WorkbenchRefusal> {
        let parent = self
            .takes
            .iter()
            .find(|t| t.id == alternatives.origin.parent)
            .ok_or(WorkbenchRefusal::ParentGone)?;
        let child = alternatives
            .child(parent, rank)
            .ok_or(WorkbenchRefusal::ParentGone)?;
        self.add(vec![child]).ok_or(WorkbenchRefusal::ParentGone)
    }

    /// Deletes the take at `index` (its versions stay, as takes of their own) and saves; Ctrl+Z
    /// ([`Workbench::undo`]) brings it back. Returns its number.
    pub fn delete(&mut self, index: usize) -> Option<u64> {
        if index >= self.takes.len() {
            return None;
        }
        let take = self.takes.remove(index);
        let id = take.id;
        self.selected = match self.selected {
            Some(s) if s == index => None,
            Some(s) if s > index => Some(s - 1),
            other => other,
        };
        self.deleted.push((index, take));
        self.save();
        Some(id)
    }

    /// Whether Ctrl+Z would bring back a deleted take (rather than step between versions).
    pub fn can_restore(&self) -> bool {
        !self.deleted.is_empty()
    }

    /// Ctrl+Z: brings back the take deleted last, where it stood, and selects it; with nothing
    /// deleted, selects the version the selected take was made from. Returns the index selected.
    pub fn undo(&mut self) -> Result<usize, WorkbenchRefusal> {
        if let Some((index, take)) = self.deleted.pop() {
            let index = index.min(self.takes.len());
            self.takes.insert(index, take);
            self.save();
            return self
                .select(index)
                .map(|_| index)
                .ok_or(WorkbenchRefusal::NothingSelected);
        }
        let index = self.selected.ok_or(WorkbenchRefusal::NothingSelected)?;
        let id = self
            .history
            .undo(&self.takes, &self.takes[index])
            .ok_or(WorkbenchRefusal::NothingToUndo)?;
        self.select_id(id).ok_or(WorkbenchRefusal::NothingToUndo)
    }

    /// Ctrl+Shift+Z: forward to the version undone (or the newest made from the selected take).
    pub fn redo(&mut self) -> Result<usize, WorkbenchRefusal> {
        let index = self.selected.ok_or(WorkbenchRefusal::NothingSelected)?;
        let id = self
            .history
            .redo(&self.takes, &self.takes[index])
            .ok_or(WorkbenchRefusal::NothingToRedo)?;
        self.select_id(id).ok_or(WorkbenchRefusal::NothingToRedo)
    }

    fn select_id(&mut self, id: u64) -> Option<usize> {
        let index = self.takes.iter().position(|t| t.id == id)?;
        self.select(index).map(|_| index)
    }

    /// Hands a copy of the list to the saver.
    fn save(&self) {
        if let Some(saver) = &self.saver {
            saver.send(self.takes.clone());
        }
    }

    /// Messages of saves that failed since the last call (the takes stay in memory).
    pub fn save_problems(&mut self) -> Vec<String> {
        let Some(saver) = &mut self.saver else {
            return Vec::new();
        };
        saver
            .drain()
            .into_iter()
            .filter_map(|event| match event {
                crate::base::worker::Event::Update(message) => Some(message),
                crate::base::worker::Event::Failed { message } => Some(message),
                _ => None,
            })
            .collect()
    }
}

/// The saver: writes the newest list it was given, until the workbench is dropped (then it writes
/// what is still queued before the thread ends, so closing the app loses nothing).
fn spawn_saver(file: PathBuf) -> Worker<Vec<Take>, String, ()> {
    Worker::spawn(
        "cadenza-takes",
        no_repaint(),
        move |ctx: &Context<Vec<Take>, String>| {
            loop {
                let newest = match ctx.wait_command(SAVER_POLL) {
                    Some(list) => std::iter::from_fn(|| ctx.try_command())
                        .last()
                        .or(Some(list)),
                    None => std::iter::from_fn(|| ctx.try_command()).last(),
                };
                if let Some(list) = newest {
                    write(&file, &list, ctx);
                }
                if ctx.is_cancelled() {
                    if let Some(list) = std::iter::from_fn(|| ctx.try_command()).last() {
                        write(&file, &list, ctx);
                    }
                    return Ok::<(), Stop>(());
                }
            }
        },
    )
}

fn write(file: &std::path::Path, list: &[Take], ctx: &Context<Vec<Take>, String>) {
    if let Err(err) = takes::save(file, list) {
        tracing::warn!("{err}");
        ctx.update(format!(
            "Could not save the takes (they stay open here): {err}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::generate::Operation;

    fn take(seed: u64) -> Take {
        Take {
            seed,
            ..Take::default()
        }
    }

    #[test]
    fn takes_added_to_the_workbench_are_saved_off_the_callers_thread_and_reload() {
        let dir = std::env::temp_dir().join(format!("cadenza-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let file = dir.join("takes.json");
        {
            let (mut bench, problem) = Workbench::open(Some(file.clone()));
            assert!(problem.is_none() && bench.takes().is_empty());
            assert_eq!(bench.add(vec![take(1), take(2)]), Some(0));
            let first = bench.takes()[0].id;
            let version = Take {
                parent: Some(first),
                operation: Operation::Continue { from_s: 1.0 },
                ..take(3)
            };
            assert_eq!(bench.add(vec![version]), Some(2));
            assert_eq!(bench.undo(), Ok(0));
            assert_eq!(bench.redo(), Ok(2));
            bench.delete(1);
            assert_eq!(bench.takes().len(), 2);
        }
        // Dropped: the saver wrote the newest list before its thread ended.
        let (bench, _) = Workbench::open(Some(file));
        let seeds: Vec<u64> = bench.takes().iter().map(|t| t.seed).collect();
        assert_eq!(seeds, [1, 3]);
        assert_eq!(bench.takes()[1].parent, Some(bench.takes()[0].id));
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }

    #[test]
    fn a_deleted_take_comes_back_with_undo_and_takes_keep_their_numbers() {
        let (mut bench, _) = Workbench::open(None);
        bench.add(vec![take(1), take(2), take(3)]);
        let numbers = |bench: &Workbench| bench.takes().iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(numbers(&bench), [1, 2, 3]);
        bench.select(2);
        assert_eq!(bench.delete(1), Some(2));
        assert_eq!(numbers(&bench), [1, 3], "the others keep their numbers");
        assert_eq!(
            bench.selected().map(|t| t.id),
            Some(3),
            "the selection stays on its take"
        );
        assert!(bench.can_restore());
        assert_eq!(bench.undo(), Ok(1), "back where it stood, selected");
        assert_eq!(numbers(&bench), [1, 2, 3]);
        assert!(!bench.can_restore());
        bench.delete(2);
        bench.add(vec![take(4)]);
        assert_eq!(numbers(&bench), [1, 2, 4], "a number is never given twice");
    }

    #[test]
    fn a_save_that_fails_is_reported_and_the_takes_stay() {
        let dir = std::env::temp_dir().join(format!("cadenza-bench-fail-{}", std::process::id()));
        let file = dir.join("missing-folder").join("takes.json");
        let (mut bench, _) = Workbench::open(Some(file));
        bench.add(vec![take(1)]);
        let problems = (0..100)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                bench.save_problems()
            })
            .find(|p| !p.is_empty())
            .expect("reported");
        assert!(
            problems[0].contains("Could not save the takes"),
            "{problems:?}"
        );
        assert_eq!(bench.takes().len(), 1);
    }
}
