//! A take's versions: the tree the takes list shows (each version under the take it was made
//! from), undo / redo between a version and its parent, and the candidates of a regenerated
//! passage waiting to be kept as a new version.

use crate::compose::generate::{Operation, SamplingSettings, Take};
use crate::compose::regenerate::{self, Candidate, Parts, Passage};
use crate::music::encoding::to_step;
use crate::music::form::SectionTime;
use crate::music::meter::Grid;
use crate::music::midi::{self, Note};
use crate::music::plan::ControlPlan;

/// The take, passage and settings a regeneration is for.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The take redone.
    pub parent: u64,
    /// The passage.
    pub passage: Passage,
    /// The take split around it.
    pub parts: Parts,
    /// The sampling settings used.
    pub settings: SamplingSettings,
    /// The controls asked for.
    pub controls: ControlPlan,
    /// Where the passage is a section of the take's form that comes back: the repeats that
    /// follow it.
    pub follow: Option<Follow>,
    /// The checkpoint (stem) the candidates are sampled with, which the kept version records:
    /// the take's own unless the caller chose another ([`Take::model_for_version`]).
    pub checkpoint: String,
}

impl Origin {
    /// Redoing `passage` of `take` with these settings; when the passage is a section of the
    /// take's form (to the 10-ms step) that comes back later, its repeats follow it.
    pub fn new(
        take: &Take,
        passage: Passage,
        settings: SamplingSettings,
        controls: ControlPlan,
    ) -> Self {
        Self {
            parent: take.id,
            passage,
            parts: regenerate::split(&take.notes, passage),
            settings,
            controls,
            follow: Follow::of_section(take, passage),
            checkpoint: take.checkpoint.clone(),
        }
    }
}

/// A redone section and the repeats of it later in the take, which are copied from it anew.
#[derive(Debug, Clone)]
pub struct Follow {
    section: SectionTime,
    repeats: Vec<SectionTime>,
    grid: Grid,
}

impl Follow {
    /// The section `passage` is, if it is one with repeats.
    fn of_section(take: &Take, passage: Passage) -> Option<Self> {
        let sections = take.sections();
        let same = |a: f64, b: f64| to_step(a) == to_step(b);
        let index = sections
            .iter()
            .position(|s| same(s.start_s, passage.start_s) && same(s.end_s, passage.end_s))?;
        let repeats: Vec<SectionTime> = sections
            .iter()
            .filter(|s| s.model == Some(index))
            .cloned()
            .collect();
        let grid = take.grid.clone()?;
        (!repeats.is_empty()).then(|| Self {
            section: sections[index],
            repeats,
            grid,
        })
    }

    /// The repeats, as "A'" etc., for telling the composer what follows.
    pub fn repeats(&self) -> &[SectionTime] {
        &self.repeats
    }

    /// `notes` with each repeat replaced by a copy of the section, beat for beat.
    pub fn apply(&self, notes: Vec<Note>) -> Vec<Note> {
        let mut kept: Vec<Note> = notes
            .iter()
            .filter(|n| !self.repeats.iter().any(|r| r.contains(n.start_s)))
            .copied()
            .collect();
        for repeat in &self.repeats {
            kept.extend(self.section.copy_onto(&notes, repeat, &self.grid));
        }
        midi::sort_notes(&mut kept);
        kept
    }
}

/// Ranked candidates, best first, waiting to be auditioned or kept.
pub struct Alternatives {
    /// What they are for.
    pub origin: Origin,
    /// All candidates, best first.
    pub ranked: Vec<Candidate>,
    /// The one in the roll now.
    pub auditioned: Option<usize>,
}

impl Alternatives {
    /// The take the candidate of `rank` makes: a child of the parent, recording the passage.
    pub fn child(&self, parent: &Take, rank: usize) -> Option<Take> {
        let candidate = self.ranked.get(rank)?;
        let passage = self.origin.passage;
        Some(Take {
            id: 0,
            parent: Some(parent.id),
            operation: Operation::Regenerate {
                start_s: passage.start_s,
                end_s: passage.end_s,
                candidates: self.ranked.len(),
                rank,
                score: candidate.score,
            },
            notes: match &self.origin.follow {
                Some(follow) => follow.apply(candidate.assemble(&self.origin.parts)),
                None => candidate.assemble(&self.origin.parts),
            },
            seed: candidate.seed,
            settings: self.origin.settings,
            controls: self.origin.controls.clone(),
            checkpoint: self.origin.checkpoint.clone(),
            events: 0,
            events_per_s: 0.0,
            ..parent.clone()
        })
    }
}

