//! Redoing a passage in the Generate room: candidates sampled on a worker thread, auditioned in
//! the roll and kept as a new version of their take. The versions themselves (candidates, the
//! tree, undo / redo) live in the core ([`cadenza_core::versions`], [`cadenza_core::workbench`]).

use cadenza_core::generate::Take;
use cadenza_core::music::meter::Grid;
use cadenza_core::regenerate::{self, Candidate, RegenerateRequest};
use cadenza_core::versions::{Alternatives, Origin};
use cadenza_core::worker::{Event, Repaint};

use super::takes_list::{TakesList, showing};
use crate::app::format::{format_time, sentence};
use crate::app::intent::{Intent, Intents};
use crate::app::job::Job;

/// Alternatives offered to audition and keep.
pub const OFFERED: usize = 3;

/// What the composer asked of the passage tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassageAsk {
    /// Sample candidates for the selected passage.
    Regenerate,
    /// Drop everything after the playhead and generate onward.
    ContinueFromHere,
    /// Play candidate `rank` in place.
    Audition(usize),
    /// Keep candidate `rank` as a new version.
    Keep(usize),
    /// Drop the candidates and show the take again.
    Discard,
}

/// A passage being redone, and the candidates on trial.
#[derive(Default)]
pub struct PassageTool {
    /// The worker.
    job: Job<Vec<Candidate>, regenerate::Progress>,
    /// What it works on, while it runs.
    origin: Option<Origin>,
    /// Share done.
    fraction: f64,
    /// Candidates for a passage, to audition and keep.
    alternatives: Option<Alternatives>,
}

impl PassageTool {
    /// Whether a passage is being regenerated.
    pub fn is_running(&self) -> bool {
        self.job.is_running()
    }

    /// The share of the regeneration done.
    pub fn fraction(&self) -> f64 {
        self.fraction
    }

    /// The take whose candidates are on trial, by number.
    pub fn on_trial(&self) -> Option<u64> {
        self.alternatives.as_ref().map(|a| a.origin.parent)
    }

    /// Starts sampling candidates for `origin` (earlier candidates are dropped).
    pub fn start(&mut self, request: RegenerateRequest, origin: Origin, repaint: Repaint) {
        self.alternatives = None;
        self.job.hold(regenerate::spawn(request, repaint));
        self.origin = Some(origin);
        self.fraction = 0.0;
    }

    /// Takes the candidates, or says why there are none.
    pub fn poll(&mut self, intents: &mut Intents) {
        for event in self.job.events() {
            match event {
                Event::Update(progress) => self.fraction = progress.fraction,
                Event::Finished(ranked) => {
                    if let Some(origin) = self.origin.take() {
                        self.alternatives = Some(Alternatives {
                            origin,
                            ranked,
                            auditioned: None,
                        });
                    }
                }
                Event::Cancelled => intents.tell("Regeneration cancelled"),
                Event::Failed { message } => {
                    intents.tell(format!("Regeneration failed: {message}"));
                }
            }
        }
    }

    /// Does what the composer asked of the candidates (Regenerate and Continue are the room's).
    pub fn answer(&mut self, ask: PassageAsk, takes: &mut TakesList, intents: &mut Intents) {
        match ask {
            PassageAsk::Audition(rank) => self.audition(rank, takes, intents),
            PassageAsk::Keep(rank) => self.keep(rank, takes, intents),
            PassageAsk::Discard => {
                self.alternatives = None;
                if let Some(index) = takes.workbench().selected_index() {
                    takes.show(index, intents);
                }
            }
            PassageAsk::Regenerate | PassageAsk::ContinueFromHere => {}
        }
    }

    /// Plays candidate `rank` in the roll: the passage with a second of context either side,
    /// heard in its place in the form (the form lane stays), then silence.
    fn audition(&mut self, rank: usize, takes: &TakesList, intents: &mut Intents) {
        let Some(alternatives) = &mut self.alternatives else {
            return;
        };
        let parent = alternatives.origin.parent;
        let Some(parent) = takes.workbench().takes().iter().find(|t| t.id == parent) else {
            return;
        };
        let Some(child) = alternatives.child(parent, rank) else {
            return;
        };
        alternatives.auditioned = Some(rank);
        let passage = alternatives.origin.passage;
        let title = format!("Alternative #{} (not kept yet)", rank + 1);
        intents.push(Intent::Show(Box::new(showing(title, &child, None))));
        intents.push(Intent::FocusPassage(passage));
        intents.push(Intent::PlayRange {
            from_s: (passage.start_s - 1.0).max(0.0),
            until_s: (passage.end_s + 1.0).min(child.duration_s()),
        });
    }

