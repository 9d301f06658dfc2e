//! Generation: new music sampled from a trained network one event at a time, on a worker thread
//! that owns its tensors and streams the notes to the caller as they are decoded.
//!
//! Sampling draws from a Rust RNG seeded per variation rather than from torch's process-wide
//! generator, so the same checkpoint, settings and seed give the same piece even while another
//! thread trains.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tch::Device;

use crate::base::worker::Completion;
use crate::model::EventLstm;
use crate::music::encoding::{Decoder, Event, EventId, VOCAB_SIZE, to_step};
use crate::music::lookback::Played;
use crate::music::meter::Grid;
use crate::music::midi::{self, Note};

use super::assist::Assist;
use super::primer::Primer;
use super::settings::{
    GenerateError, Length, MAX_NOTE_S, SamplingSettings, sample_tempered, tempered,
};
use super::steering::Steering;
use super::stepping::{Stepping, VoiceControls, read_primer};

/// A model that never advances time would otherwise sample forever: at most this many events per
/// second of music asked for (the shared corpus averages 34).
const MAX_EVENTS_PER_SECOND: f64 = 400.0;
/// Notes go to the caller after this many steps.
const STREAM_EVERY_STEPS: usize = 16;

/// What the sampler reports while it works.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Notes of one variation decoded since the last update (sorted by release, not onset).
    Notes {
        /// Which variation (0-based).
        variation: usize,
        /// The new notes.
        notes: Vec<Note>,
    },
    /// How far sampling has got.
    Progress {
        /// Events sampled per variation so far.
        events: usize,
        /// Share of the requested length written, 0–1 (the slowest variation).
        fraction: f64,
        /// Seconds left, once there is enough to estimate from.
        eta_s: Option<f64>,
        /// Events per second per variation.
        events_per_s: f64,
    },
}

/// Samples `settings.variations` pieces from `model`, continuing `primer` and asking for what
/// `steering` says, calling `observe` as notes are decoded. Returns `None` if `cancel` was set
/// (checked before every step).
pub fn sample(
    model: &EventLstm,
    steering: &Steering,
    device: Device,
    settings: &SamplingSettings,
    primer: &Primer,
    observe: &mut dyn FnMut(Update),
    cancel: &AtomicBool,
) -> Result<Option<Vec<SampledPiece>>, GenerateError> {
    settings.validate()?;
    // The settings' assist is the one applied (and recorded in the take).
    let steering = &steering.clone().assisted(settings.assist);
    let started = Instant::now();
    let batch = settings.variations;
    let primer_events = primer.events(steering.encoding());
    let conditioning = steering.primer_conditioning(&primer_events, device);
    let (logits, state) = read_primer(model, conditioning.as_ref(), device, &primer_events, batch)?;
    let mut network = Stepping::new(model, device, state)?;
    let mut controls = VoiceControls::new(&network, batch);
    let mut rows = Vec::<f32>::try_from(logits.to_device(Device::Cpu).reshape([-1]))?;
    let length = settings.length.on_grid(steering.grid(), primer.end_s)?;
    let mut voices: Vec<Voice> = settings
        .seeds()
        .into_iter()
        .map(|seed| Voice::new(seed, &primer_events, primer.end_s, length))
        .collect();

    let (assist, grid) = (&settings.assist, steering.grid());
    let mut steps = 0;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let mut inputs = Vec::with_capacity(batch);
        for (voice, row) in voices.iter_mut().zip(rows.chunks_exact(VOCAB_SIZE)) {
            inputs.push(voice.advance(row, settings, assist, grid));
        }
        steps += 1;
        let all_done = voices.iter().all(|v| v.done);
        if all_done || steps % STREAM_EVERY_STEPS == 0 {
            report(&mut voices, steps, started, observe);
        }
        if all_done {
            break;
        }
        controls.update(steering, voices.iter().map(|v| &v.played));
        network.step(&inputs, &controls, &mut rows)?;
    }
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    Ok(Some(
        voices
            .into_iter()
            .map(|voice| voice.finish(elapsed))
            .collect(),
    ))
}

/// One variation's result before it becomes a [`Take`].
#[derive(Debug, Clone, PartialEq)]
pub struct SampledPiece {
    /// The seed it was sampled with.
    pub seed: u64,
    /// All notes, primer included, sorted by onset.
    pub notes: Vec<Note>,
    /// Events sampled after the primer.
    pub events: usize,
    /// Events per second.
    pub events_per_s: f64,
}

