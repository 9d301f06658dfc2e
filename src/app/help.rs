//! The Help menu: getting started, keyboard shortcuts, and about.

/// Every keyboard shortcut, as the Help menu lists it (the keys [`super::shortcuts::read`] reads).
pub const SHORTCUTS: [(&str, &str); 7] = [
    ("Space", "play or pause"),
    ("Home", "back to the start"),
    ("Ctrl+E", "export the take the roll shows as MIDI"),
    ("Ctrl+S", "save the model being trained now"),
    ("Ctrl+Z", "back to the version the take was made from"),
    ("Ctrl+Shift+Z", "forward again"),
    ("Ctrl+wheel", "zoom the piano roll (the wheel scrolls it)"),
];

/// Help ▸ Getting started: the shortest path to music, in the order of the panels.
pub const GETTING_STARTED: &str = "\
1. Generate: the starter model is ready. Press Generate, then Play. Takes are in bars (90 bpm, \
4/4); ask for a key, a density, a loudness, a composer's style, another tempo or meter, or a \
form such as A4 B4 A4 if you like; every Generate rolls a new seed (Lock keeps it).\n\
2. Shape a take: drag on the ruler above the roll to select a passage (or click a section in the \
form lane: its repeats follow), then Regenerate selection; Audition the candidates and Keep the \
one you like. Continue from here writes on from the playhead.\n\
3. Export: Export MIDI… for a DAW or a score (Quantize lines the notes up for notation), \
Export WAV… to listen anywhere.\n\
4. Your own style: Corpus ▸ Open folder… with your MIDI files (a subfolder per composer gives \
a style each), then Train, starting from the starter model, for a few minutes.";

/// The Help menu's entries.
pub fn menu(ui: &mut egui::Ui) {
    ui.menu_button("Getting started", |ui| {
        ui.set_max_width(420.0);
        ui.label(GETTING_STARTED);
    });
    ui.menu_button("Keyboard shortcuts", |ui| {
        egui::Grid::new("shortcuts").num_columns(2).show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.label(egui::RichText::new(keys).strong());
                ui.label(what);
                ui.end_row();
            }
        });
    });
    ui.menu_button("About", |ui| {
        ui.label(about_text());
    });
}

/// Help ▸ About: version, and the licences of what Cadenza ships or points to.
pub fn about_text() -> String {
    format!(
        "Cadenza {}\n\
         Train an LSTM on piano MIDI files and compose in their style.\n\n\
         Piano sound: FluidR3_GM SoundFont by Frank Wen (MIT licence).\n\
         Example corpus: piano-midi.de by Bernd Krueger, CC BY-SA 3.0 DE\n\
         (http://www.piano-midi.de).\n{}\n\
         Cadenza itself: MIT licence.",
        env!("CARGO_PKG_VERSION"),
        cadenza_core::starter::ATTRIBUTION
    )
}
