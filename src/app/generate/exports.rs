//! Exporting a take: the save dialog (opening where the last export went), MIDI written at once
//! (quantized as far as the composer asks), WAV rendered on a worker thread. A failure is shown
//! and the take stays.

use std::path::{Path, PathBuf};

use cadenza_core::audio;
use cadenza_core::generate::Take;
use cadenza_core::music::quantize::Quantize;

use crate::app::intent::Intents;
use crate::app::job::Job;
use crate::app::shared::Shared;

/// Which file an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A standard MIDI file.
    Midi,
    /// 16-bit stereo audio rendered with the SoundFont.
    Wav,
}

/// Exports and their settings.
#[derive(Default)]
pub struct Exports {
    /// The save dialog of an export: what to write, which take (by number), and the path chosen.
    dialog: Job<(ExportKind, u64, Option<PathBuf>)>,
    /// A WAV export rendering, with the share done.
    wav_job: Job<PathBuf, f64>,
    /// The folder of the last export, where the next export's dialog opens (remembered).
    pub dir: Option<PathBuf>,
    /// How far a MIDI export moves notes toward the take's bar grid, 0–1 (remembered).
    pub quantize: f64,
}

impl Exports {
    /// Exports opening in `dir`, quantizing MIDI by `quantize` (0–1).
    pub fn new(dir: Option<PathBuf>, quantize: f64) -> Self {
        Self {
            dir,
            quantize,
            ..Self::default()
        }
    }

    /// Whether a WAV export is rendering.
    pub fn is_rendering(&self) -> bool {
        self.wav_job.is_running()
    }

    /// Whether a save dialog is open.
    #[cfg(test)]
    pub fn is_asking(&self) -> bool {
        self.dialog.is_running()
    }

    /// The share of the WAV export rendered.
    pub fn wav_fraction(&self) -> f64 {
        self.wav_job.progress().copied().unwrap_or(0.0)
    }

    /// Asks where to write `take` (the folder of the last export, else the music folder).
    pub fn ask(&mut self, kind: ExportKind, take: &Take, shared: &Shared) {
        let (extension, filter) = match kind {
            ExportKind::Midi => ("mid", "MIDI"),
            ExportKind::Wav => ("wav", "WAV audio"),
        };
        let name = format!("{}.{extension}", take.file_stem(take.id as usize));
        let folder = self.dir.clone().or_else(music_folder);
        let number = take.id;
        self.dialog.dialog(&shared.repaint, move || {
            let mut dialog = rfd::FileDialog::new()
                .add_filter(filter, &[extension])
                .set_file_name(name);
            if let Some(folder) = folder {
                dialog = dialog.set_directory(folder);
            }
            (kind, number, dialog.save_file())
        });
    }

    /// Takes an answered dialog (the take, by number, found in `takes`) and a finished WAV.
    pub fn poll(&mut self, takes: &[Take], shared: &Shared, intents: &mut Intents) {
        if let Some(Ok((kind, number, Some(path)))) = self.dialog.poll() {
            self.dir = path.parent().map(Path::to_path_buf);
            if let Some(take) = takes.iter().find(|t| t.id == number) {
                self.write(kind, take, path, shared, intents);
            }
        }
        match self.wav_job.poll() {
            Some(Ok(path)) => intents.tell(format!("Exported {}", path.display())),
            Some(Err(err)) => intents.tell(format!(
                "Could not export the WAV (the take is kept): {err}"
            )),
            None => {}
        }
    }

    /// Writes `take` to `path`: MIDI at once, WAV on a worker thread.
    pub fn write(
        &mut self,
        kind: ExportKind,
        take: &Take,
        path: PathBuf,
        shared: &Shared,
        intents: &mut Intents,
    ) {
        if let Err(conflict) = shared.output_guard().check(&path) {
            intents.tell(format!("Could not export (the take is kept): {conflict}"));
            return;
        }
        match kind {
            ExportKind::Midi => match take.write_midi(&path, Quantize::new(self.quantize)) {
                Ok(()) => intents.tell(format!("Exported {}", path.display())),
                Err(err) => intents.tell(format!(
                    "Could not export {} (the take is kept): {err}",
                    path.display()
                )),
            },
            ExportKind::Wav => {
                let piece = take.piece();
                let soundfont = shared.sound.soundfont_path().map(Path::to_path_buf);
                self.wav_job
                    .start("cadenza-wav", &shared.repaint, move |ctx| {
                        let shown = std::cell::Cell::new(-1);
                        let report = |fraction: f64| {
                            // Only when the shown percentage changes: render reports every block.
                            let percent = (fraction * 100.0) as i32;
                            if shown.replace(percent) != percent {
                                ctx.update(fraction);
                            }
                        };
                        audio::export_wav(&piece, soundfont.as_deref(), &path, &report)?;
                        Ok(path)
                    });
            }
        }
    }

    /// Export MIDI…, the quantize amount (for a take with bars), Export WAV… or its progress;
    /// returns the export asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui, has_grid: bool) -> Option<ExportKind> {
        let mut asked = None;
        ui.horizontal(|ui| {
            if ui.button("Export MIDI…").on_hover_text("Ctrl+E").clicked() {
                asked = Some(ExportKind::Midi);
            }
            let mut percent = self.quantize * 100.0;
            ui.add_enabled(has_grid, egui::Label::new("quantized"));
            ui.add_enabled(
                has_grid,
                egui::DragValue::new(&mut percent)
                    .range(0.0..=100.0)
                    .speed(1.0)
                    .suffix(" %"),
            )
            .on_hover_text("How far the MIDI export moves each note toward the nearest sixteenth or triplet of the bars: 0 % keeps the performance as played (for a DAW), 100 % lines every note up (for notation)")
            .on_disabled_hover_text("This take has no bars to quantize to: ask for a tempo or meter when generating");
            self.quantize = percent / 100.0;
            if self.wav_job.is_running() {
                let fraction = self.wav_fraction();
                ui.add(
                    egui::ProgressBar::new(fraction as f32)
                        .show_percentage()
                        .text(format!("Rendering WAV {:.0}%", fraction * 100.0)),
                );
            } else if ui.button("Export WAV…").clicked() {
                asked = Some(ExportKind::Wav);
            }
        });
        asked
    }
}

/// The user's music folder (`~/Music`), where a first export's dialog opens.
fn music_folder() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join("Music"))
        .filter(|music| music.is_dir())
}
