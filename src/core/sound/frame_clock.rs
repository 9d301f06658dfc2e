//! When an output frame is heard, estimated from when blocks are rendered: the audio device asks
//! for frames at its own steady pace, a buffer at a time, and Cadenza's blocks of a buffer are
//! rendered back to back. The first block of each request is rendered when the device asks,
//! never before and sometimes late (the thread was busy); so over a short window the earliest
//! `render time − frame / rate` of those first blocks is the device's own clock, free of that
//! lateness, and following the window tracks the device clock's drift against the system's.

use std::collections::VecDeque;

use super::SAMPLE_RATE;

/// Blocks rendered closer together than this belong to one request of the device: half a
/// 256-frame block (2.9 ms). Rendering a block takes under a millisecond, 2 on a busy machine,
/// and requests come a buffer (5.8 ms or more) apart; a later block of a request taken for a new
/// one would pull the clock early by the frames before it.
const SAME_REQUEST_S: f64 = 128.0 / SAMPLE_RATE as f64;
/// How far back requests count: long enough to include a request that was not late (hundreds at
/// 11.6 ms), short enough that a 100 ppm drift moves the clock 0.2 ms within it.
const WINDOW_S: f64 = 2.0;

/// Maps output frames to times on the caller's clock (seconds from any origin).
#[derive(Debug, Clone, Default)]
pub struct FrameClock {
    /// For each request in the window: when it was rendered and `rendered − frame / rate`.
    requests: VecDeque<(f64, f64)>,
    last_render_s: Option<f64>,
}

impl FrameClock {
    /// A block whose first frame is `stream_frame` was rendered at `rendered_s`.
    pub fn rendered(&mut self, stream_frame: u64, rendered_s: f64) {
        let new_request = self
            .last_render_s
            .is_none_or(|last| rendered_s - last > SAME_REQUEST_S);
        self.last_render_s = Some(rendered_s);
        if !new_request {
            return;
        }
        let offset_s = rendered_s - stream_frame as f64 / f64::from(SAMPLE_RATE);
        // Keep only offsets that could still be the window's minimum (a monotonic queue).
        while self
            .requests
            .back()
            .is_some_and(|&(_, offset)| offset >= offset_s)
        {
            self.requests.pop_back();
        }
        self.requests.push_back((rendered_s, offset_s));
        while self
            .requests
            .front()
            .is_some_and(|&(at_s, _)| rendered_s - at_s > WINDOW_S)
        {
            self.requests.pop_front();
        }
    }

    /// When `stream_frame` is rendered by the device's steady clock, on the caller's clock; add
    /// the output buffer's length for when it is heard. `None` before any block was rendered.
    pub fn time_of(&self, stream_frame: u64) -> Option<f64> {
        let &(_, offset_s) = self.requests.front()?;
        Some(offset_s + stream_frame as f64 / f64::from(SAMPLE_RATE))
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    /// A device asking for `buffer` frames every buffer's length on a clock running `ppm` fast
    /// against the system's, each request late by up to `late_s`; Cadenza renders 256-frame
    /// blocks back to back for each. Returns the worst error of `time_of` against the device's
    /// true time for each request's first frame over `minutes`.
    fn worst_error_s(minutes: f64, ppm: f64, late_s: f64, block_render_s: f64) -> f64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let buffer = 512u64;
        let period_s = buffer as f64 / f64::from(SAMPLE_RATE);
        let mut clock = FrameClock::default();
        let mut worst: f64 = 0.0;
        let requests = (minutes * 60.0 / period_s) as u64;
        for request in 0..requests {
            let frame = request * buffer;
            let due_s = 0.25 + frame as f64 / f64::from(SAMPLE_RATE) * (1.0 + ppm * 1e-6);
            let asked_s = due_s + rng.random_range(0.0..late_s);
            for block in 0..buffer / 256 {
                clock.rendered(frame + block * 256, asked_s + block as f64 * block_render_s);
            }
            if request > 200 {
                worst = worst.max((clock.time_of(frame).unwrap_or(0.0) - due_s).abs());
            }
        }
        worst
    }

    #[test]
    fn the_frame_clock_ignores_late_requests_and_follows_a_drifting_device_for_ten_minutes() {
        let worst_s = worst_error_s(10.0, 100.0, 0.004, 0.0002);
        assert!(worst_s < 0.001, "worst error {:.3} ms", worst_s * 1000.0);
    }

    #[test]
    fn blocks_rendered_slowly_on_a_busy_machine_still_count_as_one_request() {
        // 2 ms a block: with a 1-ms rule the second block of each request passed for a request
        // of its own, and the clock ran 3.8 ms early.
        let worst_s = worst_error_s(1.0, 0.0, 0.004, 0.002);
        assert!(worst_s < 0.001, "worst error {:.3} ms", worst_s * 1000.0);
    }

    #[test]
    fn before_anything_is_rendered_no_time_is_known() {
        assert_eq!(FrameClock::default().time_of(0), None);
    }
}
