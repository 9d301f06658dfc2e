//! Checkpoints: a path stem `P` names two files, `P.safetensors` (the weights) and `P.json` (what
//! the weights are: versions, hyperparameters, corpus, losses). Saving writes temporary files, then
//! renames the weights, then the JSON, so a crash never leaves a broken checkpoint where a good one
//! was; loading checks versions and the weights' SHA-256.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tch::{Device, nn};

use crate::encoding::ENCODING_ID;
use crate::model::{EventLstm, ModelConfig};

/// Version of the checkpoint layout; bumped when the JSON or the weight names change.
pub const FORMAT_VERSION: u32 = 1;

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
        "{path}: checkpoint format version {found}, this Cadenza reads version {FORMAT_VERSION}"
    )]
    FormatVersion {
        /// The JSON file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
    },
    /// Trained on another event encoding: its outputs would mean different events.
    #[error("{path}: trained with event encoding {found:?}, this Cadenza uses {ENCODING_ID:?}")]
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
    /// libtorch could not read or write the weights.
    #[error("{path}: {reason}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// libtorch's message.
        reason: String,
    },
}

/// The stem of a checkpoint given as the stem itself or either of its files.
pub fn stem(path: &Path) -> PathBuf {
    match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors" | "json") => path.with_extension(""),
        _ => path.to_path_buf(),
    }
}

fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `P.safetensors`.
pub fn weights_path(stem: &Path) -> PathBuf {
    with_suffix(stem, ".safetensors")
}

/// `P.json`.
pub fn meta_path(stem: &Path) -> PathBuf {
    with_suffix(stem, ".json")
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sha256_file(path: &Path) -> Result<String, CheckpointError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

/// Saves `vars` and `meta` under `stem` atomically; fills in `meta.weights_sha256`.
pub fn save(
    stem: &Path,
    vars: &nn::VarStore,
    meta: &mut CheckpointMeta,
) -> Result<(), CheckpointError> {
    if let Some(folder) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(io_error(folder))?;
    }
    let temporary = with_suffix(stem, ".tmp");
    // tch chooses the format from the extension, so the temporary weights end in .safetensors too.
    let temporary_weights = weights_path(&temporary);
    let temporary_meta = meta_path(&temporary);
    vars.save(&temporary_weights)
        .map_err(|err| CheckpointError::Weights {
            path: temporary_weights.clone(),
            reason: err.to_string(),
        })?;
    meta.format_version = FORMAT_VERSION;
    meta.encoding = ENCODING_ID.to_string();
    meta.weights_sha256 = sha256_file(&temporary_weights)?;
    let json = serde_json::to_vec_pretty(meta).map_err(|err| CheckpointError::BadMeta {
        path: temporary_meta.clone(),
        reason: err.to_string(),
    })?;
    std::fs::write(&temporary_meta, json).map_err(io_error(&temporary_meta))?;
    let weights = weights_path(stem);
    std::fs::rename(&temporary_weights, &weights).map_err(io_error(&weights))?;
    let meta_file = meta_path(stem);
    std::fs::rename(&temporary_meta, &meta_file).map_err(io_error(&meta_file))?;
    Ok(())
}

/// Reads and checks `P.json` (format and encoding versions).
pub fn load_meta(stem: &Path) -> Result<CheckpointMeta, CheckpointError> {
    let path = meta_path(stem);
    let text = std::fs::read(&path).map_err(io_error(&path))?;
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
    if found != FORMAT_VERSION {
        return Err(CheckpointError::FormatVersion { path, found });
    }
    let encoding = value
        .get("encoding")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if encoding != ENCODING_ID {
        return Err(CheckpointError::Encoding {
            path,
            found: encoding.to_string(),
        });
    }
    serde_json::from_value(value).map_err(|err| CheckpointError::BadMeta {
        path,
        reason: err.to_string(),
    })
}

/// Loads the weights of `stem` into `vars` (whose variables must match), after checking their hash.
pub fn load_weights(
    stem: &Path,
    meta: &CheckpointMeta,
    vars: &mut nn::VarStore,
) -> Result<(), CheckpointError> {
    let path = weights_path(stem);
    if sha256_file(&path)? != meta.weights_sha256 {
        return Err(CheckpointError::HashMismatch { path });
    }
    vars.load(&path).map_err(|err| CheckpointError::Weights {
        path,
        reason: err.to_string(),
    })
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
    let meta = load_meta(&stem)?;
    let mut vars = nn::VarStore::new(device);
    let model = EventLstm::new(&vars.root(), meta.model);
    load_weights(&stem, &meta, &mut vars)?;
    Ok(LoadedModel { model, vars, meta })
}
