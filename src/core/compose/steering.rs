//! Steering: a control plan checked against what a model learned, turned into its inputs.

use tch::{Device, Tensor};

use crate::model::Conditioning;
use crate::model::checkpoint::CheckpointMeta;
use crate::music::controls::{ControlValues, ControlsMeta, find_key};
use crate::music::encoding::{Encoding, EventId, STEP_S, to_step};
use crate::music::lookback::Played;
use crate::music::meter::Grid;
use crate::music::plan::ControlPlan;

use super::assist::Assist;
use super::settings::{GenerateError, MAX_SECONDS};

/// Seconds of music looked back over to find the key a take has settled in.
const KEY_WINDOW_S: f64 = 10.0;
/// Notes struck in that window before a key counts as settled (a bar or two of most music).
const KEY_EVIDENCE_NOTES: usize = 12;

/// What a model reads besides events, and what to ask it for: checked once, before sampling.
#[derive(Debug, Clone)]
pub struct Steering {
    encoding: Encoding,
    controls: Option<ControlsMeta>,
    plan: ControlPlan,
    /// The bar grid the music is placed on: the plan's tempo and meter, else the primer's own.
    grid: Option<Grid>,
    /// How strongly the sampler's rules lean on the network's choices (the strong assist unless
    /// asked otherwise).
    assist: Assist,
}

impl Steering {
    /// Asks `plan` of the model `meta` describes; refused if the model cannot honour it (a model
    /// trained without controls, a style it does not know, a curve out of range).
    pub fn new(meta: &CheckpointMeta, plan: ControlPlan) -> Result<Self, GenerateError> {
        let invalid = |why: String| GenerateError::InvalidSettings(why);
        match &meta.controls {
            Some(controls) => plan.check_against(controls).map_err(invalid)?,
            None if !plan.is_any() => {
                return Err(invalid(
                    "this model was trained without controls (key, density, loudness, style); leave them at any, or train a new model with controls"
                        .to_string(),
                ));
            }
            None => {}
        }
        let reads_meter = meta
            .controls
            .as_ref()
            .is_some_and(ControlsMeta::reads_meter);
        if plan.asks_meter() && !reads_meter {
            return Err(invalid(
                "this model was trained before Cadenza had a bar grid, so it cannot keep a tempo or meter; leave them unset, or use the starter model or a model trained since"
                    .to_string(),
            ));
        }
        Ok(Self {
            encoding: meta.encoding(),
            controls: meta.controls.clone(),
            grid: plan.grid(MAX_SECONDS),
            plan,
            assist: Assist::default(),
        })
    }

    /// Places the music on `grid` (a primer's own) unless the plan asks for a tempo or meter.
    pub fn or_grid(mut self, grid: Option<Grid>) -> Self {
        let reads_meter = self
            .controls
            .as_ref()
            .is_some_and(ControlsMeta::reads_meter);
        if self.grid.is_none() && reads_meter {
            self.grid = grid;
        }
        self
    }

    /// The same steering with `assist`, which decides whether a take that asks no key is steered
    /// by the key it settled in. Sampling applies its settings' assist
    /// ([`super::settings::SamplingSettings::assist`]) this way itself.
    pub fn assisted(self, assist: Assist) -> Self {
        Self { assist, ..self }
    }

    /// How strongly the sampler's rules lean (see [`Steering::assisted`]).
    pub fn assist(&self) -> &Assist {
        &self.assist
    }

    /// The bar grid the music is placed on, if any.
    pub fn grid(&self) -> Option<&Grid> {
        self.grid.as_ref()
    }

    /// No controls, for a model of `encoding` trained without them.
    pub fn plain(encoding: Encoding) -> Self {
        Self {
            encoding,
            controls: None,
            plan: ControlPlan::default(),
            grid: None,
            assist: Assist::default(),
        }
    }

    /// What is asked for.
    pub fn plan(&self) -> &ControlPlan {
        &self.plan
    }

    /// The encoding of the model steered.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The controls in force after `played` (at its time, looking back over it); `None` for a
    /// model without controls.
    pub fn values_after(&self, played: &Played) -> Option<(ControlValues, usize)> {
        let meta = self.controls.as_ref()?;
        let grid = self.grid.as_ref();
        let (mut values, style) = self
            .plan
            .values_at(meta, grid, played.now() as f64 * STEP_S);
        if meta.reads_lookback() {
            values.lookback = grid.map(|grid| played.lookback(grid));
        }
        if values.histogram.is_none() && self.assist.settle_key {
            // Left to itself the network drifts from key to key (0.84 of a take's notes in its
            // key's scale against the corpus's 0.89); asked for the key it is in, it keeps it.
            values.histogram = played
                .recent_pitch_classes(to_step(KEY_WINDOW_S), KEY_EVIDENCE_NOTES)
                .and_then(|classes| find_key(&classes))
                .map(|key| meta.key_profiles.histogram(key).map(|v| v as f32));
        }
        Some((values, style))
    }

    /// The controls beside each primer event (those of the event after it), for the pass that
    /// reads the primer.
    pub(crate) fn primer_conditioning(
        &self,
        events: &[EventId],
        device: Device,
    ) -> Option<Conditioning> {
        let mut played = Played::default();
        let width = self.controls.as_ref()?.inputs;
        let mut values = vec![0f32; events.len() * width];
        let mut style = 0;
        for (i, &event) in events.iter().enumerate() {
            played.push(event);
            // After event i, the time is that of event i + 1 (the one predicted beside it).
            if let Some((controls, row)) = self.values_after(&played) {
                controls.write_inputs(&mut values[i * width..][..width]);
                style = row;
            }
        }
        Some(Conditioning {
            controls: Tensor::from_slice(&values)
                .view([1, events.len() as i64, width as i64])
                .to_device(device),
            styles: Tensor::from_slice(&[style as i64]).to_device(device),
        })
    }
}
