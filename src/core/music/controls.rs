//! Steering: controls computed from the music itself and fed to the network beside each event, so
//! a model learns what "dense", "in D minor", "soft" or "like Chopin" mean without any labels
//! (Performance RNN's conditioning, extended with loudness and a learned style embedding).
//!
//! At training time each event gets the controls of the music just ahead of it: the note density
//! and the mean velocity over the next [`DENSITY_WINDOW_S`] seconds, and the time-weighted
//! pitch-class histogram over the next [`HISTOGRAM_WINDOW_S`]. Each control is dropped at random
//! (an input says it is absent), so at generation time every control can be "any". When
//! generating, a `ControlPlan` (the plan module) says what to ask for at each moment: a key (turned into a
//! histogram by rotating the corpus's own average histogram for that mode, see [`KeyProfiles`]),
//! a density and a loudness curve, and a style.

use std::fmt;
use std::str::FromStr;

use crate::music::encoding::{Event, EventId, STEP_S, to_step};
use crate::music::lookback::{LOOKBACK_INPUTS, LookbackValues, Played};
use crate::music::meter::Grid;
use crate::music::meter_inputs::{METER_INPUTS, MeterValues};
use crate::music::midi::Note;

/// Seconds ahead of an event over which density and loudness are measured.
pub const DENSITY_WINDOW_S: f64 = 3.0;
/// Seconds ahead of an event over which the pitch-class histogram is measured.
pub const HISTOGRAM_WINDOW_S: f64 = 5.0;
/// Density bins: Performance RNN's octave-wide bins, shifted half a bin so that 0.5, 1, 2, 4 … 64
/// notes/s are bin centres (a request of 2 notes/s lands in the middle of a bin, not on an edge).
/// These are the bins' upper edges; the last bin is open.
pub const DENSITY_EDGES: [f64; 7] = [0.71, 1.41, 2.83, 5.66, 11.3, 22.6, 45.3];
/// Number of density bins.
pub const DENSITY_BINS: usize = DENSITY_EDGES.len() + 1;
/// Loudness bins by mean velocity: soft below 56, medium below 80, loud from 80.
pub const LOUDNESS_EDGES: [f64; 2] = [56.0, 80.0];
/// Number of loudness bins.
pub const LOUDNESS_BINS: usize = LOUDNESS_EDGES.len() + 1;
/// Inputs beside the event embedding: each control's one-hot (or histogram) and a presence flag.
pub const CONTROL_INPUTS: usize = DENSITY_BINS + 1 + 12 + 1 + LOUDNESS_BINS + 1;
/// Inputs beside each event of a model that also reads the bar grid: the controls, then the
/// [`METER_INPUTS`]. Models from before the grid have [`CONTROL_INPUTS`] and still load.
pub const CONTROL_INPUTS_WITH_METER: usize = CONTROL_INPUTS + METER_INPUTS;
/// Inputs beside each event of a model that also looks back a bar and two (the layout new models
/// have): the controls, the [`METER_INPUTS`], then the [`LOOKBACK_INPUTS`].
pub const CONTROL_INPUTS_WITH_LOOKBACK: usize = CONTROL_INPUTS_WITH_METER + LOOKBACK_INPUTS;
/// Every input layout this Cadenza reads, oldest first; the last is new models'.
pub const CONTROL_LAYOUTS: [usize; 3] = [
    CONTROL_INPUTS,
    CONTROL_INPUTS_WITH_METER,
    CONTROL_INPUTS_WITH_LOOKBACK,
];
/// Size of the learned style embedding.
pub const STYLE_DIM: usize = 16;
/// Width of the projection a new model reads the bar grid's and the lookback's inputs through
/// (the [`STRUCTURE_INPUTS`]). 11.4 of those 453 are non-zero at a step on average over the
/// training windows (`cargo bench --bench training -- inputs`), so the projection sums 11 rows
/// of 64 where a dense first layer multiplies all 453 by its `4·hidden` gates: a 2 × 256
/// network's first layer reads 234 numbers per step instead of 623 (170 without them).
pub const STRUCTURE_WIDTH: usize = 64;
/// The bar grid's and the lookback's inputs, after the [`CONTROL_INPUTS`].
pub const STRUCTURE_INPUTS: usize = CONTROL_INPUTS_WITH_LOOKBACK - CONTROL_INPUTS;
/// Added to each pitch class before the histogram is normalised (Performance RNN's prior).
const HISTOGRAM_PRIOR: f64 = 0.01;

