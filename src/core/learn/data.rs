//! Training data: a corpus's pieces encoded once, with augmentation (time-stretched encodings,
//! transposition on the fly) and the controls for steerable training.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::learn::eval::{self, EvalPiece};
use crate::model::checkpoint::{CorpusInfo, Validation};
use crate::music::controls::{ControlTrack, ControlsMeta, KeyProfiles};
use crate::music::corpus::{Corpus, Split};
use crate::music::encoding::{self, Encoding, EventId};
use crate::music::meter::Grid;

/// Time-stretch factors of the encodings kept per training piece (Magenta's 0.95…1.05 range).
const STRETCH_FACTORS: [f64; 3] = [1.0, 0.95, 1.05];
/// An encoded sequence as training reads it: the start event, the piece's events, and the
/// controls of every position (computed from these very events, so after time-stretching).
#[derive(Debug, Clone)]
pub(super) struct Sequence {
    pub(super) events: Vec<EventId>,
    pub(super) controls: ControlTrack,
}

impl Sequence {
    fn of_events(events: &[EventId], grid: Option<&Grid>) -> Self {
        let events = eval::model_sequence(Encoding::CURRENT, events);
        let controls = ControlTrack::of_events(&events, grid);
        Self { events, controls }
    }
}

/// One training piece: its encodings at each stretch factor, and its composer (its style).
#[derive(Debug, Clone)]
pub(super) struct TrainPiece {
    pub(super) variants: Vec<Sequence>,
    pub(super) composer: Option<String>,
}

/// The training and validation data, prepared once (encoded, stretched, controls computed) and
/// shared read-only.
#[derive(Debug, Clone)]
pub struct TrainData {
    pub(super) train: Vec<TrainPiece>,
    pub(super) valid: Vec<(Sequence, Option<String>)>,
    /// Description of the corpus, stored in checkpoints.
    pub corpus: CorpusInfo,
    /// What a requested key means in this corpus.
    pub key_profiles: KeyProfiles,
}

impl TrainData {
    /// Prepares a corpus for training: training pieces with their stretched encodings, validation
    /// pieces as they are, each with its controls.
    pub fn from_corpus(corpus: &Corpus) -> Self {
        let train: Vec<TrainPiece> = corpus
            .split(Split::Train)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|piece| TrainPiece {
                variants: STRETCH_FACTORS
                    .iter()
                    .map(|&factor| {
                        if factor == 1.0 {
                            Sequence::of_events(&piece.events, piece.piece.usable_grid())
                        } else {
                            let stretched = encoding::stretch(&piece.piece, factor);
                            Sequence::of_events(
                                &encoding::encode_piece(&stretched),
                                stretched.usable_grid(),
                            )
                        }
                    })
                    .collect(),
                composer: piece.composer.clone(),
            })
            .collect();
        let valid: Vec<(Sequence, Option<String>)> = corpus
            .split(Split::Valid)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|p| {
                let sequence = Sequence::of_events(&p.events, p.piece.usable_grid());
                (sequence, p.composer.clone())
            })
            .collect();
        let sounding: Vec<Vec<crate::music::midi::Note>> = corpus
            .split(Split::Train)
            .map(|p| crate::music::midi::apply_sustain(&p.piece))
            .collect();
        let key_profiles = KeyProfiles::of_pieces(sounding.iter().map(Vec::as_slice));
        let corpus_info = CorpusInfo {
            path: corpus.root.display().to_string(),
            fingerprint: fingerprint(corpus),
            train_pieces: train.len(),
            valid_pieces: valid.len(),
            train_events: train.iter().map(|p| p.variants[0].events.len() - 1).sum(),
            valid_events: valid.iter().map(|(v, _)| v.events.len() - 1).sum(),
        };
        Self {
            train,
            valid,
            corpus: corpus_info,
            key_profiles,
        }
    }

    /// The training pieces' composers, sorted and without repeats: the style labels of a new model.
    pub fn styles(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&String> = self
            .train
            .iter()
            .filter_map(|p| p.composer.as_ref())
            .collect();
        set.into_iter().cloned().collect()
    }

    /// Each training piece's encodings, one per time-stretch factor (the first unstretched), as
    /// the model reads them (after the start event).
    pub fn train_variants(&self) -> impl Iterator<Item = Vec<&[EventId]>> {
        self.train
            .iter()
            .map(|piece| piece.variants.iter().map(|v| v.events.as_slice()).collect())
    }

    /// Validation pieces as `validation` scores them: with every control absent, or with each
    /// piece's own grid and lookback for a model (`controls`) that reads the grid.
    pub fn valid_pieces_for(
        &self,
        validation: Validation,
        controls: Option<&ControlsMeta>,
    ) -> Vec<EvalPiece<'_>> {
        match (validation, controls) {
            (Validation::OwnGrid, Some(meta)) if meta.reads_meter() => self
                .valid_pieces(Some(meta))
                .into_iter()
                .map(|piece| EvalPiece {
                    meter_only: true,
                    style: 0,
                    ..piece
                })
                .collect(),
            _ => self.valid_pieces(None),
        }
    }

    /// Validation pieces, to score with `controls` (their own controls and the style row
    /// `controls` gives their composer) or with every control absent (`None`).
    pub fn valid_pieces(&self, controls: Option<&ControlsMeta>) -> Vec<EvalPiece<'_>> {
        self.valid
            .iter()
            .map(|(sequence, composer)| match controls {
                None => EvalPiece::plain(&sequence.events),
                Some(meta) => EvalPiece {
                    events: &sequence.events,
                    controls: Some(&sequence.controls),
                    meter_only: false,
                    style: composer
                        .as_deref()
                        .and_then(|c| meta.style_index(c))
                        .unwrap_or(0),
                },
            })
            .collect()
    }
}

/// A hash of every piece's relative path and events: equal fingerprints mean equal training data.
pub fn fingerprint(corpus: &Corpus) -> String {
    let mut hasher = Sha256::new();
    for piece in &corpus.pieces {
        hasher.update(piece.relative_path.as_bytes());
        hasher.update([0]);
        for id in &piece.events {
            hasher.update(id.to_le_bytes());
        }
    }
    format!("{:x}", hasher.finalize())[..16].to_string()
}
