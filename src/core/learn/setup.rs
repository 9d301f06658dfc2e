//! Starting a run: fresh weights, a checkpoint to fine-tune (new composers become style rows) or a
//! run to resume, and copies of weights to restore.

use std::path::Path;

use tch::{Device, Tensor, nn};

use crate::model::checkpoint::{self, CheckpointMeta, CorpusInfo, History, TrainSettings};
use crate::model::{self, EventLstm, ModelConfig};
use crate::music::controls::{
    CONTROL_INPUTS, CONTROL_INPUTS_WITH_LOOKBACK, ControlsMeta, STRUCTURE_WIDTH,
};
use crate::music::encoding::{self, Encoding};

use super::data::TrainData;
use super::options::{StartFrom, TrainError, TrainOptions};
use super::structure_projection::project_structure;

/// The loss a run must match before it may overwrite the checkpoint it resumed: set when it
/// resumes into its own stem on the same corpus, unless told to replace it anyway.
pub(super) fn protected_nll(
    options: &TrainOptions,
    start: &CheckpointMeta,
    corpus: &CorpusInfo,
) -> Option<f64> {
    let StartFrom::Resume(resume) = &options.start else {
        return None;
    };
    let resume = checkpoint::stem(resume);
    let same_stem = resume == options.out;
    let same_corpus = start.corpus.fingerprint == corpus.fingerprint;
    // A loss scored another way is not the score to beat.
    let same_scoring = start.provenance.validation == options.validation;
    if same_stem && same_corpus && same_scoring && !options.replace_worse {
        start.valid_nll
    } else {
        None
    }
}

/// A checkpoint to train further: loaded, checked to use the current encoding, grown to this
/// corpus's composers, the bar grid's inputs and the structure paths ([`grow`]), and, if
/// `projection_width` gives one, converted to read the grid through a sparse projection
/// ([`project_structure`]).
pub(super) fn load_trainable(
    path: &Path,
    data: &TrainData,
    device: Device,
    projection_width: Option<usize>,
) -> Result<(CheckpointMeta, nn::VarStore, EventLstm), TrainError> {
    let stem = checkpoint::stem(path);
    let loaded = checkpoint::load_checked(&stem, device)?;
    if loaded.0.encoding() != Encoding::CURRENT {
        return Err(TrainError::Data(format!(
            "{} was trained with an earlier event encoding ({}): it still generates, but cannot be trained further; start a new model",
            stem.display(),
            loaded.0.encoding
        )));
    }
    let grown = grow(loaded, &data.styles(), device)?;
    let Some(width) = projection_width else {
        return Ok(grown);
    };
    let (meta, vars, model, projected) = project_structure(grown, width)?;
    match projected {
        Some(projected) => tracing::info!(
            width,
            kept_energy = projected.kept_energy,
            "the bar grid's inputs now enter through a sparse projection"
        ),
        None => tracing::warn!(
            width,
            "not converted: the model reads no bar grid, or already reads it through a projection"
        ),
    }
    Ok((meta, vars, model))
}

/// Grows a steerable model to what training on this corpus needs: a style row for each of
/// `labels` it does not know, the bar grid's and lookback's inputs and the learned structure
/// paths if it is from before them.
///
/// A new style row starts as a copy of the "any style" row, so a new composer begins as the
/// model's music in general and training moves it from there (a random row would begin as noise
/// added to every gate). The new inputs' weights and the paths' gates start at zero, so the grown
/// model scores every piece exactly as before until training teaches it what they mean.
fn grow(
    (mut meta, vars, model): (CheckpointMeta, nn::VarStore, EventLstm),
    labels: &[String],
    device: Device,
) -> Result<(CheckpointMeta, nn::VarStore, EventLstm), tch::TchError> {
    let Some(controls) = meta.controls.as_mut() else {
        return Ok((meta, vars, model));
    };
    let new: Vec<String> = labels
        .iter()
        .filter(|label| controls.style_index(label).is_none())
        .cloned()
        .collect();
    let old_inputs = controls.inputs;
    let had_paths = controls.structure_paths;
    if new.is_empty() && old_inputs == CONTROL_INPUTS_WITH_LOOKBACK && had_paths {
        return Ok((meta, vars, model));
    }
    tracing::info!(?new, old_inputs, had_paths, "model grown for this corpus");
    controls.styles.extend(new);
    if old_inputs == CONTROL_INPUTS {
        // A model from before the grid reads it through the sparse projection: its gate columns
        // start at zero, the table at random, so the model scores as before and both learn.
        controls.structure_width = STRUCTURE_WIDTH;
    }
    controls.inputs = CONTROL_INPUTS_WITH_LOOKBACK;
    controls.structure_paths = true;
    let grown = nn::VarStore::new(device);
    let grown_model = EventLstm::new(&grown.root(), meta.model, meta.inputs());
    let old = vars.variables();
    let style_weights = format!("{}.weight", model::STYLE_PATH);
    let first_layer = "lstm.weight_ih_l0";
    let _no_grad = tch::no_grad_guard();
    for (name, mut var) in grown.variables() {
        let Some(saved) = old.get(&name) else {
            // The paths' gates, new to this model: they keep their zero start; the sparse
            // projection's table keeps its random one.
            continue;
        };
        if name == style_weights {
            let added = var.size()[0] - saved.size()[0];
            let any = saved.narrow(0, 0, 1).repeat([added, 1]);
            var.f_copy_(&Tensor::f_cat(&[saved, &any], 0)?)?;
        } else if name == first_layer && var.size() != saved.size() {
            // Columns: embedding, controls (the grid's, then the lookback's, after the others) or
            // the sparse projection, style: the new ones come after the old model's controls.
            let before = meta.model.embed + old_inputs as i64;
            let added = var.size()[1] - saved.size()[1];
            let zeros = Tensor::zeros([saved.size()[0], added], (saved.kind(), device));
            let after = saved.size()[1] - before;
            let parts = [
                saved.narrow(1, 0, before),
                zeros,
                saved.narrow(1, before, after),
            ];
            var.f_copy_(&Tensor::f_cat(&parts, 1)?)?;
        } else {
            var.f_copy_(saved)?;
        }
    }
    Ok((meta, grown, grown_model))
}

