//! `cadenza demo-corpus`: writes the built-in études into a folder.

use std::path::Path;

use anyhow::{Context, Result};
use cadenza_core::demo;

/// Writes the demo corpus into `dir` and says how many pieces it wrote.
pub fn run(dir: &Path) -> Result<()> {
    let written = demo::write_demo_corpus(dir)
        .with_context(|| format!("writing the demo corpus to {}", dir.display()))?;
    println!("wrote {} demo pieces to {}", written.len(), dir.display());
    Ok(())
}
