//! Writing a take to a form: each new section sampled on from everything before it, each repeat
//! copied from its model section bar for bar and then varied by regenerating some of its bars
//! (a passage redone with the music after it as guidance, as *Regenerate selection* does), so
//! the theme comes back recognisably and not note for note.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use tch::Device;

use crate::model::EventLstm;
use crate::music::form::{Form, SectionTime};
use crate::music::meter::Grid;
use crate::music::midi::{self, Note};

use super::primer::Primer;
use super::regenerate::{self, Passage};
use super::sampler::{SampledPiece, Update, sample};
use super::settings::{GenerateError, Length, SamplingSettings};
use super::steering::Steering;

/// Candidates sampled for each varied passage of a repeat.
const VARIATION_CANDIDATES: usize = 4;

/// Samples the pieces `steering`'s plan asks for: to its form when it has one
/// ([`sample_form`]), else straight through ([`sample`]). `None` if cancelled.
pub fn sample_take(
    model: &EventLstm,
    steering: &Steering,
    device: Device,
    settings: &SamplingSettings,
    primer: &Primer,
    observe: &mut dyn FnMut(Update),
    cancel: &AtomicBool,
) -> Result<Option<Vec<SampledPiece>>, GenerateError> {
    match &steering.plan().form {
        Some(form) => sample_form(
            model, steering, device, settings, primer, form, observe, cancel,
        ),
        None => sample(model, steering, device, settings, primer, observe, cancel),
    }
}

/// Samples one piece per seed of `settings` to `form`, after `primer`, on the steering's grid.
/// `None` if cancelled.
#[allow(clippy::too_many_arguments)]
fn sample_form(
    model: &EventLstm,
    steering: &Steering,
    device: Device,
    settings: &SamplingSettings,
    primer: &Primer,
    form: &Form,
    observe: &mut dyn FnMut(Update),
    cancel: &AtomicBool,
) -> Result<Option<Vec<SampledPiece>>, GenerateError> {
    let grid = steering.grid().ok_or_else(|| {
        GenerateError::InvalidSettings("a form needs a model that reads the bar grid".to_string())
    })?;
    let spans = form.on_grid(grid, primer.end_s);
    let started = Instant::now();
    let mut pieces = Vec::new();
    for (variation, seed) in settings.seeds().into_iter().enumerate() {
        let one = SamplingSettings {
            seed,
            variations: 1,
            ..*settings
        };
        let mut writer = FormWriter {
            model,
            steering,
            device,
            settings: one,
            grid,
            cancel,
            notes: primer.notes.clone(),
            events: 0,
        };
        for (index, span) in spans.iter().enumerate() {
            let done = match span.model {
                None => writer.sample_section(span)?,
                Some(model_index) => writer.repeat_section(span, &spans[model_index], index)?,
            };
            if !done {
                return Ok(None);
            }
            observe(Update::Progress {
                events: writer.events,
                fraction: (pieces.len() * spans.len() + index + 1) as f64
                    / (settings.variations * spans.len()) as f64,
                eta_s: None,
                events_per_s: writer.events as f64 / started.elapsed().as_secs_f64().max(1e-9),
            });
        }
        midi::sort_notes(&mut writer.notes);
        observe(Update::Notes {
            variation,
            notes: writer.notes.clone(),
        });
        pieces.push(SampledPiece {
            seed,
            events_per_s: writer.events as f64 / started.elapsed().as_secs_f64().max(1e-9),
            events: writer.events,
            notes: writer.notes,
        });
    }
    Ok(Some(pieces))
}

/// One piece being written section by section.
struct FormWriter<'a> {
    model: &'a EventLstm,
    steering: &'a Steering,
    device: Device,
    settings: SamplingSettings,
    grid: &'a Grid,
    cancel: &'a AtomicBool,
    notes: Vec<Note>,
    events: usize,
}

impl FormWriter<'_> {
    /// Samples a new section on from everything before it; false if cancelled.
    fn sample_section(&mut self, span: &SectionTime) -> Result<bool, GenerateError> {
        let primer = Primer {
            notes: self.notes.clone(),
            end_s: span.start_s,
            description: String::new(),
            grid: None,
        };
        let settings = SamplingSettings {
            length: Length::Seconds(span.end_s - span.start_s),
            ..self.settings
        };
        let sampled = sample(
            self.model,
            self.steering,
            self.device,
            &settings,
            &primer,
            &mut |_| {},
            self.cancel,
        )?;
        let Some(piece) = sampled.and_then(|pieces| pieces.into_iter().next()) else {
            return Ok(false);
        };
        self.events += piece.events;
        // The sampler returns the primer's notes too; only the section's are new.
        self.notes.extend(
            piece
                .notes
                .into_iter()
                .filter(|n| n.start_s >= span.start_s),
        );
        Ok(true)
    }

    /// Copies `model`'s notes into `span` beat for beat, then regenerates a share of its bars;
    /// false if cancelled.
    fn repeat_section(
        &mut self,
        span: &SectionTime,
        model: &SectionTime,
        index: usize,
    ) -> Result<bool, GenerateError> {
        let copied = model.copy_onto(&self.notes, span, self.grid);
        self.notes.extend(copied);
        for passage in self.varied_passages(span, index) {
            if !self.vary(passage)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The bars of `span` to write anew: the variation's share of them, chosen with the seed,
    /// neighbours joined into one passage.
    fn varied_passages(&self, span: &SectionTime, index: usize) -> Vec<Passage> {
        let bars: Vec<u32> = (span.bars.0..span.bars.1).collect();
        let count = (self.steering.plan().variation() * bars.len() as f64).round() as usize;
        let mut rng = StdRng::seed_from_u64(self.settings.seed ^ (index as u64).rotate_left(32));
        let mut chosen: Vec<u32> = bars
            .choose_multiple(&mut rng, count.min(bars.len()))
            .copied()
            .collect();
        chosen.sort_unstable();
        let mut passages: Vec<(u32, u32)> = Vec::new();
        for bar in chosen {
            match passages.last_mut() {
                Some(last) if last.1 == bar => last.1 = bar + 1,
                _ => passages.push((bar, bar + 1)),
            }
        }
        passages
            .into_iter()
            .map(|(from, to)| Passage {
                start_s: self.grid.bar_start_s(from),
                end_s: self.grid.bar_start_s(to),
            })
            .collect()
    }

    /// Regenerates `passage` of the music so far, keeping the best candidate; false if
    /// cancelled. A passage past the last release (a silent last bar) is cut to it.
    fn vary(&mut self, passage: Passage) -> Result<bool, GenerateError> {
        midi::sort_notes(&mut self.notes);
        let end_s = self.notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
        let passage = Passage {
            end_s: passage.end_s.min(end_s),
            ..passage
        };
        if passage.validate().is_err() {
            return Ok(true);
        }
        let ranked = regenerate::regenerate(
            self.model,
            self.steering,
            self.device,
            &self.notes,
            passage,
            VARIATION_CANDIDATES,
            &self.settings,
            &mut |_| {},
            self.cancel,
        )?;
        let Some(best) = ranked.and_then(|ranked| ranked.into_iter().next()) else {
            return Ok(false);
        };
        self.notes = best.assemble(&regenerate::split(&self.notes, passage));
        Ok(true)
    }
}
