//! Keeping the texture while sampling: every key already down beyond [`FREE_KEYS`] makes a new
//! strike less likely by the assist's [`super::assist::Assist::texture`] nats, so chords stay as thick as the corpus's. Left to
//! itself the network piles notes up: its takes sound a median 5.4 notes at once against the
//! corpus's 4.2 (pedal included), peaks of 14 against 11.

use crate::music::encoding::Event;
use crate::music::lookback::Played;

/// Keys that may be down before a new strike is made less likely.
pub const FREE_KEYS: u32 = 6;

/// Lowers the strikes' logits by `per_key` nats for every key `played` holds down beyond
/// [`FREE_KEYS`].
pub(crate) fn nudge(played: &Played, logits: &mut [f32], per_key: f32) {
    let excess = played.keys_down().saturating_sub(FREE_KEYS);
    if excess == 0 {
        return;
    }
    let penalty = per_key * excess as f32;
    for pitch in 0..=127u8 {
        logits[usize::from(Event::NoteOn(pitch).id())] -= penalty;
    }
}
