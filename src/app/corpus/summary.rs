//! The Corpus room's summary: counts, how many pieces keep a bar grid, the pitch classes, and a
//! flat folder's one style, which the composer may rename.

use cadenza_core::music::meter::USABLE_FIT;
use cadenza_core::stats::PITCH_CLASS_NAMES;
use egui_plot::{Bar, BarChart, GridMark, Plot};

use super::loaded::LoadedCorpus;
use crate::app::format::format_time;

/// The corpus's counts and pitch-class chart.
pub fn summary_ui(ui: &mut egui::Ui, loaded: &LoadedCorpus) {
    let summary = &loaded.summary;
    ui.heading(
        loaded
            .corpus
            .root
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
    );
    egui::Grid::new("corpus-stats")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Pieces");
            ui.label(pieces_label(summary.parsed, summary.composers.len()));
            ui.end_row();
            ui.label("Notes");
            ui.label(summary.notes.to_string());
            ui.end_row();
            ui.label("Duration");
            ui.label(format_time(summary.duration_s));
            ui.end_row();
            ui.label("Events");
            ui.label(summary.events.to_string());
            ui.end_row();
            ui.label("In time");
            ui.label(format!(
                "{} of {} pieces keep to their bars",
                summary.grid_pieces, summary.parsed
            ))
            .on_hover_text(format!(
                "Pieces whose notes follow their file's tempo map and time signatures (at least {:.0} % of onsets on a sixteenth or triplet of the beat; the median piece: {:.0} %). They teach a model tempo and meter; the others train without.",
                USABLE_FIT * 100.0,
                summary.median_grid_fit * 100.0
            ));
            ui.end_row();
            ui.label("Used for training");
            let included = loaded.included.iter().filter(|&&i| i).count();
            ui.label(format!("{included} of {} pieces", loaded.included.len()));
            ui.end_row();
        });
    let Some(prepared) = &loaded.prepared else {
        ui.add(egui::Spinner::new());
        return;
    };
    let bars: Vec<Bar> = prepared
        .profile
        .pitch_class_histogram
        .iter()
        .enumerate()
        .map(|(i, share)| Bar::new(i as f64, share * 100.0).name(PITCH_CLASS_NAMES[i]))
        .collect();
    Plot::new("pitch-classes")
        .height(110.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        // A mark per pitch class, so every bar is named (the default spacing named C and A#).
        .x_grid_spacer(|_| {
            (0..12)
                .map(|pc| GridMark {
                    value: f64::from(pc),
                    step_size: 1.0,
                })
                .collect()
        })
        .x_axis_formatter(|mark, _| {
            PITCH_CLASS_NAMES
                .get(mark.value.round() as usize)
                .map_or(String::new(), |n| (*n).to_string())
        })
        .y_axis_label("% of notes")
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("Pitch classes", bars))
        });
}

/// "120 (1 style)", "337 (25 composers)": a folder without subfolders is one style.
pub fn pieces_label(pieces: usize, composers: usize) -> String {
    match composers {
        1 => format!("{pieces} (1 style)"),
        n => format!("{pieces} ({n} composers)"),
    }
}

/// For a folder without subfolders: says it is one style and offers to rename it; returns the
/// new name when the composer asks for it.
pub fn one_style_ui(ui: &mut egui::Ui, loaded: &LoadedCorpus, name: &mut String) -> Option<String> {
    let style = loaded.corpus.one_style()?;
    ui.label(format!(
        "A folder without subfolders is one style, “{style}”: training learns it as a composer to ask for. Put the pieces in a subfolder per composer for a style each."
    ));
    let mut renamed = None;
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(name)
                .hint_text(style)
                .desired_width(140.0),
        );
        if ui
            .add_enabled(!name.trim().is_empty(), egui::Button::new("Rename style"))
            .clicked()
        {
            renamed = Some(std::mem::take(name));
        }
    });
    renamed
}

#[cfg(test)]
mod tests {
    #[test]
    fn pieces_and_styles_are_counted_in_words() {
        assert_eq!(super::pieces_label(120, 1), "120 (1 style)");
        assert_eq!(super::pieces_label(32, 4), "32 (4 composers)");
    }
}
