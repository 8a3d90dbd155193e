//! The shape the compiler and these tests keep: the visit's state machine (`visit/`) depends on
//! nothing that does I/O — not the devices, the network, the journal, the models or the UI;
//! the crate's modules use each other downwards only, the capabilities without a cycle; and no
//! file grows much past 500 lines unless it is a table listed here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn the_visit_machine_builds_with_no_io_crate_in_its_dependency_tree() {
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--offline", "-p", "gradbooth-visit", "-e", "normal", "--prefix", "none"])
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"gradbooth-vocab"), "{tree}");
    for io in [
        "gradbooth-hal",
        "tokio",
        "reqwest",
        "hyper",
        "rusqlite",
        "tract-onnx",
        "tract-core",
        "slint",
        "nokhwa",
        "serialport",
        "rppal",
        "object_store",
        "age",
        "image",
        "iana-time-zone",
    ] {
        assert!(!crates.contains(&io), "the visit machine depends on {io}:\n{tree}");
    }
}

/// The crate's top-level modules, in layers: a module may use the ones in its own layer or
/// below, never above. `shared` is what everyone may use; the capabilities use each other
/// without a cycle; `config` hands each capability its section; `runtime` is the shell that
/// drives them all; `tools` (demo, gallery) run the shell.
const LAYERS: &[(&str, &[&str])] = &[
    ("shared", &["visit", "bus", "clock", "net", "validate", "ui"]),
    ("capability", &["ticket", "review", "payment", "journal", "upload", "devices", "screen", "diagnostics"]),
    ("config", &["config"]),
    ("operators", &["operators"]),
    ("runtime", &["runtime"]),
    ("tools", &["tools"]),
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, ms)| ms.contains(&module))
        .unwrap_or_else(|| panic!("src/{module} is in no layer of tests/architecture.rs: say where it belongs"))
}

/// The code of a file without its test module (tests may reach anywhere).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests").map_or(text, |i| &text[..i])
}

/// Every `crate::<module>` a file's non-test code names.
fn crate_uses(text: &str) -> BTreeSet<String> {
    let mut uses = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `gradbooth_hal::` and the like are other crates, not this one.
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        if !name.is_empty() {
            uses.insert(name);
        }
    }
    uses
}

/// (module, the modules it uses), for every top-level module of `src/`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let name = path.file_name().unwrap().to_str().unwrap();
            if path.extension().is_none_or(|e| e != "rs")
                || rel.components().count() == 1 && (name == "lib.rs" || name == "main.rs")
                || name == "tests.rs"
                || name.ends_with("_tests.rs")
            {
                continue;
            }
            let top = rel.components().next().unwrap().as_os_str().to_str().unwrap().trim_end_matches(".rs");
            let text = std::fs::read_to_string(&path).unwrap();
            let uses = crate_uses(without_tests(&text));
            graph.entry(top.to_owned()).or_default().extend(uses.into_iter().filter(|u| u != top));
        }
    }
    graph
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Each use of a module in a higher layer: (user, used).
fn upward_uses(graph: &Graph) -> Vec<(String, String)> {
    let mut up = Vec::new();
    for (module, uses) in graph {
        for used in uses {
            if layer_of(used) > layer_of(module) {
                up.push((module.clone(), used.clone()));
            }
        }
    }
    up
}

/// A cycle of uses, if there is one (a depth-first walk that finds its way back).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn walk(graph: &Graph, at: &str, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == at) {
            let mut cycle = path[i..].to_vec();
            cycle.push(at.to_owned());
            return Some(cycle);
        }
        if !done.insert(at.to_owned()) {
            return None;
        }
        path.push(at.to_owned());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(c) = walk(graph, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|m| walk(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_use_each_other_downwards_only_and_the_capabilities_without_a_cycle() {
    let graph = module_graph();
    for m in ["ticket", "review", "payment", "journal", "upload", "devices", "screen", "config", "runtime"] {
        assert!(graph.contains_key(m), "src/{m} is missing: {graph:?}");
    }
    assert_eq!(upward_uses(&graph), [], "uses of a layer above");
    assert_eq!(find_cycle(&graph), None, "an import cycle");
}

#[test]
fn the_import_check_finds_uses_cycles_and_upward_uses() {
    let uses =
        crate_uses("use crate::journal::storage::Storage;\nlet c = gradbooth_crate::x; crate::upload::target(..)");
    assert_eq!(uses.into_iter().collect::<Vec<_>>(), ["journal", "upload"]);
    assert_eq!(without_tests("fn a() {}\n#[cfg(test)]\nmod tests { use crate::runtime; }"), "fn a() {}\n");
    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    let clean = graph(&[("payment", "journal"), ("upload", "journal"), ("payment", "upload"), ("runtime", "payment")]);
    assert_eq!(find_cycle(&clean), None);
    assert_eq!(upward_uses(&clean), []);
    let cycle = graph(&[("payment", "upload"), ("upload", "journal"), ("journal", "payment")]);
    let found = find_cycle(&cycle).expect("the cycle is found");
    assert_eq!(found.first(), found.last());
    assert_eq!(found.len(), 4, "{found:?}");
    let up = graph(&[("journal", "config")]);
    assert_eq!(upward_uses(&up), [("journal".to_owned(), "config".to_owned())]);
}

/// Files that may be longer than ~500 lines, and why.
const LONG_FILES: &[(&str, &str)] = &[
    // The labelled evaluation set's harness: the table of real faces and their labels, scored
    // per check and side, is clearest in one place.
    ("tests/eval/mod.rs", "the evaluation's labelled cases and its per-side table"),
];

#[test]
fn no_source_file_is_much_over_500_lines_but_the_listed_tables() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    let mut stack: Vec<PathBuf> =
        ["src", "visit/src", "vocab/src", "hal/src", "tests", "benches", "ui"].iter().map(|d| root.join(d)).collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "slint") {
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                let rel = path.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
                if lines > 530 && !LONG_FILES.iter().any(|(f, _)| *f == rel) {
                    long.push(format!("{rel}: {lines} lines"));
                }
            }
        }
    }
    assert!(long.is_empty(), "split these (or list them in LONG_FILES with why): {long:?}");
}
