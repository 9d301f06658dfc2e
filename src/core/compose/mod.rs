//! The composing layer: sampling settings, generation, regenerating a passage, and the takes
//! with their versions. It uses the layers below (base, music, model).

pub mod generate;
pub mod regenerate;
pub mod takes;
