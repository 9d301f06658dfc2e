//! The model layer: the network, its fused CPU step, checkpoints and their names, and the
//! starter model that ships with Cadenza. It uses the base and music layers.
//!
//! The network: Embedding → multi-layer LSTM → Linear over the event vocabulary, predicting the
//! next event. Parameter names follow PyTorch's `nn.Embedding`/`nn.LSTM`/`nn.Linear`, so a
//! checkpoint's safetensors file loads into the equivalent PyTorch module.

pub mod checkpoint;
mod cpu_step;
pub mod label;
pub mod naming;
pub mod preset;
pub mod starter;
pub mod structure_inputs;
pub mod structure_paths;

use tch::{Device, Kind, Tensor, nn};

use crate::music::controls::CONTROL_INPUTS;
#[cfg(doc)]
use crate::music::controls::CONTROL_LAYOUTS;
use crate::music::controls::ControlValues;
use crate::music::controls::ControlsMeta;
use crate::music::encoding::{Encoding, VOCAB_SIZE};

pub use cpu_step::{CpuState, CpuStepper, PackedMatrix};
pub use structure_inputs::NonZeroInputs;
pub use structure_paths::{ActiveLinks, PathGates};

/// What the network reads at each step besides its state: an event, and for a steerable model
/// the control inputs and a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inputs {
    /// Distinct event inputs (the encoding's input vocabulary).
    pub events: usize,
    /// Control inputs (one of the [`CONTROL_LAYOUTS`], or 0 for a model without controls).
    pub controls: usize,
    /// Rows of the style embedding ("any" plus each label; 0 without controls).
    pub styles: usize,
    /// Size of the style embedding.
    pub style_dim: usize,
    /// Gates of the learned structure paths ([`structure_paths::STRUCTURE_PATHS`], or 0 without them).
    pub paths: usize,
    /// Width of the sparse projection of the bar grid's and lookback's inputs
    /// ([`structure_inputs`]); 0: the first layer reads every control input densely.
    pub structure_width: usize,
}

impl Inputs {
    /// The inputs of a model trained with `encoding` and, if steerable, `controls`.
    pub fn new(encoding: Encoding, controls: Option<&ControlsMeta>) -> Self {
        match controls {
            None => Self {
                events: encoding.input_vocab(),
                controls: 0,
                styles: 0,
                style_dim: 0,
                paths: 0,
                structure_width: 0,
            },
            Some(meta) => Self {
                events: encoding.input_vocab(),
                controls: meta.inputs,
                styles: meta.style_rows(),
                style_dim: meta.style_dim,
                paths: if meta.structure_paths {
                    structure_paths::STRUCTURE_PATHS
                } else {
                    0
                },
                structure_width: meta.structure_width,
            },
        }
    }

    /// Whether the model reads controls.
    pub fn steerable(&self) -> bool {
        self.controls > 0
    }

    /// Whether the bar grid's and lookback's inputs enter through the sparse projection.
    pub fn sparse_structure(&self) -> bool {
        self.structure_width > 0
    }

    /// Control inputs the first layer reads directly: all of them, or with the sparse projection
    /// only those before the bar grid's.
    pub fn dense_controls(&self) -> usize {
        if self.sparse_structure() {
            CONTROL_INPUTS
        } else {
            self.controls
        }
    }

    /// Control inputs read through the sparse projection (0 without it).
    pub fn projected_controls(&self) -> usize {
        self.controls - self.dense_controls()
    }

    /// Width of the first LSTM layer's input after an embedding of `embed`: the embedding, the
    /// dense controls, the projection, the style vector.
    pub fn first_layer_width(&self, embed: i64) -> i64 {
        embed + (self.dense_controls() + self.structure_width + self.style_dim) as i64
    }
}

/// The controls of a batch: `controls` `[batch, time, control inputs]` (float), `styles`
/// `[batch]` (int64 rows of the style embedding).
#[derive(Debug)]
pub struct Conditioning {
    /// Control inputs per step.
    pub controls: Tensor,
    /// Style row per sequence.
    pub styles: Tensor,
}

/// Where the style embedding lives in the variable store; its variable is `style.weight`.
pub const STYLE_PATH: &str = "style";
/// Where the structure paths' gate layer lives in the variable store (`paths.weight`,
/// `paths.bias`).
pub const STRUCTURE_PATHS_PATH: &str = "paths";

