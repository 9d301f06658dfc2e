//! The built-in demo corpus: small piano études that Cadenza composes by rule, so a first-time user
//! can run the whole pipeline without a MIDI collection of their own.
//!
//! Four styles (each a folder, which Cadenza shows as the "composer"): scales, arpeggios, cadences
//! and Alberti-bass accompaniments, in several major and minor keys, with varied tempi, rhythms,
//! dynamics and pedalling. Everything is derived from a fixed seed, so the corpus is the same on
//! every machine.

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::music::meter::Grid;
use crate::music::midi::{self, MidiError, Note, PedalInterval, Piece};
use crate::music::time_signature::TimeSignature;

const SEED: u64 = 0x00CA_DE2A;
const MAJOR: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];
const HARMONIC_MINOR: [u8; 7] = [0, 2, 3, 5, 7, 8, 11];
/// Chord progressions as scale degrees (0 = tonic), each ending on the tonic.
const PROGRESSIONS: [&[i32]; 4] = [
    &[0, 3, 4, 0],
    &[0, 5, 1, 4, 0],
    &[0, 3, 1, 4, 0],
    &[0, 4, 5, 3, 0, 3, 4, 0],
];

/// A key: tonic pitch class and mode.
#[derive(Debug, Clone, Copy)]
struct Key {
    tonic: u8,
    minor: bool,
}

impl Key {
    fn name(self) -> String {
        let tonic = crate::music::stats::PITCH_CLASS_NAMES[usize::from(self.tonic)]
            .replace('#', "-sharp")
            .to_lowercase();
        format!("{tonic}-{}", if self.minor { "minor" } else { "major" })
    }

    /// The pitch of scale degree `degree` (may be negative or beyond the octave) above `base_c`,
    /// the MIDI number of a C.
    fn pitch(self, base_c: i32, degree: i32) -> u8 {
        let scale = if self.minor { HARMONIC_MINOR } else { MAJOR };
        let octave = degree.div_euclid(7);
        let step = scale[degree.rem_euclid(7) as usize];
        (base_c + 12 * octave + i32::from(self.tonic) + i32::from(step)).clamp(21, 108) as u8
    }

    /// Root-position triad on `degree`, as scale degrees.
    fn triad(degree: i32) -> [i32; 3] {
        [degree, degree + 2, degree + 4]
    }
}

/// Builds a piece in beats at a fixed tempo.
struct Score {
    seconds_per_beat: f64,
    piece: Piece,
}

impl Score {
    fn new(bpm: f64) -> Self {
        Self {
            seconds_per_beat: 60.0 / bpm,
            piece: Piece::default(),
        }
    }

    /// Adds a note; `legato` < 1 shortens it, for detached playing.
    fn note(&mut self, pitch: u8, beat: f64, beats: f64, velocity: u8, legato: f64) {
        let start_s = beat * self.seconds_per_beat;
        self.piece.notes.push(Note {
            pitch,
            start_s,
            end_s: start_s + beats * legato * self.seconds_per_beat,
            velocity: velocity.clamp(1, 127),
        });
    }

    fn pedal(&mut self, beat: f64, beats: f64) {
        let start_s = beat * self.seconds_per_beat;
        self.piece.pedal.push(PedalInterval {
            start_s,
            end_s: start_s + beats * self.seconds_per_beat,
        });
    }

    /// The piece, on the grid of its tempo in 4/4 (so it is written with its beats and bars).
    fn finish(mut self) -> Piece {
        midi::sort_notes(&mut self.piece.notes);
        let end_s = self.piece.duration_s();
        let bpm = 60.0 / self.seconds_per_beat;
        self.piece.grid = Some(Grid::steady(bpm, TimeSignature::FOUR_FOUR, end_s));
        self.piece
    }
}

/// Velocity following a dynamic curve: `shape` in 0…1 through the phrase, with human variation.
fn dynamic(rng: &mut StdRng, base: f64, swell: f64, shape: f64) -> u8 {
    let arch = (shape * std::f64::consts::PI).sin();
    (base + swell * arch + rng.random_range(-6.0..6.0)).round() as u8
}

