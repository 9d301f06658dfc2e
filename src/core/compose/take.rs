//! A take: a generated piece with everything needed to make it again, and what made it.

use std::path::Path;

use crate::music::form::SectionTime;
use crate::music::meter::Grid;
use crate::music::midi::{self, MidiError, Note, Piece};
use crate::music::plan::ControlPlan;
use crate::music::quantize::Quantize;

use super::settings::SamplingSettings;

/// How a take was made: generated afresh, or a new version of another take.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operation {
    /// Sampled from the primer (or from nothing).
    #[default]
    Generate,
    /// Everything after `from_s` dropped and generated onward.
    Continue {
        /// Where the new music starts.
        from_s: f64,
    },
    /// A passage redone: the candidate of rank `rank` (0 = best) of `candidates`.
    Regenerate {
        /// The passage.
        start_s: f64,
        /// Its end.
        end_s: f64,
        /// Candidates sampled.
        candidates: usize,
        /// The rank of the one kept.
        rank: usize,
        /// Its score (log-likelihood of the music after the passage, nats).
        score: f64,
    },
    /// Played live and recorded: every note is the player's.
    Played,
    /// A call played live, and the model's answer from `from_s`.
    Answered {
        /// Where the answer starts.
        from_s: f64,
    },
}

impl Operation {
    /// A short description for the takes list; a passage redone is named in bars on `grid`.
    pub fn describe(&self, grid: Option<&Grid>) -> String {
        let time = |s: f64| format!("{}:{:04.1}", (s / 60.0) as u64, s % 60.0);
        match *self {
            Self::Generate => "generated".to_string(),
            Self::Continue { from_s } => format!("continued from {}", time(from_s)),
            Self::Played => "played live".to_string(),
            Self::Answered { from_s } => format!("answered at {}", time(from_s)),
            Self::Regenerate {
                start_s,
                end_s,
                candidates,
                rank,
                ..
            } => {
                let span = match grid {
                    Some(grid) => grid.describe_span(start_s, end_s),
                    None => format!("{}–{}", time(start_s), time(end_s)),
                };
                format!("{span} redone (#{} of {candidates})", rank + 1)
            }
        }
    }
}

/// One generated piece with everything needed to reproduce and describe it (the default: an
/// empty take, for tests and placeholders).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Take {
    /// Identity in the takes list (0 until the list gives it one; takes written before versions
    /// get theirs when loaded).
    #[serde(default)]
    pub id: u64,
    /// The take this one is a version of (a passage redone, a continuation).
    #[serde(default)]
    pub parent: Option<u64>,
    /// How it was made.
    #[serde(default)]
    pub operation: Operation,
    /// The music, primer first. No pedal: the encoding's notes already sound as long as heard.
    pub notes: Vec<Note>,
    /// Notes starting before this time are the primer's.
    pub primer_end_s: f64,
    /// What the primer was.
    pub primer: String,
    /// The seed this variation was sampled with.
    pub seed: u64,
    /// The sampling settings used (with `seed` and `variations` of the whole request).
    pub settings: SamplingSettings,
    /// What the model was asked for (takes written before controls existed: any).
    #[serde(default)]
    pub controls: ControlPlan,
    /// The checkpoint it came from.
    pub checkpoint: String,
    /// Events sampled after the primer.
    pub events: usize,
    /// Sampling speed of this variation, in events per second.
    pub events_per_s: f64,
    /// The bar grid it was written on (asked for, or its primer's); takes from models without
    /// one, and takes written before grids existed, have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<Grid>,
}

/// The model a new version of a take (a passage redone, a continuation) is made with.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionModel {
    /// The checkpoint (stem) to sample with; the version records it.
    pub checkpoint: std::path::PathBuf,
    /// Said to the composer when it is not the take's own model.
    pub notice: Option<String>,
}