/// The shape of the network.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelConfig {
    /// Size of the event embedding.
    pub embed: i64,
    /// Number of stacked LSTM layers.
    pub layers: i64,
    /// Hidden units per LSTM layer.
    pub hidden: i64,
    /// Dropout between LSTM layers while training.
    pub dropout: f64,
}

impl ModelConfig {
    /// Two layers of 256: trains usefully on two CPU cores.
    pub const QUICK: Self = Self {
        embed: 128,
        layers: 2,
        hidden: 256,
        dropout: 0.1,
    };
    /// Performance RNN's size: three layers of 512.
    pub const STANDARD: Self = Self {
        embed: 256,
        layers: 3,
        hidden: 512,
        dropout: 0.2,
    };

    /// Largest embedding or hidden size accepted (4× Performance RNN's; ~100 M parameters).
    pub const MAX_WIDTH: i64 = 4096;
    /// Most LSTM layers accepted.
    pub const MAX_LAYERS: i64 = 16;

    /// Checks that the shape can be built, naming the first impossible field.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let check = |field: &'static str, value: i64, max: i64| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(InvalidConfig {
                    field,
                    reason: format!("{value} is not between 1 and {max}"),
                })
            }
        };
        check("embed", self.embed, Self::MAX_WIDTH)?;
        check("layers", self.layers, Self::MAX_LAYERS)?;
        check("hidden", self.hidden, Self::MAX_WIDTH)?;
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(InvalidConfig {
                field: "dropout",
                reason: format!("{} is not at least 0 and below 1", self.dropout),
            });
        }
        Ok(())
    }
}

/// A setting outside its range: which one, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidConfig {
    /// The field, as the checkpoint JSON and the CLI flag name it.
    pub field: &'static str,
    /// What is wrong with its value.
    pub reason: String,
}

/// The LSTM's hidden and cell state, `[layers, batch, hidden]` each.
#[derive(Debug)]
pub struct LstmState {
    /// Hidden state.
    pub h: Tensor,
    /// Cell state.
    pub c: Tensor,
}

impl LstmState {
    /// A copy detached from the autograd graph (to carry state across windows).
    pub fn detach(&self) -> Self {
        Self {
            h: self.h.detach(),
            c: self.c.detach(),
        }
    }
}

/// The LSTM state split per layer (`[batch, hidden]` tensors), as [`LstmStepper`] updates it.
#[derive(Debug)]
pub struct StepState {
    h: Vec<Tensor>,
    c: Vec<Tensor>,
}

impl From<LstmState> for StepState {
    fn from(state: LstmState) -> Self {
        let layers = state.h.size()[0];
        Self {
            h: (0..layers).map(|l| state.h.get(l)).collect(),
            c: (0..layers).map(|l| state.c.get(l)).collect(),
        }
    }
}

impl StepState {
    /// The top layer's hidden state as plain numbers (`[batch, hidden]`, row-major).
    pub fn top(&self) -> Result<Vec<f32>, tch::TchError> {
        tensor_values(self.h.last().expect("a model has at least one layer"))
    }

    /// The state as plain numbers for [`CpuStepper`].
    pub fn to_cpu_state(&self) -> Result<CpuState, tch::TchError> {
        let flat = |ts: &[Tensor]| -> Result<Vec<Vec<f32>>, tch::TchError> {
            ts.iter().map(tensor_values).collect()
        };
        Ok(CpuState {
            h: flat(&self.h)?,
            c: flat(&self.c)?,
        })
    }

    /// Repeats each sequence's state `times` times along the batch (a primer shared by variations).
    pub fn repeat_batch(&self, times: i64) -> Self {
        let repeat = |ts: &[Tensor]| ts.iter().map(|t| t.repeat([times, 1])).collect();
        Self {
            h: repeat(&self.h),
            c: repeat(&self.c),
        }
    }
}

/// Embedding → LSTM → Linear. Dropout is chosen per call, so one set of weights serves training
/// (dropout on) and scoring or sampling (dropout off).
#[derive(Debug)]
pub struct EventLstm {
    embedding: nn::Embedding,
    /// The style embedding of a steerable model.
    style: Option<nn::Embedding>,
    /// The sparse projection of the bar grid's and lookback's inputs, for a model that has it.
    structure: Option<Tensor>,
    lstm_weights: Vec<Tensor>,
    head: nn::Linear,
    /// The gates of the learned structure paths, for a model that has them.
    paths: Option<nn::Linear>,
    config: ModelConfig,
    inputs: Inputs,
}

