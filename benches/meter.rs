//! Bars and tempo (issue 24), measured as the composer's DAW sees a take: each exported file is
//! read back and judged against its own tempo map and time signatures, beside clips of the
//! corpus's files as long as the takes (from the files whose music follows their grid), judged
//! the same way. Every figure is printed for the defaults (the strong assist) and for the network
//! alone (assist none), on the same seeds. Release build, the shared corpus beside the repository:
//!
//!   cargo bench --bench meter                              # the shipped starter, 40 takes
//!   cargo bench --bench meter -- checkpoint=PATH takes=40 seconds=30
//!
//! Takes ask for tempos spread over 60–132 bpm and meters 3/4, 4/4, 6/8 in turn; a second set
//! asks for nothing (a take written at the nominal 120 bpm in 4/4, as before the grid). Onsets
//! count as on the grid within 1/32 beat of a sixteenth or eighth-triplet; a downbeat counts as
//! played with an onset within 30 ms. The heard tempo is estimated from the onsets alone
//! (autocorrelation of the onset train) and counts when within 4 % of the request, its double or
//! its half; the same estimator is scored on the corpus's files against their own tempo maps.

#[path = "common.rs"]
mod common;
#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use cadenza_core::checkpoint::{self, LoadedModel};
use cadenza_core::controls::{ControlPlan, Curve, MeterChange};
use cadenza_core::corpus;
use cadenza_core::generate::Assist;
use cadenza_core::midi::{self, Note, Piece};
use cadenza_core::music::meter::{Grid, grid_offset};
use cadenza_core::music::stats::median;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::Device;

/// Meters asked for, in turn.
const METERS: [&str; 3] = ["3/4", "4/4", "6/8"];
/// Tempo range asked for, in beats per minute.
const TEMPO_RANGE: (f64, f64) = (60.0, 132.0);
/// A heard tempo within this share of the request (or its double or half) counts.
const TEMPO_TOLERANCE: f64 = 0.04;

fn main() {
    let Some(dir) = fixtures::shared_corpus("meter benchmark") else {
        return;
    };
    let argument = common::argument;
    let checkpoint = common::checkpoint_argument();
    let count: usize = argument("takes").map_or(40, |v| v.parse().expect("a number"));
    let seconds: f64 = argument("seconds").map_or(30.0, |v| v.parse().expect("a number"));
    cadenza_core::model::set_threads(2);
    let corpus = corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let mut rng = StdRng::seed_from_u64(24);
    let reference: Vec<Measures> = corpus
        .pieces
        .iter()
        .filter_map(|p| corpus_clip(&p.piece, seconds, &mut rng))
        .filter_map(|(clip, from_s)| Measures::of(&clip, from_s, None))
        .collect();
    let model = checkpoint::load_model(&checkpoint, Device::Cpu).expect("checkpoint loads");
    let asked = takes_asked(&model, count, seconds, Assist::default());
    let alone = takes_asked(&model, count, seconds, Assist::NONE);
    let free: Vec<Measures> = (0..count as u64)
        .filter_map(|i| {
            let notes = common::take_once(
                &model,
                ControlPlan::default(),
                1000 + i,
                seconds,
                Assist::default(),
            );
            exported(notes, None).and_then(|p| Measures::of(&p, 0.0, None))
        })
        .collect();
    println!(
        "checkpoint {} · {count} takes of {seconds} s · corpus: a {seconds}-s clip of each of its {} files with a usable grid",
        checkpoint.display(),
        reference.len()
    );
    print_table(&reference, &asked, &alone, &free);
}

/// A `seconds`-long stretch of `piece` from a random point, with its grid, if the piece follows
/// its grid (a file recorded freely and saved at a nominal tempo is no reference for bars), and
/// where the stretch begins.
fn corpus_clip(piece: &Piece, seconds: f64, rng: &mut StdRng) -> Option<(Piece, f64)> {
    let grid = piece.usable_grid()?.clone();
    let from_s = rng.random_range(0.0..(piece.duration_s() - seconds).max(0.001));
    let notes = piece
        .notes
        .iter()
        .filter(|n| n.start_s >= from_s && n.start_s < from_s + seconds)
        .copied()
        .collect();
    let clip = Piece {
        grid: Some(grid),
        ..Piece::from_notes(notes)
    };
    Some((clip, from_s))
}

/// What is measured of one file against its own grid.
struct Measures {
    on_grid: f64,
    downbeats: f64,
    /// Whether the onset-based tempo estimate matches the grid's tempo (or the one asked).
    tempo_heard: bool,
    /// The same, also counting the ratios a compound or triple pulse gives (×3, ×⅓, ×1.5, ×⅔).
    tempo_related: bool,
    /// Spread of the onsets' offsets from the grid, in beats.
    offset_spread: f64,
    velocity_spread: f64,
}

