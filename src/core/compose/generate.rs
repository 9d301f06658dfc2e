//! Generation: new music sampled from a trained network one event at a time, on a worker thread
//! that owns its tensors and streams the notes to the caller as they are decoded.
//!
//! Sampling draws from a Rust RNG seeded per variation rather than from torch's process-wide
//! generator, so the same checkpoint, settings and seed give the same piece even while another
//! thread trains.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::{Device, Tensor};

use crate::base::worker::{Completion, Context, Repaint, Worker};
use crate::model::checkpoint::{self, CheckpointError, CheckpointMeta};
use crate::model::{
    Conditioning, ControlGates, CpuState, CpuStepper, DeviceChoice, EventLstm, LstmStepper,
    StepState, resolve_device,
};
use crate::music::controls::{CONTROL_INPUTS, ControlPlan, ControlValues, ControlsMeta};
use crate::music::encoding::{self, Decoder, Encoding, Event, EventId, VOCAB_SIZE, to_step};
use crate::music::midi::{self, MidiError, Note, Piece};

/// A note the model never releases is ended after this long.
pub const MAX_NOTE_S: f64 = 5.0;
/// The longest piece (and primer) asked for, in seconds.
pub const MAX_SECONDS: f64 = 3600.0;
/// The most events asked for.
pub const MAX_EVENTS: usize = 1_000_000;
/// Default length of new music, in seconds.
pub const DEFAULT_SECONDS: f64 = 30.0;
/// Default length of a primer taken from the opening of a piece, in seconds.
pub const DEFAULT_PRIMER_SECONDS: f64 = 5.0;
/// Without a primer, a model of the first encoding (which has no start event) starts from this
/// velocity (mezzo-forte), as corpus pieces start with a velocity event.
const V1_START_VELOCITY: u8 = 64;
/// A model that never advances time would otherwise sample forever: at most this many events per
/// second of music asked for (the shared corpus averages 34).
const MAX_EVENTS_PER_SECOND: f64 = 400.0;
/// Notes go to the caller after this many steps.
const STREAM_EVERY_STEPS: usize = 16;

/// How much music to write.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    /// Seconds of new music after the primer.
    Seconds(f64),
    /// Number of new events after the primer.
    Events(usize),
}

/// The controls of one generation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplingSettings {
    /// How much to write.
    pub length: Length,
    /// Logits are divided by this before sampling: below 1 is safer, above 1 more adventurous.
    pub temperature: f64,
    /// Keep only the k most likely events (applied first).
    pub top_k: Option<usize>,
    /// Then keep the smallest set of most likely events whose probability reaches p (nucleus).
    pub top_p: Option<f64>,
    /// Seed of the first variation; variation i uses `seed + i`.
    pub seed: u64,
    /// Number of pieces sampled together.
    pub variations: usize,
}

impl Default for SamplingSettings {
    fn default() -> Self {
        Self {
            length: Length::Seconds(DEFAULT_SECONDS),
            temperature: 1.0,
            top_k: None,
            top_p: None,
            seed: 0,
            variations: 1,
        }
    }
}

impl SamplingSettings {
    /// Checks the settings, explaining the first problem found.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let invalid = |why: &str| Err(GenerateError::InvalidSettings(why.to_string()));
        match self.length {
            Length::Seconds(s) if !(s.is_finite() && s > 0.0 && s <= MAX_SECONDS) => {
                return invalid("the length must be above 0 and at most 3600 seconds");
            }
            Length::Events(n) if !(1..=MAX_EVENTS).contains(&n) => {
                return invalid("the length must be between 1 and 1000000 events");
            }
            _ => {}
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return invalid("the temperature must be greater than 0");
        }
        if self.top_k == Some(0) {
            return invalid("top-k must be at least 1");
        }
        if let Some(p) = self.top_p
            && !(p > 0.0 && p <= 1.0)
        {
            return invalid("top-p must be greater than 0 and at most 1");
        }
        if !(1..=64).contains(&self.variations) {
            return invalid("variations must be between 1 and 64");
        }
        Ok(())
    }

    /// The seed of each variation.
    pub fn seeds(&self) -> Vec<u64> {
        (0..self.variations as u64)
            .map(|i| self.seed.wrapping_add(i))
            .collect()
    }
}

