//! Which answers to ask for and which to play: the answer to the call as it stands is asked for
//! ahead of the hand-over ([`Duet::call_expected`]), kept if it comes early, played when the turn
//! passes with that very call, and dropped if the player played on.

use crate::compose::generate::Take;

use super::duet::{Call, Duet, DuetStep};

/// What to do after a look at the clock or an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerStep {
    /// Ask the answerer for this call's answer.
    Ask(Call),
    /// Play this answer to this call now (keep the exchange, start it on time).
    Play(Call, Box<Take>),
}

/// The answers asked for and awaited in a duet.
#[derive(Debug, Clone, Default)]
pub struct Answering {
    /// The call last asked for.
    asked: Option<Call>,
    /// The call handed over, whose answer is to be played when it comes.
    awaited: Option<Call>,
    /// An answer that came before its hand-over.
    early: Option<(Call, Box<Take>)>,
}

impl Answering {
    /// Each look at the clock: asks ahead for the call expected, and at the hand-over (when due,
    /// or now if `hand_over_now`) plays the answer already there or asks for it.
    pub fn tick(&mut self, duet: &mut Duet, now_s: f64, hand_over_now: bool) -> Vec<AnswerStep> {
        let mut steps = Vec::new();
        if let Some(expected) = duet.call_expected(now_s)
            && self.asked.as_ref() != Some(&expected)
        {
            self.asked = Some(expected.clone());
            steps.push(AnswerStep::Ask(expected));
        }
        let handed = if hand_over_now {
            duet.hand_over(now_s)
        } else {
            duet.tick(now_s)
        };
        if let Some(DuetStep::Answer(call)) = handed {
            match self.early.take() {
                Some((early_call, exchange)) if early_call == call => {
                    steps.push(AnswerStep::Play(call, exchange));
                }
                _ => {
                    if self.asked.as_ref() != Some(&call) {
                        self.asked = Some(call.clone());
                        steps.push(AnswerStep::Ask(call.clone()));
                    }
                    self.awaited = Some(call);
                }
            }
        }
        steps
    }

    /// An answer came: played now if its call was handed over, kept if it was asked ahead,
    /// dropped if the player has played on since.
    pub fn answered(&mut self, call: Call, exchange: Box<Take>) -> Option<AnswerStep> {
        if self.awaited.as_ref() == Some(&call) {
            self.awaited = None;
            return Some(AnswerStep::Play(call, exchange));
        }
        if self.asked.as_ref() == Some(&call) {
            self.early = Some((call, exchange));
        }
        None
    }

    /// The player played over the answer (or it failed): nothing in flight is played.
    pub fn forget(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::super::played_by_hand::{release, strike};
    use super::*;

    /// The one call a look at the clock asks for.
    fn asked(steps: Vec<AnswerStep>) -> Call {
        match steps.as_slice() {
            [AnswerStep::Ask(call)] => call.clone(),
            _ => panic!("one call asked for: {steps:?}"),
        }
    }

    fn phrase(duet: &mut Duet, from_s: f64, keys: &[u8]) {
        for (i, &key) in keys.iter().enumerate() {
            let at_s = from_s + 0.5 * i as f64;
            duet.play(strike(at_s, key));
            duet.play(release(at_s + 0.4, key));
        }
    }

    #[test]
    fn an_answer_asked_ahead_is_played_at_the_hand_over_without_asking_again() {
        let (mut duet, mut answering) = (Duet::new(1.0), Answering::default());
        phrase(&mut duet, 0.0, &[60, 62]);
        // Released at 0.9: asked ahead from 1.4, handed over at 1.9.
        let call = asked(answering.tick(&mut duet, 1.5, false));
        assert_eq!(
            answering.answered(call.clone(), Box::default()),
            None,
            "kept"
        );
        let steps = answering.tick(&mut duet, 1.95, false);
        assert!(matches!(steps.as_slice(), [AnswerStep::Play(played, _)] if *played == call));
    }

    #[test]
    fn an_answer_to_a_call_the_player_went_on_with_is_dropped() {
        let (mut duet, mut answering) = (Duet::new(1.0), Answering::default());
        phrase(&mut duet, 0.0, &[60, 62]);
        let stale = asked(answering.tick(&mut duet, 1.5, false));
        phrase(&mut duet, 1.6, &[64]);
        assert_eq!(answering.answered(stale, Box::default()), None);
        // Released at 2.0: asked ahead again, then handed over at 3.0 still waiting for it.
        let call = asked(answering.tick(&mut duet, 2.6, false));
        assert!(
            answering.tick(&mut duet, 3.05, false).is_empty(),
            "already asked"
        );
        let played = answering.answered(call.clone(), Box::default());
        assert!(matches!(played, Some(AnswerStep::Play(c, _)) if c == call));
    }

    #[test]
    fn enter_asks_for_the_call_as_it_stands() {
        let (mut duet, mut answering) = (Duet::new(4.0), Answering::default());
        phrase(&mut duet, 0.0, &[60]);
        let steps = answering.tick(&mut duet, 0.6, true);
        assert!(
            matches!(steps.as_slice(), [AnswerStep::Ask(_)]),
            "{steps:?}"
        );
    }
}
