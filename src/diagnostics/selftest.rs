//! The self-test: every check that needs no person, each with a name a fleet can alert on
//! (`camera`, `review`, `lights.<channel>`, `chair.top`, `chair.bottom`, `journal`,
//! `storage.free`, `payment`, `upload`, `clock`), a pass or fail, and what it measured.
//! The technician's button runs it all; the way out of the mode runs it without the chair
//! (`quick`); `gradbooth selftest` runs it headless. Each check also fills its page.

use std::time::{Duration, Instant};

use gradbooth_hal::{LightLevels, Motion};
use serde::Serialize;

use super::bench::{Bench, lock};
use crate::bus::{Mark, Row};
use crate::devices::seen::measure_frame;
use crate::devices::workers::CameraCmd;
use crate::payment::TradeState;
use crate::visit::{DeviceKind, Part};

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    /// What was measured or why it failed, in English (logs, JSON, the fleet).
    pub detail: String,
    #[serde(skip)]
    label: (&'static str, &'static str),
}

impl CheckResult {
    fn new(
        name: impl Into<String>,
        label: (&'static str, &'static str),
        passed: bool,
        detail: impl Into<String>,
    ) -> Self {
        CheckResult { name: name.into(), passed, detail: detail.into(), label }
    }

    /// The line a page shows for it.
    pub fn row(&self) -> Row {
        let mark = if self.passed { Mark::Ok } else { Mark::Fail };
        Row::new(self.label.0, self.label.1, format!("{} · {}", self.name, self.detail), mark)
    }
}

/// A whole self-test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub booth: String,
    /// Unix seconds (the system clock).
    pub at: i64,
    /// Without the chair (the way out of the mode).
    pub quick: bool,
    pub passed: bool,
    pub checks: Vec<CheckResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The names of the checks that failed.
    pub fn failed(&self) -> Vec<String> {
        self.checks.iter().filter(|c| !c.passed).map(|c| c.name.clone()).collect()
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report is plain data")
    }
}

/// Runs every check in turn (the chair's unless `quick`).
pub fn run(b: &Bench, quick: bool) -> Report {
    let mut checks = vec![camera(b), review(b)];
    checks.extend(lamps(b));
    if !quick {
        checks.extend(chair(b));
    }
    checks.extend(storage(b).into_iter().filter(|c| c.name != "storage.info"));
    checks.extend(network(b).into_iter().filter(|c| c.name != "clock.ntp"));
    let mut report = Report {
        booth: b.cfg().booth_id.clone(),
        at: crate::payment::wechat::unix_now(),
        quick,
        passed: false,
        checks,
    };
    report.passed = report.passed();
    report
}

/// A frame from the camera, not black.
fn camera(b: &Bench) -> CheckResult {
    const L: (&str, &str) = ("相机", "Camera");
    match b.frame(false) {
        Err(e) => CheckResult::new("camera", L, false, e),
        Ok(frame) => {
            let (luma, sharpness) = measure_frame(&frame);
            let (w, h) = frame.dimensions();
            let detail = format!("{w}×{h}, mean luma {luma:.0} of 255, sharpness {sharpness:.0}");
            if luma < BLACK {
                CheckResult::new("camera", L, false, format!("the picture is black ({detail})"))
            } else {
                CheckResult::new("camera", L, true, detail)
            }
        }
    }
}

/// The review's models load and run on a plain frame.
fn review(b: &Bench) -> CheckResult {
    const L: (&str, &str) = ("照片审核", "Photo review");
    match b.reviewer.check() {
        Ok(()) => CheckResult::new("review", L, true, "models loaded and run"),
        Err(e) => CheckResult::new("review", L, false, e.to_string()),
    }
}

/// A picture darker than this (mean luma) is black: the lens covered, the sensor dead.
const BLACK: f32 = 10.0;
/// How long the lights and the camera get to settle after a change.
const SETTLE: Duration = Duration::from_millis(250);
/// A lamp counts as seen when the picture is this much brighter with it alone than dark …
const LAMP_GAIN: f32 = 1.15;
/// … and at least this many luma steps.
const LAMP_STEPS: f32 = 3.0;

/// The picture's mean luma under `levels`, the camera at the no-glasses preset's exposure.
fn luma_under(b: &Bench, levels: &LightLevels) -> Result<f32, String> {
    let _ = b.links.lights.send(levels.clone());
    std::thread::sleep(SETTLE);
    // One frame may still be under the old light.
    b.frame(false)?;
    Ok(measure_frame(&b.frame(false)?).0)
}

