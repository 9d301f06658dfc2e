//! How far takes are from the corpus (issue 25): music statistics of 30-s clips, each as the
//! corpus's p10 · median · p90 beside the takes', and a two-sample classifier test: a logistic
//! regression on those statistics, cross-validated in 5 folds that never put one piece (or one
//! take) on both sides, reporting balanced accuracy (50 % is indistinguishable). Release build,
//! the shared corpus beside the repository:
//!
//!   cargo bench --bench realism                                  # the shipped starter
//!   cargo bench --bench realism -- checkpoint=PATH takes=40 form="A4 B4 A4"
//!   cargo bench --bench realism -- tempo=100 meter=4/4 temperature=0.95
//!   cargo bench --bench realism -- tempo=varied   # 60-132 bpm in 4/4, 3/4, 2/4, 6/8 by turns
//!   cargo bench --bench realism -- tempo=90 meter=4/4 assist=light  # light beside the network alone
//!   cargo bench --bench realism -- tempo=90 meter=4/4 assist=none   # the network alone only
//!   cargo bench --bench realism -- tempo=90 meter=4/4 seeds=101      # seeds 101-140 (held out)
//!
//! Every run samples the same seeds (1–N) with the assist asked for (strong by default) and with
//! none, and prints both beside the corpus; the classifier's accuracy comes with a 95 % interval.

#[path = "common.rs"]
mod common;
#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use cadenza_core::checkpoint;
use cadenza_core::controls::{self, ControlPlan};
use cadenza_core::corpus;
use cadenza_core::generate::AssistLevel;
use cadenza_core::midi::{self, Note};
use cadenza_core::music::form::{Form, shared_notes};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::Device;

/// Length of a clip, in seconds.
const CLIP_S: f64 = 30.0;
/// Clips taken from each corpus piece (at random places).
const CLIPS_PER_PIECE: usize = 2;
/// Folds of the cross-validation.
const FOLDS: usize = 5;
/// Upper edges of the onset-interval and note-length bins, in seconds.
const TIME_EDGES_S: [f64; 5] = [0.05, 0.1, 0.2, 0.4, 0.8];

fn main() {
    let Some(dir) = fixtures::shared_corpus("realism benchmark") else {
        return;
    };
    let argument = common::argument;
    let checkpoint = common::checkpoint_argument();
    let count: usize = argument("takes").map_or(40, |v| v.parse().expect("a number"));
    // `seeds=K`: takes sampled with seeds K, K+1, …, away from those the strengths were chosen
    // on (1–40 for the echo, 1–10 for the release).
    let first_seed: u64 =
        argument("seeds").map_or(1, |v| v.parse().expect("seeds=K takes a number"));
    let form: Option<Form> = argument("form").map(|f| f.parse().expect("a form"));
    cadenza_core::model::set_threads(2);
    let corpus = corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let mut rng = StdRng::seed_from_u64(25);
    let mut excerpts = Vec::new();
    for (piece_index, piece) in corpus.pieces.iter().enumerate() {
        let sounding = midi::apply_sustain(&piece.piece);
        let length_s = piece.piece.duration_s();
        for _ in 0..CLIPS_PER_PIECE {
            let from_s = rng.random_range(0.0..(length_s - CLIP_S).max(0.001));
            if let Some(stats) = Stats::of(&clip(&sounding, from_s, length_s)) {
                excerpts.push((piece_index, stats));
            }
        }
    }
    let model = checkpoint::load_model(&checkpoint, Device::Cpu).expect("checkpoint loads");
    let mut plan = ControlPlan {
        form: form.clone(),
        ..ControlPlan::default()
    };
    let varied = argument("tempo").as_deref() == Some("varied");
    // `assist=none`: the network alone; `light` or `strong` (the default) lean on it.
    let level: AssistLevel = argument("assist").map_or(AssistLevel::default(), |a| {
        a.parse().expect("assist=none|light|strong")
    });
    if let Some(bpm) = argument("tempo").filter(|_| !varied) {
        plan.tempo = controls::Curve::constant(bpm.parse().expect("tempo=BPM takes a number"));
    }
    if let Some(key) = argument("key") {
        plan.key = vec![controls::KeyChange {
            at_s: 0.0,
            key: Some(key.parse().expect("key=\"D minor\" takes a key")),
        }];
    }
    if let Some(meter) = argument("meter") {
        plan.meter = vec![controls::MeterChange {
            at_s: 0.0,
            signature: meter.parse().expect("meter=N/D takes a time signature"),
        }];
    }
    // The same seeds with the assist asked for and with none: the network alone beside it.
    let levels: Vec<AssistLevel> = if level == AssistLevel::None {
        vec![level]
    } else {
        vec![level, AssistLevel::None]
    };
    let sampled: Vec<Vec<Vec<Note>>> = levels
        .iter()
        .map(|level| {
            (0..count)
                .map(|i| {
                    let plan = if varied {
                        varied_time(&plan, i)
                    } else {
                        plan.clone()
                    };
                    common::take_once(&model, plan, first_seed + i as u64, CLIP_S, level.assist())
                })
                .collect()
        })
        .collect();
    let takes: Vec<Vec<(usize, Stats)>> = sampled
        .iter()
        .map(|notes| {
            notes
                .iter()
                .enumerate()
                .filter_map(|(i, notes)| {
                    let end_s = notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
                    Stats::of(&clip(notes, 0.0, end_s)).map(|s| (i, s))
                })
                .collect()
        })
        .collect();
    let names: Vec<String> = levels.iter().map(|l| format!("assist {l}")).collect();
    println!(
        "checkpoint {} · {} takes of {CLIP_S} s{} each with {} · asked: {} · seeds {first_seed}–{} · {} corpus excerpts of {} pieces",
        checkpoint.display(),
        takes[0].len(),
        form.map_or(String::new(), |f| format!(" in form {f}")),
        names.join(" and "),
        plan.summary(),
        first_seed + count as u64 - 1,
        excerpts.len(),
        corpus.pieces.len()
    );
    print_statistics(&excerpts, &names, &takes);
    if let Some(form) = &plan.form {
        for (name, notes) in names.iter().zip(&sampled) {
            println!();
            println!("{name}:");
            print_repeats(form, &plan, notes);
        }
    }
    println!();
    for (name, takes) in names.iter().zip(&takes) {
        let (accuracy, low, high) = classifier_accuracy(&excerpts, takes);
        println!(
            "two-sample classifier (logistic regression, {FOLDS} folds grouped by piece/take), {name}: balanced accuracy {:.1} % (95 % interval {:.1}–{:.1} %)",
            accuracy * 100.0,
            low * 100.0,
            high * 100.0
        );
    }
}

