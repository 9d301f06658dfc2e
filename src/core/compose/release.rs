//! Letting go of held notes as a pianist would: a key held longer than [`HELD_FREELY_S`] makes
//! its release likelier by the assist's [`super::assist::Assist::release`] nats for every second
//! more. Left to itself the network
//! loses track of a key it struck a few hundred events ago and never releases it, so the
//! sampler's hard cap ([`super::settings::MAX_NOTE_S`]) ended 7.9 notes per 30-s take at exactly
//! 5 s (the starter at 90 bpm in 4/4, seeds 101–110), droning bass notes; 3.5 % of its notes
//! sounded over 4 s against the corpus's 0.36 %. With this nudge: none at the cap, 0.56 %.

use crate::music::encoding::{Decoder, Event};

/// How long a key may be held before its release is made likelier, in seconds: 1.4 % of the
/// corpus's notes sound longer, pedal applied (strengths chosen on seeds 1–10).
pub const HELD_FREELY_S: f64 = 2.0;

/// Raises the release logit of every key `decoder` has held beyond [`HELD_FREELY_S`] by `per_s`
/// nats per second beyond it.
pub(crate) fn nudge(decoder: &Decoder, logits: &mut [f32], per_s: f32) {
    let now_s = decoder.now_s();
    for (pitch, onset_s, _) in decoder.sounding() {
        let beyond_s = now_s - onset_s - HELD_FREELY_S;
        if beyond_s > 0.0 {
            logits[usize::from(Event::NoteOff(pitch).id())] += per_s * beyond_s as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strong assist's strength.
    const NATS_PER_S: f32 = crate::compose::assist::Assist::STRONG.release;
    use crate::music::encoding::VOCAB_SIZE;

    #[test]
    fn only_keys_held_beyond_the_free_time_are_let_go_sooner_and_more_so_the_longer() {
        let mut decoder = Decoder::default();
        decoder.push(Event::NoteOn(40).id());
        decoder.push(Event::TimeShift(100).id());
        decoder.push(Event::TimeShift(100).id());
        decoder.push(Event::NoteOn(64).id());
        decoder.push(Event::TimeShift(100).id());
        // 40 held 3 s, 64 held 1 s.
        let mut logits = vec![0.0f32; VOCAB_SIZE];
        nudge(&decoder, &mut logits, NATS_PER_S);
        let off = |pitch: u8| logits[usize::from(Event::NoteOff(pitch).id())];
        let beyond_s = (3.0 - HELD_FREELY_S) as f32;
        assert!(
            (off(40) - NATS_PER_S * beyond_s).abs() < 1e-4,
            "{}",
            off(40)
        );
        assert_eq!(off(64), 0.0);
        assert_eq!(logits.iter().filter(|&&l| l != 0.0).count(), 1);
        decoder.push(Event::TimeShift(100).id());
        let mut later = vec![0.0f32; VOCAB_SIZE];
        nudge(&decoder, &mut later, NATS_PER_S);
        assert!(later[usize::from(Event::NoteOff(40).id())] > off(40));
    }
}