/// Music the model continues from: the notes (pedal already applied) up to `end_s`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Primer {
    /// Sounding notes, each ending by `end_s`.
    pub notes: Vec<Note>,
    /// Where the primer ends and the new music begins, in seconds.
    pub end_s: f64,
    /// What it is, for the take's description (e.g. "opening 5 s of chopin/op25-12.mid").
    pub description: String,
}

impl Primer {
    /// No primer: the model starts from silence.
    pub fn none() -> Self {
        Self {
            description: "none".to_string(),
            ..Self::default()
        }
    }

    /// The opening `seconds` of `piece` (pedal applied); notes held across the cut end at it.
    pub fn opening(piece: &Piece, seconds: f64, description: impl Into<String>) -> Self {
        let sounding = midi::apply_sustain(piece);
        let end_s = sounding
            .iter()
            .map(|n| n.end_s)
            .fold(0.0, f64::max)
            .min(seconds.max(0.0));
        let notes = sounding
            .into_iter()
            .filter(|n| n.start_s < end_s)
            .map(|n| Note {
                end_s: n.end_s.min(end_s),
                ..n
            })
            .collect();
        Self {
            notes,
            end_s,
            description: description.into(),
        }
    }

    /// The opening `seconds` of a MIDI file.
    pub fn from_file(path: &Path, seconds: f64) -> Result<Self, GenerateError> {
        if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS) {
            return Err(GenerateError::InvalidSettings(format!(
                "the primer length must be above 0 and at most {MAX_SECONDS} seconds, not {seconds}"
            )));
        }
        let piece = midi::read_file(path).map_err(|source| GenerateError::Primer {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        Ok(Self::opening(
            &piece,
            seconds,
            format!("opening {seconds} s of {name}"),
        ))
    }

    /// The events a model of `encoding` reads before sampling; never empty. From v2 on they
    /// begin with the start event, so no primer means "begin a piece".
    pub(crate) fn events(&self, encoding: Encoding) -> Vec<EventId> {
        let events = encoding::encode_notes_until(&self.notes, self.end_s);
        match encoding.piece_start() {
            Some(start) => std::iter::once(start).chain(events).collect(),
            None if events.is_empty() => {
                vec![Event::Velocity(encoding::velocity_bin(V1_START_VELOCITY)).id()]
            }
            None => events,
        }
    }
}

/// What a model reads besides events, and what to ask it for: checked once, before sampling.
#[derive(Debug, Clone)]
pub struct Steering {
    encoding: Encoding,
    controls: Option<ControlsMeta>,
    plan: ControlPlan,
}

impl Steering {
    /// Asks `plan` of the model `meta` describes; refused if the model cannot honour it (a model
    /// trained without controls, a style it does not know, a curve out of range).
    pub fn new(meta: &CheckpointMeta, plan: ControlPlan) -> Result<Self, GenerateError> {
        let invalid = |why: String| GenerateError::InvalidSettings(why);
        match &meta.controls {
            Some(controls) => controls.check_plan(&plan).map_err(invalid)?,
            None if !plan.is_any() => {
                return Err(invalid(
                    "this model was trained without controls (key, density, loudness, style); leave them at any, or train a new model with controls"
                        .to_string(),
                ));
            }
            None => {}
        }
        Ok(Self {
            encoding: meta.encoding(),
            controls: meta.controls.clone(),
            plan,
        })
    }

    /// No controls, for a model of `encoding` trained without them.
    pub fn plain(encoding: Encoding) -> Self {
        Self {
            encoding,
            controls: None,
            plan: ControlPlan::default(),
        }
    }

    /// What is asked for.
    pub fn plan(&self) -> &ControlPlan {
        &self.plan
    }

    /// The encoding of the model steered.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The controls at `t` seconds; `None` for a model without controls.
    pub(crate) fn values_at(&self, t: f64) -> Option<(ControlValues, usize)> {
        self.controls
            .as_ref()
            .map(|meta| meta.values_at(&self.plan, t))
    }

