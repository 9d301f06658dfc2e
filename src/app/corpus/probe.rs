//! What the app's tests set in the Corpus room without typing (compiled for tests only).

use std::path::PathBuf;

use super::CorpusPanel;

impl CorpusPanel {
    /// Names the one style of the flat folder `folder`, as renaming it in the room does.
    pub fn name_style(&mut self, folder: PathBuf, name: &str) {
        self.style_names.insert(folder, name.to_string());
    }
}