fn report(voices: &mut [Voice], steps: usize, started: Instant, observe: &mut dyn FnMut(Update)) {
    for (variation, voice) in voices.iter_mut().enumerate() {
        let notes = voice.take_new_notes();
        if !notes.is_empty() {
            observe(Update::Notes { variation, notes });
        }
    }
    let fraction = voices.iter().map(Voice::fraction).fold(1.0, f64::min);
    let completion = Completion::since(started, fraction);
    observe(Update::Progress {
        events: steps,
        fraction: completion.fraction,
        eta_s: completion.eta_s,
        events_per_s: steps as f64 / started.elapsed().as_secs_f64().max(1e-9),
    });
}

/// One variation being sampled.
struct Voice {
    seed: u64,
    rng: StdRng,
    decoder: Decoder,
    /// Every event so far, for the controls' time and lookback.
    played: Played,
    /// Notes decoded and kept; `reported` of them have gone to the caller.
    notes: Vec<Note>,
    reported: usize,
    events: usize,
    max_events: usize,
    /// Step at which the music must end (length in seconds), if any.
    end_step: Option<u64>,
    /// Step of the last note struck, so a downbeat counts as played once.
    struck_at: Option<u64>,
    start_step: u64,
    done: bool,
}

impl Voice {
    fn new(seed: u64, primer: &[EventId], primer_end_s: f64, length: Length) -> Self {
        let mut decoder = Decoder::default();
        for &event in primer {
            decoder.push(event);
        }
        let start_step = decoder.step();
        let played = Played::of_events(primer);
        let (end_step, max_events) = match length {
            Length::Seconds(seconds) => (
                Some(to_step(primer_end_s).max(start_step) + to_step(seconds)),
                (seconds * MAX_EVENTS_PER_SECOND).ceil() as usize + 1,
            ),
            Length::Events(events) => (None, events),
            // Bars are seconds by now ([`Length::on_grid`]); a grid-less call was refused.
            Length::Bars(_) => (None, 0),
        };
        Self {
            seed,
            rng: StdRng::seed_from_u64(seed),
            notes: decoder.take_finished(),
            decoder,
            played,
            reported: 0,
            events: 0,
            max_events,
            end_step,
            struck_at: None,
            start_step,
            done: false,
        }
    }

    /// Samples and applies the next event, the logits tempered and then leaned on by `assist`
    /// (keeping time and phrasing on `grid` if there is one); returns the model's next input.
    fn advance(
        &mut self,
        logits: &[f32],
        settings: &SamplingSettings,
        assist: &Assist,
        grid: Option<&Grid>,
    ) -> i64 {
        if self.done {
            return 0;
        }
        let mut row = tempered(logits, settings.temperature);
        let struck_here = self.struck_at == Some(self.decoder.step());
        assist.lean(&mut row, grid, &self.decoder, &self.played, struck_here);
        let mut event = sample_tempered(&row, settings, &mut self.rng);
        if let Some(Event::NoteOn(_)) = Event::from_id(event) {
            self.struck_at = Some(self.decoder.step());
        }
        if let (Some(Event::TimeShift(steps)), Some(end)) = (Event::from_id(event), self.end_step) {
            // The last shift is shortened so the piece ends exactly at the length asked for.
            let remaining = end
                .saturating_sub(self.decoder.step())
                .min(u64::from(steps))
                .max(1);
            event = Event::TimeShift(remaining as u8).id();
        }
        self.decoder.push(event);
        self.played.push(event);
        self.decoder.release_held_longer_than(MAX_NOTE_S);
        self.notes.extend(self.decoder.take_finished());
        self.events += 1;
        self.done = self.events >= self.max_events
            || self.end_step.is_some_and(|e| self.decoder.step() >= e);
        if self.done {
            // Release what still sounds, so the last notes reach the caller with the rest.
            self.notes
                .extend(std::mem::take(&mut self.decoder).finish());
        }
        i64::from(event)
    }

    fn fraction(&self) -> f64 {
        if self.done {
            return 1.0;
        }
        match self.end_step {
            Some(end) => {
                (self.decoder.step() - self.start_step) as f64
                    / (end - self.start_step).max(1) as f64
            }
            None => self.events as f64 / self.max_events as f64,
        }
    }

    fn take_new_notes(&mut self) -> Vec<Note> {
        let new = self.notes[self.reported..].to_vec();
        self.reported = self.notes.len();
        new
    }

    fn finish(mut self, elapsed_s: f64) -> SampledPiece {
        midi::sort_notes(&mut self.notes);
        SampledPiece {
            seed: self.seed,
            notes: self.notes,
            events: self.events,
            events_per_s: self.events as f64 / elapsed_s,
        }
    }
}
