//! The network stepping one event at a time for every variation at once.

use tch::{Device, Tensor};

use crate::model::{
    ActiveLinks, Conditioning, ControlGates, CpuState, CpuStepper, EventLstm, LstmStepper,
    PathGates, StepState,
};
use crate::music::controls::ControlValues;
use crate::music::encoding::EventId;
use crate::music::lookback::Played;

use super::settings::GenerateError;
use super::steering::Steering;

/// The network stepping one event at a time: in plain Rust on the CPU (weights read once per step
/// for all variations), through libtorch on a GPU. A steerable model's controls enter as a bias on
/// the first layer's gates, so the step itself is the same fused one; a model's learned
/// structure paths are added to the logits after it.
pub(crate) struct Stepping {
    network: Network,
    paths: Option<PathGates>,
}

enum Network {
    Cpu(CpuStepper, CpuState, Option<ControlGates>),
    Torch(LstmStepper, StepState, Device),
}

impl Stepping {
    pub(crate) fn new(
        model: &EventLstm,
        device: Device,
        state: StepState,
    ) -> Result<Self, GenerateError> {
        let stepper = LstmStepper::new(model);
        let paths = stepper.path_gates().cloned();
        let network = if device.is_cuda() {
            Network::Torch(stepper, state, device)
        } else {
            // The same thread count as libtorch's, which `set_threads` and the CLI control.
            let threads = usize::try_from(tch::get_num_threads()).unwrap_or(1);
            let gates = stepper.control_gates().cloned();
            Network::Cpu(stepper.to_cpu(threads)?, state.to_cpu_state()?, gates)
        };
        Ok(Self { network, paths })
    }

    fn control_gates(&self) -> Option<ControlGates> {
        match &self.network {
            Network::Cpu(_, _, gates) => gates.clone(),
            Network::Torch(stepper, _, _) => stepper.control_gates().cloned(),
        }
    }

    /// Feeds one event per variation, with each variation's controls (a bias on the first
    /// layer's gates, and its structure paths); `logits` receives `[variations, vocab]` for the
    /// next.
    pub(crate) fn step(
        &mut self,
        inputs: &[i64],
        controls: &VoiceControls,
        logits: &mut Vec<f32>,
    ) -> Result<(), GenerateError> {
        self.step_network(inputs, &controls.bias, logits)?;
        if let Some(paths) = &self.paths
            && controls
                .active
                .iter()
                .any(|links| *links != ActiveLinks::default())
        {
            let top = match &self.network {
                Network::Cpu(_, state, _) => state.h.last().cloned().unwrap_or_default(),
                Network::Torch(_, state, _) => state.top()?,
            };
            paths.add_to_logits(&top, &controls.active, logits);
        }
        Ok(())
    }

    fn step_network(
        &mut self,
        inputs: &[i64],
        extra: &[f32],
        logits: &mut Vec<f32>,
    ) -> Result<(), GenerateError> {
        match &mut self.network {
            Network::Cpu(stepper, state, _) => {
                let events: Vec<usize> = inputs.iter().map(|&e| e as usize).collect();
                stepper.step(&events, extra, state, logits);
            }
            Network::Torch(stepper, state, device) => {
                let inputs = Tensor::from_slice(inputs).to_device(*device);
                let extra = (!extra.is_empty()).then(|| {
                    Tensor::from_slice(extra)
                        .view([inputs.size()[0], -1])
                        .to_device(*device)
                });
                let next = stepper
                    .step(&inputs, extra.as_ref(), state)
                    .to_device(Device::Cpu);
                *logits = Vec::<f32>::try_from(next.reshape([-1]))?;
            }
        }
        Ok(())
    }
}

/// Each variation's controls in force at its current time: the first-layer gate bias and the
/// structure paths' active links, recomputed only when its controls change (a curve crossing
/// into another bin, a key change, a new position on the grid).
pub(crate) struct VoiceControls {
    gates: Option<ControlGates>,
    has_paths: bool,
    current: Vec<Option<(ControlValues, usize)>>,
    /// `[variations, 4·hidden]` for a steerable model, empty otherwise.
    bias: Vec<f32>,
    /// Per variation; empty links for a model without paths.
    active: Vec<ActiveLinks>,
}

impl VoiceControls {
    pub(crate) fn new(network: &Stepping, batch: usize) -> Self {
        Self {
            gates: network.control_gates(),
            has_paths: network.paths.is_some(),
            current: vec![None; batch],
            bias: Vec::new(),
            active: vec![ActiveLinks::default(); batch],
        }
    }

    /// Brings each variation's controls up to date; `played` is what each variation has played
    /// so far.
    pub(crate) fn update<'p>(
        &mut self,
        steering: &Steering,
        played: impl Iterator<Item = &'p Played>,
    ) {
        let Some(gates) = &self.gates else {
            return;
        };
        let batch = self.current.len();
        for (i, played) in played.enumerate() {
            let wanted = steering.values_after(played);
            if wanted == self.current[i] {
                continue;
            }
            if let Some((values, style)) = wanted {
                // Written out once for the gate bias and the paths' links alike.
                let inputs = values.inputs(gates.inputs());
                let bias = gates.bias_of_inputs(&inputs, style);
                let width = bias.len();
                self.bias.resize(batch * width, 0.0);
                self.bias[i * width..][..width].copy_from_slice(&bias);
                if self.has_paths {
                    self.active[i] = ActiveLinks::of_inputs(&inputs);
                }
                self.current[i] = wanted;
            }
        }
    }
}

/// Runs the primer through the network; returns the logits for the first new event and the state,
/// both repeated for each variation.
pub(crate) fn read_primer(
    model: &EventLstm,
    conditioning: Option<&Conditioning>,
    device: Device,
    events: &[EventId],
    batch: usize,
) -> Result<(Tensor, StepState), GenerateError> {
    let _guard = tch::no_grad_guard();
    let ids: Vec<i64> = events.iter().map(|&e| i64::from(e)).collect();
    let input = Tensor::from_slice(&ids).to_device(device).unsqueeze(0);
    let (logits, state) = model.forward(&input, conditioning, &model.zero_state(1, device), false);
    let last = logits.f_get(0)?.f_get(ids.len() as i64 - 1)?;
    let logits = last.unsqueeze(0).repeat([batch as i64, 1]);
    Ok((logits, StepState::from(state).repeat_batch(batch as i64)))
}
