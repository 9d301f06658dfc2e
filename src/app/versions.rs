//! Regenerating a passage in the Generate panel: starting it, auditioning and keeping
//! candidates, and the versions of the selected take. The versions themselves (candidates, the
//! tree, undo / redo) live in the core ([`cadenza_core::versions`], [`cadenza_core::workbench`]).

use cadenza_core::generate::SamplingSettings;
use cadenza_core::regenerate::{self, Candidate, RegenerateRequest};
use cadenza_core::versions::{Alternatives, Origin};
use cadenza_core::worker::Event;

use super::Shared;
use super::generate_panel::{GeneratePanel, sentence};
use super::job::Job;

/// Alternatives offered to audition and keep.
pub const OFFERED: usize = 3;

/// A regeneration running: the job and what it is for.
#[derive(Default)]
pub struct Regenerating {
    /// The worker.
    pub job: Job<Vec<Candidate>, regenerate::Progress>,
    /// What it works on, while it runs.
    pub origin: Option<Origin>,
    /// Share done.
    pub fraction: f64,
}

impl Regenerating {
    /// Whether a passage is being regenerated.
    pub fn is_running(&self) -> bool {
        self.job.is_running()
    }
}

impl GeneratePanel {
    pub(super) fn poll_regenerator(&mut self, shared: &mut Shared) {
        for event in self.regenerating.job.events() {
            match event {
                Event::Update(progress) => self.regenerating.fraction = progress.fraction,
                Event::Finished(ranked) => {
                    if let Some(origin) = self.regenerating.origin.take() {
                        self.alternatives = Some(Alternatives {
                            origin,
                            ranked,
                            auditioned: None,
                        });
                    }
                }
                Event::Cancelled => shared.tell("Regeneration cancelled"),
                Event::Failed { message } => {
                    shared.tell(format!("Regeneration failed: {message}"));
                }
            }
        }
    }

    /// Redoes the selected passage of the selected take: candidates to audition.
    pub fn regenerate_selection(&mut self, shared: &mut Shared) {
        let (Some(take), Some(passage)) = (self.bench.selected(), shared.selection) else {
            shared.tell("Select a take, then drag on the ruler to select a passage");
            return;
        };
        let Some(model) = take.model_for_version(shared.settings.checkpoint.as_deref()) else {
            shared.tell("Train a model or open a checkpoint first");
            return;
        };
        let controls = &shared.settings.generate;
        let plan = self.plan_for(controls, &model.checkpoint);
        let settings = SamplingSettings {
            seed: controls.passage_seed(),
            ..controls.settings(&plan)
        };
        let mut origin = Origin::new(take, passage, settings, plan);
        origin.checkpoint = model.checkpoint.display().to_string();
        let request = RegenerateRequest {
            checkpoint: model.checkpoint,
            notes: take.notes.clone(),
            passage,
            candidates: controls.candidates,
            settings: origin.settings,
            controls: origin.controls.clone(),
            device: shared.settings.train.device,
            grid: take.grid.clone(),
        };
        if let Some(notice) = model.notice {
            shared.tell(notice);
        }
        self.alternatives = None;
        let repaint = shared.repaint_every(std::time::Duration::from_millis(100));
        self.regenerating
            .job
            .hold(regenerate::spawn(request, repaint));
        self.regenerating.origin = Some(origin);
        self.regenerating.fraction = 0.0;
    }

    /// Plays candidate `rank` in the roll: the passage with a second of context before it.
    fn audition(&mut self, rank: usize, shared: &mut Shared) {
        let Some(alternatives) = &mut self.alternatives else {
            return;
        };
        let Some(parent) = self
            .bench
            .takes()
            .iter()
            .find(|t| t.id == alternatives.origin.parent)
        else {
            return;
        };
        let Some(child) = alternatives.child(parent, rank) else {
            return;
        };
        alternatives.auditioned = Some(rank);
        let passage = alternatives.origin.passage;
        shared.show(
            format!("Alternative #{} (not kept yet)", rank + 1),
            &child.piece(),
            child.primer_end_s,
        );
        // The form lane stays while auditioning: the passage is heard in its place in the form.
        shared.shown.content.grid = child.grid.clone();
        shared.shown.content.sections = child.sections();
        shared.focus_passage(passage);
        // The passage with a second on either side, then silence.
        let until_s = (passage.end_s + 1.0).min(child.duration_s());
        shared
            .sound
            .play_range((passage.start_s - 1.0).max(0.0), until_s);
    }