impl EventLstm {
    /// Creates the network's variables under `root`, initialised as PyTorch would.
    pub fn new(root: &nn::Path, config: ModelConfig, inputs: Inputs) -> Self {
        let vocab = VOCAB_SIZE as i64;
        let embedding = nn::embedding(
            root / "embedding",
            inputs.events as i64,
            config.embed,
            Default::default(),
        );
        let style = inputs.steerable().then(|| {
            nn::embedding(
                root / STYLE_PATH,
                inputs.styles as i64,
                inputs.style_dim as i64,
                Default::default(),
            )
        });
        let lstm = root / "lstm";
        // PyTorch initialises every LSTM parameter uniformly in ±1/√hidden.
        let bound = 1.0 / (config.hidden as f64).sqrt();
        let init = nn::Init::Uniform {
            lo: -bound,
            up: bound,
        };
        let mut lstm_weights = Vec::new();
        for layer in 0..config.layers {
            let input = if layer == 0 {
                inputs.first_layer_width(config.embed)
            } else {
                config.hidden
            };
            let gates = 4 * config.hidden;
            lstm_weights.push(lstm.var(&format!("weight_ih_l{layer}"), &[gates, input], init));
            lstm_weights.push(lstm.var(
                &format!("weight_hh_l{layer}"),
                &[gates, config.hidden],
                init,
            ));
            lstm_weights.push(lstm.var(&format!("bias_ih_l{layer}"), &[gates], init));
            lstm_weights.push(lstm.var(&format!("bias_hh_l{layer}"), &[gates], init));
        }
        if root.device().is_cuda() && tch::Cuda::cudnn_is_available() {
            // cuDNN wants every LSTM weight in one buffer: this moves them there (the variables
            // become views of it), or each step would copy them and libtorch warn every time.
            let _ = Tensor::internal_cudnn_rnn_flatten_weight(
                &lstm_weights,
                4,
                inputs.first_layer_width(config.embed),
                2, // LSTM, in libtorch's numbering
                config.hidden,
                0, // no projections
                config.layers,
                true,
                false,
            );
        }
        let head = nn::linear(root / "head", config.hidden, vocab, Default::default());
        let paths = (inputs.paths > 0)
            .then(|| structure_paths::gate_layer(&(root / STRUCTURE_PATHS_PATH), config.hidden));
        let structure = inputs.sparse_structure().then(|| {
            structure_inputs::table(
                &(root / structure_inputs::STRUCTURE_TABLE_PATH),
                inputs.structure_width,
            )
        });
        Self {
            embedding,
            style,
            structure,
            lstm_weights,
            head,
            paths,
            config,
            inputs,
        }
    }

    /// How many numbers [`EventLstm::new`] creates for this shape, computed without allocating
    /// them, so a description can be held against its weights file before any memory is taken.
    pub fn parameter_count(config: ModelConfig, inputs: Inputs) -> u64 {
        let [embed, hidden, layers] =
            [config.embed, config.hidden, config.layers].map(|v| v as u64);
        let [events, styles, style_dim, paths] =
            [inputs.events, inputs.styles, inputs.style_dim, inputs.paths].map(|v| v as u64);
        let vocab = VOCAB_SIZE as u64;
        let first_input = inputs.first_layer_width(config.embed) as u64;
        let structure = (inputs.projected_controls() * inputs.structure_width) as u64;
        let gates = 4 * hidden;
        let lstm = (0..layers)
            .map(|layer| {
                let input = if layer == 0 { first_input } else { hidden };
                gates * (input + hidden) + 2 * gates
            })
            .sum::<u64>();
        let style = if inputs.steerable() {
            styles * style_dim
        } else {
            0
        };
        events * embed + style + structure + lstm + hidden * vocab + vocab + paths * (hidden + 1)
    }

    /// The network's shape.
    pub fn config(&self) -> ModelConfig {
        self.config
    }

    /// What the network reads.
    pub fn inputs(&self) -> Inputs {
        self.inputs
    }

    /// A zero state for `batch` sequences on `device`.
    pub fn zero_state(&self, batch: i64, device: Device) -> LstmState {
        let shape = [self.config.layers, batch, self.config.hidden];
        LstmState {
            h: Tensor::zeros(shape, (Kind::Float, device)),
            c: Tensor::zeros(shape, (Kind::Float, device)),
        }
    }

