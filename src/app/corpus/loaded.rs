//! A corpus parsed in the Corpus room: the pieces the composer includes, and the training data
//! and statistics prepared from them on a worker thread.

use std::sync::Arc;

use cadenza_core::corpus::{Corpus, Summary};
use cadenza_core::stats::CorpusProfile;
use cadenza_core::train::TrainData;
use cadenza_core::worker::Repaint;

use crate::app::intent::Intents;
use crate::app::job::Job;

/// A corpus parsed, with the composer's choice of pieces and what training and the statistics
/// need from them.
pub struct LoadedCorpus {
    /// The pieces, and those skipped.
    pub corpus: Arc<Corpus>,
    /// Counted once at load: summing every note each frame would stall the UI on big corpora.
    pub summary: Summary,
    /// Which pieces training uses (the table's checkboxes).
    pub included: Vec<bool>,
    /// Training data and profile of the included pieces; `None` while they are being prepared.
    pub prepared: Option<Prepared>,
    /// Preparation after the choice of pieces changed; a new choice supersedes it.
    pub preparing: Job<Prepared>,
}

/// What training and the take statistics need from the included pieces.
pub struct Prepared {
    /// The encoded training windows.
    pub data: Arc<TrainData>,
    /// The pieces' statistics, to compare takes with.
    pub profile: Arc<CorpusProfile>,
}

impl Prepared {
    /// Encodes the augmented training windows and profiles the pieces: a second or more on a
    /// large corpus, so it runs on a worker thread.
    fn of(corpus: &Corpus) -> Self {
        Self {
            data: Arc::new(TrainData::from_corpus(corpus)),
            profile: Arc::new(CorpusProfile::of_pieces(
                corpus.pieces.iter().map(|p| &p.piece),
            )),
        }
    }
}

impl LoadedCorpus {
    /// A corpus just parsed, every piece included, prepared at once (on the parse's thread).
    pub fn new(corpus: Corpus) -> Self {
        let prepared = Prepared::of(&corpus);
        Self {
            summary: corpus.summary(),
            included: vec![true; corpus.pieces.len()],
            corpus: Arc::new(corpus),
            prepared: Some(prepared),
            preparing: Job::default(),
        }
    }

    /// Gives the folder's one style another name (and prepares the training data again).
    pub fn rename_style(&mut self, to: &str, repaint: &Repaint) {
        let Some(from) = self.corpus.one_style().map(str::to_string) else {
            return;
        };
        Arc::make_mut(&mut self.corpus).rename_style(&from, to);
        self.summary = self.corpus.summary();
        self.reprepare(repaint);
    }

    /// Prepares the training data again after the choice of pieces changed.
    pub fn reprepare(&mut self, repaint: &Repaint) {
        let (corpus, included) = (Arc::clone(&self.corpus), self.included.clone());
        self.prepared = None;
        self.preparing
            .start("cadenza-prepare", repaint, move |ctx| {
                let subset = corpus.subset(|i| included[i]);
                ctx.check_cancelled()?;
                Ok(Prepared::of(&subset))
            });
    }

    /// Takes prepared training data; says why if it could not be prepared.
    pub fn poll(&mut self, intents: &mut Intents) {
        match self.preparing.poll() {
            Some(Ok(prepared)) => self.prepared = Some(prepared),
            Some(Err(message)) => {
                intents.tell(format!("Could not prepare the training data: {message}"))
            }
            None => {}
        }
    }
}
