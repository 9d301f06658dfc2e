//! Checkpoints: a path stem `P` names two files, `P.safetensors` (the weights) and `P.json` (what
//! the weights are: versions, hyperparameters, corpus, losses). Saving writes temporary files, then
//! renames the weights, then the JSON, so a crash never leaves a broken checkpoint where a good one
//! was; loading checks versions and the weights' SHA-256.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tch::{Device, nn};

use crate::base::files::with_suffix;
pub use crate::model::naming::{files, meta_path, stem, weights_path};
use crate::model::{EventLstm, Inputs, InvalidConfig, ModelConfig, starter};
use crate::music::controls::{
    CONTROL_INPUTS, CONTROL_INPUTS_WITH_LOOKBACK, CONTROL_INPUTS_WITH_METER, CONTROL_LAYOUTS,
    ControlsMeta,
};
use crate::music::encoding::{ENCODING_ID, Encoding};

/// Version of the checkpoint layout written; bumped when the JSON or the weight names change.
/// Version 2 added the start event and the controls; version 1 checkpoints still load.
pub const FORMAT_VERSION: u32 = 2;

/// The encoding each readable format version was written with.
fn encoding_of_format(version: u32) -> Option<Encoding> {
    match version {
        1 => Some(Encoding::V1),
        2 => Some(Encoding::V2),
        _ => None,
    }
}

/// Training settings that are not part of the network's shape.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainSettings {
    /// Events per training window (the model reads this many, predicting the next of each).
    pub seq_len: usize,
    /// Windows per optimizer step.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Gradients are scaled down when their global L2 norm exceeds this.
    pub clip: f64,
    /// Multiply the learning rate by this after each epoch (1 = constant).
    pub lr_decay: f64,
    /// Seed for weights, window sampling and augmentation.
    pub seed: u64,
}

impl TrainSettings {
    /// Defaults for the `quick` preset.
    pub const QUICK: Self = Self {
        seq_len: 128,
        batch: 32,
        lr: 2e-3,
        clip: 3.0,
        lr_decay: 1.0,
        seed: 1,
    };
    /// Defaults for the `standard` preset (Performance RNN's recipe).
    pub const STANDARD: Self = Self {
        seq_len: 256,
        batch: 64,
        lr: 1e-3,
        clip: 3.0,
        lr_decay: 1.0,
        seed: 1,
    };

    /// Defaults for fine-tuning a trained model (the starter) on a new corpus: the learning rate
    /// a trained model ends its training with (the starter's decayed to 1e-4), so a small corpus
    /// adapts the model without undoing what it learned (at 5e-4, Adam's first steps did: the
    /// held-out NLL rose), and short CPU steps, so a few minutes make a few hundred updates.
    pub const FINE_TUNE: Self = Self {
        seq_len: 128,
        batch: 32,
        lr: 1e-4,
        clip: 3.0,
        lr_decay: 1.0,
        seed: 1,
    };

    /// Largest window and batch accepted: far beyond what fits in memory is refused up front.
    pub const MAX_SEQ_LEN: usize = 8192;
    /// Largest batch accepted.
    pub const MAX_BATCH: usize = 4096;

    /// Checks the recipe, naming the first field out of range.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let invalid = |field: &'static str, reason: String| Err(InvalidConfig { field, reason });
        if !(2..=Self::MAX_SEQ_LEN).contains(&self.seq_len) {
            return invalid(
                "seq_len",
                format!(
                    "{} is not between 2 and {}",
                    self.seq_len,
                    Self::MAX_SEQ_LEN
                ),
            );
        }
        if !(1..=Self::MAX_BATCH).contains(&self.batch) {
            return invalid(
                "batch",
                format!("{} is not between 1 and {}", self.batch, Self::MAX_BATCH),
            );
        }
        for (field, value, max) in [
            // libtorch takes the rate as a 32-bit float: larger ones overflow inside Adam.
            ("lr", self.lr, 1e30),
            ("clip", self.clip, 1e6),
            ("lr_decay", self.lr_decay, 1.0),
        ] {
            if !(value.is_finite() && value > 0.0 && value <= max) {
                return invalid(field, format!("{value} is not above 0 and at most {max}"));
            }
        }
        Ok(())
    }
}

/// What a model was trained on.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorpusInfo {
    /// The corpus folder, as given.
    pub path: String,
    /// Hash of the pieces' paths and events: tells whether two runs saw the same data.
    pub fingerprint: String,
    /// Training pieces.
    pub train_pieces: usize,
    /// Validation pieces.
    pub valid_pieces: usize,
    /// Events in the training pieces (unaugmented): one epoch.
    pub train_events: usize,
    /// Events in the validation pieces.
    pub valid_events: usize,
}

