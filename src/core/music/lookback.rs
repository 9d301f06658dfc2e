//! The network's lookback inputs: what was struck at this moment's place one and two bars back,
//! and whether the music is repeating it (Magenta's Lookback RNN, Waite 2016, adapted from a
//! melody's one event per sixteenth to the performance encoding on a bar grid).
//!
//! For each lag (one bar, two bars) the inputs say which keys were struck at the mirrored moment
//! and are not yet struck now (so copying a bar is reading them off), how many 10-ms steps ahead
//! the lag's next onset lies (so copying its rhythm is reading that off), and what share of the
//! last beat's onsets matched the lag's (so the network knows whether it is repeating). The
//! values depend only on what was played before the moment, so sampling computes them as it goes.

use crate::music::encoding::{Event, EventId, STEP_S, to_step};
use crate::music::meter::Grid;
use crate::music::meter_inputs::METER_INPUT_SCALE;

/// The lags looked back over, in bars.
pub const LAG_BARS: [u32; 2] = [1, 2];
/// Keys told apart: the piano's 88, from A0 (MIDI 21).
pub const KEYS: usize = 88;
/// The lowest key's MIDI pitch.
pub const LOWEST_PITCH: u8 = 21;
/// Distances told apart to the lag's next onset, in 10-ms steps (1–30; the last slot holds 31
/// or more, and "none in the lag's bar").
pub const NEXT_ONSET_STEPS: usize = 32;
/// How far a played onset may lie from its mirrored one and still match it, in 10-ms steps
/// (30 ms: the corpus's onsets sit a median 0.022 beats, about 13 ms at 100 bpm, off the grid).
pub const MATCH_STEPS: u64 = 3;
/// Inputs per lag: the keys due, the steps to the next onset, the share repeated, whether the
/// last beat had onsets to compare, and a present flag.
const LAG_INPUTS: usize = KEYS + NEXT_ONSET_STEPS + 3;
/// All lookback inputs.
pub const LOOKBACK_INPUTS: usize = LAG_BARS.len() * LAG_INPUTS;

/// Where the keys due of lag `lag` (an index into [`LAG_BARS`]) start among the
/// [`LOOKBACK_INPUTS`]: one column per key from [`LOWEST_PITCH`].
pub const fn lag_keys_column(lag: usize) -> usize {
    lag * LAG_INPUTS
}

/// Where the one-hot of steps to lag `lag`'s next onset starts among the [`LOOKBACK_INPUTS`]:
/// column `n` is `n` steps (the last, [`NEXT_ONSET_STEPS`] − 1, also "none").
pub const fn lag_next_onset_column(lag: usize) -> usize {
    lag * LAG_INPUTS + KEYS
}

/// A set of piano keys, stored in 96 bits (12 bytes, so a corpus's millions of positions stay
/// small).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeySet([u32; 3]);

impl KeySet {
    fn bits(self) -> u128 {
        let [a, b, c] = self.0.map(u128::from);
        a | (b << 32) | (c << 64)
    }

    fn from_bits(bits: u128) -> Self {
        let keys = bits & ((1u128 << KEYS) - 1);
        Self([0, 32, 64].map(|shift| (keys >> shift) as u32))
    }

    /// The keys of `pitches` (pitches off the keyboard are left out).
    pub fn of_pitches(pitches: impl IntoIterator<Item = u8>) -> Self {
        let bits = pitches
            .into_iter()
            .filter_map(|p| p.checked_sub(LOWEST_PITCH))
            .filter(|&key| usize::from(key) < KEYS)
            .fold(0u128, |bits, key| bits | 1 << key);
        Self::from_bits(bits)
    }

    /// Whether `pitch` is in the set.
    pub fn contains(self, pitch: u8) -> bool {
        pitch
            .checked_sub(LOWEST_PITCH)
            .is_some_and(|key| usize::from(key) < KEYS && self.bits() >> key & 1 == 1)
    }

    fn without(self, other: Self) -> Self {
        Self::from_bits(self.bits() & !other.bits())
    }

    /// The set moved up by `semitones` (down if negative); keys moved off the keyboard drop out.
    pub fn transposed(self, semitones: i8) -> Self {
        let bits = self.bits();
        let shift = u32::from(semitones.unsigned_abs());
        let moved = if semitones >= 0 {
            bits.checked_shl(shift)
        } else {
            bits.checked_shr(shift)
        };
        Self::from_bits(moved.unwrap_or(0))
    }
}

/// What one lag shows at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LagValues {
    /// Keys struck at the mirrored moment (up to [`MATCH_STEPS`] before it) not yet struck now.
    pub due: KeySet,
    /// Steps from now to the lag's next onset, carried forward a lag (1–31; 31 also for none).
    pub next_steps: u8,
    /// Share of the last beat's onsets that matched the lag's, in 1/255.
    repeated: u8,
    /// Whether the last beat had onsets to compare.
    heard: bool,
}