/// The description of a fine-tune's first run from the checkpoint at `from`: its shape, controls
/// and key profiles, with a fresh count, history and recipe, and a note of where it began.
pub(super) fn initialized_meta(
    from: CheckpointMeta,
    path: &Path,
    settings: TrainSettings,
    data: &TrainData,
) -> CheckpointMeta {
    let origin = format!(
        "{} (weights sha256 {})",
        crate::model::label::checkpoint_label(path),
        from.weights_sha256
    );
    let mut meta = fresh_meta(from.model, settings, data, false);
    meta.controls = from.controls;
    meta.provenance.initialized_from = Some(origin);
    meta
}

/// Copies the trainable variables into `into` (allocated on first use, then reused).
pub(super) fn store_weights(vars: &nn::VarStore, into: &mut Vec<Tensor>) {
    let _no_grad = tch::no_grad_guard();
    let variables = vars.trainable_variables();
    if into.len() != variables.len() {
        *into = variables.iter().map(|v| v.detach().copy()).collect();
        return;
    }
    for (copy, var) in into.iter_mut().zip(&variables) {
        copy.copy_(var);
    }
}

/// Copies weights stored by [`store_weights`] back into the trainable variables.
pub(super) fn restore_weights(from: &[Tensor], vars: &nn::VarStore) {
    let _no_grad = tch::no_grad_guard();
    for (copy, mut var) in from.iter().zip(vars.trainable_variables()) {
        var.copy_(copy);
    }
}

/// The description of a model that has not been trained yet.
pub(super) fn fresh_meta(
    model: ModelConfig,
    settings: TrainSettings,
    data: &TrainData,
    controls: bool,
) -> CheckpointMeta {
    let corpus = &data.corpus;
    CheckpointMeta {
        controls: controls.then(|| ControlsMeta::new(data.styles(), data.key_profiles.clone())),
        format_version: checkpoint::FORMAT_VERSION,
        encoding: encoding::ENCODING_ID.to_string(),
        model,
        train: settings,
        step: 0,
        epoch: 0.0,
        corpus: corpus.clone(),
        valid_nll: None,
        history: History::default(),
        weights_sha256: String::new(),
        provenance: Default::default(),
    }
}

/// The controls a model learns, named for people.
pub fn learned_controls(controls: Option<&ControlsMeta>) -> Vec<String> {
    let Some(meta) = controls else {
        return Vec::new();
    };
    let styles = match meta.styles.len() {
        0 => "style (none: the corpus has no composer folders)".to_string(),
        1 => "style (1 composer)".to_string(),
        n => format!("style ({n} composers)"),
    };
    let mut learned = vec![
        "density".to_string(),
        "key".to_string(),
        "loudness".to_string(),
        styles,
    ];
    if meta.reads_meter() {
        learned.push("tempo and meter (the bar grid)".to_string());
    }
    if meta.reads_lookback() {
        learned.push("the bars before (lookback)".to_string());
    }
    if meta.structure_paths {
        learned.push("structure paths (when to echo a bar, when to land on the grid)".to_string());
    }
    learned
}
