//! Regenerating a passage of a take with a left-to-right model: K candidates for the range are
//! sampled after the music before it, each is scored by how likely the kept music after the range
//! is given it (teacher-forced, in the same batched pass), and they are ranked.
//!
//! What is kept, exactly: notes that start before the range keep pitch, onset, velocity and
//! release, even when they sound into or past it (each candidate is sampled with their releases
//! forced in at their times, and cannot strike or release those keys meanwhile); candidate notes
//! start inside the range and are released by its end (time shifts are budgeted to the range's
//! length); notes that start at or after the range's end are kept as they were. The model reads
//! quantised times; the take keeps the original ones.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tch::Device;

use crate::base::worker::Completion;
use crate::compose::generate::{
    GenerateError, SamplingSettings, Steering, Stepping, VoiceControls, read_primer,
};
use crate::model::EventLstm;
use crate::music::encoding::{self, Decoder, Event, EventId, VOCAB_SIZE, to_step};
use crate::music::lookback::Played;
use crate::music::meter::Grid;
use crate::music::midi::{self, Note};

use super::assist::Assist;
use super::settings::{sample_tempered, tempered};

/// Candidates sampled by default.
pub const DEFAULT_CANDIDATES: usize = 8;
/// Seconds after the range whose likelihood ranks the candidates.
pub const SCORED_SECONDS: f64 = 5.0;
/// Most candidates asked for.
pub const MAX_CANDIDATES: usize = 64;
/// A model that never advances time would sample forever: at most this many events per second.
const MAX_EVENTS_PER_SECOND: f64 = 400.0;

/// A time range of a take, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Passage {
    /// Where the range starts.
    pub start_s: f64,
    /// Where it ends.
    pub end_s: f64,
}

impl Passage {
    /// Checks that the range is at least one step long and within an hour.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let invalid = |reason: String| Err(GenerateError::InvalidSettings(reason));
        let (start_s, end_s) = (self.start_s, self.end_s);
        if !(start_s.is_finite() && start_s >= 0.0) {
            return invalid(format!(
                "the passage starts at {start_s} s: it must start at 0 s or later"
            ));
        }
        if !(end_s.is_finite() && to_step(end_s) > to_step(start_s)) {
            return invalid(format!(
                "the passage {start_s:.2}–{end_s:.2} s must end at least 10 ms after it starts"
            ));
        }
        let max_s = crate::compose::generate::MAX_SECONDS;
        if end_s > max_s {
            return invalid(format!(
                "the passage ends at {end_s:.2} s, past the {max_s} s a take may last"
            ));
        }
        Ok(())
    }

    /// Checks the passage against the take it is cut from: it must end by the take's last
    /// release (past it, only silence would be replaced).
    pub fn validate_within(&self, notes: &[Note]) -> Result<(), GenerateError> {
        self.validate()?;
        let take_end_s = notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
        if self.end_s > take_end_s + 1e-6 {
            return Err(GenerateError::InvalidSettings(format!(
                "the passage {:.2}–{:.2} s ends after the take, which ends at {take_end_s:.2} s",
                self.start_s, self.end_s
            )));
        }
        Ok(())
    }
}

/// The three parts of a take around a range.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parts {
    /// Notes starting before the range (kept).
    pub before: Vec<Note>,
    /// Notes starting inside it (replaced).
    pub inside: Vec<Note>,
    /// Notes starting at or after its end (kept).
    pub after: Vec<Note>,
}

/// Splits notes by onset around `passage` (onsets compared on the 10-ms grid the model reads).
pub fn split(notes: &[Note], passage: Passage) -> Parts {
    let (start, end) = (to_step(passage.start_s), to_step(passage.end_s));
    let mut parts = Parts::default();
    for note in notes {
        let onset = to_step(note.start_s);
        let part = if onset < start {
            &mut parts.before
        } else if onset < end {
            &mut parts.inside
        } else {
            &mut parts.after
        };
        part.push(*note);
    }
    parts
}

/// One candidate for the range.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    /// The candidate's own notes (inside the range).
    pub notes: Vec<Note>,
    /// Log-likelihood (nats) of the scored music after the range given this candidate; higher is
    /// better. 0 when nothing follows the range.
    pub score: f64,
    /// Events scored after the range.
    pub scored_events: usize,
    /// The seed it was sampled with.
    pub seed: u64,
}

impl Candidate {
    /// The whole take with this candidate in the range: before + candidate + after, by onset.
    pub fn assemble(&self, parts: &Parts) -> Vec<Note> {
        let mut notes: Vec<Note> = parts
            .before
            .iter()
            .chain(&self.notes)
            .chain(&parts.after)
            .copied()
            .collect();
        midi::sort_notes(&mut notes);
        notes
    }
}