    /// Runs `events` (`[batch, time]`, int64 ids) from `state`; returns logits over the next event
    /// (`[batch, time, vocab]`) and the state after the last step. `train` turns dropout on.
    /// A steerable model reads `conditioning`; without it, every control is absent.
    pub fn forward(
        &self,
        events: &Tensor,
        conditioning: Option<&Conditioning>,
        state: &LstmState,
        train: bool,
    ) -> (Tensor, LstmState) {
        let structure = self.non_zero_structure(conditioning);
        let (output, state) = self.run_lstm(events, conditioning, structure.as_ref(), state, train);
        let logits = output.apply(&self.head);
        let logits = match (&self.paths, &structure) {
            (Some(gates), Some(structure)) => {
                structure_paths::with_path_logits(&logits, structure, &output.apply(gates))
            }
            _ => logits,
        };
        (logits, state)
    }

    /// The structure paths' gates in nats (`[batch, time, paths]`, what each linked event gets
    /// added) for `events` read as [`EventLstm::forward`] reads them, and the state after; `None`
    /// for a model without paths.
    pub fn structure_gates(
        &self,
        events: &Tensor,
        conditioning: Option<&Conditioning>,
        state: &LstmState,
    ) -> Option<(Tensor, LstmState)> {
        let gates = self.paths.as_ref()?;
        let structure = self.non_zero_structure(conditioning);
        let (output, state) = self.run_lstm(events, conditioning, structure.as_ref(), state, false);
        Some((
            output.apply(gates) * f64::from(structure_paths::GATE_SCALE),
            state,
        ))
    }

    /// The non-zero structure inputs of `conditioning`, for a model that reads them through the
    /// sparse projection or has paths; found once for both.
    fn non_zero_structure(&self, conditioning: Option<&Conditioning>) -> Option<NonZeroInputs> {
        let conditioning = conditioning?;
        let columns = self.inputs.controls.checked_sub(CONTROL_INPUTS)?;
        let wanted = self.structure.is_some() || self.paths.is_some();
        (wanted && columns > 0)
            .then(|| NonZeroInputs::of_columns_from(&conditioning.controls, CONTROL_INPUTS))
    }

    /// The top LSTM layer's output `[batch, time, hidden]` and the state after.
    fn run_lstm(
        &self,
        events: &Tensor,
        conditioning: Option<&Conditioning>,
        structure: Option<&NonZeroInputs>,
        state: &LstmState,
        train: bool,
    ) -> (Tensor, LstmState) {
        let input = self.lstm_input(events, conditioning, structure);
        let weights: Vec<&Tensor> = self.lstm_weights.iter().collect();
        let (output, h, c) = input.lstm(
            &[&state.h, &state.c],
            &weights,
            true,
            self.config.layers,
            self.config.dropout,
            train,
            false,
            true,
        );
        (output, LstmState { h, c })
    }

    /// Closes every structure path (its gates become zero), so the model scores and samples as
    /// the same network without them: for measuring what the paths add.
    pub fn close_structure_paths(&self) {
        let _guard = tch::no_grad_guard();
        if let Some(gates) = &self.paths {
            let _ = gates.ws.shallow_clone().zero_();
            if let Some(bias) = &gates.bs {
                let _ = bias.shallow_clone().zero_();
            }
        }
    }

    /// The gates of the learned structure paths, for a model that has them.
    pub fn path_gates(&self) -> Option<&nn::Linear> {
        self.paths.as_ref()
    }

    /// The event embedding, with the controls and the style vector beside it for a steerable model.
    fn lstm_input(
        &self,
        events: &Tensor,
        conditioning: Option<&Conditioning>,
        structure: Option<&NonZeroInputs>,
    ) -> Tensor {
        let embedded = events.apply(&self.embedding);
        let Some(style) = &self.style else {
            return embedded;
        };
        let (batch, time) = (events.size()[0], events.size()[1]);
        let device = events.device();
        let (controls, styles) = match conditioning {
            Some(c) => (c.controls.shallow_clone(), c.styles.shallow_clone()),
            None => (
                Tensor::zeros(
                    [batch, time, self.inputs.controls as i64],
                    (Kind::Float, device),
                ),
                Tensor::zeros([batch], (Kind::Int64, device)),
            ),
        };
        let style_vectors = styles
            .apply(style)
            .unsqueeze(1)
            .expand([batch, time, self.inputs.style_dim as i64], false);
        let dense = self.inputs.dense_controls() as i64;
        let mut parts = vec![embedded, controls.narrow(2, 0, dense)];
        if let Some(table) = &self.structure {
            parts.push(match structure {
                Some(structure) => structure.project(table),
                None => Tensor::zeros(
                    [batch, time, self.inputs.structure_width as i64],
                    (Kind::Float, device),
                ),
            });
        }
        parts.push(style_vectors);
        Tensor::cat(&parts, 2)
    }
}