/// The density bin of `notes_per_s`.
pub fn density_bin(notes_per_s: f64) -> u8 {
    DENSITY_EDGES.iter().filter(|&&e| notes_per_s >= e).count() as u8
}

/// The density a bin stands for (its centre), in notes per second.
pub fn density_of_bin(bin: u8) -> f64 {
    2f64.powi(i32::from(bin.min(DENSITY_BINS as u8 - 1)) - 1)
}

/// The loudness bin of a mean velocity.
pub fn loudness_bin(mean_velocity: f64) -> u8 {
    LOUDNESS_EDGES
        .iter()
        .filter(|&&e| mean_velocity >= e)
        .count() as u8
}

/// Named loudness levels, as the CLI and the app offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loudness {
    /// Mean velocity below 56.
    Soft,
    /// Mean velocity 56–79.
    Medium,
    /// Mean velocity 80 and above.
    Loud,
}

impl Loudness {
    /// Every level, soft first.
    pub const ALL: [Self; 3] = [Self::Soft, Self::Medium, Self::Loud];

    /// A mean velocity inside the level's bin, as a curve value.
    pub fn velocity(self) -> f64 {
        match self {
            Self::Soft => 45.0,
            Self::Medium => 67.0,
            Self::Loud => 92.0,
        }
    }

    /// The level's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Soft => "soft",
            Self::Medium => "medium",
            Self::Loud => "loud",
        }
    }
}

impl FromStr for Loudness {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("unknown loudness {text:?}: use soft, medium or loud"))
    }
}

/// Major or minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Major.
    Major,
    /// Minor.
    Minor,
}

/// A key: tonic pitch class (0 = C) and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    tonic: u8,
    mode: Mode,
}

const TONIC_NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

impl Key {
    /// The key on `tonic` (taken modulo 12) in `mode`.
    pub fn new(tonic: u8, mode: Mode) -> Self {
        Self {
            tonic: tonic % 12,
            mode,
        }
    }

    /// The 24 major and minor keys: C major … B major, then C minor … B minor.
    pub fn all() -> impl Iterator<Item = Self> {
        [Mode::Major, Mode::Minor]
            .into_iter()
            .flat_map(|mode| (0..12).map(move |tonic| Self::new(tonic, mode)))
    }

    /// Tonic pitch class, 0 = C.
    pub fn tonic(self) -> u8 {
        self.tonic
    }

    /// Major or minor.
    pub fn mode(self) -> Mode {
        self.mode
    }

    /// The same mode, `semitones` higher.
    pub fn transposed(self, semitones: i32) -> Self {
        Self::new(
            (i32::from(self.tonic) + semitones).rem_euclid(12) as u8,
            self.mode,
        )
    }

    /// The relative key (C major ↔ A minor).
    pub fn relative(self) -> Self {
        match self.mode {
            Mode::Major => Self::new(self.tonic + 9, Mode::Minor),
            Mode::Minor => Self::new(self.tonic + 3, Mode::Major),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Major => "major",
            Mode::Minor => "minor",
        };
        write!(f, "{} {mode}", TONIC_NAMES[usize::from(self.tonic)])
    }
}

impl FromStr for Key {
    type Err = String;