    /// The controls beside each primer event (those of the event after it), for the pass that
    /// reads the primer.
    pub(crate) fn primer_conditioning(
        &self,
        events: &[EventId],
        device: Device,
    ) -> Option<Conditioning> {
        self.controls.as_ref()?;
        let mut decoder = Decoder::default();
        let mut values = vec![0f32; events.len() * CONTROL_INPUTS];
        let mut style = 0;
        for (i, &event) in events.iter().enumerate() {
            decoder.push(event);
            // After event i, the time is that of event i + 1 (the one predicted beside it).
            if let Some((controls, row)) = self.values_at(decoder.now_s()) {
                controls.write_inputs(&mut values[i * CONTROL_INPUTS..][..CONTROL_INPUTS]);
                style = row;
            }
        }
        Some(Conditioning {
            controls: Tensor::from_slice(&values)
                .view([1, events.len() as i64, CONTROL_INPUTS as i64])
                .to_device(device),
            styles: Tensor::from_slice(&[style as i64]).to_device(device),
        })
    }
}

/// How a take was made: generated afresh, or a new version of another take.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operation {
    /// Sampled from the primer (or from nothing).
    #[default]
    Generate,
    /// Everything after `from_s` dropped and generated onward.
    Continue {
        /// Where the new music starts.
        from_s: f64,
    },
    /// A passage redone: the candidate of rank `rank` (0 = best) of `candidates`.
    Regenerate {
        /// The passage.
        start_s: f64,
        /// Its end.
        end_s: f64,
        /// Candidates sampled.
        candidates: usize,
        /// The rank of the one kept.
        rank: usize,
        /// Its score (log-likelihood of the music after the passage, nats).
        score: f64,
    },
}

impl Operation {
    /// A short description for the takes list.
    pub fn describe(&self) -> String {
        let time = |s: f64| format!("{}:{:04.1}", (s / 60.0) as u64, s % 60.0);
        match *self {
            Self::Generate => "generated".to_string(),
            Self::Continue { from_s } => format!("continued from {}", time(from_s)),
            Self::Regenerate {
                start_s,
                end_s,
                candidates,
                rank,
                ..
            } => format!(
                "{}–{} redone (#{} of {candidates})",
                time(start_s),
                time(end_s),
                rank + 1
            ),
        }
    }
}

/// One generated piece with everything needed to reproduce and describe it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Take {
    /// Identity in the takes list (0 until the list gives it one; takes written before versions
    /// get theirs when loaded).
    #[serde(default)]
    pub id: u64,
    /// The take this one is a version of (a passage redone, a continuation).
    #[serde(default)]
    pub parent: Option<u64>,
    /// How it was made.
    #[serde(default)]
    pub operation: Operation,
    /// The music, primer first. No pedal: the encoding's notes already sound as long as heard.
    pub notes: Vec<Note>,
    /// Notes starting before this time are the primer's.
    pub primer_end_s: f64,
    /// What the primer was.
    pub primer: String,
    /// The seed this variation was sampled with.
    pub seed: u64,
    /// The sampling settings used (with `seed` and `variations` of the whole request).
    pub settings: SamplingSettings,
    /// What the model was asked for (takes written before controls existed: any).
    #[serde(default)]
    pub controls: ControlPlan,
    /// The checkpoint it came from.
    pub checkpoint: String,
    /// Events sampled after the primer.
    pub events: usize,
    /// Sampling speed of this variation, in events per second.
    pub events_per_s: f64,
}

impl Take {
    /// The take as a piece.
    pub fn piece(&self) -> Piece {
        Piece::from_notes(self.notes.clone())
    }

    /// Whether a note belongs to the primer rather than to the new music.
    pub fn is_primer(&self, note: &Note) -> bool {
        note.start_s < self.primer_end_s
    }

    /// Length of the take in seconds.
    pub fn duration_s(&self) -> f64 {
        self.notes.iter().map(|n| n.end_s).fold(0.0, f64::max)
    }

    /// The text stored in an exported MIDI file: generator, checkpoint, primer, seed and settings.
    pub fn description(&self) -> String {
        serde_json::json!({
            "generator": format!("cadenza {}", env!("CARGO_PKG_VERSION")),
            "checkpoint": self.checkpoint,
            "primer": self.primer,
            "seed": self.seed,
            "settings": self.settings,
            "controls": self.controls,
        })
        .to_string()
    }

    /// Writes the take as a MIDI file carrying its description.
    pub fn write_midi(&self, path: &Path) -> Result<(), MidiError> {
        midi::write_file(&self.piece(), path, Some(&self.description()))
    }
}