/// A steerable model's first-layer gate contributions of the controls and the style, as plain
/// numbers: the controls at a moment become one bias vector added to the first layer's gates,
/// so a controlled step costs the same as an uncontrolled one.
#[derive(Debug, Clone)]
pub struct ControlGates {
    /// `[control inputs, 4·hidden]`.
    controls: Vec<f32>,
    /// `[style rows, 4·hidden]`.
    styles: Vec<f32>,
    width: usize,
}

impl ControlGates {
    /// How many control inputs the model reads (one of the control layouts).
    pub fn inputs(&self) -> usize {
        self.controls.len() / self.width
    }

    /// The first-layer gate bias for `values` and style row `style` (`4·hidden` values).
    pub fn bias(&self, values: &ControlValues, style: usize) -> Vec<f32> {
        self.bias_of_inputs(&values.inputs(self.inputs()), style)
    }

    /// [`ControlGates::bias`] for control inputs already written out (`inputs()` wide).
    pub fn bias_of_inputs(&self, inputs: &[f32], style: usize) -> Vec<f32> {
        let rows = self.styles.len() / self.width;
        let mut bias = self.styles[style.min(rows - 1) * self.width..][..self.width].to_vec();
        for (i, &x) in inputs.iter().enumerate() {
            if x != 0.0 {
                let row = &self.controls[i * self.width..][..self.width];
                bias.iter_mut().zip(row).for_each(|(b, w)| *b += x * w);
            }
        }
        bias
    }
}

/// The network rearranged for sampling one event at a time, far cheaper per step than the fused
/// sequence op: per layer one matrix product of `[x; h]` with the stacked gate weights. The
/// embedding is folded into the first layer's input weights (a row lookup per event instead of a
/// matrix product), and the cell-gate rows are doubled so that one sigmoid serves all four gates
/// (tanh(z) = 2·σ(2z) − 1).
#[derive(Debug)]
pub struct LstmStepper {
    /// `[vocab, 4·hidden]`: embedding · W_ih(layer 0)ᵀ + both biases of layer 0.
    first_input_gates: Tensor,
    /// `[hidden, 4·hidden]`: W_hh(layer 0)ᵀ.
    first_recurrent: Tensor,
    /// Layers above the first: `[2·hidden, 4·hidden]` weights over `[x; h]`, and the bias.
    upper: Vec<(Tensor, Tensor)>,
    head_weight: Tensor,
    head_bias: Tensor,
    hidden: i64,
    /// A steerable model's control and style contributions to the first layer.
    control_gates: Option<ControlGates>,
    /// The learned structure paths' gates, for a model that has them.
    path_gates: Option<PathGates>,
}