/// Tempos (bpm) and meters a composer might ask for; `tempo=varied` gives take `i` one of each
/// in turn (tempos stepped by the golden ratio through the range, so no two takes share one).
const VARIED_BPM: (f64, f64) = (60.0, 132.0);
const VARIED_METERS: [&str; 4] = ["4/4", "3/4", "2/4", "6/8"];

fn varied_time(plan: &ControlPlan, i: usize) -> ControlPlan {
    let fraction = (i as f64 * 0.618_034).fract();
    ControlPlan {
        tempo: controls::Curve::constant(VARIED_BPM.0 + fraction * (VARIED_BPM.1 - VARIED_BPM.0)),
        meter: vec![controls::MeterChange {
            at_s: 0.0,
            signature: VARIED_METERS[i % VARIED_METERS.len()]
                .parse()
                .expect("a meter"),
        }],
        ..plan.clone()
    }
}

/// How much each repeat shares with its model section, and each other section with the first,
/// by bar position and pitch (medians over the takes).
fn print_repeats(form: &Form, plan: &ControlPlan, takes: &[Vec<Note>]) {
    let grid = plan.grid(CLIP_S + 60.0).expect("a form has a grid");
    let sections = form.on_grid(&grid, 0.0);
    let notes_of = |notes: &[Note], i: usize| -> Vec<(f64, u8)> {
        let section = &sections[i];
        let start_beat = grid.beats_at(section.start_s);
        notes
            .iter()
            .filter(|n| n.start_s >= section.start_s - 0.005 && n.start_s < section.end_s - 0.005)
            .map(|n| (grid.beats_at(n.start_s) - start_beat, n.pitch))
            .collect()
    };
    println!();
    println!("| section | shares with the first section (median over takes) | what it is |");
    println!("|---|---|---|");
    for (i, section) in sections.iter().enumerate().skip(1) {
        let shares: Vec<f64> = takes
            .iter()
            .map(|notes| shared_notes(&notes_of(notes, 0), &notes_of(notes, i)))
            .collect();
        let what = match section.model {
            Some(0) => format!("a repeat of it (variation {})", plan.variation()),
            _ => "new music".to_string(),
        };
        println!(
            "| {} (bars {}–{}) | {:.2} | {what} |",
            section.section,
            section.bars.0 + 1,
            section.bars.1,
            cadenza_core::music::stats::median(shares)
        );
    }
}