/// Why a generation could not run.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The settings are out of range.
    #[error("invalid generation settings: {0}")]
    InvalidSettings(String),
    /// The checkpoint is missing or incompatible.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The primer file could not be read.
    #[error("cannot use {} as a primer: {source}", path.display())]
    Primer {
        /// The primer file.
        path: PathBuf,
        /// What went wrong.
        source: MidiError,
    },
    /// The device asked for is not usable.
    #[error("{0}")]
    Device(String),
    /// libtorch reported an error.
    #[error("sampling failed: {0}")]
    Torch(#[from] tch::TchError),
}

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
    let started = Instant::now();
    let batch = settings.variations;
    let primer_events = primer.events(steering.encoding);
    let conditioning = steering.primer_conditioning(&primer_events, device);
    let (logits, state) = read_primer(model, conditioning.as_ref(), device, &primer_events, batch)?;
    let mut network = Stepping::new(model, device, state)?;
    let mut controls = VoiceControls::new(network.control_gates(), batch);
    let mut rows = Vec::<f32>::try_from(logits.to_device(Device::Cpu).reshape([-1]))?;
    let mut voices: Vec<Voice> = settings
        .seeds()
        .into_iter()
        .map(|seed| Voice::new(seed, &primer_events, primer.end_s, settings.length))
        .collect();

    let mut steps = 0;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let mut inputs = Vec::with_capacity(batch);
        for (voice, row) in voices.iter_mut().zip(rows.chunks_exact(VOCAB_SIZE)) {
            inputs.push(voice.advance(row, settings));
        }
        steps += 1;
        let all_done = voices.iter().all(|v| v.done);
        if all_done || steps % STREAM_EVERY_STEPS == 0 {
            report(&mut voices, steps, started, observe);
        }
        if all_done {
            break;
        }
        let times: Vec<f64> = voices.iter().map(|v| v.decoder.now_s()).collect();
        let extra = controls.gate_bias(steering, &times);
        network.step(&inputs, extra, &mut rows)?;
    }
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    Ok(Some(
        voices
            .into_iter()
            .map(|voice| voice.finish(elapsed))
            .collect(),
    ))
}

/// The network stepping one event at a time: in plain Rust on the CPU (weights read once per step
/// for all variations), through libtorch on a GPU. A steerable model's controls enter as a bias on
/// the first layer's gates, so the step itself is the same fused one.
pub(crate) enum Stepping {
    Cpu(CpuStepper, CpuState, Option<ControlGates>),
    Torch(LstmStepper, StepState, Device),
}

impl Stepping {
    pub(crate) fn new(
        model: &EventLstm,
        device: Device,
        state: StepState,
    ) -> Result<Self, GenerateError> {
        let stepper = LstmStepper::new(model);
        if device.is_cuda() {
            return Ok(Self::Torch(stepper, state, device));
        }
        // The same thread count as libtorch's, which `set_threads` and the CLI control.
        let threads = usize::try_from(tch::get_num_threads()).unwrap_or(1);
        let gates = stepper.control_gates().cloned();
        Ok(Self::Cpu(
            stepper.to_cpu(threads)?,
            state.to_cpu_state()?,
            gates,
        ))
    }

    pub(crate) fn control_gates(&self) -> Option<ControlGates> {
        match self {
            Self::Cpu(_, _, gates) => gates.clone(),
            Self::Torch(stepper, _, _) => stepper.control_gates().cloned(),
        }
    }

    /// Feeds one event per variation (with `extra` on the first layer's gates, or nothing);
    /// `logits` receives `[variations, vocab]` for the next.
    pub(crate) fn step(
        &mut self,
        inputs: &[i64],
        extra: &[f32],
        logits: &mut Vec<f32>,
    ) -> Result<(), GenerateError> {
        match self {
            Self::Cpu(stepper, state, _) => {
                let events: Vec<usize> = inputs.iter().map(|&e| e as usize).collect();
                stepper.step(&events, extra, state, logits);
            }
            Self::Torch(stepper, state, device) => {
                let inputs = Tensor::from_slice(inputs).to_device(*device);
                let extra = (!extra.is_empty()).then(|| {
                    Tensor::from_slice(extra)
                        .view([inputs.size()[0], -1])
                        .to_device(*device)
                });
                let next = stepper
                    .step(&inputs, extra.as_ref(), state)
                    .to_device(Device::Cpu);
                *logits = Vec::<f32>::try_from(next.reshape([-1]))?;
            }
        }
        Ok(())
    }
}