impl LstmStepper {
    /// Builds the stepper from a model's current weights (a copy: later training does not affect it).
    pub fn new(model: &EventLstm) -> Self {
        let _guard = tch::no_grad_guard();
        let hidden = model.config.hidden;
        let layer = |l: usize| &model.lstm_weights[4 * l..4 * l + 4];
        let double_cell_gate = |t: &Tensor| {
            let mut scale = vec![1f32; (4 * hidden) as usize];
            scale[(2 * hidden) as usize..(3 * hidden) as usize].fill(2.0);
            let scale = Tensor::from_slice(&scale).to_device(t.device());
            if t.dim() == 1 {
                t * scale
            } else {
                t * scale.unsqueeze(1)
            }
        };
        let first = layer(0);
        let embed = model.config.embed;
        let first_input = double_cell_gate(&first[0]);
        let first_input_gates = model
            .embedding
            .ws
            .matmul(&first_input.narrow(1, 0, embed).transpose(0, 1))
            + double_cell_gate(&(&first[2] + &first[3]));
        let control_gates = model.style.as_ref().map(|style| {
            let dense = model.inputs.dense_controls() as i64;
            let width = model.inputs.structure_width as i64;
            let mut control_part = first_input.narrow(1, embed, dense).transpose(0, 1);
            if let Some(table) = &model.structure {
                // The projection is linear: its table times its gate columns is what each
                // projected input adds to the gates, as if the first layer read it densely.
                let projected =
                    table.matmul(&first_input.narrow(1, embed + dense, width).transpose(0, 1));
                control_part = Tensor::cat(&[control_part, projected], 0);
            }
            let style_part = style.ws.matmul(
                &first_input
                    .narrow(1, embed + dense + width, model.inputs.style_dim as i64)
                    .transpose(0, 1),
            );
            let values = |t: &Tensor| tensor_values(t).unwrap_or_default();
            ControlGates {
                controls: values(&control_part),
                styles: values(&style_part),
                width: (4 * hidden) as usize,
            }
        });
        let first_recurrent = double_cell_gate(&first[1]).transpose(0, 1).contiguous();
        let upper = (1..model.config.layers as usize)
            .map(|l| {
                let [w_ih, w_hh, b_ih, b_hh] = layer(l) else {
                    unreachable!("four tensors per layer")
                };
                let weight = Tensor::cat(&[w_ih, w_hh], 1);
                (
                    double_cell_gate(&weight).transpose(0, 1).contiguous(),
                    double_cell_gate(&(b_ih + b_hh)),
                )
            })
            .collect();
        Self {
            first_input_gates: first_input_gates.contiguous(),
            first_recurrent,
            upper,
            head_weight: model.head.ws.transpose(0, 1).contiguous(),
            head_bias: match &model.head.bs {
                Some(bias) => bias.copy(),
                None => Tensor::zeros([VOCAB_SIZE as i64], (Kind::Float, model.head.ws.device())),
            },
            hidden,
            control_gates,
            path_gates: model
                .paths
                .as_ref()
                .and_then(|layer| PathGates::of(layer).ok()),
        }
    }

    /// The learned structure paths' gates; `None` for a model without them.
    pub fn path_gates(&self) -> Option<&PathGates> {
        self.path_gates.as_ref()
    }

    /// A steerable model's control contributions; `None` for a model without controls.
    pub fn control_gates(&self) -> Option<&ControlGates> {
        self.control_gates.as_ref()
    }

    /// Feeds one event per sequence (`events`: `[batch]` int64) and returns the logits over the
    /// next event (`[batch, vocab]`), updating `state`. `extra` (`[batch, 4·hidden]`), if given,
    /// is added to the first layer's gates: the controls' [`ControlGates::bias`].
    pub fn step(&self, events: &Tensor, extra: Option<&Tensor>, state: &mut StepState) -> Tensor {
        let _guard = tch::no_grad_guard();
        let mut input: Option<Tensor> = None;
        for (layer, (h, c)) in state.h.iter_mut().zip(state.c.iter_mut()).enumerate() {
            let gates = match &input {
                None => {
                    let looked_up = self.first_input_gates.index_select(0, events);
                    let looked_up = match extra {
                        Some(extra) => looked_up + extra,
                        None => looked_up,
                    };
                    looked_up.addmm(h, &self.first_recurrent)
                }
                Some(x) => {
                    let (weight, bias) = &self.upper[layer - 1];
                    bias.addmm(&Tensor::cat(&[x, &*h], 1), weight)
                }
            };
            let (new_h, new_c) = self.cell(&gates, c);
            input = Some(new_h.shallow_clone());
            *h = new_h;
            *c = new_c;
        }
        let top = input.expect("a model has at least one layer");
        self.head_bias.addmm(&top, &self.head_weight)
    }

    /// The same step in plain Rust for the CPU (see [`CpuStepper`]), on `threads` threads.
    pub fn to_cpu(&self, threads: usize) -> Result<CpuStepper, tch::TchError> {
        let upper = self
            .upper
            .iter()
            .map(|(weight, bias)| Ok((tensor_values(weight)?, tensor_values(bias)?)))
            .collect::<Result<Vec<_>, tch::TchError>>()?;
        Ok(CpuStepper::new(
            tensor_values(&self.first_input_gates)?,
            &tensor_values(&self.first_recurrent)?,
            &upper,
            (
                &tensor_values(&self.head_weight)?,
                &tensor_values(&self.head_bias)?,
            ),
            self.hidden as usize,
            threads,
        ))
    }

