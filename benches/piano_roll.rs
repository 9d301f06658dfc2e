//! Frame time of the piano-roll widget with a 20 000-note piece: the CPU side of one frame (egui
//! layout and drawing, then tessellation into triangles), at the default zoom while following the
//! playhead, zoomed out as far as the widget allows, and squeezed so that every note is in view.
//! Release build:
//!
//!   cargo bench --bench piano_roll
//!
//! The piece is real music when the shared corpus is there (its pieces one after another), else
//! the demo corpus repeated.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::time::Instant;

use cadenza::app::piano_roll::{PianoRoll, RollContent};
use cadenza_core::midi::{self, Note, PedalInterval, Piece};

const NOTES: usize = 20_000;
const FRAMES: usize = 300;
const SIZE: [f32; 2] = [1280.0, 800.0];

fn main() {
    let (content, source) = twenty_thousand_notes();
    println!(
        "piano roll: {} notes, {:.0} s of music ({source}), {}×{} window, {FRAMES} frames per view",
        content.notes.len(),
        content.end_s(),
        SIZE[0],
        SIZE[1]
    );
    // The farthest a user can zoom out is 2 px/s; the last view squeezes in every note regardless.
    let all_in_view = (SIZE[0] - 50.0) / content.end_s() as f32;
    let views = [
        ("default zoom, following", 80.0, true),
        ("zoomed out fully (2 px/s)", 2.0, false),
        ("all 20 000 notes in view", all_in_view, false),
    ];
    for (name, pixels_per_s, follow) in views {
        let mut roll = PianoRoll::default();
        roll.pixels_per_s = pixels_per_s;
        roll.follow = follow;
        let (mean_ms, worst_ms, shapes) = measure(&content, roll);
        println!(
            "  {name:<26} {mean_ms:6.2} ms/frame mean, {worst_ms:6.2} ms worst, {shapes} shapes"
        );
    }
}

/// Runs frames with the playhead moving through the piece; returns mean and worst frame time in
/// milliseconds and the shapes drawn in the last frame.
fn measure(content: &RollContent, mut roll: PianoRoll) -> (f64, f64, usize) {
    let ctx = egui::Context::default();
    let end_s = content.end_s();
    let mut times = Vec::with_capacity(FRAMES);
    let mut shapes = 0;
    for frame in 0..FRAMES {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, SIZE.into())),
            ..Default::default()
        };
        let playhead = end_s * frame as f64 / FRAMES as f64;
        let started = Instant::now();
        let output = ctx.run_ui(input, |ui| {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                roll.show(ui, content, Some(playhead), true, &mut None);
            });
        });
        shapes = output.shapes.len();
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        // The first frames build font atlases: not what a user scrolling through a piece sees.
        if frame >= 5 {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let worst = times.iter().copied().fold(0.0, f64::max);
    (mean, worst, shapes)
}

/// A piece of about 20 000 notes: shared-corpus pieces (or demo études) played one after another.
fn twenty_thousand_notes() -> (RollContent, &'static str) {
    let (pieces, source) = match fixtures::shared_corpus("real-music input (using the demo corpus)")
    {
        Some(dir) => {
            let corpus =
                cadenza_core::corpus::load_dir(&dir, &|_| {}).expect("the shared corpus loads");
            let pieces: Vec<Piece> = corpus.pieces.into_iter().map(|p| p.piece).collect();
            (pieces, "shared corpus")
        }
        None => (
            cadenza_core::demo::demo_pieces()
                .into_iter()
                .map(|p| p.piece)
                .collect(),
            "demo corpus",
        ),
    };
    let mut notes: Vec<Note> = Vec::with_capacity(NOTES);
    let mut pedal: Vec<PedalInterval> = Vec::new();
    let mut offset = 0.0;
    for piece in pieces.iter().cycle() {
        let shift = |t: f64| t + offset;
        notes.extend(piece.notes.iter().map(|n| Note {
            start_s: shift(n.start_s),
            end_s: shift(n.end_s),
            ..*n
        }));
        pedal.extend(piece.pedal.iter().map(|p| PedalInterval {
            start_s: shift(p.start_s),
            end_s: shift(p.end_s),
        }));
        offset += piece.duration_s();
        if notes.len() >= NOTES {
            break;
        }
    }
    notes.truncate(NOTES);
    midi::sort_notes(&mut notes);
    let piece = Piece {
        notes,
        pedal,
        grid: None,
    };
    (RollContent::new(piece.notes, piece.pedal, 0.0), source)
}
