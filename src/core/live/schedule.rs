//! Notes to be played live: their touches in time order, handed out as the clock reaches them.

use midly::num::u7;

use crate::music::midi::Note;
use crate::music::touch::{Played, Touch};

/// Touches due at times from a start on the live clock.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    /// Sorted by time, releases first at equal times (a repeated key sounds again).
    touches: Vec<Played>,
    next: usize,
    start_s: f64,
}

impl Schedule {
    /// The notes from `from_s` on (earlier ones are left out), played from `start_s` on the live
    /// clock: a note at `from_s` sounds at `start_s`.
    pub fn of_notes(notes: &[Note], from_s: f64, start_s: f64) -> Self {
        let mut touches: Vec<Played> = notes
            .iter()
            .filter(|n| n.start_s >= from_s)
            .filter_map(|n| {
                let key = u7::try_from(n.pitch)?;
                let velocity = u7::try_from(n.velocity)?;
                Some([
                    Played {
                        at_s: n.start_s - from_s,
                        touch: Touch::strike(key, velocity),
                    },
                    Played {
                        at_s: n.end_s - from_s,
                        touch: Touch::Release { key },
                    },
                ])
            })
            .flatten()
            .collect();
        touches.sort_by(|a, b| {
            a.at_s
                .total_cmp(&b.at_s)
                .then(is_strike(a).cmp(&is_strike(b)))
        });
        Self {
            touches,
            next: 0,
            start_s,
        }
    }

    /// The touches due by `now_s` not yet handed out.
    pub fn due(&mut self, now_s: f64) -> &[Played] {
        let first = self.next;
        let elapsed_s = now_s - self.start_s;
        while self
            .touches
            .get(self.next)
            .is_some_and(|p| p.at_s <= elapsed_s)
        {
            self.next += 1;
        }
        &self.touches[first..self.next]
    }

    /// When the first touch is due on the live clock, if any.
    pub fn first_s(&self) -> Option<f64> {
        self.touches.first().map(|p| self.start_s + p.at_s)
    }

    /// Whether every touch was handed out.
    pub fn is_done(&self) -> bool {
        self.next >= self.touches.len()
    }
}

fn is_strike(played: &Played) -> bool {
    matches!(played.touch, Touch::Strike { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(pitch: u8, start_s: f64, end_s: f64) -> Note {
        Note {
            pitch,
            start_s,
            end_s,
            velocity: 70,
        }
    }

    #[test]
    fn touches_come_due_in_order_from_the_start_and_a_repeated_key_is_released_first() {
        let notes = [note(60, 1.0, 1.5), note(60, 1.5, 2.0), note(48, 0.5, 0.9)];
        let mut schedule = Schedule::of_notes(&notes, 1.0, 10.0);
        assert_eq!(schedule.first_s(), Some(10.0));
        assert!(schedule.due(9.99).is_empty());
        assert_eq!(schedule.due(10.0).len(), 1);
        let at_repeat: Vec<bool> = schedule.due(10.5).iter().map(is_strike).collect();
        assert_eq!(at_repeat, [false, true]);
        assert_eq!(schedule.due(11.0).len(), 1);
        assert!(schedule.is_done(), "the note before from_s is left out");
    }
}
