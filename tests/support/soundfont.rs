//! A small SoundFont built in code (one preset, one instrument with two zones, two looped sine
//! samples: fluidlite's own sample fix-up stops at the first bad sample, so it takes two), and a
//! seeded mutator that damages it the way a bad download or a crafted file would. Shared by the
//! fuzz test and the fuzz bench.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Points of each sine sample: 10 periods of 100 points (middle C at 26 163 Hz).
const SAMPLE_POINTS: u32 = 1000;
/// The spec asks for 46 zero points after each sample.
const SAMPLE_PADDING: u32 = 46;
/// Where the second sample starts.
const SECOND: u32 = SAMPLE_POINTS + SAMPLE_PADDING;

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn list(form: &[u8; 4], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut body = form.to_vec();
    for c in chunks {
        body.extend(c);
    }
    chunk(b"LIST", &body)
}

fn name(text: &str, len: usize) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.resize(len, 0);
    out
}

fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn preset(label: &str, bag: u16) -> Vec<u8> {
    let mut record = name(label, 20);
    record.extend(u16s(&[0, 0, bag]));
    record.extend([0u8; 12]);
    record
}

fn instrument(label: &str, bag: u16) -> Vec<u8> {
    let mut record = name(label, 20);
    record.extend(u16s(&[bag]));
    record
}

/// A sample header: start, end, loop start, loop end (in points), then rate, pitch and type.
fn sample(label: &str, points: [u32; 4], kind: u16) -> Vec<u8> {
    let mut record = name(label, 20);
    for value in points {
        record.extend(value.to_le_bytes());
    }
    record.extend(26_163u32.to_le_bytes());
    record.extend([60u8, 0]);
    record.extend(u16s(&[0, kind]));
    record
}

/// The pieces of a SoundFont, so a test can build a variant with one thing wrong.
#[derive(Debug, Clone)]
pub struct SoundFontParts {
    /// The `ifil` major version.
    pub major: u16,
    /// Preset headers, the terminal record included.
    pub phdr: Vec<Vec<u8>>,
    /// Sample headers, the terminal record included.
    pub shdr: Vec<Vec<u8>>,
    /// Points of sample data.
    pub points: u32,
}

impl Default for SoundFontParts {
    fn default() -> Self {
        Self {
            major: 2,
            phdr: vec![preset("Piano", 0), preset("EOP", 1)],
            shdr: vec![
                sample("Sine low", [0, SAMPLE_POINTS, 100, 900], 1),
                sample(
                    "Sine high",
                    [SECOND, SECOND + SAMPLE_POINTS, SECOND + 100, SECOND + 900],
                    1,
                ),
                sample("EOS", [0; 4], 0),
            ],
            points: 2 * SECOND,
        }
    }
}

impl SoundFontParts {
    /// The sample header with these start, end and loop points.
    pub fn with_sample_points(mut self, points: [u32; 4]) -> Self {
        self.shdr[0] = sample("Sine low", points, 1);
        self
    }

    /// No presets: only the terminal record.
    pub fn without_presets(mut self) -> Self {
        self.phdr = vec![preset("EOP", 0)];
        self
    }

    /// The file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let info = list(
            b"INFO",
            &[
                chunk(b"ifil", &u16s(&[self.major, 1])),
                chunk(b"isng", b"EMU8000\0"),
                chunk(b"INAM", b"Cadenza test sine\0"),
            ],
        );
        let samples: Vec<u8> = (0..self.points)
            .flat_map(|i| {
                let value = if i % SECOND < SAMPLE_POINTS {
                    (f64::from(i) / 100.0 * std::f64::consts::TAU).sin() * 12_000.0
                } else {
                    0.0
                };
                (value as i16).to_le_bytes()
            })
            .collect();
        let sdta = list(b"sdta", &[chunk(b"smpl", &samples)]);
        let pdta = list(
            b"pdta",
            &[
                chunk(b"phdr", &self.phdr.concat()),
                chunk(b"pbag", &u16s(&[0, 0, 1, 0])),
                chunk(b"pmod", &[0u8; 10]),
                // The preset's zone names instrument 0.
                chunk(b"pgen", &u16s(&[41, 0, 0, 0])),
                chunk(
                    b"inst",
                    &[instrument("Sine", 0), instrument("EOI", 2)].concat(),
                ),
                chunk(b"ibag", &u16s(&[0, 0, 3, 0, 6, 0])),
                chunk(b"imod", &[0u8; 10]),
                // Keys 0–63 play sample 0, keys 64–127 sample 1, looped (sampleModes 1); the
                // key range comes first and sampleID last in a zone.
                chunk(
                    b"igen",
                    &u16s(&[
                        43,
                        63 << 8,
                        54,
                        1,
                        53,
                        0,
                        43,
                        64 | 127 << 8,
                        54,
                        1,
                        53,
                        1,
                        0,
                        0,
                    ]),
                ),
                chunk(b"shdr", &self.shdr.concat()),
            ],
        );
        let mut body = b"sfbk".to_vec();
        body.extend(info);
        body.extend(sdta);
        body.extend(pdta);
        let mut file = b"RIFF".to_vec();
        file.extend((body.len() as u32).to_le_bytes());
        file.extend(body);
        file
    }
}