    /// "D minor", "F# major", "Bb minor", "c# MINOR".
    fn from_str(text: &str) -> Result<Self, String> {
        let error = || format!("unknown key {text:?}: write e.g. \"D minor\" or \"F# major\"");
        let mut words = text.split_whitespace();
        let (Some(tonic), Some(mode), None) = (words.next(), words.next(), words.next()) else {
            return Err(error());
        };
        let mode = match mode.to_ascii_lowercase().as_str() {
            "major" => Mode::Major,
            "minor" => Mode::Minor,
            _ => return Err(error()),
        };
        let mut letters = tonic.chars();
        let natural = match letters.next().map(|c| c.to_ascii_uppercase()) {
            Some('C') => 0,
            Some('D') => 2,
            Some('E') => 4,
            Some('F') => 5,
            Some('G') => 7,
            Some('A') => 9,
            Some('B') => 11,
            _ => return Err(error()),
        };
        let accidental: i32 = match letters.as_str() {
            "" => 0,
            "#" | "♯" => 1,
            "b" | "♭" => -1,
            _ => return Err(error()),
        };
        Ok(Self::new((natural + accidental).rem_euclid(12) as u8, mode))
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Krumhansl & Kessler's probe-tone profiles (major, minor), tonic first.
const KK_MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
const KK_MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// Seconds each pitch class sounds in `notes` (a duration-weighted histogram).
pub fn pitch_class_durations(notes: &[Note]) -> [f64; 12] {
    let mut durations = [0.0; 12];
    for note in notes {
        durations[usize::from(note.pitch % 12)] += (note.end_s - note.start_s).max(0.0);
    }
    durations
}

/// The Krumhansl–Schmuckler key of a duration-weighted pitch-class histogram: the key whose
/// rotated Krumhansl–Kessler profile correlates best with it. `None` for silence.
pub fn find_key(histogram: &[f64; 12]) -> Option<Key> {
    if histogram.iter().sum::<f64>() <= 0.0 {
        return None;
    }
    Key::all()
        .max_by(|a, b| key_correlation(histogram, *a).total_cmp(&key_correlation(histogram, *b)))
}

fn key_correlation(histogram: &[f64; 12], key: Key) -> f64 {
    let profile = match key.mode {
        Mode::Major => &KK_MAJOR,
        Mode::Minor => &KK_MINOR,
    };
    let rotated: [f64; 12] =
        std::array::from_fn(|pc| profile[(pc + 12 - usize::from(key.tonic)) % 12]);
    correlation(histogram, &rotated)
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        cov += (x - ma) * (y - mb);
        va += (x - ma).powi(2);
        vb += (y - mb).powi(2);
    }
    cov / (va * vb).sqrt().max(1e-12)
}

/// The pitch-class histograms a requested key turns into: for each mode, the average of the
/// corpus's own window histograms (as the controls see them), each rotated so that its piece's
/// key (found by [`find_key`] on the whole piece) has tonic C. A request for D minor is the minor
/// profile rotated up two semitones.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyProfiles {
    /// Average histogram of major pieces, tonic C.
    pub major: [f64; 12],
    /// Average histogram of minor pieces, tonic C.
    pub minor: [f64; 12],
}

impl Default for KeyProfiles {
    /// The Krumhansl–Kessler profiles, normalised: used for a mode the corpus lacks.
    fn default() -> Self {
        Self {
            major: normalised(KK_MAJOR),
            minor: normalised(KK_MINOR),
        }
    }
}

impl KeyProfiles {
    /// Averages the window histograms of `pieces` (notes, pedal applied) per mode.
    pub fn of_pieces<'a>(pieces: impl IntoIterator<Item = &'a [Note]>) -> Self {
        let mut sums = [[0.0; 12]; 2];
        let mut counts = [0usize; 2];
        for notes in pieces {
            let Some(key) = find_key(&pitch_class_durations(notes)) else {
                continue;
            };
            let mode = usize::from(key.mode == Mode::Minor);
            let end = notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
            let mut start = 0.0;
            while start < end {
                let window = window_histogram(notes, start, start + HISTOGRAM_WINDOW_S);
                for (pc, value) in window.iter().enumerate() {
                    sums[mode][(pc + 12 - usize::from(key.tonic)) % 12] += value;
                }
                counts[mode] += 1;
                start += HISTOGRAM_WINDOW_S;
            }
        }
        let fallback = Self::default();
        let average = |mode: usize, fallback: [f64; 12]| {
            if counts[mode] == 0 {
                fallback
            } else {
                normalised(sums[mode])
            }
        };
        Self {
            major: average(0, fallback.major),
            minor: average(1, fallback.minor),
        }
    }

    /// The histogram asked for by `key`.
    pub fn histogram(&self, key: Key) -> [f64; 12] {
        let profile = match key.mode {
            Mode::Major => &self.major,
            Mode::Minor => &self.minor,
        };
        std::array::from_fn(|pc| profile[(pc + 12 - usize::from(key.tonic)) % 12])
    }
}