/// Each variation's first-layer gate bias for the controls in force at its current time,
/// recomputed only when its controls change (a curve crossing into another bin, a key change).
pub(crate) struct VoiceControls {
    gates: Option<ControlGates>,
    current: Vec<Option<(ControlValues, usize)>>,
    bias: Vec<f32>,
}

impl VoiceControls {
    pub(crate) fn new(gates: Option<ControlGates>, batch: usize) -> Self {
        Self {
            gates,
            current: vec![None; batch],
            bias: Vec::new(),
        }
    }

    /// `[variations, 4·hidden]` for a steerable model, empty otherwise; `times` is each
    /// variation's current time in seconds.
    pub(crate) fn gate_bias(&mut self, steering: &Steering, times: &[f64]) -> &[f32] {
        let Some(gates) = &self.gates else {
            return &[];
        };
        for (i, &now_s) in times.iter().enumerate() {
            let wanted = steering.values_at(now_s);
            if wanted == self.current[i] {
                continue;
            }
            if let Some((values, style)) = wanted {
                let bias = gates.bias(&values, style);
                let width = bias.len();
                self.bias.resize(times.len() * width, 0.0);
                self.bias[i * width..][..width].copy_from_slice(&bias);
                self.current[i] = wanted;
            }
        }
        &self.bias
    }
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

/// Runs the primer through the network; returns the logits for the first new event and the state,
/// both repeated for each variation.
pub(crate) fn read_primer(
    model: &EventLstm,
    conditioning: Option<&Conditioning>,
    device: Device,
    events: &[EventId],
    batch: usize,
) -> Result<(Tensor, StepState), GenerateError> {
    let _guard = tch::no_grad_guard();
    let ids: Vec<i64> = events.iter().map(|&e| i64::from(e)).collect();
    let input = Tensor::from_slice(&ids).to_device(device).unsqueeze(0);
    let (logits, state) = model.forward(&input, conditioning, &model.zero_state(1, device), false);
    let last = logits.f_get(0)?.f_get(ids.len() as i64 - 1)?;
    let logits = last.unsqueeze(0).repeat([batch as i64, 1]);
    Ok((logits, StepState::from(state).repeat_batch(batch as i64)))
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
    /// Notes decoded and kept; `reported` of them have gone to the caller.
    notes: Vec<Note>,
    reported: usize,
    events: usize,
    max_events: usize,
    /// Step at which the music must end (length in seconds), if any.
    end_step: Option<u64>,
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
        let (end_step, max_events) = match length {
            Length::Seconds(seconds) => (
                Some(to_step(primer_end_s).max(start_step) + to_step(seconds)),
                (seconds * MAX_EVENTS_PER_SECOND).ceil() as usize + 1,
            ),
            Length::Events(events) => (None, events),
        };
        Self {
            seed,
            rng: StdRng::seed_from_u64(seed),
            notes: decoder.take_finished(),
            decoder,
            reported: 0,
            events: 0,
            max_events,
            end_step,
            start_step,
            done: false,
        }
    }