impl CorpusInfo {
    /// The corpus folder's name (`demo-corpus`), for labels; `None` for a path without one.
    pub fn name(&self) -> Option<String> {
        Path::new(&self.path)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
    }
}

/// One point of the validation curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidPoint {
    /// Optimizer step.
    pub step: u64,
    /// NLL per event in nats.
    pub loss: f64,
    /// Scored on every validation piece (else on the fixed subset).
    pub full: bool,
}

/// The loss curves so far, so a reopened model shows them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// (step, training loss of that step's batch).
    pub train: Vec<(u64, f64)>,
    /// Validation losses.
    pub valid: Vec<ValidPoint>,
}

/// What a model's validation losses score each validation piece with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validation {
    /// Every control absent, so steerable and plain models compare directly.
    #[default]
    Absent,
    /// For a model that reads the bar grid, each piece's own grid and lookback (every other
    /// control absent): the score the structure paths can improve, and the one its takes in bars
    /// are sampled under. Other models are scored with every control absent.
    OwnGrid,
}

/// How a model came to be, for people reading `P.json` (and the README of a shipped model).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// The command line of the latest run, when it came from the CLI.
    pub command: Option<String>,
    /// Seconds of training in this model's runs, pauses excluded (a fine-tune counts its own
    /// runs only: `initialized_from` names where its weights began).
    pub training_seconds: f64,
    /// Where the latest run trained, e.g. "CUDA GPU 0".
    pub device: Option<String>,
    /// For a fine-tuned model: the checkpoint its weights began as (label and weights hash).
    pub initialized_from: Option<String>,
    /// What the latest run's validation losses (and `valid_nll`) scored the pieces with.
    pub validation: Validation,
}

/// Everything `P.json` holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointMeta {
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// [`ENCODING_ID`] when written.
    pub encoding: String,
    /// The network's shape.
    pub model: ModelConfig,
    /// How it was trained.
    pub train: TrainSettings,
    /// Optimizer steps taken, in all runs.
    pub step: u64,
    /// Epochs trained, in all runs.
    pub epoch: f64,
    /// What it was trained on (the latest run's corpus when fine-tuned).
    pub corpus: CorpusInfo,
    /// NLL per event on all validation pieces, when measured at save time.
    pub valid_nll: Option<f64>,
    /// Loss curves.
    pub history: History,
    /// SHA-256 of `P.safetensors`, hex.
    pub weights_sha256: String,
    /// What the model can be steered by; `None` for a model trained without controls (and for
    /// every format-1 checkpoint).
    #[serde(default)]
    pub controls: Option<ControlsMeta>,
    /// How it was trained and from what (absent from checkpoints written before).
    #[serde(default)]
    pub provenance: Provenance,
}

/// Why a checkpoint could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file is missing or unreadable/unwritable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The JSON is not a Cadenza checkpoint description.
    #[error("{path}: not a valid Cadenza checkpoint description ({reason})")]
    BadMeta {
        /// The JSON file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// Written by another version of the checkpoint layout.
    #[error(
        "{path}: checkpoint format version {found}, this Cadenza reads versions 1 to {FORMAT_VERSION}"
    )]
    FormatVersion {
        /// The JSON file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
    },
    /// Trained on another event encoding: its outputs would mean different events.
    #[error(
        "{path}: trained with event encoding {found:?}, which this Cadenza does not read for its format version (it uses {ENCODING_ID:?})"
    )]
    Encoding {
        /// The JSON file.
        path: PathBuf,
        /// The encoding in the file.
        found: String,
    },
    /// The weights are not the ones the JSON describes (truncated, replaced or corrupt).
    #[error(
        "{path}: the weights do not match their description (SHA-256 differs): the file is damaged or from another save"
    )]
    HashMismatch {
        /// The weights file.
        path: PathBuf,
    },
    /// The starter model's weights are not the ones this Cadenza shipped.
    #[error(
        "{path}: the starter model is damaged or was replaced (its SHA-256 is {found}, not the shipped one): reinstall Cadenza, or restore assets/models/ from the repository"
    )]
    NotShipped {
        /// The weights file.
        path: PathBuf,
        /// Its SHA-256.
        found: String,
    },
    /// The description holds impossible values (a size of 0, a NaN loss, ...).
    #[error("{path}: impossible checkpoint: {reason}")]
    Invalid {
        /// The JSON file.
        path: PathBuf,
        /// Which field, and why.
        reason: String,
    },
    /// Another process is writing this checkpoint.
    #[error(
        "{}: another Cadenza process ({holder}) is training into this checkpoint; wait for it or choose another output",
        path.display()
    )]
    Locked {
        /// The checkpoint stem.
        path: PathBuf,
        /// The other process, as its lock file names it.
        holder: String,
    },
    /// libtorch could not read or write the weights.
    #[error("{path}: {reason}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// libtorch's message.
        reason: String,
    },
}