/// Notes of a stretch of music, moved to start at 0, and how long the stretch lasts.
struct Clip {
    notes: Vec<Note>,
    /// At most [`CLIP_S`]: less where the music ends sooner, so per-second figures of a short
    /// piece's clip are not diluted by silence it never had.
    length_s: f64,
}

/// The notes struck in `[from_s, from_s + CLIP_S)` of music that ends at `end_s`.
fn clip(notes: &[Note], from_s: f64, end_s: f64) -> Clip {
    let length_s = (end_s - from_s).clamp(0.0, CLIP_S);
    let notes = notes
        .iter()
        .filter(|n| n.start_s >= from_s && n.start_s < from_s + CLIP_S)
        .map(|n| Note {
            start_s: n.start_s - from_s,
            end_s: (n.end_s - from_s).min(CLIP_S),
            ..*n
        })
        .collect();
    Clip { notes, length_s }
}

/// A note held longer than this (pedal applied) is rare in the corpus (0.36 % of its notes):
/// the network's takes held 3.5 % that long before it was nudged to let go (`compose/release.rs`).
const LONG_NOTE_S: f64 = 4.0;

/// The statistics of a clip, named for the table.
const NAMES: [&str; 18] = [
    "notes per second",
    "range (semitones)",
    "peak polyphony",
    "mean polyphony",
    "notes in the best diatonic scale",
    "pitch-class entropy (bits)",
    "onset gaps under 0.1 s",
    "onset gaps over 0.4 s",
    "notes under 0.1 s",
    "notes over 0.8 s",
    "notes over 4 s",
    "velocity mean",
    "velocity spread",
    "velocity step",
    "top-line steps (≤ 2 semitones)",
    "top-line leap size",
    "pattern recurrence",
    "split chords (onset gaps 5–20 ms)",
];

/// A clip described by [`NAMES`].
#[derive(Debug, Clone)]
struct Stats([f64; NAMES.len()]);

impl Stats {
    /// `None` for a clip of fewer than 16 notes.
    fn of(clip: &Clip) -> Option<Self> {
        let notes = &clip.notes[..];
        if notes.len() < 16 {
            return None;
        }
        let mut onsets: Vec<f64> = notes.iter().map(|n| n.start_s).collect();
        onsets.dedup_by(|a, b| (*a - *b).abs() < 0.01);
        let gaps: Vec<f64> = onsets.windows(2).map(|w| w[1] - w[0]).collect();
        let lengths: Vec<f64> = notes.iter().map(|n| n.end_s - n.start_s).collect();
        let velocities: Vec<f64> = notes.iter().map(|n| f64::from(n.velocity)).collect();
        let histogram = controls::pitch_class_durations(notes);
        let total: f64 = histogram.iter().sum::<f64>().max(1e-9);
        let in_scale = best_scale_share(notes);
        let entropy: f64 = histogram
            .iter()
            .map(|d| d / total)
            .filter(|p| *p > 0.0)
            .map(|p| -p * p.log2())
            .sum();
        let top = top_line(notes);
        let intervals: Vec<i32> = top
            .windows(2)
            .map(|w| i32::from(w[1]) - i32::from(w[0]))
            .collect();
        let share = |values: &[f64], test: &dyn Fn(f64) -> bool| {
            values.iter().filter(|&&v| test(v)).count() as f64 / values.len().max(1) as f64
        };
        let pitches = notes.iter().map(|n| n.pitch);
        let (low, high) = (pitches.clone().min()?, pitches.max()?);
        let steps: Vec<f64> = intervals.iter().map(|&i| f64::from(i.abs())).collect();
        Some(Self([
            notes.len() as f64 / clip.length_s,
            f64::from(high - low),
            peak_polyphony(notes),
            lengths.iter().sum::<f64>() / clip.length_s,
            in_scale,
            entropy,
            share(&gaps, &|g| g < TIME_EDGES_S[1]),
            share(&gaps, &|g| g > TIME_EDGES_S[3]),
            share(&lengths, &|l| l < TIME_EDGES_S[1]),
            share(&lengths, &|l| l > TIME_EDGES_S[4]),
            share(&lengths, &|l| l > LONG_NOTE_S),
            mean(&velocities),
            spread(&velocities),
            mean(
                &velocities
                    .windows(2)
                    .map(|w| (w[1] - w[0]).abs())
                    .collect::<Vec<_>>(),
            ),
            share(&steps, &|s| s <= 2.0),
            mean(
                &steps
                    .iter()
                    .copied()
                    .filter(|&s| s > 2.0)
                    .collect::<Vec<_>>(),
            ),
            pattern_recurrence(&intervals),
            split_chords(notes),
        ]))
    }
}