/// What [`regenerate`] reports while it works.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Share done, 0–1.
    pub fraction: f64,
    /// Seconds left, once there is enough to estimate from.
    pub eta_s: Option<f64>,
}

/// Samples `candidates` versions of `passage` of `notes` (seeds `settings.seed`, +1, …), scores
/// each by the log-likelihood of the first [`SCORED_SECONDS`] after the range, and returns them
/// best first. `None` if `cancel` was set.
#[allow(clippy::too_many_arguments)]
pub fn regenerate(
    model: &EventLstm,
    steering: &Steering,
    device: Device,
    notes: &[Note],
    passage: Passage,
    candidates: usize,
    settings: &SamplingSettings,
    observe: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Option<Vec<Candidate>>, GenerateError> {
    passage.validate_within(notes)?;
    settings
        .assist
        .validate()
        .map_err(GenerateError::InvalidSettings)?;
    // The settings' assist is the one applied (and recorded in the version kept).
    let steering = &steering.clone().assisted(settings.assist);
    if !(1..=MAX_CANDIDATES).contains(&candidates) {
        return Err(GenerateError::InvalidSettings(format!(
            "candidates must be between 1 and {MAX_CANDIDATES}"
        )));
    }
    let parts = split(notes, passage);
    let prefix = encoding::encode_prefix(&parts.before, passage.start_s);
    let primer: Vec<EventId> = steering
        .encoding()
        .piece_start()
        .into_iter()
        .chain(prefix.events.iter().copied())
        .collect();
    let conditioning = steering.primer_conditioning(&primer, device);
    let (logits, state) = read_primer(model, conditioning.as_ref(), device, &primer, candidates)?;
    let mut network = Stepping::new(model, device, state)?;
    let mut controls = VoiceControls::new(&network, candidates);
    let mut rows = Vec::<f32>::try_from(logits.to_device(Device::Cpu).reshape([-1]))?;
    let mut rows_state: Vec<Row> = (0..candidates as u64)
        .map(|i| Row::new(settings.seed.wrapping_add(i), &primer, &prefix, passage))
        .collect();
    let started = Instant::now();
    let mut last_report = Instant::now();
    let (assist, grid) = (&settings.assist, steering.grid());
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let inputs: Vec<i64> = rows_state
            .iter_mut()
            .zip(rows.chunks_exact(VOCAB_SIZE))
            .map(|(row, logits)| row.advance(logits, settings, assist, &parts, passage, grid))
            .collect();
        if rows_state.iter().all(|r| r.phase == Phase::Done) {
            break;
        }
        if last_report.elapsed().as_millis() >= 100 {
            last_report = Instant::now();
            let fraction = rows_state.iter().map(Row::fraction).sum::<f64>() / candidates as f64;
            let completion = Completion::since(started, fraction);
            observe(Progress {
                fraction: completion.fraction,
                eta_s: completion.eta_s,
            });
        }
        controls.update(steering, rows_state.iter().map(|r| &r.played));
        network.step(&inputs, &controls, &mut rows)?;
    }
    let mut ranked: Vec<Candidate> = rows_state
        .into_iter()
        .map(|row| row.into_candidate(passage))
        .collect();
    // Best first; equal scores keep seed order.
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.seed.cmp(&b.seed)));
    Ok(Some(ranked))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sampling the range.
    Sampling,
    /// Reading the kept music after the range, adding up its log-likelihood.
    Scoring,
    Done,
}

/// One candidate being sampled, then scored.
struct Row {
    seed: u64,
    rng: StdRng,
    phase: Phase,
    /// Prefix and candidate events, decoded.
    decoder: Decoder,
    /// Every event read so far (prefix, candidate, then the music after it while scoring), for
    /// the controls' time and lookback.
    played: Played,
    /// The velocity bin in force (as the encoder tracks it).
    velocity: Option<u8>,
    /// Releases still to force: (pitch, step) of notes held into the range, earliest first.
    held: Vec<(u8, u64)>,
    /// Keys struck by the candidate and still down.
    struck: Vec<u8>,
    /// Events to feed without sampling (forced releases), in order.
    forced: std::collections::VecDeque<EventId>,
    start_step: u64,
    end_step: u64,
    events: usize,
    max_events: usize,
    /// Step of the last note struck, so a downbeat counts as played once.
    struck_at: Option<u64>,
    /// The music after the range, and how far it has been read.
    suffix: Vec<EventId>,
    scored: usize,
    score: f64,
}