impl From<crate::base::files::WriteError> for CheckpointError {
    fn from(err: crate::base::files::WriteError) -> Self {
        Self::Io {
            path: err.path,
            source: err.source,
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The largest description read (a long history is a few MB).
const MAX_META_BYTES: u64 = 256 << 20;
/// The largest weights file hashed (far beyond the largest shape `validate` accepts).
const MAX_WEIGHTS_BYTES: u64 = 16 << 30;
/// Widest projection of the bar grid's inputs accepted: wider than the 453 inputs it projects
/// would cost more than reading them densely.
const MAX_STRUCTURE_WIDTH: usize = 512;

/// The SHA-256 of a regular file, streamed (weights can be large).
pub fn sha256_file(path: &Path) -> Result<String, CheckpointError> {
    let refuse = |reason: &str| CheckpointError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, reason.to_string()),
    };
    // Checked before opening: opening a FIFO blocks until someone writes to it.
    let metadata = std::fs::metadata(path).map_err(io_error(path))?;
    if !metadata.is_file() {
        return Err(refuse("not a regular file"));
    }
    if metadata.len() > MAX_WEIGHTS_BYTES {
        return Err(refuse("too large to be a Cadenza checkpoint"));
    }
    let mut file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io_error(path))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The steps of a save, in order; a kill between any two leaves a loadable checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveStep {
    /// `P.tmp.safetensors` is written.
    WeightsWritten,
    /// `P.tmp.json` (naming the new weights' hash) is written.
    MetaWritten,
    /// The new weights are in place as `P.safetensors`; `P.json` is still the old one, and
    /// loading recovers the new description from `P.tmp.json`.
    WeightsRenamed,
}

/// Saves `vars` and `meta` under `stem` atomically; fills in `meta.weights_sha256`.
pub fn save(
    stem: &Path,
    vars: &nn::VarStore,
    meta: &mut CheckpointMeta,
) -> Result<(), CheckpointError> {
    save_with_hook(stem, vars, meta, &mut |_| true)
}

/// [`save`], calling `proceed` after each [`SaveStep`]; `false` stops the save there, as a kill
/// would (for the tests of the commit point).
pub fn save_with_hook(
    stem: &Path,
    vars: &nn::VarStore,
    meta: &mut CheckpointMeta,
    proceed: &mut dyn FnMut(SaveStep) -> bool,
) -> Result<(), CheckpointError> {
    if let Some(folder) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(io_error(folder))?;
    }
    let temporary = temporary_stem(stem);
    // tch chooses the format from the extension, so the temporary weights end in .safetensors too.
    let temporary_weights = weights_path(&temporary);
    let temporary_meta = meta_path(&temporary);
    let result = write_temporaries(vars, meta, &temporary_weights, &temporary_meta, proceed);
    let committed = result.and_then(|go_on| {
        if !go_on {
            return Ok(false);
        }
        let weights = weights_path(stem);
        std::fs::rename(&temporary_weights, &weights).map_err(io_error(&weights))?;
        if !proceed(SaveStep::WeightsRenamed) {
            return Ok(false);
        }
        let meta_file = meta_path(stem);
        std::fs::rename(&temporary_meta, &meta_file).map_err(io_error(&meta_file))?;
        Ok(true)
    });
    if committed.is_err() {
        // Nothing half-written stays behind; the previous checkpoint is untouched.
        let _ = std::fs::remove_file(&temporary_weights);
        let _ = std::fs::remove_file(&temporary_meta);
    }
    committed.map(|_| ())
}