fn normalised(values: [f64; 12]) -> [f64; 12] {
    let total: f64 = values.iter().sum();
    values.map(|v| v / total.max(1e-12))
}

/// The time-weighted pitch-class histogram of what sounds in `[from_s, to_s)`, with the prior,
/// normalised.
pub fn window_histogram(notes: &[Note], from_s: f64, to_s: f64) -> [f64; 12] {
    let mut histogram = [HISTOGRAM_PRIOR; 12];
    for note in notes {
        let overlap = note.end_s.min(to_s) - note.start_s.max(from_s);
        if overlap > 0.0 {
            histogram[usize::from(note.pitch % 12)] += overlap;
        }
    }
    normalised(histogram)
}

/// The controls at one moment; `None` means absent ("any").
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ControlValues {
    /// Density bin.
    pub density: Option<u8>,
    /// Pitch-class histogram (sums to 1).
    pub histogram: Option<[f32; 12]>,
    /// Loudness bin.
    pub loudness: Option<u8>,
    /// Where the moment falls on the bar grid, for a model with metrical inputs.
    pub meter: Option<MeterValues>,
    /// What was played a bar and two bars back, for a model with lookback inputs (only with a
    /// grid: bars are the grid's).
    pub lookback: Option<LookbackValues>,
}

impl ControlValues {
    /// Writes the network's control inputs to `out`, one of the [`CONTROL_LAYOUTS`] wide:
    /// [`CONTROL_INPUTS`] values, then for a model with metrical inputs the meter's, then for a
    /// model with lookback inputs the lookback's.
    pub fn write_inputs(&self, out: &mut [f32]) {
        let (controls, rest) = out.split_at_mut(CONTROL_INPUTS);
        self.write_controls(controls);
        if rest.is_empty() {
            return;
        }
        let (meter, lookback) = rest.split_at_mut(METER_INPUTS);
        match &self.meter {
            Some(values) => values.write_inputs(meter),
            None => meter.fill(0.0),
        }
        if !lookback.is_empty() {
            match &self.lookback {
                Some(values) => values.write_inputs(lookback),
                None => lookback.fill(0.0),
            }
        }
    }

    fn write_controls(&self, out: &mut [f32]) {
        out.fill(0.0);
        let (density, rest) = out.split_at_mut(DENSITY_BINS + 1);
        let (histogram, loudness) = rest.split_at_mut(13);
        if let Some(bin) = self.density {
            density[usize::from(bin).min(DENSITY_BINS - 1)] = 1.0;
            density[DENSITY_BINS] = 1.0;
        }
        if let Some(values) = self.histogram {
            histogram[..12].copy_from_slice(&values);
            histogram[12] = 1.0;
        }
        if let Some(bin) = self.loudness {
            loudness[usize::from(bin).min(LOUDNESS_BINS - 1)] = 1.0;
            loudness[LOUDNESS_BINS] = 1.0;
        }
    }

    /// The network's control inputs as a vector of `width` (one of the [`CONTROL_LAYOUTS`])
    /// values.
    pub fn inputs(&self, width: usize) -> Vec<f32> {
        let mut out = vec![0.0; width];
        self.write_inputs(&mut out);
        out
    }
}

/// The controls of every position of an encoded sequence, computed from the music ahead of it:
/// position `i` holds the controls in force when event `i` happens (the network reads them beside
/// event `i − 1`, while predicting event `i`). Stored compactly (about 14 bytes per event).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlTrack {
    density: Vec<u8>,
    /// `u8::MAX` where no note starts in the window ahead (loudness undefined: absent).
    loudness: Vec<u8>,
    /// Histograms quantised to 1/255.
    histogram: Vec<[u8; 12]>,
    /// Where each position falls on the piece's bar grid; `None` for a piece without a usable one.
    meter: Option<Vec<MeterValues>>,
    /// What was played a bar and two back at each position, on the same grid.
    lookback: Option<Vec<LookbackValues>>,
}

