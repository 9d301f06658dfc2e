//! Learned structure paths: the network's direct, gated access to the structure that the
//! sampler's hand-set rules (the assist) impose. This is the idea behind Magenta's Lookback RNN,
//! whose outputs include "repeat the event from one / two bars ago". The pointer-sentinel LSTM
//! (Merity et al. 2016) adds a gate the network learns between generating and copying.
//!
//! Each path is an indicator over the events, read off the inputs the network already gets at
//! that step, so sampling and training compute it from the same numbers:
//! - *echo 1 / 2 bars*: strike a key that was struck at this place one (two) bars back and is
//!   not yet struck now;
//! - *rhythm 1 / 2 bars*: the time shift that reaches that bar's next onset;
//! - *sixteenth*, *triplet*, *beat*: the time shift that lands on the next sixteenth,
//!   eighth-triplet or beat of the grid.
//!
//! A linear map of the top LSTM layer's state gives one gate per path, and each gate scales its
//! path: `logits(x) = W·h + b + Σ_k g_k(h) · f_k(x)`. The gates start at zero, so a model grown to
//! have paths scores every piece as before until training moves them. The loss and the windows
//! are unchanged. Without a grid (free time) every feature is zero, so free time gets nothing
//! from the paths.

use std::sync::LazyLock;

use tch::{Tensor, nn};

use crate::model::structure_inputs::NonZeroInputs;
use crate::music::controls::{CONTROL_INPUTS, CONTROL_INPUTS_WITH_METER, STRUCTURE_INPUTS};
use crate::music::encoding::{Event, EventId, VOCAB_SIZE};
use crate::music::lookback::{
    KEYS, LOWEST_PITCH, NEXT_ONSET_STEPS, lag_keys_column, lag_next_onset_column,
};
use crate::music::meter_inputs::{
    BEAT_STEPS, SUBDIVISION_STEPS, TO_BEAT_COLUMN, TO_SIXTEENTH_COLUMN, TO_TRIPLET_COLUMN,
};

/// One learned structure path, declared in gate order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructurePath {
    /// Strike what was struck here one bar back.
    EchoOneBar,
    /// Strike what was struck here two bars back.
    EchoTwoBars,
    /// Move on to where one bar back had its next onset.
    RhythmOneBar,
    /// Move on to where two bars back had its next onset.
    RhythmTwoBars,
    /// Move on to the next sixteenth.
    Sixteenth,
    /// Move on to the next eighth-triplet.
    Triplet,
    /// Move on to the next beat.
    Beat,
}

/// Number of paths (gates) a model with paths has.
pub const STRUCTURE_PATHS: usize = StructurePath::ALL.len();

impl StructurePath {
    /// Every path, in gate order.
    pub const ALL: [Self; 7] = [
        Self::EchoOneBar,
        Self::EchoTwoBars,
        Self::RhythmOneBar,
        Self::RhythmTwoBars,
        Self::Sixteenth,
        Self::Triplet,
        Self::Beat,
    ];

    /// The path's gate, its index in [`StructurePath::ALL`].
    pub fn gate(self) -> usize {
        self as usize
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::EchoOneBar => "echo 1 bar",
            Self::EchoTwoBars => "echo 2 bars",
            Self::RhythmOneBar => "rhythm 1 bar",
            Self::RhythmTwoBars => "rhythm 2 bars",
            Self::Sixteenth => "sixteenth",
            Self::Triplet => "triplet",
            Self::Beat => "beat",
        }
    }

    /// The (control input column, event) pairs of this path: the event's feature is 1 when the
    /// column is non-zero.
    fn links(self) -> Vec<(usize, EventId)> {
        // A one-hot of steps `n` links to a time shift of `n` steps; its first slot (0 steps) and
        // last (capped, "or more") name no shift.
        let shifts = |column: usize, slots: usize| -> Vec<(usize, EventId)> {
            (1..slots - 1)
                .map(|n| (column + n, Event::TimeShift(n as u8).id()))
                .collect()
        };
        let keys = |lag: usize| -> Vec<(usize, EventId)> {
            (0..KEYS)
                .map(|key| {
                    let column = CONTROL_INPUTS_WITH_METER + lag_keys_column(lag) + key;
                    (column, Event::NoteOn(LOWEST_PITCH + key as u8).id())
                })
                .collect()
        };
        let lag_rhythm = |lag: usize| {
            shifts(
                CONTROL_INPUTS_WITH_METER + lag_next_onset_column(lag),
                NEXT_ONSET_STEPS,
            )
        };
        match self {
            Self::EchoOneBar => keys(0),
            Self::EchoTwoBars => keys(1),
            Self::RhythmOneBar => lag_rhythm(0),
            Self::RhythmTwoBars => lag_rhythm(1),
            Self::Sixteenth => shifts(CONTROL_INPUTS + TO_SIXTEENTH_COLUMN, SUBDIVISION_STEPS),
            Self::Triplet => shifts(CONTROL_INPUTS + TO_TRIPLET_COLUMN, SUBDIVISION_STEPS),
            Self::Beat => shifts(CONTROL_INPUTS + TO_BEAT_COLUMN, BEAT_STEPS),
        }
    }
}

