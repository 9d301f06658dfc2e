//! The Corpus room's table of pieces: include checkboxes, composer, title, duration, notes; only
//! the rows in view are laid out.

use cadenza_core::corpus;

use super::loaded::LoadedCorpus;
use crate::app::format::format_time;

/// Height of the pieces table before it scrolls.
const PIECES_TABLE_HEIGHT: f32 = 320.0;

/// Widths of the pieces table's columns, in points (the title takes the rest, at least
/// [`MIN_TITLE_W`]).
const USE_W: f32 = 28.0;
const COMPOSER_W: f32 = 90.0;
const DURATION_W: f32 = 56.0;
const NOTES_W: f32 = 44.0;
const MIN_TITLE_W: f32 = 80.0;

/// The table of pieces with their include checkboxes; returns the row clicked and whether the
/// choice of pieces changed.
pub fn pieces_table(
    ui: &mut egui::Ui,
    loaded: &mut LoadedCorpus,
    selected: Option<usize>,
) -> (Option<usize>, bool) {
    let mut clicked = None;
    let mut changed = false;
    ui.horizontal(|ui| {
        for (label, value) in [("Use all", true), ("Use none", false)] {
            if ui.small_button(label).clicked() {
                loaded.included.iter_mut().for_each(|i| *i = value);
                changed = true;
            }
        }
    });
    let row_height = ui.spacing().interact_size.y;
    // The title takes what the other columns leave, so Duration and Notes stay in view however
    // narrow the side panel (titles are elided, whole on hover).
    let fixed = USE_W + COMPOSER_W + DURATION_W + NOTES_W + 5.0 * ui.spacing().item_spacing.x;
    let title_w = (ui.available_width() - fixed).max(MIN_TITLE_W);
    let columns = [
        ("Use", USE_W),
        ("Composer", COMPOSER_W),
        ("Title", title_w),
        ("Duration", DURATION_W),
    ];
    ui.horizontal(|ui| {
        for (header, width) in columns.into_iter().chain([("Notes", NOTES_W)]) {
            ui.add_sized(
                [width, row_height],
                egui::Label::new(egui::RichText::new(header).strong()),
            );
        }
    });
    // Only the rows in view are laid out: a corpus of thousands of pieces costs what a screenful does.
    egui::ScrollArea::vertical()
        // Per corpus: a newly loaded corpus opens at its first piece, not where the last was.
        .id_salt(("pieces", &loaded.corpus.root))
        .max_height(PIECES_TABLE_HEIGHT)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, loaded.corpus.pieces.len(), |ui, rows| {
            for index in rows {
                let piece = &loaded.corpus.pieces[index];
                ui.horizontal(|ui| {
                    let cell = |width: f32| [width, row_height];
                    changed |= ui
                        .add_sized(
                            cell(columns[0].1),
                            egui::Checkbox::without_text(&mut loaded.included[index]),
                        )
                        .on_hover_text("Train on this piece")
                        .changed();
                    ui.add_sized(
                        cell(columns[1].1),
                        egui::Label::new(piece.composer.as_deref().unwrap_or("—")).truncate(),
                    );
                    if ui
                        .add_sized(
                            cell(columns[2].1),
                            egui::Button::selectable(selected == Some(index), &piece.title)
                                .truncate(),
                        )
                        .on_hover_text(format!("{}: show and play", piece.title))
                        .clicked()
                    {
                        clicked = Some(index);
                    }
                    ui.add_sized(
                        cell(columns[3].1),
                        egui::Label::new(format_time(piece.piece.duration_s())),
                    );
                    ui.label(piece.piece.notes.len().to_string());
                });
            }
        });
    (clicked, changed)
}

/// How a piece is named in the table and the roll: "Chopin / Op. 25 No. 12".
pub fn display_name(piece: &corpus::CorpusPiece) -> String {
    match &piece.composer {
        Some(composer) => format!("{composer} / {}", piece.title),
        None => piece.title.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use cadenza_core::corpus::{Corpus, CorpusPiece, Split};
    use cadenza_core::midi;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;
    use crate::app::job::Job;

    fn synthetic_corpus(pieces: usize) -> Corpus {
        let piece = midi::Piece::from_notes(vec![midi::Note {
            pitch: 60,
            start_s: 0.0,
            end_s: 1.0,
            velocity: 80,
        }]);
        Corpus {
            root: PathBuf::from("/synthetic"),
            pieces: (0..pieces)
                .map(|i| CorpusPiece {
                    path: PathBuf::from(format!("/synthetic/piece-{i}.mid")),
                    relative_path: format!("piece-{i}.mid"),
                    composer: Some("Anon".to_string()),
                    title: format!("piece-{i}"),
                    piece: piece.clone(),
                    events: Vec::new(),
                    split: Split::Train,
                })
                .collect(),
            skipped: Vec::new(),
        }
    }

    #[test]
    fn the_pieces_table_lays_out_only_the_rows_in_view() {
        let corpus = synthetic_corpus(10_000);
        let loaded = LoadedCorpus {
            summary: corpus.summary(),
            included: vec![true; corpus.pieces.len()],
            corpus: Arc::new(corpus),
            prepared: None,
            preparing: Job::default(),
        };
        let mut harness = Harness::builder().with_size([700.0, 800.0]).build_ui_state(
            |ui, loaded: &mut LoadedCorpus| {
                pieces_table(ui, loaded, None);
            },
            loaded,
        );
        harness.run();
        assert!(harness.query_by_label("piece-0").is_some());
        let laid_out = (0..10_000)
            .filter(|i| harness.query_by_label(&format!("piece-{i}")).is_some())
            .count();
        assert!(
            (5..=40).contains(&laid_out),
            "{laid_out} of 10 000 rows were laid out"
        );
        assert!(harness.query_by_label("piece-9999").is_none());
    }
}