impl ControlTrack {
    /// Computes the controls of `events` (ids outside the vocabulary, such as the start event,
    /// take the controls of the moment they are at), and their place on `grid` if there is one.
    pub fn of_events(events: &[EventId], grid: Option<&Grid>) -> Self {
        let times = event_steps(events);
        let notes = crate::music::encoding::decode(events);
        let onsets: Vec<(u64, u8)> = notes
            .iter()
            .map(|n| (to_step(n.start_s), n.velocity))
            .collect();
        let mut track = Self::default();
        let mut cached: Option<(u64, u8, u8, [u8; 12])> = None;
        for &step in &times {
            let (density, loudness, histogram) = match cached {
                Some((at, d, l, h)) if at == step => (d, l, h),
                _ => {
                    let computed = controls_at(step, &onsets, &notes);
                    cached = Some((step, computed.0, computed.1, computed.2));
                    computed
                }
            };
            track.density.push(density);
            track.loudness.push(loudness);
            track.histogram.push(histogram);
        }
        track.meter = grid.map(|grid| {
            times
                .iter()
                .map(|&step| MeterValues::at(grid, step as f64 * STEP_S))
                .collect()
        });
        track.lookback = grid.map(|grid| lookback_track(events, grid));
        track
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        self.density.len()
    }

    /// Whether the track has no positions.
    pub fn is_empty(&self) -> bool {
        self.density.is_empty()
    }

    /// The controls at position `i`, the histogram rotated up by `semitones` (the controls of the
    /// transposed music).
    pub fn values(&self, i: usize, semitones: i8) -> ControlValues {
        let quantised = &self.histogram[i];
        let shift = i32::from(semitones).rem_euclid(12) as usize;
        let histogram =
            std::array::from_fn(|pc| f32::from(quantised[(pc + 12 - shift) % 12]) / 255.0);
        ControlValues {
            density: Some(self.density[i]),
            histogram: Some(histogram),
            loudness: (self.loudness[i] != u8::MAX).then_some(self.loudness[i]),
            meter: self.meter.as_ref().map(|meter| meter[i]),
            lookback: self
                .lookback
                .as_ref()
                .map(|lookback| lookback[i].transposed(semitones)),
        }
    }
}

/// The lookback values at each position: those of the moment event `i` happens, from the events
/// before it.
fn lookback_track(events: &[EventId], grid: &Grid) -> Vec<LookbackValues> {
    let mut played = Played::default();
    events
        .iter()
        .map(|&event| {
            let values = played.lookback(grid);
            played.push(event);
            values
        })
        .collect()
}

/// The time (in steps) at which each event happens: the sum of the time shifts before it.
fn event_steps(events: &[EventId]) -> Vec<u64> {
    let mut now = 0u64;
    events
        .iter()
        .map(|&id| {
            let at = now;
            if let Some(Event::TimeShift(steps)) = Event::from_id(id) {
                now += u64::from(steps);
            }
            at
        })
        .collect()
}

/// (density bin, loudness bin or `u8::MAX`, quantised histogram) of the music from `step` on.
fn controls_at(step: u64, onsets: &[(u64, u8)], notes: &[Note]) -> (u8, u8, [u8; 12]) {
    let density_end = step + to_step(DENSITY_WINDOW_S);
    let first = onsets.partition_point(|&(at, _)| at < step);
    let ahead = &onsets[first..onsets.partition_point(|&(at, _)| at < density_end)];
    let density = density_bin(ahead.len() as f64 / DENSITY_WINDOW_S);
    let loudness = if ahead.is_empty() {
        u8::MAX
    } else {
        let mean = ahead.iter().map(|&(_, v)| f64::from(v)).sum::<f64>() / ahead.len() as f64;
        loudness_bin(mean)
    };
    let from_s = step as f64 * STEP_S;
    // Notes are sorted by onset: only those starting before the window's end can overlap it.
    let reaching = notes.partition_point(|n| n.start_s < from_s + HISTOGRAM_WINDOW_S);
    let histogram = window_histogram(&notes[..reaching], from_s, from_s + HISTOGRAM_WINDOW_S)
        .map(|v| (v * 255.0).round() as u8);
    (density, loudness, histogram)
}