    /// Keeps candidate `rank` as a new version of its take.
    pub fn keep(&mut self, rank: usize, shared: &mut Shared) {
        let Some(alternatives) = self.alternatives.take() else {
            return;
        };
        match self.bench.keep(&alternatives, rank) {
            Ok(index) => {
                self.show_take(index, shared);
                shared.focus_passage(alternatives.origin.passage);
            }
            Err(refusal) => shared.tell(sentence(refusal)),
        }
    }

    /// Regenerate the selected passage, continue from the playhead, and the alternatives.
    pub(super) fn versions_ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared) {
        let busy = self.generator.is_running() || self.regenerating.is_running();
        ui.horizontal(|ui| {
            let selection = shared.selection;
            let hint = "Drag on the piano roll's ruler (or shift-drag in the roll) to select a passage";
            if ui
                .add_enabled(
                    selection.is_some() && !busy,
                    egui::Button::new("Regenerate selection"),
                )
                .on_hover_text("Sample candidates for the passage, ranked by how well the music after it follows. Click a section in the form lane to select it: its repeats follow the new version")
                .on_disabled_hover_text(hint)
                .clicked()
            {
                self.regenerate_selection(shared);
            }
            ui.add(
                egui::DragValue::new(&mut shared.settings.generate.candidates)
                    .range(1..=regenerate::MAX_CANDIDATES)
                    .suffix(" candidates"),
            );
            if ui
                .add_enabled(!busy, egui::Button::new("Continue from here"))
                .on_hover_text("Drop everything after the playhead and generate onward")
                .clicked()
            {
                self.continue_from_playhead(shared);
            }
        });
        if self.regenerating.is_running() {
            let fraction = self.regenerating.fraction;
            ui.horizontal(|ui| {
                if ui.button("Cancel").clicked() {
                    self.regenerating.job.ask_to_stop();
                }
                ui.add(
                    egui::ProgressBar::new(fraction as f32)
                        .text(format!("Regenerating {:.0}%", fraction * 100.0)),
                );
            });
        }
        self.alternatives_ui(ui, shared);
    }

    fn alternatives_ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared) {
        let Some(alternatives) = &self.alternatives else {
            return;
        };
        let passage = alternatives.origin.passage;
        let grid = self
            .bench
            .takes()
            .iter()
            .find(|t| t.id == alternatives.origin.parent)
            .and_then(|t| t.grid.as_ref());
        let span = match grid {
            Some(grid) => grid.describe_span(passage.start_s, passage.end_s),
            None => format!(
                "{}–{}",
                super::piano_roll::format_time(passage.start_s),
                super::piano_roll::format_time(passage.end_s)
            ),
        };
        ui.label(format!(
            "Alternatives for {span} (best {} of {}):",
            OFFERED.min(alternatives.ranked.len()),
            alternatives.ranked.len()
        ));
        if let Some(follow) = &alternatives.origin.follow {
            let repeats: Vec<String> = follow
                .repeats()
                .iter()
                .map(|r| match grid {
                    Some(grid) => format!(
                        "{} at {}",
                        r.section,
                        grid.describe_span(r.start_s, r.end_s)
                    ),
                    None => format!(
                        "{} at {}",
                        r.section,
                        super::piano_roll::format_time(r.start_s)
                    ),
                })
                .collect();
            ui.label(format!("Its repeats follow: {}", repeats.join(", ")));
        }
        let mut audition = None;
        let mut keep = None;
        for (rank, candidate) in alternatives.ranked.iter().take(OFFERED).enumerate() {
            ui.horizontal(|ui| {
                let playing = alternatives.auditioned == Some(rank);
                if ui
                    .selectable_label(
                        playing,
                        format!("#{} ({} notes)", rank + 1, candidate.notes.len()),
                    )
                    .on_hover_text(format!(
                        "Log-likelihood of the next {} events: {:.1} nats",
                        candidate.scored_events, candidate.score
                    ))
                    .clicked()
                {
                    audition = Some(rank);
                }
                if ui.small_button("Audition").clicked() {
                    audition = Some(rank);
                }
                if ui
                    .small_button("Keep")
                    .on_hover_text("Keep as a new version of the take")
                    .clicked()
                {
                    keep = Some(rank);
                }
            });
        }
        let discard = ui.small_button("Discard alternatives").clicked();
        if let Some(rank) = audition {
            self.audition(rank, shared);
        }
        if let Some(rank) = keep {
            self.keep(rank, shared);
        }
        if discard {
            self.alternatives = None;
            if let Some(index) = self.bench.selected_index() {
                self.show_take(index, shared);
            }
        }
    }
}
