//! A take's statistics beside those of the corpus loaded.

use cadenza_core::generate::Take;
use cadenza_core::stats::{CorpusProfile, MusicStats};

/// Draws a take's statistics beside those of the corpus loaded, which it names: the comparison
/// changes meaning when another corpus is opened.
pub fn take_stats_ui(ui: &mut egui::Ui, take: &Take, corpus: Option<(&str, &CorpusProfile)>) {
    ui.collapsing("Statistics", |ui| {
        let stats = MusicStats::of_sounding_notes(&take.notes);
        egui::Grid::new("take-stats").num_columns(2).show(ui, |ui| {
            ui.label("Notes per second");
            ui.label(format!("{:.2}", stats.notes_per_s));
            ui.end_row();
            ui.label("Mean polyphony");
            ui.label(format!("{:.2}", stats.mean_polyphony));
            ui.end_row();
            ui.label("Velocity");
            ui.label(format!(
                "{:.0} ± {:.0}",
                stats.velocity_mean, stats.velocity_std
            ));
            ui.end_row();
            if let Some((name, comparison)) =
                corpus.and_then(|(name, p)| p.compare(&stats).map(|c| (name, c)))
            {
                ui.label(format!("Pitch classes vs {name}"));
                ui.label(format!(
                    "{:.3} bits apart (0 = identical)",
                    comparison.pitch_class_js_divergence
                ))
                .on_hover_text("How differently the take uses the twelve notes of the octave from the corpus: 0 is the same mix (the Jensen–Shannon divergence of the pitch-class histograms)");
                ui.end_row();
                ui.label(format!("Density vs {name}"));
                ui.label(format!(
                    "denser than {:.0}% of its pieces (median {:.1}/s)",
                    comparison.notes_per_s_percentile * 100.0,
                    comparison.corpus_notes_per_s_median
                ));
                ui.end_row();
            }
        });
    });
}
