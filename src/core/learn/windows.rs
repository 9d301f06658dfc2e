//! Random training windows, weighted by piece length so an epoch covers every event about once.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::{Device, Tensor};

use crate::model::Conditioning;
use crate::music::controls::{ControlValues, ControlsMeta};
use crate::music::encoding::{self, EventId};

use super::data::TrainData;
use super::options::TrainError;

/// Largest transposition applied to a training window, in semitones.
const MAX_TRANSPOSE: i8 = 3;
/// Share of training windows that begin at a piece's start event.
const PIECE_START_SHARE: f64 = 0.1;
/// Chance that a control is absent from a training window, so every control can be "any".
const CONTROL_DROP: f64 = 0.5;
/// Chance that the bar grid is absent from a training window: lower than the other controls',
/// as it has the most to teach a model fine-tuned from one without it.
const METER_DROP: f64 = 0.3;

/// One batch: inputs and targets `[batch, seq_len]`, and the controls of a steerable model.
#[derive(Debug)]
pub struct Batch {
    /// Event ids read, `[batch, seq_len]`.
    pub inputs: Tensor,
    /// Event ids to predict, `[batch, seq_len]`.
    pub targets: Tensor,
    /// The controls of a steerable model.
    pub conditioning: Option<Conditioning>,
}

/// Draws random training windows, augmented and (for a steerable model) with their controls, each
/// control dropped at random.
#[derive(Debug)]
pub struct WindowSampler {
    rng: StdRng,
    /// Training pieces long enough for a window, and the running total of their lengths.
    usable: Vec<usize>,
    cumulative: Vec<usize>,
    /// Style row of each training piece; `None` for a model without controls.
    styles: Option<Vec<usize>>,
    /// Control inputs beside each event (0 for a model without controls).
    inputs: usize,
}

impl WindowSampler {
    /// A sampler over `data`'s training pieces for windows of `seq_len` events, seeded by `seed`,
    /// with the control inputs of `controls` (`None`: a model without controls).
    pub fn new(
        data: &TrainData,
        seq_len: usize,
        seed: u64,
        controls: Option<&ControlsMeta>,
    ) -> Result<Self, TrainError> {
        let usable: Vec<usize> = (0..data.train.len())
            .filter(|&i| {
                data.train[i]
                    .variants
                    .iter()
                    .all(|v| v.events.len() > seq_len)
            })
            .collect();
        if usable.is_empty() {
            return Err(TrainError::Data(format!(
                "no training piece is longer than the window ({} events): shorten the window",
                seq_len + 1
            )));
        }
        let mut total = 0;
        let cumulative = usable
            .iter()
            .map(|&i| {
                total += data.train[i].variants[0].events.len();
                total
            })
            .collect();
        let styles = controls.map(|meta| {
            data.train
                .iter()
                .map(|p| {
                    p.composer
                        .as_deref()
                        .and_then(|c| meta.style_index(c))
                        .unwrap_or(0)
                })
                .collect()
        });
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            usable,
            cumulative,
            styles,
            inputs: controls.map_or(0, |meta| meta.inputs),
        })
    }

    /// The next `batch` windows, on `device`.
    pub fn batch(
        &mut self,
        data: &TrainData,
        batch: usize,
        seq_len: usize,
        device: Device,
    ) -> Batch {
        let mut inputs = Vec::with_capacity(batch * seq_len);
        let mut targets = Vec::with_capacity(batch * seq_len);
        let steerable = self.styles.is_some();
        let width = self.inputs;
        let mut controls = vec![0f32; batch * seq_len * width];
        let mut styles = Vec::with_capacity(batch);
        for row in 0..batch {
            let window = self.window(data, seq_len);
            inputs.extend(window.events[..seq_len].iter().map(|&id| i64::from(id)));
            targets.extend(window.events[1..].iter().map(|&id| i64::from(id)));
            if steerable {
                let out = &mut controls[row * seq_len * width..][..seq_len * width];
                styles.push(self.window_controls(data, &window, out));
            }
        }
        let shape = [batch as i64, seq_len as i64];
        let tensor = |values: &[i64]| Tensor::from_slice(values).view(shape).to_device(device);
        Batch {
            inputs: tensor(&inputs),
            targets: tensor(&targets),
            conditioning: steerable.then(|| Conditioning {
                controls: Tensor::from_slice(&controls)
                    .view([batch as i64, seq_len as i64, width as i64])
                    .to_device(device),
                styles: Tensor::from_slice(&styles).to_device(device),
            }),
        }
    }

    /// Writes a window's control inputs (beside each input, the controls of its target), with
    /// each control kept or dropped for the whole window; returns its style row (0 if dropped).
    fn window_controls(&mut self, data: &TrainData, window: &Window, out: &mut [f32]) -> i64 {
        let mut keep = || self.rng.random::<f64>() >= CONTROL_DROP;
        let (density, key, loudness, style) = (keep(), keep(), keep(), keep());
        let meter = self.rng.random::<f64>() >= METER_DROP;
        let track = &data.train[window.piece].variants[window.variant].controls;
        for (t, out) in out.chunks_exact_mut(self.inputs).enumerate() {
            let values = track.values(window.start + t + 1, window.semitones);
            ControlValues {
                density: values.density.filter(|_| density),
                histogram: values.histogram.filter(|_| key),
                loudness: values.loudness.filter(|_| loudness),
                meter: values.meter.filter(|_| meter),
                // The bars looked back over are the grid's: both are there or neither.
                lookback: values.lookback.filter(|_| meter),
            }
            .write_inputs(out);
        }
        let styles = self
            .styles
            .as_ref()
            .expect("a steerable sampler has styles");
        if style {
            styles[window.piece] as i64
        } else {
            0
        }
    }

    /// `seq_len + 1` events of a random piece (weighted by length), stretched and transposed at
    /// random: from the piece's start (its start event) for a share of windows, else anywhere.
    fn window(&mut self, data: &TrainData, seq_len: usize) -> Window {
        let total = *self.cumulative.last().unwrap_or(&1);
        let position = self.rng.random_range(0..total);
        let piece = self.usable[self.cumulative.partition_point(|&end| end <= position)];
        let variants = &data.train[piece].variants;
        let variant = self.rng.random_range(0..variants.len());
        let events = &variants[variant].events;
        let start = if self.rng.random::<f64>() < PIECE_START_SHARE {
            0
        } else {
            self.rng.random_range(0..events.len() - seq_len)
        };
        let slice = &events[start..start + seq_len + 1];
        let semitones = self.rng.random_range(-MAX_TRANSPOSE..=MAX_TRANSPOSE);
        let (events, semitones) = match encoding::transpose(slice, semitones) {
            Some(transposed) => (transposed, semitones),
            None => (slice.to_vec(), 0),
        };
        Window {
            piece,
            variant,
            start,
            semitones,
            events,
        }
    }
}

/// A training window and where it came from.
struct Window {
    piece: usize,
    variant: usize,
    start: usize,
    semitones: i8,
    events: Vec<EventId>,
}
