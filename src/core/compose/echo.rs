//! Phrasing while sampling on a bar grid: in each four-bar phrase the last two bars answer the
//! first two (the "sentence" of classical phrasing: an idea, then the idea again), by leaning
//! toward what was played two bars back at this moment's place: its strikes (with their
//! velocity), its releases, and the time shift that reaches its next event are each made more
//! likely by the assist's [`super::assist::Assist::echo`] nats. A nudge like keeping time, not a copy: the network still
//! varies the answer where it is sure of something else. Left to itself, the network repeats
//! almost nothing (a median 0.01 of a take's melodic patterns recur within 30 s, against the
//! corpus's 0.47).

use crate::music::encoding::{Event, MAX_SHIFT_STEPS, to_step};
use crate::music::lookback::{Mirror, Played};
use crate::music::meter::Grid;

/// The share of the echo's bonus taken from a note the echoed bars did not play here: at a bonus
/// of 3 (20 times) a take's patterns hardly recurred (0.01), as the network's own choice is often
/// hundreds of times likelier; at 7, 0.23; at 9 with other notes 3 nats less likely, 0.39
/// (`cargo bench --bench realism`).
pub const OTHER_NOTE_SHARE: f32 = 1.0 / 3.0;
/// Bars in a phrase.
pub const PHRASE_BARS: i64 = 4;
/// How late (in 10-ms steps) the answer may strike or release what the first half did and
/// still be leaned toward it (80 ms: a player's lag behind a beat).
const LATE_STEPS: u64 = 8;
/// The lag the answer echoes, in bars: the first half of the phrase.
const ANSWER_LAG_BARS: u32 = 2;

/// Raises the logits of the events that echo two bars back by `bonus` nats, when `played`'s
/// current bar is in the second half of its phrase on `grid`.
pub(crate) fn nudge(grid: &Grid, played: &Played, logits: &mut [f32], bonus: f32) {
    let (now, now_s) = (played.now(), played.now_s());
    let position = grid.position(now_s);
    if position.bar.rem_euclid(PHRASE_BARS) < PHRASE_BARS / 2 {
        return;
    }
    let Some(mirror) = Mirror::of(grid, now, ANSWER_LAG_BARS) else {
        return;
    };
    let mirrored = mirror.step;
    let (from, until) = (mirrored.saturating_sub(LATE_STEPS), mirrored + 1);
    let struck_now: Vec<u8> = played
        .struck_between(now.saturating_sub(LATE_STEPS), now + 1)
        .map(|(_, pitch, _)| pitch)
        .collect();
    let to_strike: Vec<(u8, u8)> = played
        .struck_between(from, until)
        .filter(|(_, pitch, _)| !struck_now.contains(pitch))
        .map(|(_, pitch, velocity)| (pitch, velocity))
        .collect();
    let mut due = !to_strike.is_empty();
    let at_velocity: Vec<u8> = to_strike
        .iter()
        .filter(|&&(_, velocity)| played.velocity_bin() == Some(velocity))
        .map(|&(pitch, _)| pitch)
        .collect();
    match to_strike.first() {
        // The dynamics first, as the corpus's events set them before the notes they colour.
        Some(&(_, velocity)) if at_velocity.is_empty() => {
            raise(logits, Event::Velocity(velocity), bonus)
        }
        _ => at_velocity
            .into_iter()
            .for_each(|pitch| raise(logits, Event::NoteOn(pitch), bonus)),
    }
    // Notes the first half did not play here are kept for the network to be sure of.
    for pitch in 0..=127u8 {
        if !to_strike.iter().any(|&(p, _)| p == pitch) {
            logits[usize::from(Event::NoteOn(pitch).id())] -= bonus * OTHER_NOTE_SHARE;
        }
    }
    // A key struck within the lateness window is the answer's new note, not the one the first
    // half let go of here: nudging it up at once made 10-ms notes (6 % of the strong assist's
    // notes were under 31 ms, against the corpus's 0.1 %).
    for &(_, pitch) in played.released_between(from, until) {
        if played.is_down(pitch) && !struck_now.contains(&pitch) {
            raise(logits, Event::NoteOff(pitch), bonus);
            due = true;
        }
    }
    if !due && let Some(steps) = steps_to_next(grid, played, &mirror) {
        raise(logits, Event::TimeShift(steps), bonus);
    }
}