impl LagValues {
    /// Share of the last beat's onsets that repeated the lag's, 0–1.
    pub fn repeated(&self) -> f64 {
        f64::from(self.repeated) / 255.0
    }

    fn write_inputs(&self, out: &mut [f32]) {
        let (keys, rest) = out.split_at_mut(KEYS);
        let bits = self.due.bits();
        for (key, x) in keys.iter_mut().enumerate() {
            *x = (bits >> key & 1) as f32;
        }
        let (next, rest) = rest.split_at_mut(NEXT_ONSET_STEPS);
        next[usize::from(self.next_steps).min(NEXT_ONSET_STEPS - 1)] = 1.0;
        rest[0] = self.repeated() as f32;
        rest[1] = f32::from(u8::from(self.heard));
        rest[2] = 1.0;
    }
}

/// The lookback inputs at one moment: each lag's values, `None` where the lag reaches back before
/// the music began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LookbackValues {
    /// One per [`LAG_BARS`].
    pub lags: [Option<LagValues>; LAG_BARS.len()],
}

impl LookbackValues {
    /// The values at step `now` on `grid`, given every onset before this moment, `(step, pitch)`
    /// sorted by step.
    pub fn at(grid: &Grid, onsets: &[(u64, u8)], now: u64) -> Self {
        Self {
            lags: LAG_BARS.map(|bars| lag_values(grid, onsets, now, bars)),
        }
    }

    /// The values of the same music transposed by `semitones`.
    pub fn transposed(mut self, semitones: i8) -> Self {
        for lag in self.lags.iter_mut().flatten() {
            lag.due = lag.due.transposed(semitones);
        }
        self
    }

    /// Writes the [`LOOKBACK_INPUTS`] values to `out`.
    pub fn write_inputs(&self, out: &mut [f32]) {
        let out = &mut out[..LOOKBACK_INPUTS];
        out.fill(0.0);
        for (lag, out) in self.lags.iter().zip(out.chunks_exact_mut(LAG_INPUTS)) {
            if let Some(lag) = lag {
                lag.write_inputs(out);
            }
        }
        // The same scale as the meter's, for the same reason: new weights in a fine-tune.
        out.iter_mut().for_each(|x| *x *= METER_INPUT_SCALE);
    }
}

/// What was played so far, fed one event at a time (by training's track and by sampling alike):
/// the onsets the lookback reads, and for echoing a bar while sampling the releases, the
/// velocity of each onset and the keys down.
#[derive(Debug, Clone, Default)]
pub struct Played {
    onsets: Vec<(u64, u8)>,
    /// The velocity bin each onset was struck with.
    onset_velocities: Vec<u8>,
    releases: Vec<(u64, u8)>,
    /// The velocity bin in force.
    velocity: Option<u8>,
    /// Keys down, one bit per MIDI pitch.
    down: u128,
    now: u64,
}

impl Played {
    /// The history after `events`.
    pub fn of_events(events: &[EventId]) -> Self {
        let mut played = Self::default();
        events.iter().for_each(|&e| played.push(e));
        played
    }

    /// Adds one event.
    pub fn push(&mut self, event: EventId) {
        match Event::from_id(event) {
            Some(Event::NoteOn(pitch)) => {
                self.onsets.push((self.now, pitch));
                self.onset_velocities
                    .push(self.velocity.unwrap_or_default());
                self.down |= 1 << pitch;
            }
            Some(Event::NoteOff(pitch)) => {
                self.releases.push((self.now, pitch));
                self.down &= !(1 << pitch);
            }
            Some(Event::TimeShift(steps)) => self.now += u64::from(steps),
            Some(Event::Velocity(bin)) => self.velocity = Some(bin),
            None => {}
        }
    }

    /// How many keys are down now.
    pub fn keys_down(&self) -> u32 {
        self.down.count_ones()
    }

    /// Whether `pitch` is down now.
    pub fn is_down(&self, pitch: u8) -> bool {
        pitch < 128 && self.down >> pitch & 1 == 1
    }

    /// The velocity bin in force, once one was set.
    pub fn velocity_bin(&self) -> Option<u8> {
        self.velocity
    }

    /// The keys struck in `from..until` steps, with the velocity bin of each.
    pub fn struck_between(&self, from: u64, until: u64) -> impl Iterator<Item = (u64, u8, u8)> {
        let start = self.onsets.partition_point(|&(at, _)| at < from);
        let end = self
            .onsets
            .partition_point(|&(at, _)| at < until)
            .max(start);
        (start..end).map(|i| (self.onsets[i].0, self.onsets[i].1, self.onset_velocities[i]))
    }

