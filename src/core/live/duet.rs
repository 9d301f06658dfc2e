//! Call and response: the player plays a call; when their turn is over Cadenza answers it with
//! the current model, as long as the call; playing during the answer stops it and starts the
//! next call.

use crate::compose::generate::{Primer, Take};
use crate::music::meter::Grid;
use crate::music::midi::{self, Piece};
use crate::music::touch::{Played, Touch};

use super::recording::Recording;
use super::turn_taking::TurnTaking;

/// The shortest and longest answer, in seconds: a call shorter than 2 s still gets a phrase, and
/// one longer than 16 s a reply that does not make the player wait minutes.
pub const ANSWER_RANGE_S: (f64, f64) = (2.0, 16.0);

/// How long before the hand-over the answer to the call as it stands is asked for: the player
/// is silent and may be done, and sampling takes 0.1–0.2 s (`cargo bench --bench live`), so the
/// answer is ready when the turn passes. A touch before then makes that answer stale.
pub const ANSWER_LEAD_S: f64 = 0.5;

/// With the click on, the answer starts on a downbeat at least this long after the hand-over:
/// time to sample the answer's start (about 0.1 s on two cores, `cargo bench --bench live`).
pub const ANSWER_MARGIN_S: f64 = 0.15;

/// What the duet asks of whoever plays the answers.
#[derive(Debug, Clone, PartialEq)]
pub enum DuetStep {
    /// The player's turn is over: answer this call.
    Answer(Call),
    /// The player began a new call over the answer: stop the answer at once.
    StopAnswer,
}

/// A finished call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// What was played, from its first strike.
    pub piece: Piece,
    /// Where the call began on the live clock.
    pub start_s: f64,
    /// When the turn was handed over, on the live clock.
    pub handed_over_s: f64,
    /// Where the answer begins, in the call's time: its last release in free time; with the
    /// click, the first downbeat at least [`ANSWER_MARGIN_S`] after the hand-over.
    pub answer_from_s: f64,
}

impl Call {
    /// How long the answer should be: as long as the call, within [`ANSWER_RANGE_S`].
    pub fn answer_s(&self) -> f64 {
        self.piece
            .duration_s()
            .clamp(ANSWER_RANGE_S.0, ANSWER_RANGE_S.1)
    }

    /// The call as the model's primer: its sounding notes (pedal applied), up to where the
    /// answer begins, so the answer follows on from the call (in free time, not from the silence
    /// after it; with the click, from the downbeat it will be played on).
    pub fn primer(&self) -> Primer {
        Primer {
            end_s: self.answer_from_s,
            // The click's grid, however freely the call was played against it.
            grid: self.piece.grid.clone(),
            ..Primer::opening(&self.piece, self.answer_from_s, "your call")
        }
    }

    /// Where playing an answer to this call starts in the exchange (the take the answerer made):
    /// with the click, the downbeat it was written from; in free time its first note, as the
    /// hand-over's silence already parts call and answer (a rest the model opens with would only
    /// make the player wait).
    pub fn play_from_s(&self, exchange: &Take) -> f64 {
        let from_s = exchange.primer_end_s;
        if self.piece.grid.is_some() {
            return from_s;
        }
        exchange
            .notes
            .iter()
            .map(|n| n.start_s)
            .filter(|&start_s| start_s >= from_s)
            .reduce(f64::min)
            .unwrap_or(from_s)
    }

    /// When the answer should start on the live clock, if it is ready at `ready_s`: at once in
    /// free time; with the click on its downbeat, pushed a bar at a time while that has passed.
    pub fn answer_start_s(&self, ready_s: f64) -> f64 {
        let Some(grid) = &self.piece.grid else {
            return ready_s;
        };
        let mut at_s = self.start_s + self.answer_from_s;
        let bar_s = grid.bar_start_s(1);
        while at_s < ready_s && bar_s > 0.0 {
            at_s += bar_s;
        }
        at_s
    }
}

/// Whose turn it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Waiting for the player, or listening to their call.
    Player,
    /// Cadenza is answering (thinking, then playing).
    Cadenza,
}

/// The turn-taking of call and response, on the live clock.
#[derive(Debug, Clone, Default)]
pub struct Duet {
    turn_taking: TurnTaking,
    /// The call being played, from its first strike (with the click, from the bar line before).
    call: Option<Recording>,
    answering: bool,
    /// The click's steady grid and where its time 0 is on the live clock.
    click: Option<(Grid, f64)>,
}

impl Duet {
    /// A duet that hands over after `silence_s` of silence.
    pub fn new(silence_s: f64) -> Self {
        Self {
            turn_taking: TurnTaking::new(silence_s),
            ..Self::default()
        }
    }

    /// The same duet in time with a click: `grid` (steady) with its time 0 at `origin_s` on the
    /// live clock. Calls are then in bars and answers start on downbeats.
    pub fn with_click(self, grid: Grid, origin_s: f64) -> Self {
        Self {
            click: Some((grid, origin_s)),
            ..self
        }
    }