    fn cell(&self, gates: &Tensor, c: &Tensor) -> (Tensor, Tensor) {
        let squashed = gates.sigmoid();
        let parts = squashed.split(self.hidden, 1);
        let [input_gate, forget_gate, cell_gate, output_gate] = &parts[..] else {
            unreachable!("four gates")
        };
        let candidate = cell_gate * 2.0 - 1.0;
        let c = (forget_gate * c).addcmul(input_gate, &candidate);
        let h = output_gate * c.tanh();
        (h, c)
    }
}

/// A float tensor's values, row-major, on the CPU.
fn tensor_values(tensor: &Tensor) -> Result<Vec<f32>, tch::TchError> {
    Vec::<f32>::try_from(
        tensor
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous()
            .reshape([-1]),
    )
}

/// Where to run the network, as the user asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CUDA when a usable GPU is there, else the CPU (saying why).
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// The first CUDA GPU; an error if there is none.
    Cuda,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!("unknown device {other:?}: use auto, cpu or cuda")),
        }
    }
}

/// The device chosen, and why, for the UI and logs.
#[derive(Debug, Clone)]
pub struct ResolvedDevice {
    /// The tch device.
    pub device: Device,
    /// A short explanation, e.g. "CPU (no CUDA device found)".
    pub description: String,
}

impl ResolvedDevice {
    /// "cpu" or "cuda", as reported in progress events.
    pub fn name(&self) -> &'static str {
        if self.device.is_cuda() { "cuda" } else { "cpu" }
    }
}

/// Picks the device. CUDA support (libtorch_cuda) is loaded only when a GPU may be used, so
/// commands that run on the CPU start as fast as possible.
pub fn resolve_device(choice: DeviceChoice) -> Result<ResolvedDevice, String> {
    let cpu = |why: &str| ResolvedDevice {
        device: Device::Cpu,
        description: format!("CPU{why}"),
    };
    if choice == DeviceChoice::Cpu {
        return Ok(cpu(""));
    }
    let cuda = cuda_availability();
    match (choice, cuda) {
        (_, Ok(())) => Ok(ResolvedDevice {
            device: Device::Cuda(0),
            description: "CUDA GPU 0".to_string(),
        }),
        (DeviceChoice::Cuda, Err(why)) => Err(format!("CUDA was asked for but {why}")),
        (_, Err(why)) => Ok(cpu(&format!(" ({why})"))),
    }
}

/// Loads libtorch's CUDA backend (dropped at link time because nothing refers to it directly) and
/// checks for a device.
fn cuda_availability() -> Result<(), String> {
    load_cuda_backend()?;
    if tch::Cuda::is_available() {
        Ok(())
    } else {
        Err("no CUDA device found: no NVIDIA GPU, or a driver too old for CUDA 13".to_string())
    }
}

/// Loads `libtorch_cuda.so` by name: the executable's RUNPATH (libtorch's folder in a build, `lib/`
/// beside the executable in a bundle) says where, so no build machine's path is compiled in.
fn load_cuda_backend() -> Result<(), String> {
    // SAFETY: dlopen with a NUL-terminated name; the handle is deliberately kept open for the life
    // of the process, as libtorch registers its CUDA backend when the library loads.
    let handle = unsafe {
        libc::dlopen(
            c"libtorch_cuda.so".as_ptr(),
            libc::RTLD_NOW | libc::RTLD_GLOBAL,
        )
    };
    if !handle.is_null() {
        return Ok(());
    }
    // SAFETY: dlerror returns a NUL-terminated message owned by libc (or null).
    let reason = unsafe {
        let message = libc::dlerror();
        (!message.is_null()).then(|| {
            std::ffi::CStr::from_ptr(message)
                .to_string_lossy()
                .into_owned()
        })
    };
    let missing = reason
        .as_deref()
        .and_then(|r| r.split(':').next())
        .unwrap_or("");
    Err(if missing.contains("libtorch_cuda") {
        "this build has no CUDA support (a CPU-only libtorch)".to_string()
    } else {
        "libtorch's CUDA libraries are not installed, as in the default lean set-up; CADENZA_CUDA=1 bash .ci/setup adds them".to_string()
    })
}

/// Sets the number of CPU threads libtorch uses (process-wide).
pub fn set_threads(threads: usize) {
    tch::set_num_threads(threads.clamp(1, 256) as i32);
}