    /// The keys released in `from..until` steps.
    pub fn released_between(&self, from: u64, until: u64) -> &[(u64, u8)] {
        between(&self.releases, from, until)
    }

    /// The current time in steps.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The current time in seconds.
    pub fn now_s(&self) -> f64 {
        self.now as f64 * STEP_S
    }

    /// How many notes of each pitch class were struck in the last `window_steps`, if at least
    /// `at_least` were.
    pub fn recent_pitch_classes(&self, window_steps: u64, at_least: usize) -> Option<[f64; 12]> {
        let recent = between(
            &self.onsets,
            self.now.saturating_sub(window_steps),
            self.now + 1,
        );
        (recent.len() >= at_least).then(|| {
            let mut classes = [0.0; 12];
            recent
                .iter()
                .for_each(|&(_, pitch)| classes[usize::from(pitch % 12)] += 1.0);
            classes
        })
    }

    /// The lookback values now, on `grid`.
    pub fn lookback(&self, grid: &Grid) -> LookbackValues {
        LookbackValues::at(grid, &self.onsets, self.now)
    }
}

/// A moment's place some bars back on a grid: the same place in the bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mirror {
    /// The step of that place.
    pub step: u64,
    /// The lag in beats (the bars at the moment's meter).
    lag_beats: f64,
}

impl Mirror {
    /// Step `now`'s place `bars` bars back on `grid`; `None` where that is before the grid's
    /// first beat.
    pub fn of(grid: &Grid, now: u64, bars: u32) -> Option<Self> {
        let now_s = now as f64 * STEP_S;
        let per_bar = grid.position(now_s).signature.beats_per_bar();
        let lag_beats = f64::from(bars) * f64::from(per_bar);
        let back_beats = grid.beats_at(now_s) - lag_beats;
        (back_beats >= 0.0).then(|| Self {
            step: to_step(grid.time_of(back_beats).max(0.0)),
            lag_beats,
        })
    }

    /// Where the moment at `step` (in the bars looked back on) lands a lag later, in seconds.
    pub fn carried_forward_s(&self, grid: &Grid, step: u64) -> f64 {
        grid.time_of(grid.beats_at(step as f64 * STEP_S) + self.lag_beats)
    }
}

/// The onsets with steps in `from..until`.
fn between(onsets: &[(u64, u8)], from: u64, until: u64) -> &[(u64, u8)] {
    let start = onsets.partition_point(|&(at, _)| at < from);
    let end = onsets.partition_point(|&(at, _)| at < until);
    &onsets[start..end.max(start)]
}