/// The share of the notes in the diatonic collection (the seven pitch classes of a major scale
/// and its relative minor) that holds the most of them. Judged without the key finder the
/// sampler's settled-key rule uses (`controls::find_key`), so the rule is not marked by its own
/// measure.
fn best_scale_share(notes: &[Note]) -> f64 {
    const MAJOR: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];
    let best = (0..12u8)
        .map(|tonic| {
            notes
                .iter()
                .filter(|n| MAJOR.contains(&((n.pitch + 12 - tonic) % 12)))
                .count()
        })
        .max()
        .unwrap_or(0);
    best as f64 / notes.len().max(1) as f64
}

/// Share of the gaps between consecutive onsets (of any key) that are 5–20 ms: a chord struck as
/// a fast spread, which a sequenced corpus has almost never and a step-by-step sampler can make
/// by putting a 10-ms time shift between a chord's notes.
fn split_chords(notes: &[Note]) -> f64 {
    let mut onsets: Vec<f64> = notes.iter().map(|n| n.start_s).collect();
    onsets.sort_by(f64::total_cmp);
    let gaps: Vec<f64> = onsets.windows(2).map(|w| w[1] - w[0]).collect();
    let split = gaps
        .iter()
        .filter(|&&g| (0.005..=0.02).contains(&g))
        .count();
    split as f64 / gaps.len().max(1) as f64
}

/// The highest note at each onset.
fn top_line(notes: &[Note]) -> Vec<u8> {
    let mut line: Vec<(f64, u8)> = Vec::new();
    for note in notes {
        match line.last_mut() {
            Some((at, pitch)) if (note.start_s - *at).abs() < 0.03 => {
                *pitch = (*pitch).max(note.pitch)
            }
            _ => line.push((note.start_s, note.pitch)),
        }
    }
    line.into_iter().map(|(_, p)| p).collect()
}

/// The share of the top line's 4-interval patterns that occur more than once in the clip.
fn pattern_recurrence(intervals: &[i32]) -> f64 {
    let patterns: Vec<&[i32]> = intervals.windows(4).collect();
    if patterns.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for pattern in &patterns {
        *counts.entry(*pattern).or_insert(0) += 1;
    }
    patterns.iter().filter(|p| counts[*p] > 1).count() as f64 / patterns.len() as f64
}

/// Most notes sounding at once.
fn peak_polyphony(notes: &[Note]) -> f64 {
    let mut edges: Vec<(f64, i32)> = notes
        .iter()
        .flat_map(|n| [(n.start_s, 1), (n.end_s, -1)])
        .collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut now = 0;
    let mut peak = 0;
    for (_, change) in edges {
        now += change;
        peak = peak.max(now);
    }
    f64::from(peak)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn spread(values: &[f64]) -> f64 {
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len().max(1) as f64).sqrt()
}

fn quantiles(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return "-".to_string();
    }
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!("{:.2} · {:.2} · {:.2}", at(0.1), at(0.5), at(0.9))
}

/// The statistics table: the corpus's column, then for each set of takes (named in `names`)
/// its quantiles and how far its mean is from the corpus's.
fn print_statistics(excerpts: &[(usize, Stats)], names: &[String], takes: &[Vec<(usize, Stats)>]) {
    println!();
    let heads: Vec<String> = names
        .iter()
        .map(|n| format!("{n} | {n}: mean off by (corpus SDs)"))
        .collect();
    println!(
        "| statistic (p10 · median · p90) | corpus excerpts | {} |",
        heads.join(" | ")
    );
    println!("|---|---|{}", "---|---|".repeat(names.len()));
    for (i, name) in NAMES.iter().enumerate() {
        let values =
            |clips: &[(usize, Stats)]| -> Vec<f64> { clips.iter().map(|(_, s)| s.0[i]).collect() };
        let corpus = values(excerpts);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let spread = (corpus
            .iter()
            .map(|x| (x - mean(&corpus)).powi(2))
            .sum::<f64>()
            / corpus.len().max(1) as f64)
            .sqrt()
            .max(1e-9);
        let cells: Vec<String> = takes
            .iter()
            .map(|takes| {
                let sampled = values(takes);
                let off = (mean(&sampled) - mean(&corpus)) / spread;
                format!("{} | {off:+.2}", quantiles(sampled))
            })
            .collect();
        println!(
            "| {name} | {} | {} |",
            quantiles(corpus.clone()),
            cells.join(" | ")
        );
    }
}