impl Row {
    fn new(seed: u64, primer: &[EventId], prefix: &encoding::Prefix, passage: Passage) -> Self {
        let mut decoder = Decoder::default();
        for &event in primer {
            decoder.push(event);
        }
        let played = Played::of_events(primer);
        let mut held = prefix.held.clone();
        held.sort_by_key(|&(pitch, step)| (step, pitch));
        let (start_step, end_step) = (to_step(passage.start_s), to_step(passage.end_s));
        let mut row = Self {
            seed,
            rng: StdRng::seed_from_u64(seed),
            phase: Phase::Sampling,
            decoder,
            played,
            velocity: prefix.velocity,
            held,
            struck: Vec::new(),
            forced: Default::default(),
            start_step,
            end_step,
            events: 0,
            max_events: ((passage.end_s - passage.start_s) * MAX_EVENTS_PER_SECOND).ceil() as usize
                + 128,
            struck_at: None,
            suffix: Vec::new(),
            scored: 0,
            score: 0.0,
        };
        row.queue_due_releases();
        row
    }

    fn fraction(&self) -> f64 {
        match self.phase {
            Phase::Sampling => {
                let span = (self.end_step - self.start_step).max(1) as f64;
                0.5 * (self.decoder.step() - self.start_step) as f64 / span
            }
            Phase::Scoring => 0.5 + 0.5 * self.scored as f64 / self.suffix.len().max(1) as f64,
            Phase::Done => 1.0,
        }
    }

    /// Takes the logits over the next event; returns the next input.
    fn advance(
        &mut self,
        logits: &[f32],
        settings: &SamplingSettings,
        assist: &Assist,
        parts: &Parts,
        passage: Passage,
        grid: Option<&Grid>,
    ) -> i64 {
        match self.phase {
            Phase::Sampling => {
                let event = self.next_in_range(logits, settings, assist, grid);
                self.apply(event);
                if self.forced.is_empty() && self.decoder.step() >= self.end_step {
                    self.release_struck();
                    if self.forced.is_empty() {
                        self.start_scoring(parts, passage);
                    }
                }
                i64::from(event)
            }
            Phase::Scoring => {
                let event = self.suffix[self.scored];
                self.played.push(event);
                self.score += log_probability(logits, event);
                self.scored += 1;
                if self.scored == self.suffix.len() {
                    self.phase = Phase::Done;
                }
                i64::from(event)
            }
            Phase::Done => 0,
        }
    }

    /// The next event of the range: a forced release, or a sample the constraints allow, leaned
    /// on by `assist` as generation is.
    fn next_in_range(
        &mut self,
        logits: &[f32],
        settings: &SamplingSettings,
        assist: &Assist,
        grid: Option<&Grid>,
    ) -> EventId {
        if let Some(event) = self.forced.pop_front() {
            return event;
        }
        let mut allowed = tempered(logits, settings.temperature);
        let struck_here = self.struck_at == Some(self.decoder.step());
        assist.lean(&mut allowed, grid, &self.decoder, &self.played, struck_here);
        for &(pitch, _) in &self.held {
            // A key held from before the range is neither struck nor released by the candidate.
            allowed[usize::from(Event::NoteOn(pitch).id())] = f32::NEG_INFINITY;
            allowed[usize::from(Event::NoteOff(pitch).id())] = f32::NEG_INFINITY;
        }
        if self.events >= self.max_events {
            // Out of budget: only time may pass.
            for (id, logit) in allowed.iter_mut().enumerate() {
                if !matches!(Event::from_id(id as EventId), Some(Event::TimeShift(_))) {
                    *logit = f32::NEG_INFINITY;
                }
            }
        }
        let sampled = sample_tempered(&allowed, settings, &mut self.rng);
        if let Some(Event::NoteOn(_)) = Event::from_id(sampled) {
            self.struck_at = Some(self.decoder.step());
        }
        match Event::from_id(sampled) {
            Some(Event::TimeShift(steps)) => {
                // Up to the next forced release or the range's end, whichever comes first.
                let now = self.decoder.step();
                let next_release = self.held.first().map_or(u64::MAX, |&(_, at)| at);
                let limit = next_release.min(self.end_step).saturating_sub(now).max(1);
                Event::TimeShift(u64::from(steps).min(limit) as u8).id()
            }
            _ => sampled,
        }
    }

    fn apply(&mut self, event: EventId) {
        self.decoder.push(event);
        self.played.push(event);
        self.events += 1;
        match Event::from_id(event) {
            Some(Event::Velocity(bin)) => self.velocity = Some(bin),
            Some(Event::NoteOn(pitch)) => {
                self.struck.retain(|&p| p != pitch);
                self.struck.push(pitch);
            }
            Some(Event::NoteOff(pitch)) => self.struck.retain(|&p| p != pitch),
            _ => {}
        }
        self.queue_due_releases();
    }