fn lag_values(grid: &Grid, onsets: &[(u64, u8)], now: u64, bars: u32) -> Option<LagValues> {
    let now_s = now as f64 * STEP_S;
    let position = grid.position(now_s);
    let mirror = Mirror::of(grid, now, bars)?;
    let mirrored = mirror.step;
    let then = between(onsets, mirrored.saturating_sub(MATCH_STEPS), mirrored + 1);
    let already = between(onsets, now.saturating_sub(MATCH_STEPS), now + 1);
    let due = KeySet::of_pitches(then.iter().map(|&(_, p)| p))
        .without(KeySet::of_pitches(already.iter().map(|&(_, p)| p)));
    let next_steps = onsets[onsets.partition_point(|&(at, _)| at <= mirrored)..]
        .first()
        .map_or(NEXT_ONSET_STEPS - 1, |&(at, _)| {
            let ahead_s = mirror.carried_forward_s(grid, at);
            (to_step(ahead_s.max(now_s)) - now).clamp(1, NEXT_ONSET_STEPS as u64 - 1) as usize
        }) as u8;
    let beat_steps = to_step(60.0 / position.bpm).max(1);
    let offset = now.saturating_sub(mirrored);
    let recent = between(onsets, now.saturating_sub(beat_steps), now);
    let matched = recent
        .iter()
        .filter(|&&(at, pitch)| {
            let back = at.saturating_sub(offset);
            between(
                onsets,
                back.saturating_sub(MATCH_STEPS),
                back + MATCH_STEPS + 1,
            )
            .iter()
            .any(|&(_, p)| p == pitch)
        })
        .count();
    Some(LagValues {
        due,
        next_steps,
        repeated: (255 * matched / recent.len().max(1)) as u8,
        heard: !recent.is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::encoding::encode_notes;
    use crate::music::midi::Note;
    use crate::music::time_signature::TimeSignature;

    /// 120 bpm in 2/4: a bar is 1 s, 100 steps. Bar 1 plays C E G on the beats and a half beat;
    /// bar 2 repeats it; bar 3 plays other notes.
    fn repeating_piece() -> (Grid, Vec<EventId>) {
        let grid = Grid::steady(120.0, "2/4".parse::<TimeSignature>().unwrap(), 10.0);
        let bar = [(0.0, 60), (0.5, 64), (0.75, 67)];
        let note = |start_s: f64, pitch| Note {
            pitch,
            start_s,
            end_s: start_s + 0.2,
            velocity: 64,
        };
        let mut notes: Vec<Note> = (0..2)
            .flat_map(|b| bar.map(|(at, pitch)| note(f64::from(b) + at, pitch)))
            .collect();
        notes.extend([note(2.0, 50), note(2.5, 52)]);
        (grid, encode_notes(&notes))
    }

    /// Recomputes a lag's values from the decoded notes, by definition, at step `now`.
    fn by_definition(notes: &[(u64, u8)], now: u64, lag_steps: u64) -> (KeySet, u8) {
        let mirrored = now - lag_steps;
        let due = notes
            .iter()
            .filter(|&&(at, _)| at + MATCH_STEPS >= mirrored && at <= mirrored)
            .map(|&(_, p)| p)
            .filter(|&p| {
                !notes
                    .iter()
                    .any(|&(at, q)| q == p && at + MATCH_STEPS >= now && at <= now)
            });
        let next = notes
            .iter()
            .find(|&&(at, _)| at > mirrored)
            .map_or(31, |&(at, _)| (at - mirrored).clamp(1, 31) as u8);
        (KeySet::of_pitches(due), next)
    }

    #[test]
    fn lookback_inputs_match_their_recomputation_from_the_notes_played() {
        let (grid, events) = repeating_piece();
        let mut played = Played::default();
        for &event in &events {
            let now = played.now();
            let values = played.lookback(&grid);
            let before: Vec<(u64, u8)> = played.onsets.clone();
            for (lag, bars) in values.lags.iter().zip(LAG_BARS) {
                let lag_steps = 100 * u64::from(bars);
                match lag {
                    None => assert!(now < lag_steps, "absent only before the lag's first bar"),
                    Some(lag) => {
                        let (due, next) = by_definition(&before, now, lag_steps);
                        assert_eq!(lag.due, due, "due at step {now}, lag {bars}");
                        assert_eq!(lag.next_steps, next, "next at step {now}, lag {bars}");
                    }
                }
            }
            played.push(event);
        }
        assert_eq!(played.now(), 270, "the whole piece was read");
    }

    #[test]
    fn a_repeated_bar_reads_as_due_keys_and_a_full_repeat_share() {
        let (grid, events) = repeating_piece();
        let mut played = Played::default();
        let mut seen = Vec::new();
        for &event in &events {
            if let Some(Event::NoteOn(pitch)) = Event::from_id(event)
                && (100..200).contains(&played.now())
            {
                let one_bar = played.lookback(&grid).lags[0].expect("bar 2 looks back a bar");
                assert!(
                    one_bar.due.contains(pitch),
                    "{pitch} is due at {}",
                    played.now()
                );
                seen.push((played.now(), one_bar.repeated()));
            }
            played.push(event);
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].1, 0.0, "nothing played yet in bar 2's last beat");
        assert_eq!(seen[2].1, 1.0, "E at 1.5 s repeated bar 1's E");
        let at_bar_three = played.lookback(&grid);
        let two_bars = at_bar_three.lags[1].expect("bar 3 looks back two bars");
        assert!(
            KeySet::of_pitches([50, 52]) != two_bars.due,
            "bar 3's own notes are not what was due"
        );
        assert_eq!(
            at_bar_three.lags[0].unwrap().repeated(),
            0.0,
            "bar 3 is new"
        );
    }

    #[test]
    fn transposing_moves_the_due_keys_and_drops_those_off_the_keyboard() {
        let keys = KeySet::of_pitches([21, 60, 108]);
        assert_eq!(keys.transposed(2), KeySet::of_pitches([23, 62]));
        assert_eq!(keys.transposed(-1), KeySet::of_pitches([59, 107]));
        assert!(KeySet::of_pitches([20, 109]) == KeySet::default());
        assert_eq!(keys.transposed(i8::MIN), KeySet::default(), "no overflow");
    }

    #[test]
    fn inputs_are_one_block_per_lag_with_a_present_flag() {
        let (grid, events) = repeating_piece();
        let mut out = [9.0; LOOKBACK_INPUTS];
        Played::of_events(&events)
            .lookback(&grid)
            .write_inputs(&mut out);
        out.iter_mut().for_each(|x| *x /= METER_INPUT_SCALE);
        assert_eq!(out[LAG_INPUTS - 1], 1.0, "one bar back is present");
        assert_eq!(out[2 * LAG_INPUTS - 1], 1.0, "two bars back is present");
        let none = LookbackValues::default();
        none.write_inputs(&mut out);
        assert!(out.iter().all(|&x| x == 0.0), "absent lags are all zeros");
    }
}
