//! The bar grid's and the lookback's inputs as a sparse lookup: the first layer reads them
//! through a learned table, `[structure inputs, width]`, summing the rows of the inputs that are
//! non-zero (each scaled by its value), instead of multiplying all of them by its gates.
//!
//! Most of those inputs are one-hots or few keys, so a step has 11.4 non-zero of 453 on average
//! over the training windows: the lookup costs what it carries. The sum is the product of the inputs with the table, so a
//! model's first layer is still linear in them and sampling folds the table into the gates.

use tch::{Kind, Tensor, nn};

use crate::music::controls::STRUCTURE_INPUTS;

/// Where the table lives in the variable store; its variable is `structure.weight`.
pub const STRUCTURE_TABLE_PATH: &str = "structure";

/// A new table for `width` columns. The rows start uniform in ±1/√453, so a step's projection
/// (about 11 rows, the grid's at [`METER_INPUT_SCALE`](crate::music::meter_inputs::METER_INPUT_SCALE))
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

/// The non-zero structure inputs of a batch, found once and read by both the projection and the
/// structure paths: one entry per non-zero input, in step order.
#[derive(Debug)]
pub struct NonZeroInputs {
    /// Each entry's step, `batch index · time + time index`.
    pub(super) step: Tensor,
    /// Each entry's column among the structure inputs.
    pub(super) column: Tensor,
    /// Each entry's value.
    pub(super) value: Tensor,
    /// The batch's `[batch, time]`.
    pub(super) shape: [i64; 2],
}

impl NonZeroInputs {
    /// The non-zero entries of `controls` (`[batch, time, control inputs]`) from column `first`
    /// on, numbered from there. The scan reads `controls` where it lies: a narrowed view of it
    /// would first be copied whole.
    pub fn of_columns_from(controls: &Tensor, first: usize) -> Self {
        let size = controls.size();
        let columns = size[2];
        let flat = controls.contiguous().reshape([-1]);
        let mut nonzero = flat.nonzero().squeeze_dim(1);
        let mut column = nonzero.remainder(columns);
        if first > 0 {
            let kept = column.ge(first as i64).nonzero().squeeze_dim(1);
            nonzero = nonzero.index_select(0, &kept);
            column = column.index_select(0, &kept) - first as i64;
        }
        Self {
            value: flat.index_select(0, &nonzero),
            step: nonzero.divide_scalar_mode(columns, "floor"),
            column,
            shape: [size[0], size[1]],
        }
    }

    /// The inputs through `table`: `[batch, time, width]`, the sum of the table's rows of each
    /// step's non-zero inputs scaled by their values.
    pub fn project(&self, table: &Tensor) -> Tensor {
        let [batch, time] = self.shape;
        let width = table.size()[1];
        let rows = table.index_select(0, &self.column) * self.value.unsqueeze(1);
        Tensor::zeros([batch * time, width], (Kind::Float, table.device()))
            .index_add(0, &self.step, &rows)
            .reshape([batch, time, width])
    }
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
        let sparse = NonZeroInputs::of_columns_from(&inputs, 0).project(&table);
        let dense = inputs.matmul(&table);
        assert_eq!(sparse.size(), vec![2, 5, 7]);
        let gap = f64::try_from((sparse - dense).abs().max()).unwrap();
        assert!(gap < 1e-3, "largest difference {gap}");
    }

    #[test]
    fn the_structure_columns_of_the_controls_read_as_the_structure_inputs_alone() {
        tch::manual_seed(4);
        let controls = Tensor::rand([2, 4, 30], (Kind::Float, tch::Device::Cpu));
        let controls = controls.where_self(&controls.gt(0.7), &controls.zeros_like());
        let table = Tensor::randn([20, 5], (Kind::Float, tch::Device::Cpu));
        let from_columns = NonZeroInputs::of_columns_from(&controls, 10).project(&table);
        let alone = NonZeroInputs::of_columns_from(&controls.narrow(2, 10, 20), 0).project(&table);
        assert!(from_columns.allclose(&alone, 1e-6, 1e-6, false));
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
        NonZeroInputs::of_columns_from(&inputs, 0)
            .project(&table)
            .sum(Kind::Float)
            .backward();
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
