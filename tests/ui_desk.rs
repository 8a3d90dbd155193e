//! An operator's USB stick through the real touchscreen UI (Slint's testing backend) on the
//! real runtime: a directory stands in for the stick, and its bundles are signed by the real
//! `minisign` tool. An everyday change shown, applied and on the idle screen; a trust change
//! refused with one signature and applied with two; every refusal with its own message; a
//! stick pulled; a stick put in during a visit waits for the visit; the export, checked with
//! `minisign -V`.

mod ui;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use gradbooth::journal::Journal;
use gradbooth::review::ScriptedReviewer;
use gradbooth::ui::{BoothAdapter, Texts};
use slint::ComponentHandle;
use ui::{Booth, SOON};

/// The simulated booth's clock is at 2025-06-03 10:00 (+08:00); bundles are issued before.
const ISSUED: &str = "2025-06-01T09:00:00+08:00";

fn minisign(args: &[&str]) {
    let out = Command::new("minisign").args(args).output().expect("minisign (scripts/setup --tests installs it)");
    assert!(out.status.success(), "minisign {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An operator's key pair made by minisign; its public key's base64 line.
fn keypair(d: &Path, n: &str) -> String {
    let (p, s) = (d.join(format!("{n}.pub")), d.join(format!("{n}.key")));
    minisign(&["-G", "-W", "-p", p.to_str().unwrap(), "-s", s.to_str().unwrap()]);
    std::fs::read_to_string(p).unwrap().lines().nth(1).unwrap().to_owned()
}

struct Desk {
    dir: tempfile::TempDir,
    b: Booth,
}

impl Desk {
    /// The shipped booth trusting the keys `office` and `centre`, its stick at `dir/stick`.
    fn start() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let (office, centre) = (keypair(dir.path(), "office"), keypair(dir.path(), "centre"));
        keypair(dir.path(), "stranger");
        // The shipped file, its stick a directory (no remount, no eject), trusting both keys.
        let stick = dir.path().join("stick").display().to_string();
        let mut text = include_str!("../config/booth.toml")
            .replace("stick = \"/run/gradbooth/stick\"", &format!("stick = {stick:?}"))
            .replace("stick_writable = [\"systemctl\", \"start\", \"gradbooth-stick-rw.service\"]", "")
            .replace("stick_eject = [\"systemctl\", \"start\", \"gradbooth-stick-eject.service\"]", "");
        assert!(text.trim_end().ends_with("[operators.keys]") && text.contains(&stick));
        text += &format!("\noffice = \"{office}\"\ncentre = \"{centre}\"\n");
        let b = Booth::start_text(&text, |_| {}, vec![], Arc::new(ScriptedReviewer { pass: true }));
        b.wait_for("idle", SOON);
        Desk { dir, b }
    }

    /// The stick's `gradbooth/` folder (put in as soon as something is in it).
    fn folder(&self) -> PathBuf {
        self.dir.path().join("stick-staging").join("gradbooth")
    }

    /// Writes a bundle into the staging stick, signed by `signers`.
    fn bundle(&self, name: &str, serial: u64, extra_header: &str, settings: &str, signers: &[&str]) -> PathBuf {
        std::fs::create_dir_all(self.folder()).unwrap();
        let path = self.folder().join(name);
        let text = format!(
            "[bundle]\nserial = {serial}\nbooths = [\"fengxian-d108\"]\nissued_at = \"{ISSUED}\"\n{extra_header}\n{settings}"
        );
        std::fs::write(&path, text).unwrap();
        for s in signers {
            self.sign(&path, s);
        }
        path
    }

    fn sign(&self, path: &Path, who: &str) {
        let key = self.dir.path().join(format!("{who}.key"));
        let sig = format!("{}.{who}.minisig", path.display());
        minisign(&["-S", "-s", key.to_str().unwrap(), "-m", path.to_str().unwrap(), "-x", &sig]);
    }

    /// The stick goes in: the staged folder appears at once at the stick's place.
    fn insert(&self) {
        std::fs::create_dir_all(self.folder()).unwrap();
        std::fs::rename(self.dir.path().join("stick-staging"), self.dir.path().join("stick")).unwrap();
    }

    fn pull(&self) {
        std::fs::rename(self.dir.path().join("stick"), self.dir.path().join("stick-staging")).unwrap();
    }

    fn adapter(&self) -> BoothAdapter<'_> {
        self.b.app.global::<BoothAdapter>()
    }

    /// The desk has read the stick.
    fn shown(&self) {
        self.b.wait_for("desk", SOON);
        self.b.pump_until("the stick's report", SOON, |b| b.app.global::<BoothAdapter>().get_desk_stage() == "shown");
    }

    fn audit(&self) -> Vec<(String, String)> {
        let j = Journal::open_dir(&self.b.settings.data_dir).unwrap();
        j.audit_log(1000).unwrap().into_iter().map(|(_, _, action, detail)| (action, detail)).collect()
    }

    fn state(&self) -> gradbooth::config::generations::State {
        gradbooth::config::generations::Generations::at(&self.b.settings.data_dir).state().unwrap()
    }
}