fn write_temporaries(
    vars: &nn::VarStore,
    meta: &mut CheckpointMeta,
    temporary_weights: &Path,
    temporary_meta: &Path,
    proceed: &mut dyn FnMut(SaveStep) -> bool,
) -> Result<bool, CheckpointError> {
    vars.save(temporary_weights)
        .map_err(|err| CheckpointError::Weights {
            path: temporary_weights.to_path_buf(),
            reason: err.to_string(),
        })?;
    if !proceed(SaveStep::WeightsWritten) {
        return Ok(false);
    }
    meta.format_version = FORMAT_VERSION;
    meta.encoding = ENCODING_ID.to_string();
    meta.weights_sha256 = sha256_file(temporary_weights)?;
    let json = serde_json::to_vec_pretty(meta).map_err(|err| CheckpointError::BadMeta {
        path: temporary_meta.to_path_buf(),
        reason: err.to_string(),
    })?;
    crate::base::files::write_atomic(temporary_meta, &json)?;
    Ok(proceed(SaveStep::MetaWritten))
}

/// Proves that a checkpoint can be written at `stem` before any work is done: the folder is
/// created and a temporary file written and removed. A folder given as the stem is refused.
pub fn check_writable(stem: &Path) -> Result<(), CheckpointError> {
    let names_a_folder = stem.as_os_str().to_string_lossy().ends_with('/') || stem.is_dir();
    if names_a_folder || stem.file_name().is_none() {
        return Err(CheckpointError::Invalid {
            path: stem.to_path_buf(),
            reason: "this is a folder; name the checkpoint inside it, e.g. folder/model"
                .to_string(),
        });
    }
    if let Some(folder) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(io_error(folder))?;
    }
    Ok(crate::base::files::check_writable(&meta_path(stem))?)
}

/// `P.tmp`: the stem of a save in progress.
fn temporary_stem(stem: &Path) -> PathBuf {
    with_suffix(stem, ".tmp")
}

/// Reads and checks `P.json` (format and encoding versions).
pub fn load_meta(stem: &Path) -> Result<CheckpointMeta, CheckpointError> {
    let path = meta_path(stem);
    let text = crate::base::files::read_bounded(&path, MAX_META_BYTES).map_err(io_error(&path))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|err| CheckpointError::BadMeta {
            path: path.clone(),
            reason: err.to_string(),
        })?;
    // Check the versions before the full shape, so an old checkpoint gets the right message.
    let found = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as u32;
    let Some(expected) = encoding_of_format(found) else {
        return Err(CheckpointError::FormatVersion { path, found });
    };
    let encoding = value
        .get("encoding")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if encoding != expected.id() {
        return Err(CheckpointError::Encoding {
            path,
            found: encoding.to_string(),
        });
    }
    let meta: CheckpointMeta =
        serde_json::from_value(value).map_err(|err| CheckpointError::BadMeta {
            path: path.clone(),
            reason: err.to_string(),
        })?;
    meta.validate()
        .map_err(|reason| CheckpointError::Invalid { path, reason })?;
    Ok(meta)
}

impl CheckpointMeta {
    /// The event encoding the model was trained with (checked when the description was loaded).
    pub fn encoding(&self) -> Encoding {
        Encoding::from_id(&self.encoding).unwrap_or(Encoding::V1)
    }

    /// What the network reads.
    pub fn inputs(&self) -> Inputs {
        Inputs::new(self.encoding(), self.controls.as_ref())
    }

    /// Checks what a description claims: a buildable shape, a sane recipe, finite losses.
    pub fn validate(&self) -> Result<(), String> {
        self.model
            .validate()
            .map_err(|err| format!("model.{err}"))?;
        self.train
            .validate()
            .map_err(|err| format!("train.{err}"))?;
        if !self.epoch.is_finite() || self.epoch < 0.0 {
            return Err(format!("epoch: {} is not a finite count", self.epoch));
        }
        if let Some(bad) = self
            .history
            .train
            .iter()
            .find(|(_, loss)| !loss.is_finite())
        {
            return Err(format!(
                "history.train: the loss at step {} is {}",
                bad.0, bad.1
            ));
        }
        if let Some(bad) = self.history.valid.iter().find(|v| !v.loss.is_finite()) {
            return Err(format!(
                "history.valid: the loss at step {} is {}",
                bad.step, bad.loss
            ));
        }
        if self.valid_nll.is_some_and(|nll| !nll.is_finite()) {
            return Err("valid_nll is not finite".to_string());
        }
        let seconds = self.provenance.training_seconds;
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(format!(
                "provenance.training_seconds: {seconds} is not a duration"
            ));
        }
        if let Some(controls) = &self.controls {
            if self.encoding() == Encoding::V1 {
                return Err("controls: a format-1 model has none".to_string());
            }
            if !CONTROL_LAYOUTS.contains(&controls.inputs) {
                return Err(format!(
                    "controls.inputs: {} control inputs, this Cadenza reads {CONTROL_INPUTS_WITH_LOOKBACK} (or {CONTROL_INPUTS_WITH_METER} from before the lookback, {CONTROL_INPUTS} from before the bar grid)",
                    controls.inputs
                ));
            }
            if controls.structure_paths && controls.inputs != CONTROL_INPUTS_WITH_LOOKBACK {
                return Err(format!(
                    "controls.structure_paths: the paths read the lookback's inputs, and this model has {} control inputs, not {CONTROL_INPUTS_WITH_LOOKBACK}",
                    controls.inputs
                ));
            }
            if controls.structure_width > 0 && controls.inputs == CONTROL_INPUTS {
                return Err(format!(
                    "controls.structure_width: {} projects the bar grid's inputs, and this model has only the {CONTROL_INPUTS} from before the grid",
                    controls.structure_width
                ));
            }
            if controls.structure_width > MAX_STRUCTURE_WIDTH {
                return Err(format!(
                    "controls.structure_width: {}, at most {MAX_STRUCTURE_WIDTH}",
                    controls.structure_width
                ));
            }
            if !(1..=64).contains(&controls.style_dim) || controls.styles.len() > 100_000 {
                return Err("controls: impossible style embedding size".to_string());
            }
        }
        Ok(())
    }
}

