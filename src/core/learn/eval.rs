//! How well a model fits whole pieces: negative log-likelihood per event, in nats.
//!
//! The one scoring function behind the trainer's validation loss, `cadenza eval` and the app. Each
//! piece is read in windows of the training sequence length with the LSTM state carried from window
//! to window, so every event after the first is predicted with all that came before; the first event
//! of each piece has no context and is not scored (from encoding v2 on, that first event is the
//! start event, so the piece's first real event is scored). Pieces are scored several at a time (a
//! batch, padded and masked), which changes nothing in the result but the speed. A steerable model
//! is scored with each piece's own controls (teacher-forced) or with every control absent.

use tch::{Device, Kind, Tensor};

use crate::model::{Conditioning, EventLstm};
use crate::music::controls::{ControlTrack, ControlValues};
use crate::music::encoding::{Encoding, EventId};

/// One piece to score: its events as the model reads them and, to score with the piece's own
/// controls, its control track and style row.
#[derive(Debug, Clone, Copy)]
pub struct EvalPiece<'a> {
    /// Events, beginning with the start event for encodings that have one.
    pub events: &'a [EventId],
    /// The controls of each position; `None`: every control absent.
    pub controls: Option<&'a ControlTrack>,
    /// Style embedding row (0: any).
    pub style: usize,
    /// Score with the piece's bar grid only (and the lookback on it), every other control absent.
    pub meter_only: bool,
}

impl<'a> EvalPiece<'a> {
    /// A piece scored with every control absent.
    pub fn plain(events: &'a [EventId]) -> Self {
        Self {
            events,
            controls: None,
            style: 0,
            meter_only: false,
        }
    }
}

/// A piece's events as a model of `encoding` reads them: after the start event, if it has one.
pub fn model_sequence(encoding: Encoding, events: &[EventId]) -> Vec<EventId> {
    encoding
        .piece_start()
        .into_iter()
        .chain(events.iter().copied())
        .collect()
}

/// Pieces scored together in one batch.
const BATCH_PIECES: usize = 16;

/// The score of one piece.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PieceScore {
    /// Events scored (all but the first).
    pub events: usize,
    /// Summed negative log-likelihood in nats.
    pub nll_sum: f64,
}

impl PieceScore {
    /// Mean NLL per scored event (nats); 0 for a piece with nothing to score.
    pub fn nll_per_event(&self) -> f64 {
        if self.events == 0 {
            0.0
        } else {
            self.nll_sum / self.events as f64
        }
    }
}

/// The score of a set of pieces, with each piece's own.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Score {
    /// Per piece, in the order given.
    pub pieces: Vec<PieceScore>,
}

impl Score {
    /// Events scored over all pieces.
    pub fn events(&self) -> usize {
        self.pieces.iter().map(|p| p.events).sum()
    }

    /// NLL per event over all pieces (each event weighs the same).
    pub fn nll_per_event(&self) -> f64 {
        let events = self.events();
        if events == 0 {
            return f64::NAN;
        }
        self.pieces.iter().map(|p| p.nll_sum).sum::<f64>() / events as f64
    }

    /// e^(NLL per event): how many events the model hesitates between, on average.
    pub fn perplexity(&self) -> f64 {
        self.nll_per_event().exp()
    }
}

/// Scores `pieces` (event ids) with `model`, in windows of `window` events, on `device`.
pub fn score_pieces(
    model: &EventLstm,
    pieces: &[EvalPiece],
    window: usize,
    device: Device,
) -> Score {
    score_pieces_unless(model, pieces, window, device, &|| false).expect("never interrupted")
}

/// [`score_pieces`], giving up (`None`) as soon as `interrupted` says so: it is asked between
/// windows, so a stop asked for during a long validation is answered within one window.
pub fn score_pieces_unless(
    model: &EventLstm,
    pieces: &[EvalPiece],
    window: usize,
    device: Device,
    interrupted: &dyn Fn() -> bool,
) -> Option<Score> {
    let _no_grad = tch::no_grad_guard();
    let mut scores = vec![
        PieceScore {
            events: 0,
            nll_sum: 0.0
        };
        pieces.len()
    ];
    // Longest first, so each batch pads little.
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(pieces[i].events.len()));
    for batch in order.chunks(BATCH_PIECES) {
        let batch_pieces: Vec<EvalPiece> = batch.iter().map(|&i| pieces[i]).collect();
        let sums = score_batch(model, &batch_pieces, window.max(1), device, interrupted)?;
        for (&index, nll_sum) in batch.iter().zip(sums) {
            scores[index] = PieceScore {
                events: pieces[index].events.len().saturating_sub(1),
                nll_sum,
            };
        }
    }
    Some(Score { pieces: scores })
}

