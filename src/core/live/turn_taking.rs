//! When the player's turn ends: after a silence with every key and the pedal up.

use crate::music::touch::{Played, Touch};

/// Default silence that hands the turn over, in seconds (AI Duet waits 0.6 s; a pianist's
/// breath between phrases is longer, so a rest inside the phrase does not end it).
pub const DEFAULT_SILENCE_S: f64 = 1.0;
/// The shortest and longest silence offered.
pub const SILENCE_RANGE_S: (f64, f64) = (0.3, 4.0);
/// Clock readings closer than this count as equal, so 1.0 s after 0.3 s is not 0.999… s.
const CLOCK_TOLERANCE_S: f64 = 1e-6;

/// Follows a player's touches and says when their turn is over.
#[derive(Debug, Clone)]
pub struct TurnTaking {
    silence_s: f64,
    /// Keys down, one bit per MIDI key.
    held: u128,
    pedal_down: bool,
    /// When everything last came up, while everything is up.
    quiet_since_s: Option<f64>,
    /// Whether a key was struck since the last hand-over.
    called: bool,
}

impl TurnTaking {
    /// Hands over after `silence_s` of silence (kept within [`SILENCE_RANGE_S`]).
    pub fn new(silence_s: f64) -> Self {
        Self {
            silence_s: silence_s.clamp(SILENCE_RANGE_S.0, SILENCE_RANGE_S.1),
            held: 0,
            pedal_down: false,
            quiet_since_s: None,
            called: false,
        }
    }

    /// Follows one touch.
    pub fn observe(&mut self, played: &Played) {
        match played.touch {
            Touch::Strike { key, .. } => {
                self.held |= 1 << key.as_int();
                self.called = true;
            }
            Touch::Release { key } => self.held &= !(1 << key.as_int()),
            Touch::Pedal { down } => self.pedal_down = down,
        }
        let quiet = self.held == 0 && !self.pedal_down;
        self.quiet_since_s = quiet.then_some(played.at_s);
    }

    /// Whether the turn is over at `now_s`: something was played, and every key and the pedal
    /// have been up for the whole silence.
    pub fn is_over(&self, now_s: f64) -> bool {
        self.called
            && self
                .quiet_since_s
                .is_some_and(|since| now_s - since + CLOCK_TOLERANCE_S >= self.silence_s)
    }

    /// When the turn will be over if nothing more is played: the silence after everything came
    /// up; `None` while something is held or nothing was played.
    pub fn over_at_s(&self) -> Option<f64> {
        self.quiet_since_s
            .filter(|_| self.called)
            .map(|since| since + self.silence_s)
    }

    /// Starts the next call: nothing played yet (keys still down stay down).
    pub fn hand_over(&mut self) {
        self.called = false;
    }
}

impl Default for TurnTaking {
    fn default() -> Self {
        Self::new(DEFAULT_SILENCE_S)
    }
}

#[cfg(test)]
mod tests {
    use midly::num::u7;

    use super::*;

    fn touch(turn: &mut TurnTaking, at_s: f64, touch: Touch) {
        turn.observe(&Played { at_s, touch });
    }

    fn phrase(turn: &mut TurnTaking) {
        touch(turn, 0.1, Touch::strike(u7::new(60), u7::new(70)));
        touch(turn, 0.3, Touch::Release { key: u7::new(60) });
    }

    #[test]
    fn the_turn_ends_at_exactly_the_silence_set_and_not_a_millisecond_before() {
        let mut turn = TurnTaking::new(1.0);
        phrase(&mut turn);
        assert!(!turn.is_over(1.299));
        assert!(turn.is_over(1.3));
    }

    #[test]
    fn a_held_pedal_or_key_keeps_the_turn() {
        let mut turn = TurnTaking::new(1.0);
        touch(&mut turn, 0.0, Touch::Pedal { down: true });
        phrase(&mut turn);
        assert!(!turn.is_over(5.0));
        touch(&mut turn, 5.0, Touch::strike(u7::new(62), u7::new(70)));
        touch(&mut turn, 5.1, Touch::Pedal { down: false });
        assert!(!turn.is_over(9.0), "a key is still down");
        touch(&mut turn, 9.0, Touch::Release { key: u7::new(62) });
        assert!(turn.is_over(10.0));
    }

    #[test]
    fn silence_before_anything_is_played_hands_nothing_over() {
        let mut turn = TurnTaking::new(1.0);
        touch(&mut turn, 0.0, Touch::Pedal { down: false });
        assert!(!turn.is_over(30.0));
        phrase(&mut turn);
        turn.hand_over();
        assert!(!turn.is_over(30.0));
    }
}
