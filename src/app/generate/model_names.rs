//! Short model names ("Starter", "bach · fine-tuned") by checkpoint, each read from disk once: the
//! takes list and the model picker are drawn every frame.

use std::collections::HashMap;
use std::path::Path;

/// Model names read so far, by checkpoint path.
#[derive(Debug, Default)]
pub struct ModelNames(HashMap<String, String>);

impl ModelNames {
    /// The short name of the model at `checkpoint`.
    pub fn name(&mut self, checkpoint: &str) -> &str {
        self.0
            .entry(checkpoint.to_string())
            .or_insert_with(|| cadenza_core::model::label::model_name(Path::new(checkpoint)))
    }
}