/// Refuses a description that declares more weights than its weights file can hold, before the
/// network is built: 4 × 4096 × 4096 declared in a few bytes of JSON would otherwise take 2.2 GB.
fn check_declared_size(stem: &Path, meta: &CheckpointMeta) -> Result<(), CheckpointError> {
    let path = weights_path(stem);
    let file_bytes = std::fs::metadata(&path).map_err(io_error(&path))?.len();
    let declared = EventLstm::parameter_count(meta.model, meta.inputs());
    // 32-bit floats, as every checkpoint is saved.
    let needed_bytes = declared.saturating_mul(4);
    if needed_bytes > file_bytes {
        return Err(CheckpointError::Weights {
            path,
            reason: format!(
                "the weights do not match the description: it declares {declared} weights ({}), the file holds {}",
                size_text(needed_bytes, file_bytes),
                size_text(file_bytes, needed_bytes)
            ),
        });
    }
    Ok(())
}

/// `bytes` in whole megabytes, or exactly where that would read the same as `other` (a
/// description one layer of gates larger than its file differs by kilobytes).
fn size_text(bytes: u64, other: u64) -> String {
    if bytes >> 20 == other >> 20 {
        format!("{bytes} bytes")
    } else {
        format!("{} MB", bytes >> 20)
    }
}

/// Proves the weights file of `stem` is the one its description names (by its sha256).
fn verify_hash(stem: &Path, meta: &CheckpointMeta) -> Result<(), CheckpointError> {
    let path = weights_path(stem);
    if sha256_file(&path)? != meta.weights_sha256 {
        return Err(CheckpointError::HashMismatch { path });
    }
    Ok(())
}

/// Copies the weights file of `stem` into `vars`, refusing missing, extra or reshaped tensors.
fn copy_weights(stem: &Path, vars: &nn::VarStore) -> Result<(), CheckpointError> {
    let path = weights_path(stem);
    let refuse = |reason: String| CheckpointError::Weights {
        path: path.clone(),
        reason,
    };
    let mut saved: std::collections::HashMap<String, tch::Tensor> =
        tch::Tensor::read_safetensors(&path)
            .map_err(|err| refuse(err.to_string()))?
            .into_iter()
            .collect();
    let _no_grad = tch::no_grad_guard();
    for (name, mut var) in vars.variables() {
        let tensor = saved
            .remove(&name)
            .ok_or_else(|| refuse(format!("the weights lack {name}")))?;
        // Checked here because libtorch's copy would silently convert or broadcast.
        if tensor.kind() != var.kind() || tensor.size() != var.size() {
            return Err(refuse(format!(
                "{name} is {:?} {:?} where the description needs {:?} {:?}",
                tensor.kind(),
                tensor.size(),
                var.kind(),
                var.size()
            )));
        }
        var.f_copy_(&tensor)
            .map_err(|err| refuse(err.to_string()))?;
    }
    match saved.keys().next() {
        Some(extra) => Err(refuse(format!(
            "the weights hold {extra}, which this model lacks"
        ))),
        None => Ok(()),
    }
}

