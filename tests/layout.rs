//! The architecture the build keeps: the core crate's resolved dependencies hold no GUI or CLI
//! crate, so `use egui` (or clap, rfd, ...) cannot compile there; the core's layers use only the
//! layers below them; the app's modules import no circle and its rooms do not import each other.

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
const LAYERS: [(&str, &[&str]); 7] = [
    ("base", &[]),
    ("music", &["base"]),
    ("model", &["base", "music"]),
    ("learn", &["base", "music", "model"]),
    ("compose", &["base", "music", "model"]),
    ("sound", &["base", "music"]),
    ("live", &["base", "music", "model", "compose", "sound"]),
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

    let edges: std::collections::BTreeMap<&Module, std::collections::BTreeSet<&Module>> = imports
        .iter()
        .map(|(module, _, uses)| (module, uses.iter().filter(|u| *u != module).collect()))
        .collect();
    if let Some(circle) = find_circle(&edges) {
        let names: Vec<String> = circle.iter().map(|(l, m)| format!("{l}::{m}")).collect();
        panic!("a circle of imports: {}", names.join(" -> "));
    }
}

/// A circle in a graph of imports, if there is one: its modules in order, the first repeated at
/// the end (a depth-first search).
fn find_circle<M: Ord>(
    edges: &std::collections::BTreeMap<M, std::collections::BTreeSet<M>>,
) -> Option<Vec<&M>> {
    fn visit<'a, M: Ord>(
        module: &'a M,
        edges: &'a std::collections::BTreeMap<M, std::collections::BTreeSet<M>>,
        path: &mut Vec<&'a M>,
        done: &mut std::collections::BTreeSet<&'a M>,
    ) -> Option<Vec<&'a M>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            return Some(path[at..].iter().copied().chain([module]).collect());
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
    edges
        .keys()
        .find_map(|module| visit(module, edges, &mut Vec::new(), &mut done))
}

/// The app's rooms: a module in one may not use a module in another.
const ROOMS: [&str; 3] = ["corpus", "train", "generate"];

/// An app module, as its path below `app` (`[]` for `app` itself, `["generate", "takes_list"]`).
type AppModule = Vec<String>;

/// Every app file's module and the app modules it uses, read with syn: `use` trees (grouped
/// imports included) and paths in code, through `crate::app::`, `super::` or a child module's
/// name. Modules compiled only for tests are left out.
fn app_imports(root: &std::path::Path) -> Vec<(AppModule, std::collections::BTreeSet<AppModule>)> {
    let mut files = Vec::new();
    collect_rs_files(root, &mut files);
    let modules: std::collections::BTreeSet<AppModule> =
        files.iter().map(|file| module_of(root, file)).collect();
    let mut test_only = std::collections::BTreeSet::new();
    let mut parsed = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let module = module_of(root, file);
        for item in &syntax.items {
            if let syn::Item::Mod(declared) = item
                && is_test_only(&declared.attrs)
            {
                let mut child = module.clone();
                child.push(declared.ident.to_string());
                test_only.insert(child);
            }
        }
        parsed.push((module, syntax));
    }
    parsed
        .into_iter()
        .filter(|(module, _)| !test_only.iter().any(|t| module.starts_with(t)))
        .map(|(module, syntax)| {
            let mut paths = PathCollector::default();
            for item in syntax.items.iter().filter(|i| !item_is_test_only(i)) {
                syn::visit::Visit::visit_item(&mut paths, item);
            }
            let used = paths
                .0
                .iter()
                .filter_map(|path| resolve(&module, path, &modules))
                .filter(|used| *used != module)
                .collect();
            (module, used)
        })
        .collect()
}

