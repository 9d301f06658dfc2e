//! The architecture the build keeps: the core crate's resolved dependencies hold no GUI or CLI
//! crate, so `use egui` (or clap, rfd, ...) cannot compile there.

use std::process::Command;

/// Crates only the app or the command line may use.
const FORBIDDEN_IN_CORE: [&str; 7] = [
    "egui",
    "eframe",
    "egui_plot",
    "rfd",
    "clap",
    "indicatif",
    "winit",
];

#[test]
fn the_core_depends_on_no_gui_or_cli_crate() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--manifest-path",
            manifest,
            "-p",
            "cadenza-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"tch"),
        "the tree lists the core's crates: {tree}"
    );
    for forbidden in FORBIDDEN_IN_CORE {
        assert!(
            !crates.contains(&forbidden),
            "the core depends on {forbidden}:\n{tree}"
        );
    }
}