/// Finishes a save that was killed between its two renames: the new weights are in place and
/// `P.tmp.json` describes them, while `P.json` still describes the old ones. Returns whether it
/// recovered; anything else is left as it is.
fn recover_interrupted_save(stem: &Path) -> bool {
    let pending = meta_path(&temporary_stem(stem));
    let Some(pending_meta) = crate::base::files::read_bounded(&pending, MAX_META_BYTES)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CheckpointMeta>(&bytes).ok())
    else {
        return false;
    };
    let weights_match =
        sha256_file(&weights_path(stem)).is_ok_and(|hash| hash == pending_meta.weights_sha256);
    weights_match && std::fs::rename(&pending, meta_path(stem)).is_ok()
}

/// A trained network ready to score or sample.
#[derive(Debug)]
pub struct LoadedModel {
    /// The network.
    pub model: EventLstm,
    /// Its variables (kept alive with it).
    pub vars: nn::VarStore,
    /// Its description.
    pub meta: CheckpointMeta,
}

/// Loads a checkpoint (stem or either file) onto `device`.
pub fn load_model(path: &Path, device: Device) -> Result<LoadedModel, CheckpointError> {
    let stem = stem(path);
    let (meta, vars, model) = load_checked(&stem, device)?;
    Ok(LoadedModel { model, vars, meta })
}

/// Reads the description, builds the network it describes and loads the weights into it,
/// finishing an interrupted save first if the weights do not match.
pub fn load_checked(
    stem: &Path,
    device: Device,
) -> Result<(CheckpointMeta, nn::VarStore, EventLstm), CheckpointError> {
    let attempt = || {
        let meta = load_meta(stem)?;
        // Checked against the description: `load_weights` then proves the file matches it.
        check_shipped(stem, &meta)?;
        verify_hash(stem, &meta)?;
        check_declared_size(stem, &meta)?;
        let vars = nn::VarStore::new(device);
        let model = EventLstm::new(&vars.root(), meta.model, meta.inputs());
        copy_weights(stem, &vars)?;
        Ok((meta, vars, model))
    };
    match attempt() {
        Err(CheckpointError::HashMismatch { .. }) if recover_interrupted_save(stem) => attempt(),
        other => other,
    }
}

/// An exclusive lock on a checkpoint stem (`P.lock`, holding the owner's process id), held by a
/// training run so that two runs never write the same checkpoint. The kernel releases it when
/// the process ends, however it ends, so a lock left by a killed run is taken over.
#[derive(Debug)]
pub struct OutputLock {
    /// Open for as long as the lock is held: closing it releases the lock.
    _file: std::fs::File,
    path: PathBuf,
}

impl OutputLock {
    /// Takes the lock of `stem`, or says which process holds it.
    pub fn acquire(stem: &Path) -> Result<Self, CheckpointError> {
        use std::io::{Read, Seek, Write};
        use std::os::fd::AsRawFd;
        let path = with_suffix(stem, ".lock");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_error(&path))?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(CheckpointError::Locked {
                path: stem.to_path_buf(),
                holder: holder.trim().to_string(),
            });
        }
        let owner = format!("pid {}", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(owner.as_bytes()))
            .map_err(io_error(&path))?;
        Ok(Self { _file: file, path })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still held, so no other run can be holding this file's lock.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Refuses a starter model whose description names other weights than the shipped ones (loading
/// then checks the file against the description); any other checkpoint passes.
fn check_shipped(stem: &Path, meta: &CheckpointMeta) -> Result<(), CheckpointError> {
    if !starter::is_starter(stem) || meta.weights_sha256 == starter::SHIPPED_WEIGHTS_SHA256 {
        return Ok(());
    }
    Err(CheckpointError::NotShipped {
        path: weights_path(stem),
        found: meta.weights_sha256.clone(),
    })
}

/// Whether the weights at `stem` are the shipped starter's, wherever they are.
pub fn verify_shipped(stem: &Path) -> Result<(), CheckpointError> {
    let path = weights_path(stem);
    let found = sha256_file(&path)?;
    if found == starter::SHIPPED_WEIGHTS_SHA256 {
        Ok(())
    } else {
        Err(CheckpointError::NotShipped { path, found })
    }
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_that_round_to_the_same_megabytes_are_given_in_bytes() {
        // A description claiming the structure paths' gates over weights without them: 14 KB
        // more than the file, both 17 MB.
        assert_eq!(size_text(18_730_732, 18_717_376), "18730732 bytes");
        assert_eq!(size_text(2_163_494_096, 18_717_376), "2063 MB");
    }
}
