//! What a run keeps: validation scores, its best weights, and saves (rescued elsewhere when
//! the checkpoint cannot be written).

use std::path::PathBuf;
use std::time::Instant;

use super::options::TrainError;
use super::progress::{Command, Progress};
use super::setup::{restore_weights, store_weights};
use super::trainer::{SUBSET_EVENTS, SUBSET_PIECES, Trainer};
use crate::learn::eval::{self, EvalPiece};
use crate::model::checkpoint::{self, ValidPoint};
use crate::model::naming::{best_stem, worse_stem};

impl Trainer<'_> {
    /// Scores validation pieces (all of them, or the fixed cheap subset) and reports the loss.
    pub(super) fn validate(&mut self, full: bool) {
        let pieces = self
            .data
            .valid_pieces_for(self.options.validation, self.meta.controls.as_ref());
        let subset: Vec<EvalPiece> = pieces
            .iter()
            .take(SUBSET_PIECES)
            .map(|p| EvalPiece {
                events: &p.events[..p.events.len().min(SUBSET_EVENTS)],
                ..*p
            })
            .collect();
        let chosen = if full { &pieces } else { &subset };
        // Commands are read between windows: a Stop (Ctrl-C, SIGTERM, the app's button) during
        // a validation of many pieces (20 s and more for a fine-tune's first) is answered at once.
        let arrived = std::cell::RefCell::new(Vec::new());
        let interrupted = || {
            let mut arrived = arrived.borrow_mut();
            arrived.extend(std::iter::from_fn(|| self.ctx.try_command()));
            self.ctx.is_cancelled() || arrived.contains(&Command::Stop)
        };
        let score = eval::score_pieces_unless(
            &self.model,
            chosen,
            self.settings.seq_len,
            self.device.device,
            &interrupted,
        );
        self.pending.extend(arrived.into_inner());
        let Some(score) = score else {
            self.stopped_while_validating = true;
            return;
        };
        let loss = score.nll_per_event();
        if full {
            self.meta.valid_nll = Some(loss);
            self.keep_best(loss);
        }
        self.meta.history.valid.push(ValidPoint {
            step: self.meta.step,
            loss,
            full,
        });
        self.ctx.update(Progress::Valid {
            step: self.meta.step,
            valid_loss: loss,
            perplexity: loss.exp(),
            full,
        });
    }

    /// A run with early stopping ends on its best validated weights, not on the last ones (an
    /// early stop ends past the best by design; a time limit may end on a worse epoch).
    pub(super) fn restore_best_weights(&mut self) {
        let Some(best) = &self.best_weights else {
            return;
        };
        if self
            .meta
            .valid_nll
            .is_some_and(|now| now <= self.run.best_full_valid)
        {
            return;
        }
        restore_weights(best, &self.vars);
        self.meta.valid_nll = Some(self.run.best_full_valid);
    }

    /// Brings the description's record of this run up to date before a save.
    pub(super) fn stamp_provenance(&mut self) {
        let provenance = &mut self.meta.provenance;
        provenance.training_seconds = self.earlier_seconds + self.run.active_seconds();
        provenance.device = Some(self.device.description.clone());
        provenance.validation = self.options.validation;
        if self.options.command.is_some() {
            provenance.command.clone_from(&self.options.command);
        }
    }

    /// Saves to `out` (or beside it, while a resumed run is worse than where it started); a
    /// failed save writes the weights to the rescue folder instead and ends the run.
    pub(super) fn save(&mut self) -> Result<(), TrainError> {
        self.stamp_provenance();
        let target = self.save_target();
        if let Err(error) = checkpoint::save(&target, &self.vars, &mut self.meta) {
            return Err(match self.rescue() {
                Some(rescued) => TrainError::Rescued { error, rescued },
                None => TrainError::Checkpoint(error),
            });
        }
        self.run.last_save = Instant::now();
        tracing::info!(step = self.meta.step, path = %target.display(), valid_nll = ?self.meta.valid_nll, "saved checkpoint");
        self.ctx.update(Progress::Checkpoint {
            step: self.meta.step,
            path: target.display().to_string(),
        });
        if target != self.options.out {
            self.ctx.update(Progress::Warning {
                message: format!(
                    "the validation loss is worse than the checkpoint this run resumed ({}): it is kept, and these weights were saved to {} (a run told to replace worse results overwrites it)",
                    self.protected_nll.map_or("—".to_string(), |v| format!("{v:.4}")),
                    target.display()
                ),
            });
        }
        Ok(())
    }

    pub(super) fn save_target(&self) -> PathBuf {
        match (self.protected_nll, self.meta.valid_nll) {
            (Some(old), Some(new)) if new <= old => self.options.out.clone(),
            (Some(_), _) => worse_stem(&self.options.out),
            (None, _) => self.options.out.clone(),
        }
    }

    /// Writes the weights to the rescue folder; returns where, if that worked.
    pub(super) fn rescue(&mut self) -> Option<PathBuf> {
        let name = self.options.out.file_name()?.to_string_lossy().to_string();
        let stem = self
            .options
            .rescue_dir
            .as_ref()?
            .join(format!("{name}-rescued-step-{}", self.meta.step));
        checkpoint::save(&stem, &self.vars, &mut self.meta).ok()?;
        Some(stem)
    }

    /// After a full validation: keeps the best weights of the run as `P.best`.
    pub(super) fn keep_best(&mut self, loss: f64) {
        // A NaN never counts as better.
        if loss.partial_cmp(&self.run.best_full_valid) != Some(std::cmp::Ordering::Less) {
            self.run.full_valids_without_improvement += 1;
            return;
        }
        self.run.best_full_valid = loss;
        self.run.full_valids_without_improvement = 0;
        // Only a run with early stopping ends on its best weights, so only it keeps them.
        if self.options.limits.early_stop_patience.is_some() {
            let best = self.best_weights.get_or_insert_with(Vec::new);
            store_weights(&self.vars, best);
        }
        self.stamp_provenance();
        let best = best_stem(&self.options.out);
        if let Err(err) = checkpoint::save(&best, &self.vars, &mut self.meta) {
            self.ctx.update(Progress::Warning {
                message: format!("could not keep the best weights: {err}"),
            });
        }
    }
}