/// The gates are written at this scale, for the reason the grid's inputs are
/// (`METER_INPUT_SCALE`): under Adam a weight moves by about the learning rate per step, so the
/// gates, new in a model fine-tuned from one without them, learn at about the starter's first
/// learning rate (1e-3) while its other weights keep a fine-tune's (1.25e-4).
pub const GATE_SCALE: f32 = 8.0;

/// Every path's links, as parallel lists: control column, event, gate.
struct Links {
    columns: Vec<i64>,
    events: Vec<i64>,
    gates: Vec<i64>,
}

static LINKS: LazyLock<Links> = LazyLock::new(|| {
    let mut links = Links {
        columns: Vec::new(),
        events: Vec::new(),
        gates: Vec::new(),
    };
    for (gate, path) in StructurePath::ALL.into_iter().enumerate() {
        for (column, event) in path.links() {
            links.columns.push(column as i64);
            links.events.push(i64::from(event));
            links.gates.push(gate as i64);
        }
    }
    links
});

/// Each structure input's link, by its column among the structure inputs (the control inputs
/// after [`CONTROL_INPUTS`]): its event and gate, or −1 for an input no path reads. No input
/// belongs to two paths.
static COLUMN_LINKS: LazyLock<[Vec<i64>; 2]> = LazyLock::new(|| {
    let mut events = vec![-1; STRUCTURE_INPUTS];
    let mut gates = vec![-1; STRUCTURE_INPUTS];
    for ((&column, &event), &gate) in LINKS.columns.iter().zip(&LINKS.events).zip(&LINKS.gates) {
        let column = column as usize - CONTROL_INPUTS;
        assert_eq!(events[column], -1, "one path per input");
        events[column] = event;
        gates[column] = gate;
    }
    [events, gates]
});

/// The paths' contribution to the logits alone: `controls` `[batch, time, control inputs]` (the
/// lookback layout) and `gates` `[batch, time, paths]` give `[batch, time, vocab]`. Training adds
/// it to the logits in place ([`with_path_logits`]); the tests hold this form against sampling's.
#[cfg(test)]
fn path_logits(controls: &Tensor, gates: &Tensor) -> Tensor {
    let size = controls.size();
    let zeros = Tensor::zeros(
        [size[0], size[1], VOCAB_SIZE as i64],
        (tch::Kind::Float, controls.device()),
    );
    let structure = NonZeroInputs::of_columns_from(controls, CONTROL_INPUTS);
    with_path_logits(&zeros, &structure, gates)
}

/// `logits` `[batch, time, vocab]` with the paths' contribution added, from a batch's non-zero
/// structure inputs: each linked input that is on adds its path's gate to its event, visiting the
/// few inputs that are on rather than every link.
pub fn with_path_logits(logits: &Tensor, inputs: &NonZeroInputs, gates: &Tensor) -> Tensor {
    let device = gates.device();
    let [batch, time] = inputs.shape;
    let [events, gate_of] = &*COLUMN_LINKS;
    let lookup = |table: &[i64]| {
        Tensor::from_slice(table)
            .to_device(device)
            .index_select(0, &inputs.column)
    };
    let (event, gate) = (lookup(events), lookup(gate_of));
    let on = event
        .ge(0)
        .logical_and(&inputs.value.gt(0.0))
        .nonzero()
        .squeeze_dim(1);
    let step = inputs.step.index_select(0, &on);
    let paths = gates.size()[2];
    let vocab = VOCAB_SIZE as i64;
    let added = gates
        .reshape([-1])
        .index_select(0, &(&step * paths + gate.index_select(0, &on)))
        * f64::from(GATE_SCALE);
    logits
        .reshape([-1])
        .index_add(0, &(step * vocab + event.index_select(0, &on)), &added)
        .reshape([batch, time, vocab])
}

