//! The bar grid's and the lookback's inputs as a sparse lookup: the first layer reads them
//! through a learned table, `[structure inputs, width]`, summing the rows of the inputs that are
//! non-zero (each scaled by its value), instead of multiplying all of them by its gates.
//!
//! Most of those inputs are one-hots or few keys, so a step has about 15 non-zero of 453: the
//! lookup costs what it carries. The sum is the product of the inputs with the table, so a
//! model's first layer is still linear in them and sampling folds the table into the gates.

use tch::{Kind, Tensor, nn};

use crate::music::controls::STRUCTURE_INPUTS;

/// Where the table lives in the variable store; its variable is `structure.weight`.
pub const STRUCTURE_TABLE_PATH: &str = "structure";

/// A new table for `width` columns. The rows start uniform in ±1/√453, so a step's projection
/// (about 15 rows, the grid's at [`METER_INPUT_SCALE`](crate::music::meter_inputs::METER_INPUT_SCALE))
/// starts at about the size of the event embedding's entries.
pub fn table(root: &nn::Path, width: usize) -> Tensor {
    let bound = 1.0 / (STRUCTURE_INPUTS as f64).sqrt();
    root.var(
        "weight",
        &[STRUCTURE_INPUTS as i64, width as i64],
        nn::Init::Uniform {
            lo: -bound,
            up: bound,
        },
    )
}

/// `inputs` `[batch, time, structure inputs]` through `table`: `[batch, time, width]`, the sum
/// of the table's rows of each step's non-zero inputs scaled by their values.
pub fn project(inputs: &Tensor, table: &Tensor) -> Tensor {
    let size = inputs.size();
    let (steps, columns) = (size[0] * size[1], size[2]);
    let width = table.size()[1];
    let flat = inputs.reshape([steps * columns]);
    let nonzero = flat.nonzero().squeeze_dim(1);
    let values = flat.index_select(0, &nonzero).unsqueeze(1);
    let step = nonzero.divide_scalar_mode(columns, "floor");
    let column = nonzero.remainder(columns);
    let rows = table.index_select(0, &column) * values;
    Tensor::zeros([steps, width], (Kind::Float, inputs.device()))
        .index_add(0, &step, &rows)
        .reshape([size[0], size[1], width])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sparse_projection_equals_the_dense_product() {
        tch::manual_seed(3);
        let inputs = Tensor::rand(
            [2, 5, STRUCTURE_INPUTS as i64],
            (Kind::Float, tch::Device::Cpu),
        );
        // Mostly zeros, as the grid's one-hots are; some inputs at the grid's scale.
        let inputs = inputs.where_self(&inputs.gt(0.9), &inputs.zeros_like()) * 8.0;
        let table = Tensor::randn(
            [STRUCTURE_INPUTS as i64, 7],
            (Kind::Float, tch::Device::Cpu),
        );
        let sparse = project(&inputs, &table);
        let dense = inputs.matmul(&table);
        assert_eq!(sparse.size(), vec![2, 5, 7]);
        let gap = f64::try_from((sparse - dense).abs().max()).unwrap();
        assert!(gap < 1e-3, "largest difference {gap}");
    }

    #[test]
    fn gradients_reach_only_the_rows_of_inputs_that_were_non_zero() {
        let mut inputs = vec![0f32; 2 * STRUCTURE_INPUTS];
        inputs[4] = 8.0;
        inputs[STRUCTURE_INPUTS + 9] = 1.0;
        let inputs = Tensor::from_slice(&inputs).reshape([1, 2, STRUCTURE_INPUTS as i64]);
        let table = Tensor::ones(
            [STRUCTURE_INPUTS as i64, 3],
            (Kind::Float, tch::Device::Cpu),
        )
        .set_requires_grad(true);
        project(&inputs, &table).sum(Kind::Float).backward();
        let grad = table.grad().sum_dim_intlist(1, false, Kind::Float);
        let touched: Vec<i64> = Vec::<f32>::try_from(&grad)
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, g)| **g != 0.0)
            .map(|(row, _)| row as i64)
            .collect();
        assert_eq!(touched, vec![4, 9]);
    }
}