/// What a model learned to be steered by, recorded in its checkpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ControlsMeta {
    /// One of the [`CONTROL_LAYOUTS`]: [`CONTROL_INPUTS_WITH_LOOKBACK`], or an older model's
    /// [`CONTROL_INPUTS_WITH_METER`] (no lookback) or [`CONTROL_INPUTS`] (from before the bar
    /// grid: no tempo and meter), which load and generate; any other layout is refused.
    pub inputs: usize,
    /// Style labels (the corpus's composers), in embedding order after "any" (row 0). A
    /// fine-tune appends to this list, so existing rows keep their meaning.
    pub styles: Vec<String>,
    /// Size of the style embedding.
    pub style_dim: usize,
    /// What a requested key turns into.
    pub key_profiles: KeyProfiles,
    /// Whether the network has learned structure paths (the model layer's `paths`): gated
    /// echoes of one and two bars back and moves onto the grid, added to its output. Models from
    /// before them have none and load as they were.
    #[serde(default)]
    pub structure_paths: bool,
    /// Width of the projection through which the first layer reads the bar grid's and the
    /// lookback's inputs (the model layer's `structure` table), visiting only the inputs that are
    /// non-zero; 0: the first layer reads them densely, as every model from before it does.
    #[serde(default)]
    pub structure_width: usize,
}

impl ControlsMeta {
    /// Controls for a model trained on a corpus with these style labels and key profiles.
    pub fn new(styles: Vec<String>, key_profiles: KeyProfiles) -> Self {
        Self {
            inputs: CONTROL_INPUTS_WITH_LOOKBACK,
            styles,
            style_dim: STYLE_DIM,
            key_profiles,
            structure_paths: true,
            structure_width: STRUCTURE_WIDTH,
        }
    }

    /// Whether the model reads the bar grid (tempo and meter can be asked of it).
    pub fn reads_meter(&self) -> bool {
        self.inputs >= CONTROL_INPUTS_WITH_METER
    }

    /// Whether the model reads what was played a bar and two bars back.
    pub fn reads_lookback(&self) -> bool {
        self.inputs >= CONTROL_INPUTS_WITH_LOOKBACK
    }

    /// The style embedding's row for a label: 0 is "any", labels start at 1.
    pub fn style_index(&self, label: &str) -> Option<usize> {
        self.styles
            .iter()
            .position(|s| s.eq_ignore_ascii_case(label))
            .map(|i| i + 1)
    }

    /// The model's own name for a corpus style it already knows (matched as
    /// [`ControlsMeta::style_index`] matches, ignoring case): training that model further
    /// continues that style. `None`: training adds the label as a new style.
    pub fn known_style(&self, label: &str) -> Option<&str> {
        let row = self.style_index(label)?;
        self.styles.get(row - 1).map(String::as_str)
    }

    /// Rows of the style embedding ("any" and each label).
    pub fn style_rows(&self) -> usize {
        self.styles.len() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print() {
        for key in Key::all() {
            assert_eq!(key.to_string().parse::<Key>(), Ok(key));
        }
        assert_eq!("c# MINOR".parse::<Key>(), Ok(Key::new(1, Mode::Minor)));
        assert_eq!("Db minor".parse::<Key>(), Ok(Key::new(1, Mode::Minor)));
        assert!("H major".parse::<Key>().is_err());
        assert!("D".parse::<Key>().is_err());
    }

    #[test]
    fn density_requests_are_bin_centres() {
        for (request, bin) in [(0.5, 0), (1.0, 1), (2.0, 2), (4.0, 3), (8.0, 4), (16.0, 5)] {
            assert_eq!(density_bin(request), bin, "{request}");
            assert_eq!(density_of_bin(bin), request);
        }
        assert_eq!(density_bin(1000.0), 7);
    }

    #[test]
    fn the_key_finder_names_a_scale_by_its_tonic() {
        // A C major scale with the tonic and dominant held longest.
        let durations = [4.0, 0.0, 1.0, 0.0, 2.0, 1.0, 0.0, 3.0, 0.0, 1.0, 0.0, 1.0];
        assert_eq!(find_key(&durations), Some(Key::new(0, Mode::Major)));
        let shifted: [f64; 12] = std::array::from_fn(|pc| durations[(pc + 10) % 12]);
        assert_eq!(find_key(&shifted), Some(Key::new(2, Mode::Major)));
        assert_eq!(find_key(&[0.0; 12]), None);
    }
}