fn collect_rs_files(folder: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(folder)
        .unwrap_or_else(|err| panic!("{}: {err}", folder.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `app/generate/takes_list.rs` → `[generate, takes_list]`; a `mod.rs` is its folder's module.
fn module_of(root: &std::path::Path, file: &std::path::Path) -> AppModule {
    let relative = file.strip_prefix(root).expect("inside the app");
    let mut parts: AppModule = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().to_string())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

fn item_is_test_only(item: &syn::Item) -> bool {
    match item {
        syn::Item::Mod(m) => is_test_only(&m.attrs),
        syn::Item::Impl(i) => is_test_only(&i.attrs),
        syn::Item::Fn(f) => is_test_only(&f.attrs),
        syn::Item::Use(u) => is_test_only(&u.attrs),
        _ => false,
    }
}

/// Every path in the code: each leaf of a `use` tree, and each path in types and expressions.
#[derive(Default)]
struct PathCollector(Vec<Vec<String>>);

impl<'ast> syn::visit::Visit<'ast> for PathCollector {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        flatten_use(&item.tree, &mut Vec::new(), &mut self.0);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(super)` and `pub(in crate::app)` say who may see an item, not what it uses.
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        // An inline module's own items are read; a test module's are not.
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }
}

fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push(with(prefix, &n.ident)),
        syn::UseTree::Rename(r) => out.push(with(prefix, &r.ident)),
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                flatten_use(tree, prefix, out);
            }
        }
    }
}

fn with(prefix: &[String], ident: &syn::Ident) -> Vec<String> {
    let mut path = prefix.to_vec();
    path.push(ident.to_string());
    path
}

/// The app module a path used in `module` names: the longest run of its segments that is a
/// module, after `crate::app::`, `super::` (from the module's parent) or a child's name.
fn resolve(
    module: &AppModule,
    path: &[String],
    modules: &std::collections::BTreeSet<AppModule>,
) -> Option<AppModule> {
    let (mut at, rest): (AppModule, &[String]) = match path {
        [first, second, rest @ ..] if first == "crate" && second == "app" => (Vec::new(), rest),
        [first, ..] if first == "super" => {
            let supers = path.iter().take_while(|s| *s == "super").count();
            let mut at = module.clone();
            for _ in 0..supers {
                at.pop()?;
            }
            (at, &path[supers..])
        }
        [first, rest @ ..] if first == "self" => (module.clone(), rest),
        [first, _, ..] => {
            let mut child = module.clone();
            child.push(first.clone());
            if !modules.contains(&child) {
                return None;
            }
            (module.clone(), path)
        }
        _ => return None,
    };
    for segment in rest {
        at.push(segment.clone());
        if !modules.contains(&at) {
            at.pop();
            break;
        }
    }
    Some(at)
}

/// What is wrong with the app's modules: a room using another room, or a circle of imports.
fn app_layout_problems(root: &std::path::Path) -> Vec<String> {
    let imports = app_imports(root);
    let room = |m: &AppModule| m.first().filter(|r| ROOMS.contains(&r.as_str())).cloned();
    let mut problems = Vec::new();
    for (module, used) in &imports {
        for target in used {
            if let (Some(from), Some(to)) = (room(module), room(target))
                && from != to
            {
                problems.push(format!(
                    "app::{} uses app::{}: one room imports another",
                    module.join("::"),
                    target.join("::")
                ));
            }
        }
    }
    let edges = imports.into_iter().collect();
    if let Some(circle) = find_circle(&edges) {
        let names: Vec<String> = circle
            .iter()
            .map(|m| format!("app::{}", m.join("::")))
            .collect();
        problems.push(format!("a circle of imports: {}", names.join(" -> ")));
    }
    problems
}

#[test]
fn app_modules_import_no_circle_and_no_room_imports_another() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
    assert!(app_imports(&root).len() > 20, "the app's files are found");
    let problems = app_layout_problems(&root);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The problems found in a copy of the app with `text` added to `file`: how the tests show that
/// a change the rules forbid is refused.
fn problems_after_adding(file: &str, text: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
    let copy = tempfile::tempdir().expect("a temporary folder");
    let mut files = Vec::new();
    collect_rs_files(&root, &mut files);
    for source in files {
        let target = copy
            .path()
            .join(source.strip_prefix(&root).expect("inside"));
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("mkdir");
        std::fs::copy(&source, &target).expect("copied");
    }
    let changed = copy.path().join(file);
    let mut contents = std::fs::read_to_string(&changed).expect("read");
    contents.push_str(text);
    std::fs::write(&changed, contents).expect("written");
    app_layout_problems(copy.path())
}

#[test]
fn a_circle_among_app_modules_in_a_grouped_import_is_refused() {
    // The piano roll using the shared state, which uses the piano roll: written as one grouped
    // import.
    let problems = problems_after_adding(
        "piano_roll.rs",
        "\n#[allow(unused_imports)]\nuse super::{format, shared::{Shared, Shown}};\n",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("a circle of imports")),
        "{problems:?}"
    );
}

#[test]
fn a_room_importing_another_room_is_refused() {
    let problems = problems_after_adding(
        "generate/takes_list.rs",
        "\n#[allow(unused_imports)]\nuse crate::app::train::TrainControls;\n",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("app::generate::takes_list uses app::train")),
        "{problems:?}"
    );
}