/// The takes in tree order: each take followed by its versions (depth first), with its depth. A
/// take whose parent was deleted is a root, and so is the first take met of versions whose
/// parents form a cycle (a damaged file), so no take is ever left out. Linear in the takes.
pub fn tree_order(takes: &[Take]) -> Vec<(usize, usize)> {
    let index_of: std::collections::HashMap<u64, usize> =
        takes.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); takes.len()];
    let mut roots = Vec::new();
    for (index, take) in takes.iter().enumerate() {
        match take.parent.and_then(|p| index_of.get(&p)) {
            Some(&parent) if parent != index => children[parent].push(index),
            _ => roots.push(index),
        }
    }
    let mut order = Vec::with_capacity(takes.len());
    let mut visited = vec![false; takes.len()];
    let mut visit = |root: usize, order: &mut Vec<(usize, usize)>| {
        let mut stack = vec![(root, 0)];
        while let Some((index, depth)) = stack.pop() {
            if std::mem::replace(&mut visited[index], true) {
                continue;
            }
            order.push((index, depth));
            stack.extend(children[index].iter().rev().map(|&c| (c, depth + 1)));
        }
    };
    for root in roots {
        visit(root, &mut order);
    }
    // Whatever is left hangs in a cycle: start from its first take.
    for index in 0..takes.len() {
        visit(index, &mut order);
    }
    order
}

/// Undo / redo between versions: undo selects the parent, redo comes back down.
#[derive(Debug, Default)]
pub struct History {
    redo: Vec<u64>,
}

impl History {
    /// The take to select for Ctrl+Z from `current`: its parent, remembering where it came from.
    pub fn undo(&mut self, takes: &[Take], current: &Take) -> Option<u64> {
        let parent = current
            .parent
            .filter(|p| takes.iter().any(|t| t.id == *p))?;
        self.redo.push(current.id);
        Some(parent)
    }

    /// The take to select for Ctrl+Shift+Z from `current`: the version undone from, or else the
    /// newest version made from it.
    pub fn redo(&mut self, takes: &[Take], current: &Take) -> Option<u64> {
        while let Some(id) = self.redo.pop() {
            if takes
                .iter()
                .any(|t| t.id == id && t.parent == Some(current.id))
            {
                return Some(id);
            }
        }
        takes
            .iter()
            .rev()
            .find(|t| t.parent == Some(current.id))
            .map(|t| t.id)
    }

    /// A new version was made: what was undone is no longer the way forward.
    pub fn forget(&mut self) {
        self.redo.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(id: u64, parent: Option<u64>) -> Take {
        Take {
            id,
            parent,
            seed: id,
            ..Take::default()
        }
    }

    #[test]
    fn a_kept_candidate_records_the_model_it_was_sampled_with() {
        let parent = Take {
            checkpoint: "models/bach-fine-tuned".to_string(),
            notes: vec![Note {
                pitch: 60,
                start_s: 0.0,
                end_s: 4.0,
                velocity: 80,
            }],
            ..take(1, None)
        };
        let passage = Passage {
            start_s: 1.0,
            end_s: 2.0,
        };
        let mut origin = Origin::new(
            &parent,
            passage,
            SamplingSettings::default(),
            ControlPlan::default(),
        );
        assert_eq!(
            origin.checkpoint, parent.checkpoint,
            "the take's own by default"
        );
        origin.checkpoint = "starter".to_string();
        let alternatives = Alternatives {
            origin,
            ranked: vec![Candidate {
                notes: Vec::new(),
                score: 0.0,
                scored_events: 0,
                seed: 3,
            }],
            auditioned: None,
        };
        let child = alternatives.child(&parent, 0).expect("a version");
        assert_eq!(child.checkpoint, "starter");
    }

    #[test]
    fn takes_whose_versions_form_a_cycle_are_listed_and_deep_chains_are_ordered() {
        // 1 -> 2 -> 3 -> 1, and 4 a root.
        let takes = vec![
            take(1, Some(3)),
            take(2, Some(1)),
            take(3, Some(2)),
            take(4, None),
        ];
        let order: Vec<u64> = tree_order(&takes)
            .iter()
            .map(|&(i, _)| takes[i].id)
            .collect();
        assert_eq!(order, [4, 1, 2, 3]);

        let chain: Vec<Take> = (1..=20_000)
            .map(|id| take(id, (id > 1).then(|| id - 1)))
            .collect();
        let order = tree_order(&chain);
        assert_eq!(order.len(), 20_000);
        assert_eq!(order.last(), Some(&(19_999, 19_999)));
    }

    #[test]
    fn versions_follow_their_parents_and_undo_redo_walks_the_tree() {
        let takes = vec![
            take(1, None),
            take(2, None),
            take(3, Some(1)),
            take(4, Some(3)),
            take(5, Some(1)),
            take(6, Some(99)),
        ];
        let order: Vec<(u64, usize)> = tree_order(&takes)
            .into_iter()
            .map(|(i, depth)| (takes[i].id, depth))
            .collect();
        assert_eq!(order, vec![(1, 0), (3, 1), (4, 2), (5, 1), (2, 0), (6, 0)]);
        let mut history = History::default();
        assert_eq!(history.undo(&takes, &takes[3]), Some(3));
        assert_eq!(history.undo(&takes, &takes[2]), Some(1));
        assert_eq!(
            history.undo(&takes, &takes[0]),
            None,
            "a root has no parent"
        );
        assert_eq!(history.redo(&takes, &takes[0]), Some(3));
        assert_eq!(history.redo(&takes, &takes[2]), Some(4));
        // With nothing undone, redo goes to the newest version.
        assert_eq!(history.redo(&takes, &takes[0]), Some(5));
    }
}