    /// Where a call whose first strike is at `at_s` begins: there in free time, at the bar line
    /// before it with the click (a steady grid is the same from any of its bar lines).
    fn start_call(&self, at_s: f64) -> Recording {
        match &self.click {
            None => Recording::new(at_s),
            Some((grid, origin_s)) => {
                let bar = grid.position(at_s - origin_s).bar.max(0);
                let bar_line_s = origin_s + grid.bar_start_s(u32::try_from(bar).unwrap_or(0));
                Recording::on_grid(bar_line_s, grid.clone())
            }
        }
    }

    /// Whose turn it is.
    pub fn turn(&self) -> Turn {
        if self.answering {
            Turn::Cadenza
        } else {
            Turn::Player
        }
    }

    /// The call so far, if one began.
    pub fn call_so_far(&self, now_s: f64) -> Option<Piece> {
        self.call.as_ref().map(|call| call.piece(now_s))
    }

    /// A touch from the player. A strike during the answer stops it and begins the next call.
    pub fn play(&mut self, played: Played) -> Option<DuetStep> {
        self.turn_taking.observe(&played);
        let strike = matches!(played.touch, Touch::Strike { .. });
        let barge_in = strike && self.answering;
        if barge_in {
            self.answering = false;
        }
        if strike && self.call.is_none() {
            self.call = Some(self.start_call(played.at_s));
        }
        if let Some(call) = &mut self.call {
            call.add(played);
        }
        barge_in.then_some(DuetStep::StopAnswer)
    }

    /// Looks at the clock: hands over when the player's silence has lasted long enough, as of
    /// the moment it had (so the call is the one [`Duet::call_expected`] foresaw).
    pub fn tick(&mut self, now_s: f64) -> Option<DuetStep> {
        if self.answering || !self.turn_taking.is_over(now_s) {
            return None;
        }
        let over_at_s = self.turn_taking.over_at_s().unwrap_or(now_s);
        self.hand_over(over_at_s.min(now_s))
    }

    /// The call the turn will pass with if nothing more is played, once the silence is within
    /// [`ANSWER_LEAD_S`] of handing over: asking for its answer now has it ready on time.
    pub fn call_expected(&self, now_s: f64) -> Option<Call> {
        let over_at_s = self.turn_taking.over_at_s()?;
        if self.answering || now_s < over_at_s - ANSWER_LEAD_S {
            return None;
        }
        let mut ahead = self.clone();
        match ahead.hand_over(over_at_s) {
            Some(DuetStep::Answer(call)) => Some(call),
            _ => None,
        }
    }

    /// Hands over now (Enter, or a pedal or controller chosen for it), if there is a call.
    pub fn hand_over(&mut self, now_s: f64) -> Option<DuetStep> {
        let recording = self.call.take()?;
        self.turn_taking.hand_over();
        self.answering = true;
        let piece = recording.piece(now_s);
        let start_s = recording.start_s();
        let answer_from_s = match &piece.grid {
            None => midi::apply_sustain(&piece)
                .iter()
                .map(|n| n.end_s)
                .fold(0.0, f64::max),
            Some(grid) => grid
                .bar_lines()
                .map(|(_, at_s)| at_s)
                .find(|&at_s| at_s >= now_s - start_s + ANSWER_MARGIN_S)
                .unwrap_or(now_s - start_s),
        };
        Some(DuetStep::Answer(Call {
            piece,
            start_s,
            handed_over_s: now_s,
            answer_from_s,
        }))
    }

    /// The answer ended (played out, failed or was cancelled): the player's turn.
    pub fn answered(&mut self) {
        self.answering = false;
    }
}

#[cfg(test)]
mod tests {
    use super::super::played_by_hand::{release, strike};
    use super::*;

    fn call(duet: &mut Duet, from_s: f64) {
        for (i, key) in [60, 62, 64, 65].into_iter().enumerate() {
            let at_s = from_s + 0.5 * i as f64;
            assert_eq!(duet.play(strike(at_s, key)), None);
            assert_eq!(duet.play(release(at_s + 0.4, key)), None);
        }
    }

    #[test]
    fn the_turn_passes_after_the_silence_with_the_call_from_its_first_strike() {
        let mut duet = Duet::new(1.0);
        assert_eq!(duet.tick(100.0), None, "nothing played yet");
        call(&mut duet, 10.0);
        let last_release_s = 11.9;
        assert_eq!(duet.tick(last_release_s + 0.999), None);
        let Some(DuetStep::Answer(call)) = duet.tick(last_release_s + 1.0) else {
            panic!("the turn should pass after 1 s");
        };
        assert_eq!(call.start_s, 10.0);
        assert_eq!(call.piece.notes.len(), 4);
        assert_eq!(call.piece.notes[0].start_s, 0.0);
        assert!((call.primer().end_s - 1.9).abs() < 1e-9);
        assert!((call.answer_s() - 2.0).abs() < 1e-9);
        assert_eq!(duet.turn(), Turn::Cadenza);
        assert_eq!(duet.tick(20.0), None, "one answer at a time");
    }