    /// Samples and applies the next event; returns the model's next input.
    fn advance(&mut self, logits: &[f32], settings: &SamplingSettings) -> i64 {
        if self.done {
            return 0;
        }
        let mut event = sample_event(logits, settings, &mut self.rng);
        if let (Some(Event::TimeShift(steps)), Some(end)) = (Event::from_id(event), self.end_step) {
            // The last shift is shortened so the piece ends exactly at the length asked for.
            let remaining = end
                .saturating_sub(self.decoder.step())
                .min(u64::from(steps))
                .max(1);
            event = Event::TimeShift(remaining as u8).id();
        }
        self.decoder.push(event);
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

/// Draws one event from `logits` (one row over the vocabulary) under the settings' temperature,
/// top-k and top-p.
pub fn sample_event(logits: &[f32], settings: &SamplingSettings, rng: &mut impl Rng) -> EventId {
    // Ties go to the lower event id, so which events survive top-k never depends on the sort.
    let descending = |a: &usize, b: &usize| logits[*b].total_cmp(&logits[*a]).then(a.cmp(b));
    let mut order: Vec<usize> = (0..logits.len()).collect();
    // Sorting costs more than the rest of a step's sampling: only top-p needs the order.
    if let Some(k) = settings
        .top_k
        .map(|k| k.max(1))
        .filter(|&k| k < order.len())
    {
        order.select_nth_unstable_by(k - 1, descending);
        order.truncate(k);
    }
    if settings.top_p.is_some() {
        order.sort_unstable_by(descending);
    }
    let best = order
        .iter()
        .map(|&i| f64::from(logits[i]))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut weights: Vec<f64> = order
        .iter()
        .map(|&i| ((f64::from(logits[i]) - best) / settings.temperature).exp())
        .collect();
    if let Some(p) = settings.top_p {
        let total: f64 = weights.iter().sum();
        let mut cumulative = 0.0;
        let keep = weights
            .iter()
            .position(|w| {
                cumulative += w / total;
                cumulative >= p
            })
            .map_or(weights.len(), |i| i + 1);
        weights.truncate(keep);
    }
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (&index, weight) in order.iter().zip(&weights) {
        if target < *weight {
            return index as EventId;
        }
        target -= weight;
    }
    order[weights.len() - 1] as EventId
}

/// A generation to run on a worker thread.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// Checkpoint (stem or either file).
    pub checkpoint: PathBuf,
    /// The controls.
    pub settings: SamplingSettings,
    /// What to continue.
    pub primer: Primer,
    /// What to ask the model for.
    pub controls: ControlPlan,
    /// Where to run the network.
    pub device: DeviceChoice,
}

/// What a generation worker reports before its takes.
#[derive(Debug, Clone, PartialEq)]
pub enum GenerateEvent {
    /// The checkpoint loaded and sampling began.
    Started {
        /// The device, described for people.
        device: String,
        /// The primer's notes, shown before anything is sampled.
        primer: Primer,
    },
    /// Notes or progress while sampling.
    Update(Update),
}

/// A running generation: [`GenerateEvent`]s, then the takes (one per variation). Cancel it with
/// [`Worker::cancel`]; dropping it cancels and waits.
pub type GeneratorHandle = Worker<(), GenerateEvent, Vec<Take>>;

/// Starts a generation on a worker thread; `repaint` is called after every event sent.
pub fn spawn(request: GenerateRequest, repaint: Repaint) -> GeneratorHandle {
    Worker::spawn("cadenza-generate", repaint, move |ctx| {
        run(&request, ctx)?.ok_or(crate::base::worker::Stop::Cancelled)
    })
}

fn run(
    request: &GenerateRequest,
    ctx: &Context<(), GenerateEvent>,
) -> Result<Option<Vec<Take>>, GenerateError> {
    request.settings.validate()?;
    let device = resolve_device(request.device).map_err(GenerateError::Device)?;
    let loaded = checkpoint::load_model(&request.checkpoint, device.device)?;
    let steering = Steering::new(&loaded.meta, request.controls.clone())?;
    tracing::info!(
        checkpoint = %request.checkpoint.display(),
        device = %device.description,
        variations = request.settings.variations,
        seed = request.settings.seed,
        controls = %request.controls.summary(),
        "generating"
    );
    ctx.update(GenerateEvent::Started {
        device: device.description.clone(),
        primer: request.primer.clone(),
    });
    let mut observe = |update| ctx.update(GenerateEvent::Update(update));
    let sampled = sample(
        &loaded.model,
        &steering,
        device.device,
        &request.settings,
        &request.primer,
        &mut observe,
        ctx.cancel_flag(),
    )?;
    let checkpoint = checkpoint::stem(&request.checkpoint).display().to_string();
    Ok(sampled.map(|pieces| {
        pieces
            .into_iter()
            .map(|piece| Take {
                id: 0,
                parent: None,
                operation: Operation::Generate,
                notes: piece.notes,
                primer_end_s: request.primer.end_s,
                primer: request.primer.description.clone(),
                seed: piece.seed,
                settings: request.settings,
                controls: request.controls.clone(),
                checkpoint: checkpoint.clone(),
                events: piece.events,
                events_per_s: piece.events_per_s,
            })
            .collect()
    }))
}

/// Output paths for `variations` takes: `FILE.mid` for one, `FILE-1.mid … FILE-N.mid` for more.
pub fn output_paths(out: &Path, variations: usize) -> Vec<PathBuf> {
    if variations <= 1 {
        return vec![out.to_path_buf()];
    }
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let extension = out
        .extension()
        .map_or("mid".into(), |e| e.to_string_lossy());
    (1..=variations)
        .map(|i| out.with_file_name(format!("{stem}-{i}.{extension}")))
        .collect()
}