impl Take {
    /// The model to make a new version of this take with: its own while its checkpoint is on
    /// disk (a version of a fine-tuned take is not redone by whichever model is selected), else
    /// `current`, saying so. `None` when neither is there.
    pub fn model_for_version(&self, current: Option<&Path>) -> Option<VersionModel> {
        let own = std::path::PathBuf::from(&self.checkpoint);
        if !self.checkpoint.is_empty() && crate::model::naming::meta_path(&own).is_file() {
            return Some(VersionModel {
                checkpoint: own,
                notice: None,
            });
        }
        let current = crate::model::naming::stem(current?);
        let notice = format!(
            "This take's model ({}) is gone: using {} instead",
            self.checkpoint,
            current.display()
        );
        Some(VersionModel {
            checkpoint: current,
            notice: Some(notice),
        })
    }

    /// A recording as a take: its sounding notes (pedal applied, as in every take), all of them
    /// the player's (the "primer"), so Generate can continue it.
    pub fn played(piece: &Piece) -> Self {
        let notes = crate::music::midi::apply_sustain(piece);
        let end_s = notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
        Self {
            operation: Operation::Played,
            notes,
            primer_end_s: end_s,
            primer: "played live".to_string(),
            grid: piece.grid.clone(),
            ..Self::default()
        }
    }

    /// The take as a piece, with its grid.
    pub fn piece(&self) -> Piece {
        Piece {
            grid: self.grid.clone(),
            ..Piece::from_notes(self.notes.clone())
        }
    }

    /// The sections of its form on its grid (none without a form or grid).
    pub fn sections(&self) -> Vec<SectionTime> {
        match (&self.controls.form, &self.grid) {
            (Some(form), Some(grid)) => form.on_grid(grid, self.primer_end_s),
            _ => Vec::new(),
        }
    }

    /// Whether a note belongs to the primer rather than to the new music.
    pub fn is_primer(&self, note: &Note) -> bool {
        note.start_s < self.primer_end_s
    }

    /// Length of the take in seconds.
    pub fn duration_s(&self) -> f64 {
        self.notes.iter().map(|n| n.end_s).fold(0.0, f64::max)
    }

    /// A short line for the takes list: number, model, what was asked in words and length:
    /// "3. Starter · D minor · 90 bpm · 3/4 · 0:30"; [`Take::details`] says the rest.
    pub fn title(&self, number: usize, model: &str) -> String {
        let asked = if self.controls.is_any() {
            String::new()
        } else {
            format!(" · {}", self.controls.summary())
        };
        let total = self.duration_s().round() as u64;
        format!(
            "{number}. {model}{asked} · {}:{:02}",
            total / 60,
            total % 60
        )
    }

    /// Everything else about the take, for a hover: how it was made, the seed and the sampling
    /// settings in words.
    pub fn details(&self) -> String {
        let origin = match self.operation {
            Operation::Generate if self.primer == "none" => "generated from silence".to_string(),
            Operation::Generate => format!("generated after the {}", self.primer),
            other => other.describe(self.grid.as_ref()),
        };
        let settings = &self.settings;
        let mut lines = vec![
            origin,
            format!("asked for: {}", self.controls.summary()),
            format!(
                "seed {} (lock it in the Generate panel to make this take again)",
                self.seed
            ),
            format!(
                "adventurousness (temperature) {}: below 1 plays safe, above 1 takes risks",
                settings.temperature
            ),
        ];
        if let Some(k) = settings.top_k {
            lines.push(format!(
                "only the {k} likeliest next notes considered (top-k)"
            ));
        }
        if let Some(p) = settings.top_p {
            lines.push(format!(
                "only the likeliest notes making up {:.0} % of the odds considered (top-p)",
                p * 100.0
            ));
        }
        lines.push(format!(
            "assist {}: how strongly the rules (keep time, echo, texture, let go, key) lean on the model",
            settings.assist
        ));
        lines.push(format!("model: {}", self.checkpoint));
        lines.join("\n")
    }

    /// The text stored in an exported MIDI file: generator, checkpoint, primer, seed and settings.
    pub fn description(&self) -> String {
        serde_json::json!({
            "generator": format!("cadenza {}", env!("CARGO_PKG_VERSION")),
            "checkpoint": self.checkpoint,
            "primer": self.primer,
            "seed": self.seed,
            "settings": self.settings,
            "controls": self.controls,
        })
        .to_string()
    }