/// Summed NLL of each piece of a batch; inputs are events 0..n-1, targets 1..n.
fn score_batch(
    model: &EventLstm,
    pieces: &[EvalPiece],
    window: usize,
    device: Device,
    interrupted: &dyn Fn() -> bool,
) -> Option<Vec<f64>> {
    let longest = pieces.iter().map(|p| p.events.len()).max().unwrap_or(0);
    let conditioned =
        model.inputs().steerable() && pieces.iter().any(|p| p.controls.is_some() || p.style != 0);
    let styles: Vec<i64> = pieces.iter().map(|p| p.style as i64).collect();
    let batch = pieces.len() as i64;
    let mut state = model.zero_state(batch, device);
    let mut sums = Tensor::zeros([batch], (Kind::Double, device));
    let mut start = 0;
    while start + 1 < longest {
        if interrupted() {
            return None;
        }
        let end = (start + window).min(longest - 1);
        let (inputs, targets, mask) = window_tensors(pieces, start, end, device);
        let conditioning = conditioned.then(|| Conditioning {
            controls: window_controls(pieces, start, end, model.inputs().controls, device),
            styles: Tensor::from_slice(&styles).to_device(device),
        });
        let (logits, next_state) = model.forward(&inputs, conditioning.as_ref(), &state, false);
        let log_probs = logits.log_softmax(-1, Kind::Float);
        let picked = log_probs
            .gather(2, &targets.unsqueeze(-1), false)
            .squeeze_dim(-1);
        let nll = -(picked * &mask);
        sums += nll.sum_dim_intlist(1, false, Kind::Double);
        state = next_state;
        start = end;
    }
    Some(
        Vec::<f64>::try_from(sums.to_device(Device::Cpu))
            .unwrap_or_else(|_| vec![f64::NAN; pieces.len()]),
    )
}

/// Inputs `[batch, end-start]` (events start..end), targets (events start+1..end+1) and a mask
/// that is 1 where a piece really has that target. Padding uses event 0 and is masked out.
fn window_tensors(
    pieces: &[EvalPiece],
    start: usize,
    end: usize,
    device: Device,
) -> (Tensor, Tensor, Tensor) {
    let width = end - start;
    let mut inputs = vec![0i64; pieces.len() * width];
    let mut targets = vec![0i64; pieces.len() * width];
    let mut mask = vec![0f32; pieces.len() * width];
    for (row, piece) in pieces.iter().enumerate() {
        let piece = piece.events;
        for t in 0..width {
            let position = start + t;
            if position + 1 < piece.len() {
                let at = row * width + t;
                inputs[at] = i64::from(piece[position]);
                targets[at] = i64::from(piece[position + 1]);
                mask[at] = 1.0;
            }
        }
    }
    let shape = [pieces.len() as i64, width as i64];
    (
        Tensor::from_slice(&inputs).view(shape).to_device(device),
        Tensor::from_slice(&targets).view(shape).to_device(device),
        Tensor::from_slice(&mask).view(shape).to_device(device),
    )
}

/// The control inputs `[batch, end-start, inputs]` of a window: beside event `i`, the
/// controls of event `i + 1` (what is predicted); zeros (absent) past a piece's end or without a
/// track.
fn window_controls(
    pieces: &[EvalPiece],
    start: usize,
    end: usize,
    inputs: usize,
    device: Device,
) -> Tensor {
    let width = end - start;
    let mut values = vec![0f32; pieces.len() * width * inputs];
    for (row, piece) in pieces.iter().enumerate() {
        let Some(track) = piece.controls else {
            continue;
        };
        for t in 0..width {
            let target = start + t + 1;
            if target < track.len() {
                let at = (row * width + t) * inputs;
                let all = track.values(target, 0);
                let kept = if piece.meter_only {
                    ControlValues {
                        meter: all.meter,
                        lookback: all.lookback,
                        ..ControlValues::default()
                    }
                } else {
                    all
                };
                kept.write_inputs(&mut values[at..at + inputs]);
            }
        }
    }
    Tensor::from_slice(&values)
        .view([pieces.len() as i64, width as i64, inputs as i64])
        .to_device(device)
}