/// Each light channel alone at full, against all dark: a dead lamp shows as no change in the
/// camera's picture, found without looking.
pub(super) fn lamps(b: &Bench) -> Vec<CheckResult> {
    const L: (&str, &str) = ("灯光", "Light");
    let channels = b.cfg().lights.channels.clone();
    let dark = LightLevels(channels.iter().map(|c| (c.clone(), 0)).collect());
    // A fixed exposure, so the camera does not make up for a lamp that is out.
    let _ = b.links.camera.send(CameraCmd::Controls(b.cfg().lights.no_glasses.camera));
    let base = match luma_under(b, &dark) {
        Ok(l) => l,
        Err(e) => {
            return channels
                .iter()
                .map(|c| CheckResult::new(format!("lights.{c}"), L, false, format!("not seen: camera: {e}")))
                .collect();
        }
    };
    channels
        .iter()
        .map(|c| {
            let mut one = dark.clone();
            one.0.insert(c.clone(), 100);
            let name = format!("lights.{c}");
            match luma_under(b, &one) {
                Err(e) => CheckResult::new(name, L, false, format!("not seen: camera: {e}")),
                Ok(lit) if lit >= base * LAMP_GAIN && lit >= base + LAMP_STEPS => {
                    CheckResult::new(name, L, true, format!("picture luma {base:.0} → {lit:.0}"))
                }
                Ok(lit) if lit < BLACK => {
                    CheckResult::new(name, L, false, format!("not seen: the camera's picture is black ({lit:.0})"))
                }
                Ok(lit) => {
                    CheckResult::new(name, L, false, format!("{c}: no change in the picture ({base:.0} → {lit:.0})"))
                }
            }
        })
        .collect()
}

/// The chair to its top limit, to its bottom limit, and back to the middle, each run within
/// the driver's `max_run_ms`. Every safety rule of the driver applies (it stops the motor at a
/// limit and after its longest run).
fn chair(b: &Bench) -> Vec<CheckResult> {
    const L: (&str, &str) = ("座椅", "Chair");
    if !b.cfg().diagnostics.selftest_chair {
        return vec![CheckResult::new("chair", L, true, "not run: [diagnostics] selftest_chair = false")];
    }
    if lock(&b.found).faults.contains(&Part::Device(DeviceKind::Chair)) {
        return vec![CheckResult::new("chair", L, false, "the chair is out of order (device fault)")];
    }
    let limit = b.cfg().chair_max_run + Duration::from_secs(1);
    let run = |motion: Motion, name: &str, reached: fn(&crate::devices::seen::ChairSeen) -> bool| {
        let started = Instant::now();
        let _ = b.links.chair.send(motion);
        let outcome = loop {
            std::thread::sleep(Duration::from_millis(50));
            let seen = b.links.seen.chair();
            if reached(&seen) {
                break Ok(started.elapsed());
            }
            if let Some(fault) = seen.fault {
                break Err(format!("the driver stopped the motor: {fault}"));
            }
            if started.elapsed() > limit {
                break Err(format!("not reached in {:.1} s", limit.as_secs_f32()));
            }
        };
        let _ = b.links.chair.send(Motion::Stop);
        std::thread::sleep(Duration::from_millis(100));
        match outcome {
            Ok(t) => (CheckResult::new(name, L, true, format!("limit reached in {:.1} s", t.as_secs_f32())), Some(t)),
            Err(e) => (CheckResult::new(name, L, false, e), None),
        }
    };
    let (top, _) = run(Motion::Up, "chair.top", |s| s.at_top);
    let (bottom, travel) = run(Motion::Down, "chair.bottom", |s| s.at_bottom);
    // Back to the middle, where graduates find it.
    if let Some(t) = travel {
        let _ = b.links.chair.send(Motion::Up);
        std::thread::sleep(t / 2);
        let _ = b.links.chair.send(Motion::Stop);
    }
    vec![top, bottom]
}

