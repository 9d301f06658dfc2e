//! Converting a model whose first layer reads the bar grid's and the lookback's inputs densely
//! into one that reads them through the sparse projection ([`crate::model::structure_inputs`]).
//!
//! The dense gate columns of those inputs, `W` (`[4·hidden, inputs]`), become the projection's
//! gate columns `U·Σ` (`[4·hidden, width]`) and its table `V` (`[inputs, width]`): the truncated
//! singular value decomposition, the closest product of that width to `W` (Eckart–Young). The
//! converted model is exactly the old one when `W` has rank at most `width`; otherwise it loses
//! the smallest singular directions, which a fine-tune then relearns.

use tch::{Tensor, nn};

use crate::model::checkpoint::CheckpointMeta;
use crate::model::structure_inputs::STRUCTURE_TABLE_PATH;
use crate::model::{EventLstm, Inputs};
use crate::music::controls::CONTROL_INPUTS;

/// What a conversion kept: the share of `W`'s squared Frobenius norm in the kept singular values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projected {
    /// 1.0 when the conversion is exact.
    pub kept_energy: f64,
}

/// Converts `model` (with its description and variables) to read its structure inputs through a
/// projection of `width`; a model that already does, or that reads no bar grid, is returned as it
/// is, with `None`.
pub fn project_structure(
    (mut meta, vars, model): (CheckpointMeta, nn::VarStore, EventLstm),
    width: usize,
) -> Result<(CheckpointMeta, nn::VarStore, EventLstm, Option<Projected>), tch::TchError> {
    let Some(controls) = meta.controls.as_mut() else {
        return Ok((meta, vars, model, None));
    };
    if controls.structure_width > 0 || controls.inputs == CONTROL_INPUTS || width == 0 {
        return Ok((meta, vars, model, None));
    }
    let old_inputs: Inputs = model.inputs();
    controls.structure_width = width;
    let projected = nn::VarStore::new(vars.device());
    let projected_model = EventLstm::new(&projected.root(), meta.model, meta.inputs());
    let old = vars.variables();
    let first_layer = "lstm.weight_ih_l0";
    let table = format!("{STRUCTURE_TABLE_PATH}.weight");
    let (gate_columns, table_rows, kept_energy) =
        factor(&old[first_layer], meta.model.embed, old_inputs, width)?;
    let _no_grad = tch::no_grad_guard();
    for (name, mut var) in projected.variables() {
        if name == first_layer {
            var.f_copy_(&gate_columns)?;
        } else if name == table {
            var.f_copy_(&table_rows)?;
        } else {
            var.f_copy_(&old[&name])?;
        }
    }
    Ok((
        meta,
        projected,
        projected_model,
        Some(Projected { kept_energy }),
    ))
}

/// The first layer's new input weights and the table, from its dense ones.
fn factor(
    dense: &Tensor,
    embed: i64,
    inputs: Inputs,
    width: usize,
) -> Result<(Tensor, Tensor, f64), tch::TchError> {
    let _no_grad = tch::no_grad_guard();
    let before = embed + CONTROL_INPUTS as i64;
    let structure = (inputs.controls - CONTROL_INPUTS) as i64;
    let columns = dense.narrow(1, before, structure);
    // `torch.svd`'s reduced form: `columns = u · diag(sigma) · vᵀ`.
    let (u, sigma, v) = columns.f_svd(true, true)?;
    let kept = (width as i64).min(sigma.size()[0]);
    let energy = |s: &Tensor| f64::try_from(s.square().sum(tch::Kind::Double)).unwrap_or(0.0);
    let total = energy(&sigma);
    let kept_energy = if total > 0.0 {
        energy(&sigma.narrow(0, 0, kept)) / total
    } else {
        1.0
    };
    let rows = dense.size()[0];
    // Columns past the inputs' count (a width above it) get zero gate columns and random table
    // rows, as a grown model's new inputs do: silent at first, but able to learn.
    let options = (dense.kind(), dense.device());
    let gate_columns = Tensor::f_zeros([rows, width as i64], options)?;
    let bound = 1.0 / (structure as f64).sqrt();
    let table = (Tensor::f_rand([structure, width as i64], options)? - 0.5) * (2.0 * bound);
    gate_columns
        .narrow(1, 0, kept)
        .f_copy_(&(u.narrow(1, 0, kept) * sigma.narrow(0, 0, kept)))?;
    table.narrow(1, 0, kept).f_copy_(&v.narrow(1, 0, kept))?;
    let parts = [
        dense.narrow(1, 0, before),
        gate_columns,
        dense.narrow(1, before + structure, dense.size()[1] - before - structure),
    ];
    Ok((Tensor::f_cat(&parts, 1)?, table, kept_energy))
}
