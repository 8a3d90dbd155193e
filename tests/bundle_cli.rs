//! `gradbooth bundle` as an operator uses it, with the real `minisign` tool: the documented
//! test vectors, and a bundle written, signed and verified — everyday with one key, trust
//! refused with one and accepted with two.

use std::path::Path;
use std::process::{Command, Output};

fn gradbooth(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradbooth")).arg("--config").arg(config).args(args).output().unwrap()
}

fn minisign(args: &[&str]) {
    let out = Command::new("minisign").args(args).output().expect("minisign (scripts/setup --tests installs it)");
    assert!(out.status.success(), "minisign {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The shipped configuration trusting these public keys (name, base64).
fn booth(dir: &Path, keys: &[(&str, String)]) -> std::path::PathBuf {
    let mut cfg = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml")).unwrap();
    // The shipped file ends with its (empty) `[operators.keys]`.
    assert!(cfg.trim_end().ends_with("[operators.keys]"));
    cfg.push('\n');
    for (n, k) in keys {
        cfg.push_str(&format!("{n} = \"{k}\"\n"));
    }
    let path = dir.join("booth.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn public(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().lines().nth(1).unwrap().to_owned()
}

#[test]
fn the_documented_vectors_verify_and_the_altered_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/bundle-vectors"));
    let config = booth(dir.path(), &[("office", public(&vectors.join("office.pub")))]);
    let at = "2026-12-01T10:00:00+08:00";
    let ok = gradbooth(&config, &["bundle", "verify", vectors.join("winter.toml").to_str().unwrap(), "--at", at]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("valid: serial 7, signed by office"), "{}", text(&ok));
    assert!(text(&ok).contains("service.opens: 09:00 → 10:00"), "{}", text(&ok));
    let replay = gradbooth(
        &config,
        &["bundle", "verify", vectors.join("winter.toml").to_str().unwrap(), "--at", at, "--floor", "7"],
    );
    assert_eq!(replay.status.code(), Some(2));
    assert!(text(&replay).contains("refused: replay"), "{}", text(&replay));
    let bad = gradbooth(&config, &["bundle", "verify", vectors.join("altered.toml").to_str().unwrap(), "--at", at]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("refused: bad_signature"), "{}", text(&bad));
}

#[test]
fn an_operator_writes_signs_and_verifies_a_bundle_and_a_trust_change_needs_two_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = booth(d, &[("office", keypair(d, "office")), ("centre", keypair(d, "centre"))]);
    std::fs::write(d.join("hours.toml"), "[service]\nopens = \"08:30\"\n").unwrap();
    let bundle = d.join("hours.toml.bundle");
    let new = gradbooth(
        &config,
        &[
            "bundle",
            "new",
            "--serial",
            "1",
            "--comment",
            "earlier",
            "--out",
            bundle.to_str().unwrap(),
            d.join("hours.toml").to_str().unwrap(),
        ],
    );
    assert!(new.status.success(), "{}", text(&new));
    // Not signed yet.
    let unsigned = gradbooth(&config, &["bundle", "verify", bundle.to_str().unwrap()]);
    assert!(text(&unsigned).contains("refused: unsigned"), "{}", text(&unsigned));
    minisign(&["-S", "-s", d.join("office.key").to_str().unwrap(), "-m", bundle.to_str().unwrap()]);
    let ok = gradbooth(&config, &["bundle", "verify", bundle.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("service.opens: 09:00 → 08:30"), "{}", text(&ok));

    // A trust change: a new service-code key.
    std::fs::write(d.join("trust.toml"), "[diagnostics]\nrevoked = [\"T-0042\"]\n").unwrap();
    let trust = d.join("trust.bundle");
    let new = gradbooth(
        &config,
        &["bundle", "new", "--serial", "2", "--out", trust.to_str().unwrap(), d.join("trust.toml").to_str().unwrap()],
    );
    assert!(new.status.success(), "{}", text(&new));
    let sig = |who: &str| {
        minisign(&[
            "-S",
            "-s",
            d.join(format!("{who}.key")).to_str().unwrap(),
            "-m",
            trust.to_str().unwrap(),
            "-x",
            &format!("{}.{who}.minisig", trust.display()),
        ]);
    };
    sig("office");
    let one = gradbooth(&config, &["bundle", "verify", trust.to_str().unwrap()]);
    assert_eq!(one.status.code(), Some(2));
    assert!(text(&one).contains("refused: trust_needs_two"), "{}", text(&one));
    sig("centre");
    let two = gradbooth(&config, &["bundle", "verify", trust.to_str().unwrap()]);
    assert!(two.status.success(), "{}", text(&two));
    assert!(text(&two).contains("signed by centre + office"), "{}", text(&two));
    assert!(text(&two).contains("diagnostics.revoked: [] → [\"T-0042\"]  [trust]"), "{}", text(&two));
}

fn keypair(d: &Path, n: &str) -> String {
    minisign(&[
        "-G",
        "-W",
        "-p",
        d.join(format!("{n}.pub")).to_str().unwrap(),
        "-s",
        d.join(format!("{n}.key")).to_str().unwrap(),
    ]);
    public(&d.join(format!("{n}.pub")))
}

/// A bundle of `serial` setting the opening hour, signed by `office`.
fn opening_bundle(d: &Path, serial: u64, opens: &str) -> std::path::PathBuf {
    let path = d.join(format!("b{serial}.toml"));
    let text = format!(
        "[bundle]\nserial = {serial}\nbooths = [\"fengxian-d108\"]\nissued_at = \"2026-01-01T00:00:00+08:00\"\n[service]\nopens = \"{opens}\"\n"
    );
    std::fs::write(&path, text).unwrap();
    minisign(&["-S", "-s", d.join("office.key").to_str().unwrap(), "-m", path.to_str().unwrap()]);
    path
}

#[test]
fn an_applied_bundle_is_what_the_next_bundle_is_checked_against_and_cannot_be_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = booth(d, &[("office", keypair(d, "office"))]);
    let data = d.join("data");
    let data_arg = ["--data-dir", data.to_str().unwrap()];
    let with_data = |args: &[&str]| {
        let mut a: Vec<&str> = data_arg.to_vec();
        a.extend_from_slice(args);
        gradbooth(&config, &a)
    };
    let first = opening_bundle(d, 1, "08:30");
    let applied = with_data(&["bundle", "apply", first.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied));
    assert!(text(&applied).contains("applied: generation [1]"), "{}", text(&applied));
    // The same bundle again is a replay, checked against the booth's own floor.
    let again = with_data(&["bundle", "verify", first.to_str().unwrap()]);
    assert!(text(&again).contains("refused: replay"), "{}", text(&again));
    // The next one sees the booth as it now is.
    let second = opening_bundle(d, 2, "07:30");
    let v = with_data(&["bundle", "verify", second.to_str().unwrap()]);
    assert!(text(&v).contains("service.opens: 08:30 → 07:30"), "{}", text(&v));
}

#[test]
fn killed_at_any_moment_while_applying_the_booth_has_exactly_the_old_or_the_new_configuration() {
    use gradbooth::config::generations::Generations;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = booth(d, &[("office", keypair(d, "office"))]);
    let base = std::fs::read_to_string(&config).unwrap();
    let data = d.join("data");
    let g = Generations::at(&data);
    let mut seed: u64 = 20261201;
    let (mut kept, mut lost) = (0, 0);
    for serial in 1..=30u64 {
        let before = g.state().unwrap();
        let opens = format!("{:02}:00", 6 + serial % 4);
        let bundle = opening_bundle(d, serial, &opens);
        let mut child = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .args(["bundle", "apply", bundle.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        std::thread::sleep(std::time::Duration::from_micros((seed >> 33) % 40_000));
        let _ = child.kill();
        let _ = child.wait();
        let after = g.state().expect("state.json always reads back whole");
        assert!(after.floor >= before.floor, "round {serial}: the floor went down");
        let mut new = before.applied.clone();
        new.push(serial);
        let text = g.text(&base, &after.applied).unwrap();
        let settings = gradbooth::config::Settings::parse(&text).unwrap();
        if after.applied == new {
            assert!(settings.schedule.hours_text().starts_with(&opens), "round {serial}: the new whole configuration");
            kept += 1;
        } else {
            assert_eq!(after.applied, before.applied, "round {serial}: neither old nor new");
            lost += 1;
        }
        // The next round builds on whatever this one left (confirmed, as a booth that ran would).
        g.confirm().unwrap();
    }
    eprintln!("applying killed 30 times: {kept} applied, {lost} not");
}