    /// A file name for take number `number` of the list (without extension), saying the model
    /// and the seed, so exports of different takes do not offer the same name:
    /// `starter-take-3-seed-42`.
    pub fn file_stem(&self, number: usize) -> String {
        let model = Path::new(&self.checkpoint)
            .file_name()
            .map_or("cadenza".into(), |name| name.to_string_lossy().into_owned());
        let model: String = model
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("{model}-take-{number}-seed-{}", self.seed)
    }

    /// Writes the take as a MIDI file carrying its description, against its bar grid if it has
    /// one, each note moved `quantize` (0–1) of the way to the grid ([`Quantize`]).
    pub fn write_midi(&self, path: &Path, quantize: Quantize) -> Result<(), MidiError> {
        midi::write_file(
            &quantize.apply(&self.piece()),
            path,
            Some(&self.description()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::plan::{Curve, KeyChange, MeterChange};

    #[test]
    fn a_new_version_is_made_with_the_takes_own_model_while_it_is_on_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let own = dir.path().join("bach-fine-tuned");
        std::fs::write(crate::model::naming::meta_path(&own), "{}").expect("written");
        let selected = dir.path().join("starter");
        let take = Take {
            checkpoint: own.display().to_string(),
            ..Take::default()
        };
        let model = take.model_for_version(Some(&selected)).expect("a model");
        assert_eq!(model.checkpoint, own);
        assert_eq!(model.notice, None);

        std::fs::remove_file(crate::model::naming::meta_path(&own)).expect("removed");
        let model = take.model_for_version(Some(&selected)).expect("a model");
        assert_eq!(model.checkpoint, selected, "the selected one stands in");
        let notice = model.notice.expect("and the composer is told");
        assert!(
            notice.contains("bach-fine-tuned") && notice.contains("starter"),
            "{notice}"
        );
        assert_eq!(take.model_for_version(None), None);
    }

    #[test]
    fn a_take_title_names_the_model_and_what_was_asked_in_a_musician_s_words() {
        let take = Take {
            notes: vec![Note {
                pitch: 60,
                start_s: 0.0,
                end_s: 30.2,
                velocity: 70,
            }],
            controls: ControlPlan {
                key: vec![KeyChange {
                    at_s: 0.0,
                    key: "D minor".parse().ok(),
                }],
                // 1.353 notes/s asks for the 1-note/s bin: it is named so.
                density: Curve::constant(1.353),
                tempo: Curve::constant(90.0),
                meter: vec![MeterChange {
                    at_s: 0.0,
                    signature: "3/4".parse().expect("a meter"),
                }],
                ..ControlPlan::default()
            },
            seed: 42,
            primer: "none".to_string(),
            ..Take::default()
        };
        assert_eq!(
            take.title(3, "Starter"),
            "3. Starter · D minor · 1 note/s · 90 bpm · 3/4 · 0:30"
        );
        assert!(take.sections().is_empty(), "no form, no sections");
        let details = take.details();
        assert!(details.contains("generated from silence"), "{details}");
        assert!(details.contains("seed 42"), "{details}");
        assert!(details.contains("temperature"), "{details}");
    }

    #[test]
    fn a_take_in_a_form_knows_where_its_sections_are() {
        let plan = ControlPlan {
            form: "A2 B1 A2".parse().ok(),
            ..ControlPlan::default()
        };
        let take = Take {
            grid: plan.grid(20.0),
            controls: plan,
            ..Take::default()
        };
        // 90 bpm in 4/4 (the defaults): a bar lasts 8/3 s.
        let sections = take.sections();
        let times: Vec<(String, f64)> = sections
            .iter()
            .map(|s| (s.section.to_string(), (s.start_s * 10.0).round() / 10.0))
            .collect();
        assert_eq!(
            times,
            [("A".into(), 0.0), ("B".into(), 5.3), ("A".into(), 8.0)]
        );
        assert_eq!(sections[2].model, Some(0));
    }
}