fn sha16(path: &Path) -> String {
    gradbooth::journal::storage::sha256_hex(&std::fs::read(path).unwrap())[..16].to_owned()
}

#[test]
fn an_everyday_bundle_is_shown_applied_on_a_touch_and_its_hours_are_on_the_idle_screen() {
    let d = Desk::start();
    assert_eq!(d.adapter().get_hours(), "09:00–16:30");
    let path = d.bundle(
        "winter.toml",
        1,
        "comment = \"winter round\"",
        "[service]\nopens = \"08:30\"\ncloses = \"17:00\"\n[payment]\nprice_yuan = \"25.00\"\n",
        &["office"],
    );
    let hash = sha16(&path);
    d.insert();
    d.shown();
    // The change list: each setting before → after, the price highlighted, who signed, the hash.
    let a = d.adapter();
    assert_eq!(a.get_desk_serial(), "1");
    assert_eq!(a.get_desk_signers(), "office");
    assert_eq!(a.get_desk_hash(), hash);
    assert!(d.b.shows("service.opens") && d.b.shows("09:00  →  08:30"), "the opening hour's change");
    assert!(d.b.shows("30.00  →  25.00") && d.b.shows("价格"), "the price, marked as money");
    assert!(d.b.shows("备注：winter round"));
    // Nothing happens without a touch.
    std::thread::sleep(Duration::from_millis(600));
    assert!(d.state().applied.is_empty());
    d.b.press("应用配置包");
    d.b.pump_until("applied", SOON, |b| b.app.global::<BoothAdapter>().get_desk_stage() == "applied");
    assert_eq!(d.state().applied, vec![1]);
    // The booth switches when the desk closes, without a restart.
    d.b.press("完成");
    d.b.wait_for("idle", SOON);
    d.b.pump_until("the new hours", SOON, |b| b.shows("周一至周六 08:30–17:00"));
    assert!(!d.b.booth.restart_wanted());
    let audit = d.audit();
    let applied = audit.iter().find(|(a, _)| a == "bundle_applied").expect("audited");
    assert!(applied.1.contains("serial 1") && applied.1.contains("office"), "{applied:?}");
    assert!(audit.iter().any(|(a, _)| a == "config_switched"));
    // On trial, counted as started: a crash now would roll it back at the next start.
    assert_eq!(d.state().trial_starts, Some(1));
}

#[test]
fn a_trust_change_with_one_signature_is_refused_and_with_two_applied_and_restarts_the_booth() {
    let d = Desk::start();
    let path = d.bundle("trust.toml", 2, "", "[diagnostics]\nrevoked = [\"T-0042\"]\n", &["office"]);
    d.insert();
    d.shown();
    let texts = d.b.app.global::<Texts>();
    assert_eq!(d.adapter().get_desk_serial(), "", "nothing to apply");
    assert!(d.b.shows(&format!("trust.toml：{}", texts.invoke_bundle_refusal("trust_needs_two".into()))));
    d.b.press("取消");
    d.b.wait_for("idle", SOON);
    // The second operator signs; the stick comes back.
    d.pull();
    std::thread::sleep(Duration::from_millis(700));
    d.sign(&path, "centre");
    d.insert();
    d.shown();
    assert_eq!(d.adapter().get_desk_serial(), "2");
    assert_eq!(d.adapter().get_desk_signers(), "centre + office");
    assert!(d.b.shows("信任"), "a trust change is highlighted");
    d.b.press("应用配置包");
    d.b.pump_until("applied", SOON, |b| b.app.global::<BoothAdapter>().get_desk_stage() == "applied");
    d.b.press("完成");
    // What the running booth cannot take in place: it stops to start afresh.
    d.b.pump_until("the restart", SOON, |b| b.booth.restart_wanted());
    assert_eq!(d.state().applied, vec![2]);
    assert!(d.audit().iter().any(|(a, _)| a == "config_restart"));
}