/// The links in force at one step while sampling: `(event, gate)` for each feature that is 1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActiveLinks(Vec<(EventId, u8)>);

impl ActiveLinks {
    /// The links whose control column is non-zero in `inputs` (one step's control inputs, the
    /// lookback layout), as [`path_logits`] reads them.
    pub fn of_inputs(inputs: &[f32]) -> Self {
        let links = &*LINKS;
        let active = links
            .columns
            .iter()
            .zip(&links.events)
            .zip(&links.gates)
            .filter(|((column, _), _)| inputs.get(**column as usize).is_some_and(|&x| x > 0.0))
            .map(|((_, &event), &gate)| (event as EventId, gate as u8))
            .collect();
        Self(active)
    }

    /// Whether `event` gets `path`'s feature.
    pub fn contains(&self, event: Event, path: StructurePath) -> bool {
        self.0
            .iter()
            .any(|&(e, g)| e == event.id() && usize::from(g) == path.gate())
    }

    /// Whether `path` links any event.
    pub fn has_path(&self, path: StructurePath) -> bool {
        self.0.iter().any(|&(_, g)| usize::from(g) == path.gate())
    }
}

/// The gates' weights as plain numbers, for sampling one step at a time.
#[derive(Debug, Clone)]
pub struct PathGates {
    /// `[paths, hidden]`.
    weight: Vec<f32>,
    /// `[paths]`.
    bias: Vec<f32>,
}

impl PathGates {
    /// Copies the gate layer's weights.
    pub fn of(layer: &nn::Linear) -> Result<Self, tch::TchError> {
        let values = |t: &Tensor| Vec::<f32>::try_from(t.to_device(tch::Device::Cpu).reshape([-1]));
        Ok(Self {
            weight: values(&layer.ws)?,
            bias: match &layer.bs {
                Some(bias) => values(bias)?,
                None => vec![0.0; STRUCTURE_PATHS],
            },
        })
    }

    /// The gates for one sequence's top-layer state.
    pub fn gates(&self, top: &[f32]) -> [f32; STRUCTURE_PATHS] {
        let hidden = top.len();
        std::array::from_fn(|k| {
            let row = &self.weight[k * hidden..][..hidden];
            GATE_SCALE * (self.bias[k] + row.iter().zip(top).map(|(w, h)| w * h).sum::<f32>())
        })
    }

    /// Adds each sequence's paths to its row of `logits` (`[batch, vocab]`), given the top
    /// layer's state `top` (`[batch, hidden]`) and each sequence's active links.
    pub fn add_to_logits(&self, top: &[f32], active: &[ActiveLinks], logits: &mut [f32]) {
        let hidden = self.weight.len() / STRUCTURE_PATHS;
        let rows = logits.chunks_exact_mut(VOCAB_SIZE);
        for ((row, top), links) in rows.zip(top.chunks_exact(hidden)).zip(active) {
            if links.0.is_empty() {
                continue;
            }
            let gates = self.gates(top);
            for &(event, gate) in &links.0 {
                row[usize::from(event)] += gates[usize::from(gate)];
            }
        }
    }
}

