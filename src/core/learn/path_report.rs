//! What a model's structure paths learned: the gate each path opens (in nats added to each
//! event it links) where it has something to offer, in the first and the second half of
//! four-bar phrases, overall and per composer. Pieces are read with their own bar grid and
//! lookback, every other control absent, as `cadenza eval` scores them "with the grid".

use std::collections::BTreeMap;

use tch::{Device, Tensor};

use crate::model::structure_paths::{STRUCTURE_PATHS, StructurePath};
use crate::model::{ActiveLinks, Conditioning, EventLstm};
use crate::music::controls::{ControlTrack, ControlValues};
use crate::music::encoding::{Event, EventId, STEP_S};
use crate::music::meter::Grid;

/// Bars in the phrases the report halves (the corpus's phrases are mostly four bars).
pub const PHRASE_BARS: i64 = 4;

/// One piece to report on: its events as the model reads them, their controls and its grid.
#[derive(Debug, Clone, Copy)]
pub struct PathPiece<'a> {
    /// Events, beginning with the start event for encodings that have one.
    pub events: &'a [EventId],
    /// The controls of each position (with the grid's and the lookback's).
    pub track: &'a ControlTrack,
    /// The bar grid the piece follows.
    pub grid: &'a Grid,
    /// Its composer, if known.
    pub composer: Option<&'a str>,
}

/// Mean gate per path over the positions where the path linked at least one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateMeans {
    sums: [f64; STRUCTURE_PATHS],
    counts: [u64; STRUCTURE_PATHS],
}

impl GateMeans {
    fn add(&mut self, gates: &[f32], active: &[bool; STRUCTURE_PATHS]) {
        for (k, &on) in active.iter().enumerate() {
            if on {
                self.sums[k] += f64::from(gates[k]);
                self.counts[k] += 1;
            }
        }
    }

    /// The mean gate of `path` in nats; `None` where it never had anything to link.
    pub fn mean(&self, path: StructurePath) -> Option<f64> {
        let k = path.gate();
        (self.counts[k] > 0).then(|| self.sums[k] / self.counts[k] as f64)
    }
}

/// The gates, halved by phrase and split by composer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathReport {
    /// Bars 1–2 of each four-bar phrase.
    pub first_half: GateMeans,
    /// Bars 3–4 of each four-bar phrase.
    pub second_half: GateMeans,
    /// Every bar, per composer ("?" for pieces without one).
    pub by_composer: BTreeMap<String, GateMeans>,
}

/// Reads each piece in windows of `window` events; `None` for a model without paths.
pub fn path_report(
    model: &EventLstm,
    pieces: &[PathPiece],
    window: usize,
    device: Device,
) -> Option<PathReport> {
    let _guard = tch::no_grad_guard();
    model.path_gates()?;
    let mut report = PathReport::default();
    for piece in pieces {
        let composer = piece.composer.unwrap_or("?").to_string();
        let gates = piece_gates(model, piece, window, device)?;
        let bars = position_bars(piece.events, piece.grid);
        for (i, gates) in gates.chunks_exact(STRUCTURE_PATHS).enumerate() {
            let inputs = meter_only(piece.track, i + 1).inputs(model.inputs().controls);
            let active = active_paths(&ActiveLinks::of_inputs(&inputs));
            let half = if bars[i].rem_euclid(PHRASE_BARS) < PHRASE_BARS / 2 {
                &mut report.first_half
            } else {
                &mut report.second_half
            };
            half.add(gates, &active);
            report
                .by_composer
                .entry(composer.clone())
                .or_default()
                .add(gates, &active);
        }
    }
    Some(report)
}

/// The gates at every position but the last (`[positions, paths]`, row-major).
fn piece_gates(
    model: &EventLstm,
    piece: &PathPiece,
    window: usize,
    device: Device,
) -> Option<Vec<f32>> {
    let positions = piece.events.len().saturating_sub(1);
    let width = model.inputs().controls;
    let mut state = model.zero_state(1, device);
    let mut gates = Vec::with_capacity(positions * STRUCTURE_PATHS);
    for start in (0..positions).step_by(window.max(1)) {
        let end = (start + window).min(positions);
        let ids: Vec<i64> = piece.events[start..end]
            .iter()
            .map(|&e| i64::from(e))
            .collect();
        let mut controls = vec![0f32; (end - start) * width];
        for (i, out) in controls.chunks_exact_mut(width).enumerate() {
            meter_only(piece.track, start + i + 1).write_inputs(out);
        }
        let conditioning = Conditioning {
            controls: Tensor::from_slice(&controls)
                .view([1, (end - start) as i64, width as i64])
                .to_device(device),
            styles: Tensor::from_slice(&[0i64]).to_device(device),
        };
        let events = Tensor::from_slice(&ids).view([1, -1]).to_device(device);
        let (window_gates, next) = model.structure_gates(&events, Some(&conditioning), &state)?;
        gates.extend(Vec::<f32>::try_from(window_gates.to_device(Device::Cpu).reshape([-1])).ok()?);
        state = next;
    }
    Some(gates)
}

/// The grid's and lookback's values at position `i`, every other control absent.
fn meter_only(track: &ControlTrack, i: usize) -> ControlValues {
    let all = track.values(i.min(track.len().saturating_sub(1)), 0);
    ControlValues {
        meter: all.meter,
        lookback: all.lookback,
        ..ControlValues::default()
    }
}

/// Which paths link at least one event.
fn active_paths(links: &ActiveLinks) -> [bool; STRUCTURE_PATHS] {
    std::array::from_fn(|k| links.has_path(StructurePath::ALL[k]))
}

/// The bar of the moment after each event (what the controls beside it describe).
fn position_bars(events: &[EventId], grid: &Grid) -> Vec<i64> {
    let mut step = 0u64;
    events
        .iter()
        .map(|&id| {
            if let Some(Event::TimeShift(steps)) = Event::from_id(id) {
                step += u64::from(steps);
            }
            grid.position(step as f64 * STEP_S).bar
        })
        .collect()
}
