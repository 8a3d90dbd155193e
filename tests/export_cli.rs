//! `gradbooth export` after a whole visit of the demo graduate (李明): the records are signed
//! (checked with the real `minisign -V`), every file matches SHA256SUMS, and nothing of the
//! graduate — name, student number, photo — is in them.

use std::path::Path;
use std::process::Command;

fn gradbooth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradbooth"))
        .arg("--config")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

#[test]
fn the_export_is_signed_by_the_booth_checks_out_and_holds_nothing_of_the_graduate() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = gradbooth(&["demo", "--out", demo.to_str().unwrap(), "--scripted-review", "pass"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stick = dir.path().join("stick");
    let data = demo.join("data");
    let out = gradbooth(&["--data-dir", data.to_str().unwrap(), "export", "--to", stick.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exports: Vec<_> =
        std::fs::read_dir(stick.join("gradbooth/export")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(exports.len(), 1);
    let e = &exports[0];
    assert!(e.file_name().unwrap().to_string_lossy().starts_with("fengxian-d108-"));

    // The office's check: the booth's signature over the sums, then each sum.
    let v = Command::new("minisign")
        .args(["-V", "-p"])
        .arg(e.join("booth.pub"))
        .arg("-m")
        .arg(e.join("SHA256SUMS"))
        .output()
        .expect("minisign (scripts/setup --tests installs it)");
    assert!(v.status.success(), "{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));
    let c = Command::new("sha256sum").arg("-c").arg("SHA256SUMS").current_dir(e).output().unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stdout));
    let stats = std::fs::read_to_string(e.join("stats.csv")).unwrap();
    assert!(stats.lines().count() >= 2, "a day with the visit: {stats}");
    let day = stats.lines().nth(1).unwrap();
    assert!(day.contains(",1,") && day.contains("30.00"), "one paid visit of 30 yuan: {day}");

    for f in std::fs::read_dir(e).unwrap() {
        let path = f.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for private in ["李明", "2022****56", "2022123456", "JFIF"] {
            assert!(!text.contains(private), "{private} in {}", path.display());
        }
    }
    assert!(Path::new(&e.join("audit.csv")).exists());
    // A file changed after the booth signed no longer checks out.
    std::fs::write(e.join("stats.csv"), stats.replace("30.00", "3.00")).unwrap();
    let c = Command::new("sha256sum").arg("-c").arg("SHA256SUMS").current_dir(e).output().unwrap();
    assert!(!c.status.success(), "an altered file is found");
}