/// The data directory's free space and the journal's own integrity check; sizes and the
/// outbox as information.
pub(super) fn storage(b: &Bench) -> Vec<CheckResult> {
    let dir = &b.cfg().data_dir;
    let warn_mb = b.cfg().diagnostics.storage_warn_mb;
    let free = match nix::sys::statvfs::statvfs(dir) {
        Ok(s) => {
            let mb = s.blocks_available() * s.fragment_size() / 1_048_576;
            CheckResult::new(
                "storage.free",
                ("可用空间", "Free space"),
                mb >= warn_mb,
                format!("{mb} MB free (warns below {warn_mb} MB)"),
            )
        }
        Err(e) => {
            CheckResult::new("storage.free", ("可用空间", "Free space"), false, format!("{}: {e}", dir.display()))
        }
    };
    let integrity = match b.storage.journal().integrity_ok() {
        Ok(true) => CheckResult::new("journal", ("日志数据库", "Journal"), true, "PRAGMA integrity_check: ok"),
        Ok(false) => {
            CheckResult::new("journal", ("日志数据库", "Journal"), false, "PRAGMA integrity_check found damage")
        }
        Err(e) => CheckResult::new("journal", ("日志数据库", "Journal"), false, e.to_string()),
    };
    let size = |name: &str| std::fs::metadata(dir.join(name)).map(|m| m.len() / 1024).unwrap_or(0);
    let sizes = format!("journal {} KiB, WAL {} KiB", size("journal.sqlite3"), size("journal.sqlite3-wal"));
    vec![free, integrity, CheckResult::new("storage.info", ("日志大小", "Journal size"), true, sizes)]
}

/// How long a network check may take.
const NETWORK_WAIT: Duration = Duration::from_secs(20);

/// WeChat Pay with our keys, the upload target, and the clock.
pub(super) fn network(b: &Bench) -> Vec<CheckResult> {
    // An order number this booth never made (its counter never reaches 0): a signed query
    // that must come back as a verified "order does not exist" — TLS, merchant key, WeChat
    // Pay's public key and the clock, without touching money.
    let never = crate::payment::out_trade_no(&b.cfg().booth_id, 0);
    const PAY: (&str, &str) = ("微信支付", "WeChat Pay");
    let payment = match b.rt.block_on(async { tokio::time::timeout(NETWORK_WAIT, b.payment.query(&never, 1)).await }) {
        Err(_) => CheckResult::new("payment", PAY, false, format!("no answer in {} s", NETWORK_WAIT.as_secs())),
        Ok(Ok(TradeState::NotFound)) => {
            CheckResult::new("payment", PAY, true, "signed query answered: order does not exist (verified)")
        }
        Ok(Ok(other)) => CheckResult::new("payment", PAY, false, format!("an order never made is there: {other:?}")),
        Ok(Err(e)) => CheckResult::new("payment", PAY, false, e.to_string()),
    };
    const UP: (&str, &str) = ("照片上传", "Upload");
    let upload = match b.rt.block_on(async { tokio::time::timeout(NETWORK_WAIT, b.target.probe()).await }) {
        Err(_) => CheckResult::new("upload", UP, false, format!("no answer in {} s", NETWORK_WAIT.as_secs())),
        Ok(Ok(what)) => CheckResult::new("upload", UP, true, what),
        Ok(Err(e)) => CheckResult::new("upload", UP, false, format!("{}: {e}", b.target.describe())),
    };
    const CLK: (&str, &str) = ("时钟", "Clock");
    let ours = crate::payment::wechat::unix_now();
    let clock = match b.payment.server_time() {
        None => CheckResult::new("clock", CLK, false, "not compared: no signed answer from the payment service"),
        Some(theirs) => {
            let skew = ours - theirs;
            let ok = skew.unsigned_abs() <= b.cfg().clock_slack.as_secs();
            CheckResult::new(
                "clock",
                CLK,
                ok,
                format!("{skew:+} s against the payment service (at most ±{} s)", b.cfg().clock_slack.as_secs()),
            )
        }
    };
    let ntp = CheckResult::new("clock.ntp", ("时间同步", "NTP"), true, ntp_state());
    vec![payment, upload, clock, ntp]
}

/// systemd-timesyncd's word on NTP, where there is one.
fn ntp_state() -> String {
    match std::process::Command::new("timedatectl").args(["show", "-p", "NTPSynchronized", "--value"]).output() {
        Ok(out) if out.status.success() => match String::from_utf8_lossy(&out.stdout).trim() {
            "yes" => "synchronised".into(),
            "no" => "NOT synchronised".into(),
            other => format!("unknown ({other})"),
        },
        _ => "unknown (no timedatectl)".into(),
    }
}