    /// Keeps candidate `rank` as a new version of its take, shown with the passage selected.
    fn keep(&mut self, rank: usize, takes: &mut TakesList, intents: &mut Intents) {
        let Some(alternatives) = self.alternatives.take() else {
            return;
        };
        match takes.workbench_mut().keep(&alternatives, rank) {
            Ok(index) => {
                takes.show(index, intents);
                intents.push(Intent::FocusPassage(alternatives.origin.passage));
            }
            Err(refusal) => intents.tell(sentence(&refusal.to_string())),
        }
    }

    /// Regenerate selection, candidates, Continue from here, the progress and the alternatives;
    /// returns what the composer asked for.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        has_selection: bool,
        busy: bool,
        candidates: &mut usize,
        takes: &[Take],
    ) -> Option<PassageAsk> {
        let busy = busy || self.is_running();
        let mut asked = None;
        ui.horizontal(|ui| {
            let hint = "Drag on the piano roll's ruler (or shift-drag in the roll) to select a passage";
            if ui
                .add_enabled(has_selection && !busy, egui::Button::new("Regenerate selection"))
                .on_hover_text("Sample candidates for the passage, ranked by how well the music after it follows. Click a section in the form lane to select it: its repeats follow the new version")
                .on_disabled_hover_text(hint)
                .clicked()
            {
                asked = Some(PassageAsk::Regenerate);
            }
            ui.add(
                egui::DragValue::new(candidates)
                    .range(1..=regenerate::MAX_CANDIDATES)
                    .suffix(" candidates"),
            );
            if ui
                .add_enabled(!busy, egui::Button::new("Continue from here"))
                .on_hover_text("Drop everything after the playhead and generate onward")
                .clicked()
            {
                asked = Some(PassageAsk::ContinueFromHere);
            }
        });
        if self.is_running() {
            let fraction = self.fraction;
            ui.horizontal(|ui| {
                if ui.button("Cancel").clicked() {
                    self.job.ask_to_stop();
                }
                ui.add(
                    egui::ProgressBar::new(fraction as f32)
                        .text(format!("Regenerating {:.0}%", fraction * 100.0)),
                );
            });
        }
        self.alternatives_ui(ui, takes).or(asked)
    }

    fn alternatives_ui(&self, ui: &mut egui::Ui, takes: &[Take]) -> Option<PassageAsk> {
        let alternatives = self.alternatives.as_ref()?;
        let passage = alternatives.origin.passage;
        let grid = takes
            .iter()
            .find(|t| t.id == alternatives.origin.parent)
            .and_then(|t| t.grid.as_ref());
        ui.label(format!(
            "Alternatives for {} (best {} of {}):",
            describe_span(grid, passage.start_s, passage.end_s),
            OFFERED.min(alternatives.ranked.len()),
            alternatives.ranked.len()
        ));
        if let Some(follow) = &alternatives.origin.follow {
            let repeats: Vec<String> = follow
                .repeats()
                .iter()
                .map(|r| {
                    format!(
                        "{} at {}",
                        r.section,
                        describe_span(grid, r.start_s, r.end_s)
                    )
                })
                .collect();
            ui.label(format!("Its repeats follow: {}", repeats.join(", ")));
        }
        let mut asked = None;
        for (rank, candidate) in alternatives.ranked.iter().take(OFFERED).enumerate() {
            ui.horizontal(|ui| {
                let playing = alternatives.auditioned == Some(rank);
                let row = ui
                    .selectable_label(
                        playing,
                        format!("#{} ({} notes)", rank + 1, candidate.notes.len()),
                    )
                    .on_hover_text(format!(
                        "Log-likelihood of the next {} events: {:.1} nats",
                        candidate.scored_events, candidate.score
                    ))
                    .clicked();
                let button = ui.small_button("Audition").clicked();
                if row || button {
                    asked = Some(PassageAsk::Audition(rank));
                }
                if ui
                    .small_button("Keep")
                    .on_hover_text("Keep as a new version of the take")
                    .clicked()
                {
                    asked = Some(PassageAsk::Keep(rank));
                }
            });
        }
        if ui.small_button("Discard alternatives").clicked() {
            asked = Some(PassageAsk::Discard);
        }
        asked
    }
}

/// A span in bars on a take with a grid ("bars 5–8"), else in minutes and seconds.
fn describe_span(grid: Option<&Grid>, start_s: f64, end_s: f64) -> String {
    match grid {
        Some(grid) => grid.describe_span(start_s, end_s),
        None => format!("{}–{}", format_time(start_s), format_time(end_s)),
    }
}
