//! The network: Embedding → multi-layer LSTM → Linear over the event vocabulary, predicting the
//! next event. Parameter names follow PyTorch's `nn.Embedding`/`nn.LSTM`/`nn.Linear`, so a
//! checkpoint's safetensors file loads into the equivalent PyTorch module.

use tch::{Device, Kind, Tensor, nn};

use crate::encoding::VOCAB_SIZE;

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

/// Embedding → LSTM → Linear. Dropout is chosen per call, so one set of weights serves training
/// (dropout on) and scoring or sampling (dropout off).
#[derive(Debug)]
pub struct EventLstm {
    embedding: nn::Embedding,
    lstm_weights: Vec<Tensor>,
    head: nn::Linear,
    config: ModelConfig,
}

impl EventLstm {
    /// Creates the network's variables under `root`, initialised as PyTorch would.
    pub fn new(root: &nn::Path, config: ModelConfig) -> Self {
        let vocab = VOCAB_SIZE as i64;
        let embedding = nn::embedding(root / "embedding", vocab, config.embed, Default::default());
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
                config.embed
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
        let head = nn::linear(root / "head", config.hidden, vocab, Default::default());
        Self {
            embedding,
            lstm_weights,
            head,
            config,
        }
    }

    /// The network's shape.
    pub fn config(&self) -> ModelConfig {
        self.config
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
    pub fn forward(&self, events: &Tensor, state: &LstmState, train: bool) -> (Tensor, LstmState) {
        let embedded = events.apply(&self.embedding);
        let weights: Vec<&Tensor> = self.lstm_weights.iter().collect();
        let (output, h, c) = embedded.lstm(
            &[&state.h, &state.c],
            &weights,
            true,
            self.config.layers,
            self.config.dropout,
            train,
            false,
            true,
        );
        (output.apply(&self.head), LstmState { h, c })
    }
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

fn load_cuda_backend() -> Result<(), String> {
    let mut candidates = vec!["libtorch_cuda.so".to_string()];
    if let Some(dir) = option_env!("LIBTORCH") {
        candidates.push(format!("{dir}/lib/libtorch_cuda.so"));
    }
    for name in &candidates {
        let Ok(c_name) = std::ffi::CString::new(name.as_str()) else {
            continue;
        };
        // SAFETY: dlopen with a valid NUL-terminated path; the handle is deliberately kept open for
        // the life of the process, as libtorch registers its CUDA backend when the library loads.
        let handle = unsafe { libc::dlopen(c_name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if !handle.is_null() {
            return Ok(());
        }
    }
    Err("libtorch's CUDA library could not be loaded".to_string())
}

/// Sets the number of CPU threads libtorch uses (process-wide).
pub fn set_threads(threads: usize) {
    tch::set_num_threads(threads.clamp(1, 256) as i32);
}
