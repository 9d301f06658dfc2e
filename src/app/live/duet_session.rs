//! Call and response as the Live room runs it: the core's [`Duet`] on the live clock, the model
//! answering on a worker, and each answer kept as a take and played on time.

use std::path::PathBuf;

use cadenza_core::generate::{SamplingSettings, Take};
use cadenza_core::live::{
    AnswerEvent, AnswerRequest, AnswerStep, Answerer, Answering, Call, Duet, DuetStep,
    spawn_answerer,
};
use cadenza_core::model::DeviceChoice;
use cadenza_core::music::touch::Played;
use cadenza_core::worker::Event;

use super::answer_settings::AnswerSettings;
use crate::app::intent::{Intent, Intents};
use crate::app::shared::Shared;

/// An answer waiting for its downbeat: when on the live clock, and the take's span to play.
#[derive(Debug, Clone, Copy)]
struct Pending {
    at_s: f64,
    from_s: f64,
    until_s: f64,
}

/// A duet running: the turn-taking and the model answering.
pub struct DuetSession {
    pub(super) duet: Duet,
    answerer: Answerer,
    /// Which answers are asked for, awaited, or came early.
    answering: Answering,
    pub(super) checkpoint: PathBuf,
    pub(super) ready: bool,
    /// When the answer playing ends, on the live clock.
    answer_ends_s: Option<f64>,
    pending: Option<Pending>,
    answers: u64,
    /// Enter was pressed: hand over at the next poll.
    hand_over_asked: bool,
    /// How long the last answer took, for the room to show.
    pub(super) last_answer: Option<String>,
}

impl DuetSession {
    /// A duet answered by `checkpoint`, loading on a worker.
    pub fn new(duet: Duet, checkpoint: PathBuf, shared: &Shared) -> Self {
        Self {
            duet,
            answerer: spawn_answerer(
                checkpoint.clone(),
                DeviceChoice::Auto,
                std::sync::Arc::clone(&shared.repaint),
            ),
            answering: Answering::default(),
            checkpoint,
            ready: false,
            answer_ends_s: None,
            pending: None,
            answers: 0,
            hand_over_asked: false,
            last_answer: None,
        }
    }

    /// A touch from the player; one over the answer stops it.
    pub fn played(&mut self, played: Played, intents: &mut Intents) {
        if self.duet.play(played) == Some(DuetStep::StopAnswer) {
            self.answer_ends_s = None;
            self.pending = None;
            self.answering.forget();
            intents.push(Intent::Pause);
        }
    }

    /// Enter: hand over at the next poll.
    pub fn ask_hand_over(&mut self) {
        self.hand_over_asked = true;
    }

    /// When the next thing is due on the live clock (an answer's downbeat), to wake for it.
    pub fn next_due_s(&self) -> Option<f64> {
        self.pending.map(|pending| pending.at_s)
    }

    /// Each frame: the model changed, the answer ended, the turn passed, answers arrived.
    pub fn poll(
        &mut self,
        now_s: f64,
        answers: &AnswerSettings,
        shared: &Shared,
        intents: &mut Intents,
    ) {
        if let Some(current) = &answers.checkpoint
            && *current != self.checkpoint
        {
            // Another model was chosen: the next answers are its (and the takes record it).
            let mut duet = self.duet.clone();
            duet.answered();
            *self = Self::new(duet, current.clone(), shared);
        }
        if let Some(pending) = self.pending
            && now_s >= pending.at_s
        {
            self.pending = None;
            intents.push(Intent::PlayRange {
                from_s: pending.from_s,
                until_s: pending.until_s,
            });
        }
        if self.answer_ends_s.is_some_and(|end_s| now_s >= end_s) {
            self.answer_ends_s = None;
            self.duet.answered();
        }
        let hand_over_now = std::mem::take(&mut self.hand_over_asked);
        for step in self.answering.tick(&mut self.duet, now_s, hand_over_now) {
            self.take_step(step, answers, now_s, intents);
        }
        self.take_answers(answers, now_s, intents);
    }

    fn take_step(
        &mut self,
        step: AnswerStep,
        answers: &AnswerSettings,
        now_s: f64,
        intents: &mut Intents,
    ) {
        match step {
            AnswerStep::Ask(call) => self.ask(call, answers),
            AnswerStep::Play(call, exchange) => self.play(call, exchange, now_s, intents),
        }
    }

    fn ask(&mut self, call: Call, answers: &AnswerSettings) {
        self.answerer.send(AnswerRequest {
            call: call.clone(),
            settings: SamplingSettings {
                seed: answers.settings.seed.wrapping_add(self.answers),
                ..answers.settings
            },
            controls: answers.controls.clone(),
        });
        self.answers += 1;
    }

    /// Keeps the exchange as a take and plays its answer on time.
    fn play(&mut self, call: Call, exchange: Box<Take>, now_s: f64, intents: &mut Intents) {
        let at_s = call.answer_start_s(now_s);
        let (from_s, until_s) = (call.play_from_s(&exchange), exchange.duration_s());
        self.answer_ends_s = Some(at_s + (until_s - from_s));
        self.pending = Some(Pending {
            at_s,
            from_s,
            until_s,
        });
        self.last_answer = Some(format!(
            "Answered {:.0} ms after the hand-over",
            (at_s.max(now_s) - call.handed_over_s) * 1000.0
        ));
        intents.push(Intent::KeepTake {
            take: exchange,
            play: None,
        });
    }

    fn take_answers(&mut self, answers: &AnswerSettings, now_s: f64, intents: &mut Intents) {
        for event in self.answerer.drain() {
            match event {
                Event::Update(AnswerEvent::Ready { .. }) => self.ready = true,
                Event::Update(AnswerEvent::Answered { exchange, call, .. }) => {
                    if let Some(step) = self.answering.answered(call, exchange) {
                        self.take_step(step, answers, now_s, intents);
                    }
                }
                Event::Update(AnswerEvent::Failed(message)) => {
                    self.answering.forget();
                    self.duet.answered();
                    intents.tell(format!("No answer: {message}"));
                }
                Event::Failed { message } => {
                    intents.tell(format!("Call and response stopped: {message}"));
                    self.ready = false;
                }
                Event::Finished(()) | Event::Cancelled => {}
            }
        }
    }
}