    #[test]
    fn playing_over_the_answer_stops_it_and_starts_the_next_call() {
        let mut duet = Duet::new(1.0);
        call(&mut duet, 0.0);
        assert!(matches!(duet.tick(3.0), Some(DuetStep::Answer(_))));
        assert_eq!(duet.play(strike(3.5, 67)), Some(DuetStep::StopAnswer));
        assert_eq!(duet.turn(), Turn::Player);
        assert_eq!(duet.play(release(3.9, 67)), None);
        let Some(DuetStep::Answer(call)) = duet.tick(4.9) else {
            panic!("the new call should be answered");
        };
        assert_eq!(call.start_s, 3.5);
        assert_eq!(call.piece.notes.len(), 1);
    }

    #[test]
    fn with_the_click_a_call_starts_at_its_bar_line_and_the_answer_on_a_later_downbeat() {
        // 120 bpm in 4/4: bars of 2 s, the click's time 0 at 10 s on the live clock.
        let grid = Grid::steady(
            120.0,
            crate::music::time_signature::TimeSignature::FOUR_FOUR,
            8.0,
        );
        let mut duet = Duet::new(1.0).with_click(grid, 10.0);
        call(&mut duet, 12.5);
        let Some(DuetStep::Answer(call)) = duet.tick(15.4) else {
            panic!("the turn passes");
        };
        assert_eq!(call.start_s, 12.0, "the bar line before the first strike");
        assert_eq!(
            call.answer_from_s, 4.0,
            "the first downbeat 0.15 s after the hand-over"
        );
        assert_eq!(call.primer().end_s, 4.0);
        assert!(call.primer().grid.is_some());
        assert_eq!(call.answer_start_s(15.99), 16.0);
        assert_eq!(call.answer_start_s(16.2), 18.0, "pushed a bar when late");
    }

    #[test]
    fn in_free_time_an_answer_plays_from_its_first_note_and_with_the_click_from_its_downbeat() {
        let note = |start_s: f64| crate::music::midi::Note {
            pitch: 60,
            start_s,
            end_s: start_s + 0.2,
            velocity: 80,
        };
        let exchange = Take {
            notes: vec![note(0.0), note(2.6), note(3.1)],
            primer_end_s: 2.0,
            ..Take::default()
        };
        let free = Call {
            piece: Piece::from_notes(vec![note(0.0)]),
            start_s: 0.0,
            handed_over_s: 1.2,
            answer_from_s: 2.0,
        };
        assert_eq!(
            free.play_from_s(&exchange),
            2.6,
            "the model's opening rest is skipped"
        );
        let in_bars = Call {
            piece: Piece {
                grid: Some(Grid::steady(
                    120.0,
                    crate::music::time_signature::TimeSignature::FOUR_FOUR,
                    4.0,
                )),
                ..free.piece.clone()
            },
            ..free
        };
        assert_eq!(
            in_bars.play_from_s(&exchange),
            2.0,
            "on the downbeat, rest and all"
        );
    }

    #[test]
    fn the_call_expected_before_the_hand_over_is_the_call_handed_over() {
        let mut duet = Duet::new(1.0);
        call(&mut duet, 10.0);
        // The last release is at 11.9: the turn passes at 12.9 unless something is played.
        assert_eq!(duet.call_expected(12.3), None, "not yet within the lead");
        let expected = duet.call_expected(12.45).expect("within the lead");
        let Some(DuetStep::Answer(handed)) = duet.tick(12.93) else {
            panic!("the turn passes");
        };
        assert_eq!(handed, expected);
    }

    #[test]
    fn a_touch_after_the_call_was_foreseen_makes_another_call() {
        let mut duet = Duet::new(1.0);
        call(&mut duet, 10.0);
        let expected = duet.call_expected(12.5).expect("within the lead");
        duet.play(strike(12.6, 72));
        assert_eq!(duet.call_expected(12.7), None, "a key is down");
        duet.play(release(12.8, 72));
        let Some(DuetStep::Answer(handed)) = duet.tick(13.8) else {
            panic!("the turn passes");
        };
        assert_ne!(handed, expected);
        assert_eq!(handed.piece.notes.len(), 5);
    }

    #[test]
    fn enter_hands_over_at_once_and_an_answer_is_as_long_as_the_call_within_range() {
        let mut duet = Duet::new(4.0);
        assert_eq!(duet.hand_over(0.0), None, "no call yet");
        duet.play(strike(0.0, 60));
        duet.play(release(30.0, 60));
        let Some(DuetStep::Answer(call)) = duet.hand_over(30.1) else {
            panic!("Enter hands over");
        };
        assert_eq!(call.answer_s(), ANSWER_RANGE_S.1);
        duet.answered();
        assert_eq!(duet.turn(), Turn::Player);
    }
}