fn scales(rng: &mut StdRng, key: Key) -> Piece {
    let mut score = Score::new(rng.random_range(84.0..132.0));
    // Notes per beat: eighths, triplets or sixteenths.
    let subdivision = [2.0, 3.0, 4.0][rng.random_range(0..3)];
    let octaves = rng.random_range(2..=3);
    let mut beat = 0.0;
    for repeat in 0..3 {
        let base = 48 + 12 * (repeat % 2);
        let ascent: Vec<i32> = (0..=7 * octaves).collect();
        let run: Vec<i32> = ascent
            .iter()
            .chain(ascent.iter().rev().skip(1))
            .copied()
            .collect();
        let step = 1.0 / subdivision;
        for (i, &degree) in run.iter().enumerate() {
            let shape = i as f64 / run.len() as f64;
            // Accent the start of each beat a little, as a player would.
            let accent = if (i as f64 * step).fract() < 1e-9 {
                8.0
            } else {
                0.0
            };
            let velocity = dynamic(rng, 52.0 + accent, 40.0, shape);
            score.note(key.pitch(base, degree), beat, step, velocity, 0.95);
            // The left hand doubles two octaves lower.
            score.note(
                key.pitch(base - 12, degree),
                beat,
                step,
                velocity.saturating_sub(10),
                0.95,
            );
            beat += step;
        }
        for degree in Key::triad(0) {
            score.note(key.pitch(base, degree), beat, 2.0, 70, 1.0);
        }
        score.note(key.pitch(base - 24, 0), beat, 2.0, 65, 1.0);
        beat += 3.0;
    }
    score.finish()
}

fn arpeggios(rng: &mut StdRng, key: Key) -> Piece {
    let mut score = Score::new(rng.random_range(72.0..120.0));
    let progression = PROGRESSIONS[rng.random_range(0..PROGRESSIONS.len())];
    let pattern_up_down = rng.random_bool(0.5);
    let mut beat = 0.0;
    for pass in 0..2 {
        for (bar, &root) in progression.iter().enumerate() {
            let chord = Key::triad(root);
            let mut figure: Vec<i32> = (0..2).flat_map(|o| chord.map(|d| d + 7 * o)).collect();
            figure.push(root + 14);
            if pattern_up_down {
                let down: Vec<i32> = figure
                    .iter()
                    .rev()
                    .skip(1)
                    .take(figure.len() - 2)
                    .copied()
                    .collect();
                figure.extend(down);
            }
            let step = 4.0 / figure.len() as f64;
            score.pedal(beat + 0.05, 3.9);
            score.note(key.pitch(36, root), beat, 4.0, 60, 1.0);
            for (i, &degree) in figure.iter().enumerate() {
                let shape =
                    (bar as f64 + i as f64 / figure.len() as f64) / progression.len() as f64;
                let velocity = dynamic(rng, 48.0 + 8.0 * pass as f64, 36.0, shape);
                score.note(
                    key.pitch(60, degree - 7),
                    beat + i as f64 * step,
                    step,
                    velocity,
                    0.9,
                );
            }
            beat += 4.0;
        }
    }
    let final_chord = Key::triad(0).map(|d| key.pitch(60, d));
    for pitch in final_chord {
        score.note(pitch, beat, 4.0, 58, 1.0);
    }
    score.note(key.pitch(36, 0), beat, 4.0, 58, 1.0);
    score.finish()
}

fn cadences(rng: &mut StdRng, key: Key) -> Piece {
    let mut score = Score::new(rng.random_range(60.0..96.0));
    let mut beat = 0.0;
    for phrase in 0..3 {
        let progression =
            PROGRESSIONS[(phrase + rng.random_range(0..PROGRESSIONS.len())) % PROGRESSIONS.len()];
        // Half-note or dotted rhythms per chord.
        let lengths: &[f64] = if rng.random_bool(0.5) {
            &[2.0]
        } else {
            &[3.0, 1.0]
        };
        for (i, &root) in progression.iter().enumerate() {
            let beats = lengths[i % lengths.len()];
            let shape = i as f64 / progression.len() as f64;
            let velocity = dynamic(rng, 50.0, 30.0, shape);
            score.pedal(beat + 0.1, beats - 0.15);
            score.note(key.pitch(36, root), beat, beats, velocity, 1.0);
            for degree in Key::triad(root) {
                score.note(
                    key.pitch(60, degree),
                    beat,
                    beats,
                    velocity.saturating_sub(8),
                    1.0,
                );
            }
            // Melody: a chord tone on top, moving by step towards the next chord.
            let top = key.pitch(72, root + 2 * rng.random_range(0..3));
            score.note(top, beat, beats * 0.5, velocity.saturating_add(10), 1.0);
            let passing = key.pitch(72, root + 2 * rng.random_range(0..3) + 1);
            score.note(passing, beat + beats * 0.5, beats * 0.5, velocity, 0.95);
            beat += beats;
        }
        beat += 1.0;
    }
    score.finish()
}