impl Measures {
    /// Measures `piece` from `from_s` on against its grid; `asked_bpm` is the tempo requested
    /// (else the grid's median beat tempo there). `None` without a grid or onsets.
    fn of(piece: &Piece, from_s: f64, asked_bpm: Option<f64>) -> Option<Self> {
        let grid = piece.grid.as_ref()?;
        let mut onsets: Vec<f64> = piece.notes.iter().map(|n| n.start_s).collect();
        onsets.dedup_by(|a, b| (*a - *b).abs() < 0.005);
        if onsets.len() < 8 {
            return None;
        }
        let offsets: Vec<f64> = onsets
            .iter()
            .map(|&t| grid_offset(grid.beats_at(t).rem_euclid(1.0)))
            .collect();
        let velocities: Vec<f64> = piece.notes.iter().map(|n| f64::from(n.velocity)).collect();
        let end_s = *onsets.last()?;
        let target = asked_bpm.unwrap_or_else(|| grid_tempo(grid, from_s, end_s));
        let heard = estimate_tempo(&onsets);
        Some(Self {
            on_grid: grid.onset_fit(&onsets),
            downbeats: grid.downbeats_played(&onsets, from_s),
            tempo_heard: heard.is_some_and(|heard| tempo_matches(heard, target)),
            tempo_related: heard.is_some_and(|heard| {
                matches_one_of(
                    heard,
                    target,
                    &[1.0, 2.0, 0.5, 3.0, 1.0 / 3.0, 1.5, 2.0 / 3.0],
                )
            }),
            offset_spread: spread(&offsets),
            velocity_spread: spread(&velocities),
        })
    }
}

/// The grid's median beat tempo from `from_s` to `end_s`.
fn grid_tempo(grid: &Grid, from_s: f64, end_s: f64) -> f64 {
    let first = grid.beats_at(from_s).floor().max(0.0) as usize;
    let beats = (grid.beats_at(end_s).floor() as usize).max(first + 1);
    median(
        (first..beats)
            .map(|b| 60.0 / (grid.time_of(b as f64 + 1.0) - grid.time_of(b as f64)))
            .collect(),
    )
}

/// Takes asked for tempos across the range and the meters in turn, exported and read back;
/// `assist` leans on the network ([`Assist::NONE`]: the network alone).
fn takes_asked(
    model: &LoadedModel,
    count: usize,
    seconds: f64,
    assist: Assist,
) -> Vec<(String, Measures)> {
    (0..count)
        .filter_map(|i| {
            let bpm = (TEMPO_RANGE.0
                + (TEMPO_RANGE.1 - TEMPO_RANGE.0) * i as f64 / (count.max(2) - 1) as f64)
                .round();
            let meter = METERS[i % METERS.len()];
            let plan = ControlPlan {
                tempo: Curve::constant(bpm),
                meter: vec![MeterChange {
                    at_s: 0.0,
                    signature: meter.parse().expect("a meter"),
                }],
                ..ControlPlan::default()
            };
            let grid = plan.grid(seconds + 5.0);
            let notes = common::take_once(model, plan, 1 + i as u64, seconds, assist);
            let piece = exported(notes, grid)?;
            Some((meter.to_string(), Measures::of(&piece, 0.0, Some(bpm))?))
        })
        .collect()
}

/// The notes written to a MIDI file against `grid` and read back, as a DAW would import them.
fn exported(notes: Vec<Note>, grid: Option<Grid>) -> Option<Piece> {
    let piece = Piece {
        grid,
        ..Piece::from_notes(notes)
    };
    midi::read_bytes(&midi::write_bytes(&piece, None)).ok()
}