/// The time shift from now that lands where the lag's next strike or release (after the mirror)
/// lands a lag later, if within one shift.
fn steps_to_next(grid: &Grid, played: &Played, mirror: &Mirror) -> Option<u8> {
    let mirrored = mirror.step;
    let horizon = mirrored + u64::from(MAX_SHIFT_STEPS) + 1;
    let next_strike = played.struck_between(mirrored + 1, horizon).next();
    let next_release = played.released_between(mirrored + 1, horizon).first();
    let next = [
        next_strike.map(|(at, _, _)| at),
        next_release.map(|&(at, _)| at),
    ]
    .into_iter()
    .flatten()
    .min()?;
    let lands_s = mirror.carried_forward_s(grid, next);
    let steps = to_step(lands_s).checked_sub(played.now())?;
    u8::try_from(steps)
        .ok()
        .filter(|s| (1..=MAX_SHIFT_STEPS).contains(s))
}

fn raise(logits: &mut [f32], event: Event, bonus: f32) {
    logits[usize::from(event.id())] += bonus;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strong assist's strength.
    const ECHO_BONUS: f32 = crate::compose::assist::Assist::STRONG.echo;
    use crate::music::encoding::{VOCAB_SIZE, encode_notes};
    use crate::music::midi::Note;
    use crate::music::time_signature::TimeSignature;

    /// 120 bpm in 4/4 (a bar is 2 s): bar 1 strikes C at 0.5 s and releases it at 0.9 s, at
    /// velocity bin 16; nothing else until `until_s`.
    fn played_until(until_s: f64) -> (Grid, Played) {
        let grid = Grid::steady(120.0, TimeSignature::FOUR_FOUR, 20.0);
        let c = Note {
            pitch: 60,
            start_s: 0.5,
            end_s: 0.9,
            velocity: 66,
        };
        let mut events = encode_notes(&[c]);
        let mut played = Played::of_events(&events);
        while played.now_s() < until_s - 1e-9 {
            let steps = to_step(until_s - played.now_s()).min(u64::from(MAX_SHIFT_STEPS));
            events.push(Event::TimeShift(steps as u8).id());
            played.push(*events.last().expect("an event"));
        }
        (grid, played)
    }

    fn nudged(until_s: f64) -> Vec<f32> {
        let (grid, played) = played_until(until_s);
        let mut logits = vec![0.0; VOCAB_SIZE];
        nudge(&grid, &played, &mut logits, ECHO_BONUS);
        logits
    }

    #[test]
    fn the_answer_bars_lean_toward_what_the_first_half_played_there() {
        // Bar 3 begins at 4 s: at 4.5 s the C of 0.5 s is due (its velocity is in force).
        let at_onset = nudged(4.5);
        assert_eq!(at_onset[usize::from(Event::NoteOn(60).id())], ECHO_BONUS);
        assert_eq!(at_onset[usize::from(Event::Velocity(16).id())], 0.0);
        assert_eq!(
            at_onset[usize::from(Event::NoteOn(62).id())],
            -ECHO_BONUS * OTHER_NOTE_SHARE
        );
        // Before it, the shift that reaches it.
        let before = nudged(4.2);
        assert_eq!(before[usize::from(Event::TimeShift(30).id())], ECHO_BONUS);
    }

    #[test]
    fn a_key_the_answer_just_struck_is_not_nudged_up_where_the_first_half_released_it() {
        // Bar 1 releases C at 0.9 s; bar 3 strikes C again at 4.9 s, the mirrored moment.
        let (grid, mut played) = played_until(4.9);
        played.push(Event::NoteOn(60).id());
        let mut logits = vec![0.0; VOCAB_SIZE];
        nudge(&grid, &played, &mut logits, ECHO_BONUS);
        assert_eq!(logits[usize::from(Event::NoteOff(60).id())], 0.0);
        // Held from earlier, the same key is let go where the first half let go.
        let (grid, mut played) = played_until(4.5);
        played.push(Event::NoteOn(60).id());
        for _ in 0..4 {
            played.push(Event::TimeShift(10).id());
        }
        let mut logits = vec![0.0; VOCAB_SIZE];
        nudge(&grid, &played, &mut logits, ECHO_BONUS);
        assert_eq!(logits[usize::from(Event::NoteOff(60).id())], ECHO_BONUS);
    }

    #[test]
    fn the_first_half_of_a_phrase_is_left_to_the_network() {
        assert!(nudged(2.5).iter().all(|&x| x == 0.0), "bar 2");
        assert!(
            nudged(8.5).iter().all(|&x| x == 0.0),
            "bar 5 starts the next phrase"
        );
    }
}
