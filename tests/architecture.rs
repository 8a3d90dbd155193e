//! The shape the compiler and this test keep: the visit's state machine (`visit/`) depends on
//! nothing that does I/O — not the devices, the network, the journal, the models or the UI.

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