    /// Queues the releases now due of notes held from before the range (those at the range's end
    /// or later belong to the music after it).
    fn queue_due_releases(&mut self) {
        let now = self.decoder.step();
        while let Some(&(pitch, at)) = self.held.first() {
            if at > now || at >= self.end_step {
                break;
            }
            self.held.remove(0);
            self.forced.push_back(Event::NoteOff(pitch).id());
        }
    }

    /// At the range's end: the candidate's keys still down are released there.
    fn release_struck(&mut self) {
        for pitch in std::mem::take(&mut self.struck) {
            self.forced.push_back(Event::NoteOff(pitch).id());
        }
    }

    /// The kept music from the range's end on (notes held across it released where they were,
    /// the notes after it), up to [`SCORED_SECONDS`] later, as the model reads it now.
    fn start_scoring(&mut self, parts: &Parts, passage: Passage) {
        let end = self.end_step;
        let sounding: Vec<Note> = self
            .held
            .iter()
            .map(|&(pitch, at)| Note {
                pitch,
                start_s: passage.start_s.min(passage.end_s - 0.01),
                end_s: at as f64 * encoding::STEP_S,
                velocity: 1,
            })
            .collect();
        let full = encoding::encode_from(&parts.after, &sounding, passage.end_s, self.velocity);
        let horizon = end + to_step(SCORED_SECONDS);
        let mut now = end;
        self.suffix = full
            .into_iter()
            .take_while(|&id| {
                let inside = now < horizon;
                if let Some(Event::TimeShift(steps)) = Event::from_id(id) {
                    now += u64::from(steps);
                }
                inside
            })
            .collect();
        self.phase = if self.suffix.is_empty() {
            Phase::Done
        } else {
            Phase::Scoring
        };
    }

    fn into_candidate(self, passage: Passage) -> Candidate {
        let start = to_step(passage.start_s);
        let mut notes: Vec<Note> = self
            .decoder
            .finish()
            .into_iter()
            .filter(|n| to_step(n.start_s) >= start)
            .collect();
        midi::sort_notes(&mut notes);
        Candidate {
            notes,
            score: self.score,
            scored_events: self.scored,
            seed: self.seed,
        }
    }
}

/// ln p(event) under logits (a log-softmax of one row).
fn log_probability(logits: &[f32], event: EventId) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    f64::from(logits[usize::from(event)] - max) - sum.ln()
}

/// A regeneration to run on a worker thread.
#[derive(Debug, Clone)]
pub struct RegenerateRequest {
    /// Checkpoint (stem or either file).
    pub checkpoint: std::path::PathBuf,
    /// The take's notes.
    pub notes: Vec<Note>,
    /// The range to redo.
    pub passage: Passage,
    /// How many candidates.
    pub candidates: usize,
    /// Temperature, top-k, top-p and the first seed (its length and variations are not used).
    pub settings: SamplingSettings,
    /// What to ask the model for.
    pub controls: crate::music::plan::ControlPlan,
    /// Where to run the network.
    pub device: crate::model::DeviceChoice,
    /// The take's bar grid, if it has one: the passage is redone in its tempo and meter.
    pub grid: Option<crate::music::meter::Grid>,
}

/// A running regeneration: progress, then the candidates best first. Cancel with
/// [`crate::base::worker::Worker::cancel`]; dropping it cancels and waits.
pub type RegeneratorHandle = crate::base::worker::Worker<(), Progress, Vec<Candidate>>;

/// Starts a regeneration on a worker thread; `repaint` is called after every event sent.
pub fn spawn(
    request: RegenerateRequest,
    repaint: crate::base::worker::Repaint,
) -> RegeneratorHandle {
    crate::base::worker::Worker::spawn("cadenza-regenerate", repaint, move |ctx| {
        run(&request, ctx)?.ok_or(crate::base::worker::Stop::Cancelled)
    })
}

fn run(
    request: &RegenerateRequest,
    ctx: &crate::base::worker::Context<(), Progress>,
) -> Result<Option<Vec<Candidate>>, GenerateError> {
    let device = crate::model::resolve_device(request.device).map_err(GenerateError::Device)?;
    let loaded = crate::model::checkpoint::load_model(&request.checkpoint, device.device)?;
    let steering =
        Steering::new(&loaded.meta, request.controls.clone())?.or_grid(request.grid.clone());
    tracing::info!(
        checkpoint = %request.checkpoint.display(),
        start_s = request.passage.start_s,
        end_s = request.passage.end_s,
        candidates = request.candidates,
        "regenerating a passage"
    );
    regenerate(
        &loaded.model,
        &steering,
        device.device,
        &request.notes,
        request.passage,
        request.candidates,
        &request.settings,
        &mut |progress| ctx.update(progress),
        ctx.cancel_flag(),
    )
}