/// The tempo heard in `onsets_s`: the strongest autocorrelation lag of the onset train (10-ms
/// bins, each onset spread over ±20 ms) between 40 and 240 beats per minute, weighted toward
/// 100 bpm by a log-normal prior one octave wide (as beat trackers weight their candidates).
/// (Summing each lag's multiples, to favour beats over subdivisions, did worse on the corpus:
/// 52 % against 55 %.)
fn estimate_tempo(onsets_s: &[f64]) -> Option<f64> {
    const BIN_S: f64 = 0.01;
    let bins = (onsets_s.last()? / BIN_S).ceil() as usize + 3;
    let mut train = vec![0.0f64; bins];
    for &t in onsets_s {
        let centre = (t / BIN_S).round() as isize;
        for (offset, weight) in [(-2, 0.25), (-1, 0.5), (0, 1.0), (1, 0.5), (2, 0.25)] {
            let bin = (centre + offset).clamp(0, bins as isize - 1) as usize;
            train[bin] += weight;
        }
    }
    let (shortest, longest) = (
        (60.0 / 240.0 / BIN_S) as usize,
        (60.0 / 40.0 / BIN_S) as usize,
    );
    let autocorrelation = |lag: usize| -> f64 {
        let later = train.get(lag..).unwrap_or(&[]);
        train.iter().zip(later).map(|(a, b)| a * b).sum()
    };
    (shortest..=longest.min(bins - 1))
        .map(|lag| {
            let bpm = 60.0 / (lag as f64 * BIN_S);
            let prior = (-0.5 * (bpm / 100.0).log2().powi(2)).exp();
            (bpm, autocorrelation(lag) * prior)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(bpm, _)| bpm)
}

/// Whether `heard` is within [`TEMPO_TOLERANCE`] of `asked`, its double or its half.
fn tempo_matches(heard: f64, asked: f64) -> bool {
    matches_one_of(heard, asked, &[1.0, 2.0, 0.5])
}

/// Whether `heard` is within [`TEMPO_TOLERANCE`] of `asked` times one of `factors`.
fn matches_one_of(heard: f64, asked: f64, factors: &[f64]) -> bool {
    factors
        .iter()
        .any(|factor| (heard / (asked * factor) - 1.0).abs() <= TEMPO_TOLERANCE)
}

/// Standard deviation.
fn spread(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    let variance =
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len().max(1) as f64;
    variance.sqrt()
}

/// p10, median and p90 of `values`.
fn spread_of(values: impl Iterator<Item = f64>) -> String {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return "-".to_string();
    }
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!("{:.3} · {:.3} · {:.3}", at(0.1), at(0.5), at(0.9))
}

fn share(values: impl Iterator<Item = bool>) -> String {
    let values: Vec<bool> = values.collect();
    let yes = values.iter().filter(|&&v| v).count();
    format!(
        "{:.0} % ({yes} of {})",
        100.0 * yes as f64 / values.len().max(1) as f64,
        values.len()
    )
}

/// The takes asked for `meter`.
fn of_meter<'a>(takes: &'a [(String, Measures)], meter: &str) -> Vec<&'a Measures> {
    takes
        .iter()
        .filter(|(m, _)| m == meter)
        .map(|(_, m)| m)
        .collect()
}

fn print_table(
    reference: &[Measures],
    asked: &[(String, Measures)],
    alone: &[(String, Measures)],
    free: &[Measures],
) {
    println!();
    println!(
        "| measure (p10 · median · p90) | corpus clips | takes asked for tempo and meter | the same, the network alone (assist none) | takes asked for nothing (120 bpm 4/4 file) |"
    );
    println!("|---|---|---|---|---|");
    type Column<'a> = Vec<&'a Measures>;
    let columns: [Column; 4] = [
        reference.iter().collect(),
        asked.iter().map(|(_, m)| m).collect(),
        alone.iter().map(|(_, m)| m).collect(),
        free.iter().collect(),
    ];
    let row = |name: &str, field: &dyn Fn(&Measures) -> f64| {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| spread_of(c.iter().map(|m| field(m))))
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    row("onsets on the grid", &|m| m.on_grid);
    row("downbeats played", &|m| m.downbeats);
    row("onset offset from the grid (beats, std)", &|m| {
        m.offset_spread
    });
    row("velocity (std)", &|m| m.velocity_spread);
    let heard: Vec<String> = columns
        .iter()
        .map(|c| share(c.iter().map(|m| m.tempo_heard)))
        .collect();
    println!(
        "| tempo heard = tempo of the file (±4 %, ×2, ×½) | {} |",
        heard.join(" | ")
    );
    let related: Vec<String> = columns
        .iter()
        .map(|c| share(c.iter().map(|m| m.tempo_related)))
        .collect();
    println!(
        "| … or a triple or dotted relation (×3, ×⅓, ×1.5, ×⅔) | {} |",
        related.join(" | ")
    );
    println!();
    println!(
        "| meter asked | takes | onsets on the grid (median): defaults · network alone | downbeats played (median): defaults · network alone | tempo heard: defaults · network alone |"
    );
    println!("|---|---|---|---|---|");
    for meter in METERS {
        let (with, without) = (of_meter(asked, meter), of_meter(alone, meter));
        let both = |field: &dyn Fn(&Measures) -> f64| {
            let of = |takes: &[&Measures]| median(takes.iter().map(|m| field(m)).collect());
            format!("{:.3} · {:.3}", of(&with), of(&without))
        };
        println!(
            "| {meter} | {} | {} | {} | {} · {} |",
            with.len(),
            both(&|m| m.on_grid),
            both(&|m| m.downbeats),
            share(with.iter().map(|m| m.tempo_heard)),
            share(without.iter().map(|m| m.tempo_heard))
        );
    }
}
