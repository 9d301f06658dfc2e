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

/// The core's layers, each with the layers its files may use (besides their own).
const LAYERS: [(&str, &[&str]); 6] = [
    ("base", &[]),
    ("music", &["base"]),
    ("model", &["base", "music"]),
    ("learn", &["base", "music", "model"]),
    ("compose", &["base", "music", "model"]),
    ("sound", &["base", "music"]),
];

/// A core module: its layer and its file within the layer ("" for the layer's `mod.rs`).
type Module = (String, String);

/// Every module each core file uses: `crate::layer::module` paths, and `super::sibling` paths in
/// a layer's files. Comments, a facade's re-exports of its submodules and test modules are left
/// out.
fn core_imports() -> Vec<(Module, String, Vec<Module>)> {
    let core = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
    let mut found = Vec::new();
    for (layer, _) in LAYERS {
        let folder = core.join(layer);
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap_or_else(|err| panic!("{}: {err}", folder.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        files.sort();
        for file in files {
            let stem = file
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .to_string();
            let module = if stem == "mod" { String::new() } else { stem };
            let text = std::fs::read_to_string(&file).expect("read");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut uses = Vec::new();
            for line in code.lines().map(str::trim) {
                // A facade's `pub use submodule::…` re-exports what lies below it; a
                // `pub use crate::…` elsewhere is a real dependency.
                let facade_export = line.starts_with("pub use") && !line.contains("crate::");
                if line.starts_with("//") || facade_export {
                    continue;
                }
                uses.extend(paths_after(line, "crate::").map(|(first, second)| {
                    let second = second
                        .filter(|s| core.join(&first).join(format!("{s}.rs")).is_file())
                        .unwrap_or_default();
                    (first, second)
                }));
                if !module.is_empty() {
                    uses.extend(paths_after(line, "super::").map(|(first, _)| {
                        let sibling = core.join(layer).join(format!("{first}.rs")).is_file();
                        (
                            layer.to_string(),
                            if sibling { first } else { String::new() },
                        )
                    }));
                }
            }
            let shown = file
                .strip_prefix(&core)
                .expect("inside")
                .display()
                .to_string();
            found.push(((layer.to_string(), module), shown, uses));
        }
    }
    found
}

/// The identifiers after each `prefix` in `line`, with the one after them if a path goes on.
fn paths_after<'a>(
    line: &'a str,
    prefix: &'a str,
) -> impl Iterator<Item = (String, Option<String>)> + 'a {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    line.match_indices(prefix).filter_map(move |(at, _)| {
        let rest = &line[at + prefix.len()..];
        let first = ident(rest);
        if first.is_empty() {
            return None;
        }
        let second = rest[first.len()..].strip_prefix("::").map(ident);
        Some((first, second.filter(|s| !s.is_empty())))
    })
}

#[test]
fn core_layers_use_only_the_layers_below_and_no_modules_import_each_other_in_a_circle() {
    let imports = core_imports();
    assert!(
        imports.len() > 20,
        "the core's files are found: {}",
        imports.len()
    );
    let allowed: std::collections::HashMap<&str, &[&str]> = LAYERS.into_iter().collect();
    let mut wrong = Vec::new();
    for ((layer, _), file, uses) in &imports {
        for (used_layer, used) in uses {
            let below = allowed.get(used_layer.as_str());
            if below.is_none() {
                wrong.push(format!(
                    "{file} uses crate::{used_layer}: name core modules by their layer"
                ));
            } else if used_layer != layer && !allowed[layer.as_str()].contains(&used_layer.as_str())
            {
                wrong.push(format!(
                    "{file} ({layer}) uses {used_layer}::{used}, a layer it may not use"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));

    // Depth-first search for a circle among modules.
    let edges: std::collections::BTreeMap<&Module, std::collections::BTreeSet<&Module>> = imports
        .iter()
        .map(|(module, _, uses)| (module, uses.iter().filter(|u| *u != module).collect()))
        .collect();
    fn visit<'a>(
        module: &'a Module,
        edges: &std::collections::BTreeMap<&'a Module, std::collections::BTreeSet<&'a Module>>,
        path: &mut Vec<&'a Module>,
        done: &mut std::collections::BTreeSet<&'a Module>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let circle = path[at..].iter().chain([&module]);
            return Some(circle.map(|(l, m)| format!("{l}::{m}")).collect());
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for next in edges.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for module in edges.keys() {
        if let Some(circle) = visit(module, &edges, &mut Vec::new(), &mut done) {
            panic!("a circle of imports: {}", circle.join(" -> "));
        }
    }
}