fn alberti(rng: &mut StdRng, key: Key) -> Piece {
    let mut score = Score::new(rng.random_range(96.0..144.0));
    let progression = PROGRESSIONS[rng.random_range(0..PROGRESSIONS.len())];
    let mut beat = 0.0;
    for pass in 0..3 {
        for &root in progression {
            let [low, mid, high] = Key::triad(root).map(|d| key.pitch(48, d));
            // Two bars of Alberti bass (low-high-mid-high in eighths) per chord.
            for eighth in 0..16 {
                let pitch = [low, high, mid, high][eighth % 4];
                let velocity = dynamic(rng, 44.0, 10.0, (eighth % 8) as f64 / 8.0);
                score.note(pitch, beat + eighth as f64 * 0.5, 0.5, velocity, 0.85);
            }
            // Melody in the right hand: chord tones and neighbours, varied rhythm.
            let mut melody_beat = 0.0;
            while melody_beat < 8.0 {
                let beats =
                    [0.5f64, 1.0, 1.0, 1.5, 2.0][rng.random_range(0..5)].min(8.0 - melody_beat);
                let degree = root + [0, 2, 4, 1, 3, 5][rng.random_range(0..6)];
                let velocity = dynamic(rng, 62.0 + 6.0 * pass as f64, 24.0, melody_beat / 8.0);
                score.note(
                    key.pitch(72, degree),
                    beat + melody_beat,
                    beats,
                    velocity,
                    0.92,
                );
                melody_beat += beats;
            }
            beat += 8.0;
        }
    }
    for degree in Key::triad(0) {
        score.note(key.pitch(60, degree), beat, 4.0, 60, 1.0);
    }
    score.note(key.pitch(36, 0), beat, 4.0, 60, 1.0);
    score.finish()
}

/// Composes one étude of a style in a key.
type Composer = fn(&mut StdRng, Key) -> Piece;

/// One piece of the demo corpus.
#[derive(Debug, Clone)]
pub struct DemoPiece {
    /// The style, used as the folder (so Cadenza shows it as the composer).
    pub style: &'static str,
    /// File stem, e.g. `scales-d-major`.
    pub name: String,
    /// The music.
    pub piece: Piece,
}

/// Composes the whole demo corpus: four styles in eight keys (32 pieces).
pub fn demo_pieces() -> Vec<DemoPiece> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let keys = [
        (0, false),
        (7, false),
        (2, false),
        (5, false),
        (9, true),
        (4, true),
        (2, true),
        (7, true),
    ]
    .map(|(tonic, minor)| Key { tonic, minor });
    let styles: [(&str, Composer); 4] = [
        ("Scales", scales),
        ("Arpeggios", arpeggios),
        ("Cadences", cadences),
        ("Alberti", alberti),
    ];
    let mut pieces = Vec::new();
    for (style, compose) in styles {
        for key in keys {
            pieces.push(DemoPiece {
                style,
                name: format!("{}-{}", style.to_lowercase(), key.name()),
                piece: compose(&mut rng, key),
            });
        }
    }
    pieces
}

/// Writes the demo corpus under `dir` (one folder per style) and returns the files written.
pub fn write_demo_corpus(dir: &Path) -> Result<Vec<PathBuf>, MidiError> {
    let mut written = Vec::new();
    for demo in demo_pieces() {
        let folder = dir.join(demo.style);
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("{}.mid", demo.name));
        midi::write_file(&demo.piece, &path, Some("Cadenza demo corpus"))?;
        written.push(path);
    }
    Ok(written)
}
