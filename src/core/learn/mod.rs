//! The learning layer: training data and windows, the trainer, and scoring (evaluation). It uses
//! the layers below (base, music, model).

pub mod eval;
pub mod train;