/// The gate layer of a model with paths: `[paths, hidden]` and a bias, both starting at zero.
pub fn gate_layer(root: &nn::Path, hidden: i64) -> nn::Linear {
    let zero = nn::LinearConfig {
        ws_init: nn::Init::Const(0.0),
        bs_init: Some(nn::Init::Const(0.0)),
        bias: true,
    };
    nn::linear(root, hidden, STRUCTURE_PATHS as i64, zero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::controls::{CONTROL_INPUTS_WITH_LOOKBACK, ControlValues};
    use crate::music::encoding::encode_notes_until;
    use crate::music::lookback::Played;
    use crate::music::meter::Grid;
    use crate::music::meter_inputs::MeterValues;
    use crate::music::midi::Note;
    use tch::Kind;

    fn note(pitch: u8, start_s: f64) -> Note {
        Note {
            pitch,
            velocity: 80,
            start_s,
            end_s: start_s + 0.2,
        }
    }

    /// 100 bpm 4/4 (a beat 0.6 s, a bar 2.4 s): D4 and F4 on beat 2 of bar 1 (0.6 s), G4 at
    /// 0.85 s; read on beat 2 of bar 2 (3.0 s), where the sixteenth, triplet and beat after are
    /// 15, 20 and 60 steps on, and one bar back's next onset 25.
    fn values_in_bar_two() -> ControlValues {
        let grid = Grid::steady(100.0, "4/4".parse().unwrap(), 10.0);
        let notes = [note(62, 0.6), note(65, 0.6), note(67, 0.85)];
        let played = Played::of_events(&encode_notes_until(&notes, 3.0));
        assert_eq!(played.now(), 300);
        ControlValues {
            meter: Some(MeterValues::at(&grid, 3.0)),
            lookback: Some(played.lookback(&grid)),
            ..ControlValues::default()
        }
    }

    #[test]
    fn each_path_links_what_its_inputs_say() {
        let values = values_in_bar_two();
        let active = ActiveLinks::of_inputs(&values.inputs(CONTROL_INPUTS_WITH_LOOKBACK));
        use StructurePath::*;
        assert!(active.contains(Event::NoteOn(62), EchoOneBar));
        assert!(active.contains(Event::NoteOn(65), EchoOneBar));
        assert!(!active.contains(Event::NoteOn(67), EchoOneBar), "due later");
        assert!(
            !active.contains(Event::NoteOn(62), EchoTwoBars),
            "before the music"
        );
        assert!(active.contains(Event::TimeShift(25), RhythmOneBar));
        assert!(active.contains(Event::TimeShift(15), Sixteenth));
        assert!(active.contains(Event::TimeShift(20), Triplet));
        assert!(active.contains(Event::TimeShift(60), Beat));
        assert_eq!(active.0.len(), 6, "{active:?}");
    }

    #[test]
    fn training_and_sampling_compute_the_same_path_logits() {
        let values = values_in_bar_two();
        let inputs = values.inputs(CONTROL_INPUTS_WITH_LOOKBACK);
        let gates: Vec<f32> = (0..STRUCTURE_PATHS)
            .map(|k| (0.5 + k as f32) / GATE_SCALE)
            .collect();
        let expected = path_logits(
            &Tensor::from_slice(&inputs).view([1, 1, -1]),
            &Tensor::from_slice(&gates).view([1, 1, -1]),
        );
        let expected = Vec::<f32>::try_from(expected.reshape([-1])).unwrap();
        let layer = PathGates {
            weight: vec![0.0; STRUCTURE_PATHS],
            bias: gates,
        };
        let mut logits = vec![0.0; VOCAB_SIZE];
        layer.add_to_logits(&[1.0], &[ActiveLinks::of_inputs(&inputs)], &mut logits);
        assert_eq!(logits, expected);
        assert_eq!(
            logits[usize::from(Event::TimeShift(25).id())],
            2.5,
            "rhythm 1 bar's gate"
        );
    }

    #[test]
    fn the_sparse_path_logits_equal_every_link_visited_densely() {
        tch::manual_seed(5);
        let shape = [2, 3, CONTROL_INPUTS_WITH_LOOKBACK as i64];
        let noise = Tensor::rand(shape, (Kind::Float, tch::Device::Cpu));
        // A tenth of the inputs on, some negative (as the grid's offset input can be).
        let controls =
            noise.where_self(&noise.gt(0.9), &noise.zeros_like()) * 16.0 - noise.lt(0.02) * 4.0;
        let gates = Tensor::randn(
            [2, 3, STRUCTURE_PATHS as i64],
            (Kind::Float, tch::Device::Cpu),
        );
        let index = |values: &[i64]| Tensor::from_slice(values);
        let features = controls
            .index_select(2, &index(&LINKS.columns))
            .gt(0.0)
            .to_kind(Kind::Float);
        let scaled = features * gates.index_select(2, &index(&LINKS.gates)) * f64::from(GATE_SCALE);
        let dense = Tensor::zeros([2, 3, VOCAB_SIZE as i64], (Kind::Float, tch::Device::Cpu))
            .index_add(2, &index(&LINKS.events), &scaled);
        let gap = f64::try_from((path_logits(&controls, &gates) - dense).abs().max()).unwrap();
        assert!(gap < 1e-4, "largest difference {gap}");
    }

    #[test]
    fn free_time_has_no_active_links() {
        let inputs = ControlValues::default().inputs(CONTROL_INPUTS_WITH_LOOKBACK);
        assert_eq!(ActiveLinks::of_inputs(&inputs), ActiveLinks::default());
    }
}
