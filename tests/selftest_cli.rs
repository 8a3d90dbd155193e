//! `gradbooth selftest --json` as a fleet's timer runs it, on the simulated booth: it passes on a
//! healthy booth, and fails naming the part when a simulated fault is set — a dead lamp, a limit
//! switch that never closes, a camera that sees black.

use std::path::Path;
use std::process::{Command, Output};

fn selftest(config: &Path, data: &Path, simulate: &[&str]) -> (Output, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gradbooth"));
    cmd.arg("--config").arg(config).arg("--data-dir").arg(data).args(["selftest", "--json"]);
    for s in simulate {
        cmd.args(["--simulate", s]);
    }
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out, json)
}

fn failed(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

fn shipped() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml"))
}

#[test]
fn a_healthy_simulated_booth_passes_every_check_chair_included() {
    let data = tempfile::tempdir().unwrap();
    let (out, report) = selftest(shipped(), data.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["passed"], true);
    assert_eq!(failed(&report), Vec::<String>::new());
    let names: Vec<_> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    for want in [
        "camera",
        "review",
        "lights.key_left",
        "lights.background",
        "chair.top",
        "chair.bottom",
        "journal",
        "payment",
        "upload",
        "clock",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    // Kept: in the journal's audit log and as a file to export.
    let reports: Vec<_> = std::fs::read_dir(data.path().join("reports")).unwrap().collect();
    assert_eq!(reports.len(), 1);
}

#[test]
fn a_dead_lamp_and_a_stuck_limit_switch_fail_by_name_and_nothing_else_does() {
    let data = tempfile::tempdir().unwrap();
    let (out, report) = selftest(shipped(), data.path(), &["kill_lamp:key_right", "stick_top_limit"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(failed(&report), ["lights.key_right", "chair.top"]);
}

#[test]
fn a_camera_that_sees_black_fails_the_camera_check() {
    let data = tempfile::tempdir().unwrap();
    // Without the chair's runs, to keep it short.
    let text = std::fs::read_to_string(shipped()).unwrap().replace("selftest_chair = true", "selftest_chair = false");
    let config = data.path().join("booth.toml");
    std::fs::write(&config, text).unwrap();
    let (out, report) = selftest(&config, &data.path().join("data"), &["black_camera"]);
    assert_eq!(out.status.code(), Some(1));
    let failed = failed(&report);
    assert_eq!(failed.first().map(String::as_str), Some("camera"), "{failed:?}");
    let camera = &report["checks"][0];
    assert!(camera["detail"].as_str().unwrap().contains("black"), "{camera}");
}