#[test]
fn every_refusal_has_its_own_message_and_nothing_is_applied() {
    let d = Desk::start();
    let hours = "[service]\nopens = \"08:00\"\n";
    d.bundle("unsigned.toml", 3, "", hours, &[]);
    let altered = d.bundle("altered.toml", 3, "", hours, &["office"]);
    std::fs::write(&altered, std::fs::read_to_string(&altered).unwrap().replace("08:00", "07:00")).unwrap();
    d.bundle("stranger.toml", 3, "", hours, &["stranger"]);
    let other = d.folder().join("other.toml");
    std::fs::write(
        &other,
        format!("[bundle]\nserial = 3\nbooths = [\"yangpu-01\"]\nissued_at = \"{ISSUED}\"\n{hours}"),
    )
    .unwrap();
    d.sign(&other, "office");
    d.bundle("replay.toml", 0, "", hours, &["office"]);
    d.bundle("expired.toml", 3, "apply_before = \"2025-06-02T00:00:00+08:00\"", hours, &["office"]);
    let future = d.folder().join("future.toml");
    std::fs::write(
        &future,
        format!(
            "[bundle]\nserial = 3\nbooths = [\"fengxian-d108\"]\nissued_at = \"2025-07-01T00:00:00+08:00\"\n{hours}"
        ),
    )
    .unwrap();
    d.sign(&future, "office");
    d.bundle("trust.toml", 3, "", "[diagnostics]\nrevoked = [\"T-0042\"]\n", &["office"]);
    d.bundle("booth-id.toml", 3, "", "[booth]\nid = \"someone-else\"\n", &["office"]);
    d.bundle("price.toml", 3, "", "[payment]\nprice_yuan = \"99.00\"\n", &["office"]);
    d.bundle("invalid.toml", 3, "", "[service]\nopens = \"25:00\"\n", &["office"]);
    let garbage = d.folder().join("garbage.toml");
    std::fs::write(&garbage, "this is ] not [ a bundle").unwrap();
    d.sign(&garbage, "office");
    let huge = d.folder().join("huge.toml");
    std::fs::write(&huge, vec![b'#'; 300 * 1024]).unwrap();
    d.sign(&huge, "office");
    let cases = [
        ("unsigned.toml", "unsigned"),
        ("altered.toml", "bad_signature"),
        ("stranger.toml", "unknown_key"),
        ("other.toml", "not_for_this_booth"),
        ("replay.toml", "replay"),
        ("expired.toml", "expired"),
        ("future.toml", "not_yet_valid"),
        ("trust.toml", "trust_needs_two"),
        ("booth-id.toml", "not_changeable"),
        ("price.toml", "price_out_of_bounds"),
        ("invalid.toml", "invalid_setting"),
        ("garbage.toml", "unreadable"),
        ("huge.toml", "too_large"),
    ];
    d.insert();
    d.shown();
    let texts = d.b.app.global::<Texts>();
    let mut messages = std::collections::BTreeSet::new();
    for (name, code) in cases {
        let message = texts.invoke_bundle_refusal(code.into()).to_string();
        assert_ne!(message, code, "{code} has a message of its own");
        messages.insert(message.clone());
        assert!(d.b.shows(&format!("{name}：{message}")), "{name} refused as {code}");
    }
    assert_eq!(messages.len(), cases.len(), "each refusal its own message");
    // The detail names the setting and its allowed range, as the config checker does.
    let refused = d.adapter().get_desk_refused();
    let invalid = slint::Model::iter(&refused).find(|r| r.name == "invalid.toml").unwrap();
    assert!(invalid.detail.contains("service.opens"), "{}", invalid.detail);
    assert_eq!(d.adapter().get_desk_serial(), "", "nothing applicable");
    assert!(d.b.find("应用配置包").is_empty(), "no apply button");
    let audited = d.audit().iter().filter(|(a, _)| a == "bundle_refused").count();
    assert_eq!(audited, cases.len(), "every refusal audited");
    d.b.press("取消");
    d.b.wait_for("idle", SOON);
    assert!(d.state().applied.is_empty());
}