/// Balanced accuracy of telling takes (label 1) from excerpts (label 0), cross-validated with
/// every piece's excerpts and every take in one fold only, with its 95 % interval (the normal
/// approximation to each class's binomial: with 40 takes, about ±8 points around 80 %).
fn classifier_accuracy(excerpts: &[(usize, Stats)], takes: &[(usize, Stats)]) -> (f64, f64, f64) {
    // Folds by group: pieces and takes dealt round-robin.
    let rows: Vec<(usize, f64, &Stats)> = excerpts
        .iter()
        .map(|(piece, s)| (piece % FOLDS, 0.0, s))
        .chain(takes.iter().map(|(take, s)| (take % FOLDS, 1.0, s)))
        .collect();
    let (mut right, mut total) = ([0usize; 2], [0usize; 2]);
    for fold in 0..FOLDS {
        let train: Vec<&(usize, f64, &Stats)> = rows.iter().filter(|r| r.0 != fold).collect();
        let model = Logistic::fit(&train);
        for (_, label, stats) in rows.iter().filter(|r| r.0 == fold) {
            let class = usize::from(*label > 0.5);
            total[class] += 1;
            if (model.probability(stats) > 0.5) == (class == 1) {
                right[class] += 1;
            }
        }
    }
    let share = |c: usize| right[c] as f64 / total[c].max(1) as f64;
    let accuracy = (share(0) + share(1)) / 2.0;
    let variance = |c: usize| share(c) * (1.0 - share(c)) / total[c].max(1) as f64;
    let half_width = 1.96 * (variance(0) + variance(1)).sqrt() / 2.0;
    (
        accuracy,
        (accuracy - half_width).max(0.0),
        (accuracy + half_width).min(1.0),
    )
}

/// Logistic regression on standardised statistics, classes weighted equally, L2-regularised,
/// fitted by gradient descent.
struct Logistic {
    mean: Vec<f64>,
    scale: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

impl Logistic {
    const STEPS: usize = 2000;
    const RATE: f64 = 0.1;
    const L2: f64 = 1e-3;

    fn fit(rows: &[&(usize, f64, &Stats)]) -> Self {
        let features = NAMES.len();
        let column = |j: usize| rows.iter().map(|r| r.2.0[j]).collect::<Vec<_>>();
        let mean: Vec<f64> = (0..features).map(|j| self::mean(&column(j))).collect();
        let scale: Vec<f64> = (0..features)
            .map(|j| spread(&column(j)).max(1e-9))
            .collect();
        let positives = rows.iter().filter(|r| r.1 > 0.5).count().max(1) as f64;
        let negatives = (rows.len() as f64 - positives).max(1.0);
        let mut model = Self {
            mean,
            scale,
            weights: vec![0.0; features],
            bias: 0.0,
        };
        for _ in 0..Self::STEPS {
            let mut gradient = vec![0.0; features];
            let mut bias_gradient = 0.0;
            for (_, label, stats) in rows {
                let weight = if *label > 0.5 {
                    0.5 / positives
                } else {
                    0.5 / negatives
                };
                let x = model.standardised(stats);
                let error = (model.probability(stats) - label) * weight;
                gradient
                    .iter_mut()
                    .zip(&x)
                    .for_each(|(g, xi)| *g += error * xi);
                bias_gradient += error;
            }
            for (w, g) in model.weights.iter_mut().zip(&gradient) {
                *w -= Self::RATE * (g + Self::L2 * *w) * 10.0;
            }
            model.bias -= Self::RATE * bias_gradient * 10.0;
        }
        model
    }

    fn standardised(&self, stats: &Stats) -> Vec<f64> {
        stats
            .0
            .iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(v, (m, s))| (v - m) / s)
            .collect()
    }

    fn probability(&self, stats: &Stats) -> f64 {
        let z: f64 = self
            .standardised(stats)
            .iter()
            .zip(&self.weights)
            .map(|(x, w)| x * w)
            .sum::<f64>()
            + self.bias;
        1.0 / (1.0 + (-z).exp())
    }
}