/// The small valid SoundFont.
pub fn tiny_soundfont() -> Vec<u8> {
    SoundFontParts::default().build()
}

/// Mutant `case` of `original` for a fuzz run seeded with `seed`: a few bytes of the preset
/// tables (where 14 of 150 random mutants crashed fluidlite before the check) or anywhere set to
/// random values, a 16- or 32-bit field set to an extreme, or the file cut short.
pub fn mutant(original: &[u8], seed: u64, case: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut bytes = original.to_vec();
    let tables_start = find(original, b"pdta").unwrap_or(0);
    // A position in the preset tables (or anywhere, one time in five, or once cut before them).
    let position = |rng: &mut StdRng, len: usize| {
        let from = if tables_start < len && rng.random_bool(0.8) {
            tables_start
        } else {
            0
        };
        rng.random_range(from..len)
    };
    for _ in 0..rng.random_range(1..=4) {
        let len = bytes.len();
        match rng.random_range(0..10) {
            0..=5 => {
                let at = position(&mut rng, len);
                bytes[at] = rng.random();
            }
            6..=7 => {
                let at = position(&mut rng, len - 1);
                let extreme: u16 = [0, 1, 0x7fff, 0x8000, 0xffff][rng.random_range(0..5)];
                bytes[at..at + 2].copy_from_slice(&extreme.to_le_bytes());
            }
            8 => {
                let at = position(&mut rng, len - 3);
                let extreme: u32 =
                    [0, 0x7fff_ffff, 0xffff_ffff, rng.random()][rng.random_range(0..4)];
                bytes[at..at + 4].copy_from_slice(&extreme.to_le_bytes());
            }
            _ => {
                let keep = position(&mut rng, len);
                bytes.truncate(keep.max(12));
            }
        }
    }
    bytes
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What a fuzz run saw.
#[derive(Debug, Default)]
pub struct FuzzReport {
    /// Mutants tried.
    pub cases: u64,
    /// Refused by the structure check.
    pub refused_by_check: u64,
    /// Passed the check, then refused by fluidlite with an error (no crash).
    pub refused_by_synth: u64,
    /// Loaded and played.
    pub played: u64,
    /// Refusals by the check, by kind of problem.
    pub reasons: std::collections::BTreeMap<String, u64>,
}

impl std::fmt::Display for FuzzReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} mutants: {} refused by the check, {} refused by fluidlite, {} played; 0 crashes",
            self.cases, self.refused_by_check, self.refused_by_synth, self.played
        )
    }
}

/// Tries `cases` mutants of [`tiny_soundfont`] as Cadenza would (check, load, play a chord),
/// calling `before` with each case number first. A crash ends the process: run it in a child.
pub fn fuzz(seed: u64, cases: u64, before: &mut dyn FnMut(u64)) -> FuzzReport {
    use cadenza_core::audio::{self, AudioError, PianoSynth, soundfont_check};
    use cadenza_core::midi::{Note, Piece};

    let original = tiny_soundfont();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mutant.sf2");
    let chord = Piece::from_notes(
        [21, 60, 64, 67, 108]
            .map(|pitch| Note {
                pitch,
                start_s: 0.0,
                end_s: 0.05,
                velocity: 100,
            })
            .to_vec(),
    );
    let mut report = FuzzReport::default();
    for case in 0..cases {
        before(case);
        std::fs::write(&path, mutant(&original, seed, case)).expect("mutant written");
        report.cases += 1;
        if let Err(reason) = soundfont_check::check_file(&path) {
            report.refused_by_check += 1;
            let kind = format!("{reason:?}");
            let kind = kind.split([' ', '(', '{']).next().unwrap_or_default();
            *report.reasons.entry(kind.to_string()).or_default() += 1;
            continue;
        }
        match PianoSynth::new(&path, audio::DEFAULT_GAIN) {
            Ok(synth) => {
                audio::render(&chord, synth, 0.05, &|_| {});
                report.played += 1;
            }
            Err(AudioError::BadSoundFont { .. }) => report.refused_by_synth += 1,
            Err(other) => panic!("case {case}: {other}"),
        }
    }
    report
}