#[test]
fn a_stick_that_cannot_be_read_says_why_and_one_pulled_while_shown_changes_nothing() {
    let d = Desk::start();
    std::fs::create_dir_all(d.folder()).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.folder().join("evil.toml")).unwrap();
    d.insert();
    d.shown();
    let texts = d.b.app.global::<Texts>();
    assert_eq!(d.adapter().get_desk_stick_error(), "symlink");
    assert!(d.b.shows(&texts.invoke_stick_error("symlink".into())));
    d.b.press("取消");
    d.b.wait_for("idle", SOON);
    d.pull();
    std::fs::remove_file(d.folder().join("evil.toml")).unwrap();
    std::thread::sleep(Duration::from_millis(700));

    // A valid bundle, shown, and the stick pulled before anyone applies it.
    d.bundle("winter.toml", 1, "", "[service]\nopens = \"08:30\"\n", &["office"]);
    d.insert();
    d.shown();
    assert_eq!(d.adapter().get_desk_serial(), "1");
    d.pull();
    d.b.wait_for("idle", SOON);
    assert_eq!(d.adapter().get_desk_serial(), "", "the report left the screen");
    assert!(d.state().applied.is_empty());
    assert_eq!(d.adapter().get_hours(), "09:00–16:30");
}

#[test]
fn a_stick_put_in_during_a_visit_is_looked_at_only_after_it() {
    let d = Desk::start();
    d.bundle("winter.toml", 1, "", "[service]\nopens = \"08:30\"\n", &["office"]);
    d.b.booth.simulate("demo_ticket");
    d.b.wait_for("confirm", SOON);
    d.insert();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(d.b.screen(), "confirm", "the graduate's visit goes on");
    d.b.press("退出");
    d.b.wait_for("desk", SOON);
    d.shown();
    d.b.press("应用配置包");
    d.b.pump_until("applied", SOON, |b| b.app.global::<BoothAdapter>().get_desk_stage() == "applied");
    d.b.press("完成");
    d.b.wait_for("idle", SOON);
    d.b.pump_until("the new hours", SOON, |b| b.shows("周一至周六 08:30–16:30"));
}

#[test]
fn the_export_is_written_onto_the_stick_signed_and_says_when_it_may_be_pulled() {
    // The booth's log as the booth keeps it (stderr and the recent lines for the export).
    let _ = tracing_subscriber::fmt().with_writer(gradbooth::operators::log::Tee).with_ansi(false).try_init();
    let d = Desk::start();
    // The demo graduate's visit first: his name was on the screen, it must not be in the export.
    d.b.booth.simulate("demo_ticket");
    d.b.wait_for("confirm", SOON);
    assert!(d.b.shows("李明"));
    d.b.press("退出");
    d.b.wait_for("idle", SOON);
    std::fs::create_dir_all(d.folder()).unwrap();
    std::fs::write(d.folder().join("README.txt"), "office stick").unwrap();
    d.insert();
    d.shown();
    assert!(d.b.shows("U盘上没有配置包。可以把本机记录导出到U盘。"));
    d.b.press("导出记录到U盘");
    d.b.pump_until("exported", Duration::from_secs(20), |b| {
        b.app.global::<BoothAdapter>().get_desk_stage() == "exported"
    });
    let folder = d.adapter().get_desk_folder().to_string();
    assert!(folder.starts_with("gradbooth/export/fengxian-d108-"), "{folder}");
    assert!(d.b.shows(&format!("记录已写入U盘 {folder}，并已同步。现在可以拔出U盘。")));
    let dir = d.dir.path().join("stick").join(&folder);
    let out = Command::new("minisign")
        .args(["-V", "-p"])
        .arg(dir.join("booth.pub"))
        .arg("-m")
        .arg(dir.join("SHA256SUMS"))
        .output()
        .unwrap();
    assert!(out.status.success(), "minisign -V: {}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("audit.csv").exists() && dir.join("stats.csv").exists());
    let log = std::fs::read_to_string(dir.join("recent.log")).expect("the booth's recent log");
    assert!(log.contains("visit ended"), "the visit is in the log: {log}");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for private in ["李明", "2022****56", gradbooth::ticket::DEMO_STUDENT_NO, "JFIF"] {
            assert!(!text.contains(private), "{private} in the export");
        }
    }
    // Pulled: the message stays until the operator is done.
    d.pull();
    std::thread::sleep(Duration::from_millis(700));
    assert!(d.b.find("导出记录到U盘").is_empty(), "nothing more to export onto");
    d.b.press("完成");
    d.b.wait_for("idle", SOON);
    assert!(d.audit().iter().any(|(a, d)| a == "export" && d.contains("gradbooth/export")));
}
