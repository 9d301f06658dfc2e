//! Cadenza's side of a duet: a worker that keeps the model loaded and answers each call it is
//! sent, so an answer costs only its sampling.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::base::worker::{Context, Repaint, Stop, Worker};
use crate::compose::generate::{
    GenerateError, GenerateRequest, Length, Operation, SamplingSettings, Take, run_loaded,
};
use crate::model::checkpoint;
use crate::model::{DeviceChoice, resolve_device};
use crate::music::plan::ControlPlan;

use super::duet::Call;

/// How often the worker looks for a cancel while it waits for a call.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// A call to answer, with the settings the answer is sampled with.
#[derive(Debug, Clone)]
pub struct AnswerRequest {
    /// The call.
    pub call: Call,
    /// Sampling settings (the length is the call's, [`Call::answer_s`]).
    pub settings: SamplingSettings,
    /// What to ask the model for.
    pub controls: ControlPlan,
}

/// What the answerer reports.
#[derive(Debug, Clone)]
pub enum AnswerEvent {
    /// The model is loaded: calls are answered from now on.
    Ready {
        /// Where the network runs, described for people.
        device: String,
    },
    /// An answer: the exchange as a take (the call is its primer), and how long sampling took.
    Answered {
        /// The call and its answer; the answer begins at the take's `primer_end_s`.
        exchange: Box<Take>,
        /// The call answered.
        call: Call,
        /// Seconds from receiving the call to the answer being ready.
        thinking_s: f64,
    },
    /// A call could not be answered; the next one may be.
    Failed(String),
}

/// The answerer: send it [`AnswerRequest`]s; it runs until cancelled or dropped.
pub type Answerer = Worker<AnswerRequest, AnswerEvent, ()>;

/// Loads `checkpoint` on a worker thread and answers calls until cancelled; fails (with the
/// reason) if the model cannot be loaded.
pub fn spawn_answerer(checkpoint: PathBuf, device: DeviceChoice, repaint: Repaint) -> Answerer {
    Worker::spawn("cadenza-answer", repaint, move |ctx| {
        answer_calls(&checkpoint, device, ctx).map_err(|err| Stop::Failed(err.to_string()))
    })
}

/// What an answer asks for: the controls without tempo, meter or form, so the answer keeps the
/// call's time (its click's grid, through the primer, or free time) and is one phrase.
fn in_the_calls_time(mut controls: ControlPlan) -> ControlPlan {
    controls.tempo = Default::default();
    controls.meter.clear();
    controls.form = None;
    controls
}

fn answer_calls(
    checkpoint: &std::path::Path,
    choice: DeviceChoice,
    ctx: &Context<AnswerRequest, AnswerEvent>,
) -> Result<(), GenerateError> {
    let device = resolve_device(choice).map_err(GenerateError::Device)?;
    let loaded = checkpoint::load_model(checkpoint, device.device)?;
    ctx.update(AnswerEvent::Ready {
        device: device.description.clone(),
    });
    while !ctx.is_cancelled() {
        let Some(mut ask) = ctx.wait_command(IDLE_POLL) else {
            continue;
        };
        // Calls asked for ahead of the hand-over go stale as the player plays on: answer only
        // the newest.
        while let Some(newer) = ctx.try_command() {
            ask = newer;
        }
        let started = Instant::now();
        let request = GenerateRequest {
            checkpoint: checkpoint.to_path_buf(),
            settings: SamplingSettings {
                length: Length::Seconds(ask.call.answer_s()),
                variations: 1,
                ..ask.settings
            },
            primer: ask.call.primer(),
            controls: in_the_calls_time(ask.controls),
            device: choice,
            continues: None,
        };
        let answered = run_loaded(&request, &loaded, &device, &mut |_| {}, ctx.cancel_flag());
        match answered {
            Ok(Some(takes)) => {
                if let Some(take) = takes.into_iter().next() {
                    let from_s = take.primer_end_s;
                    ctx.update(AnswerEvent::Answered {
                        exchange: Box::new(Take {
                            operation: Operation::Answered { from_s },
                            ..take
                        }),
                        call: ask.call,
                        thinking_s: started.elapsed().as_secs_f64(),
                    });
                }
            }
            Ok(None) => break,
            Err(err) => ctx.update(AnswerEvent::Failed(err.to_string())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::plan::MeterChange;
    use crate::music::time_signature::TimeSignature;

    #[test]
    fn an_answer_keeps_the_calls_time_and_asks_no_form() {
        let plan = ControlPlan {
            meter: vec![MeterChange {
                at_s: 0.0,
                signature: TimeSignature::FOUR_FOUR,
            }],
            style: Some("Bach".to_string()),
            ..ControlPlan::default()
        }
        .in_default_bars();
        let asked = in_the_calls_time(plan);
        assert!(!asked.asks_meter(), "{asked:?}");
        assert_eq!(asked.style.as_deref(), Some("Bach"), "the rest is kept");
    }
}
