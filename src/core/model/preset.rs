//! The ready-made combinations of network and training recipe.

use crate::model::ModelConfig;
use crate::model::checkpoint::TrainSettings;

/// The ready-made combinations of network and recipe, shared by the CLI and the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 2 × 256 LSTM: trains usefully on two CPU cores.
    #[default]
    Quick,
    /// 3 × 512 LSTM, Performance RNN's size: wants a GPU or patience.
    Standard,
}

impl Preset {
    /// The preset's network.
    pub fn model(self) -> ModelConfig {
        match self {
            Self::Quick => ModelConfig::QUICK,
            Self::Standard => ModelConfig::STANDARD,
        }
    }

    /// The preset's name, as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Quick => "quick",
            Self::Standard => "standard",
        }
    }

    /// The preset's training recipe.
    pub fn settings(self) -> TrainSettings {
        match self {
            Self::Quick => TrainSettings::QUICK,
            Self::Standard => TrainSettings::STANDARD,
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "quick" => Ok(Self::Quick),
            "standard" => Ok(Self::Standard),
            other => Err(format!("unknown preset {other:?}: use quick or standard")),
        }
    }
}
