//! The desk's hands: what the machine's desk commands do.
//!
//! - `read`: the stick's `gradbooth/` read once into memory and every bundle verified
//!   against the configuration the booth runs now (`config::bundle::inspect`), on a thread of
//!   its own (a slow stick never holds up the loop); the report to the screen, each refusal
//!   and alarm to the audit log, the applicable serial to the machine.
//! - `apply`: the verified bundle (the bytes read, never the stick again) made the current
//!   generation (`Generations::apply`, crash-safe), its settings kept for the switch.
//! - `switch`: at the booth's next rest the runtime takes those settings (`take_pending`);
//!   what it cannot change in place (the review, payment, upload, diagnostics) needs a restart.
//! - `export`: the stick made writable, the records written (`export::run`), the stick
//!   synced and unmounted, progress to the machine.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::{error, info, warn};

use crate::bus::{DeskBundle, DeskChange, DeskReport, Events, UiMsg, UiSink};
use crate::config::Settings;
use crate::config::bundle::inspect::{self, StickReport};
use crate::config::bundle::{ChangeKind, Checkpoint, Warning};
use crate::config::generations::Generations;
use crate::journal::storage::Storage;
use crate::visit::{Event, StickEvent};

/// The stick's commands (remount, eject) may take this long.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Sections a running booth cannot take in place: their parts were built from them at start
/// (the price is the machine's policy, and switches in place).
const NEEDS_RESTART: &[&str] = &["review", "payment.", "upload", "diagnostics", "operators.stick", "ui.language"];

fn needs_restart(key: &str) -> bool {
    key != "payment.price_yuan" && NEEDS_RESTART.iter().any(|p| key.starts_with(p))
}

/// A generation applied at the desk, for the runtime to switch to at the next rest.
pub struct Pending {
    pub settings: Box<Settings>,
    pub serial: u64,
    /// It changes what only a fresh start takes.
    pub restart: bool,
}

/// What the desk's hands work with.
pub struct Desk {
    storage: Arc<Storage>,
    /// The booth's calendar time (a bundle's `issued_at`, `apply_before`, the warnings).
    wall_clock: crate::clock::WallClock,
    events: Events,
    ui: Arc<dyn UiSink>,
    /// The stick last read, in memory (dropped when the desk closes).
    report: Arc<Mutex<Option<StickReport>>>,
    pending: Option<Pending>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn audit(storage: &Storage, action: &str, detail: &str) {
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = storage.journal().audit("operator", action, detail, now) {
        error!(action, error = %e, "audit entry not recorded");
    }
}

impl Desk {
    pub fn new(
        storage: Arc<Storage>,
        wall_clock: crate::clock::WallClock,
        events: Events,
        ui: Arc<dyn UiSink>,
    ) -> Self {
        Desk { storage, wall_clock, events, ui, report: Arc::default(), pending: None }
    }

    /// `ReadStick`: read and verify on a thread; the report to the screen, `Read` back.
    pub fn read(&self, settings: &Settings) {
        let Some(place) = settings.operators.stick.clone() else {
            let _ = self.events.send(Event::Stick(StickEvent::Read { applicable: None }));
            return;
        };
        let (settings, storage, events, ui, slot) =
            (settings.clone(), self.storage.clone(), self.events.clone(), self.ui.clone(), self.report.clone());
        let now = self.wall_clock.now();
        std::thread::spawn(move || {
            let generations = Generations::at(&settings.data_dir);
            let floor = generations.state().map(|s| s.floor).unwrap_or(u64::MAX);
            let at = Checkpoint { current_text: &settings.source_text, current: &settings, serial_floor: floor, now };
            let report = inspect::inspect(&place, &at, &generations);
            for b in &report.bundles {
                let hash = crate::journal::storage::sha256_hex(&b.bytes);
                match &b.result {
                    Ok(v) => {
                        info!(bundle = %b.name, serial = v.header.serial, hash = v.short_hash(), "bundle verified")
                    }
                    Err(r) => {
                        warn!(bundle = %b.name, code = r.code(), "bundle refused: {r}");
                        audit(&storage, "bundle_refused", &format!("{} {} sha256 {hash}: {r}", b.name, r.code()));
                    }
                }
                if let Some((serial, applied)) = &b.alarm {
                    error!(bundle = %b.name, serial, "ALARM: a bundle with an applied serial and other contents");
                    audit(
                        &storage,
                        "bundle_alarm",
                        &format!(
                            "serial {serial} was applied with sha256 {applied}; {} has the same serial and sha256 {hash}",
                            b.name
                        ),
                    );
                }
            }
            if let Some(e) = &report.error {
                warn!(code = e.code(), "the stick could not be read: {e:?}");
                audit(&storage, "stick_refused", &format!("{}: {e:?}", e.code()));
            }
            let applicable = report.applicable().and_then(|b| b.result.as_ref().ok()).map(|v| v.header.serial);
            ui.send(UiMsg::Desk(Some(Box::new(shown(&report, applicable)))));
            *lock(&slot) = Some(report);
            let _ = events.send(Event::Stick(StickEvent::Read { applicable }));
        });
    }

    /// `ApplyBundle`: the bundle with `serial`, as it was read and verified, made current.
    pub fn apply(&mut self, serial: u64, settings: &Settings) -> Result<u64, String> {
        let report = lock(&self.report);
        let found = report
            .as_ref()
            .and_then(|r| r.bundles.iter().find(|b| b.result.as_ref().is_ok_and(|v| v.header.serial == serial)));
        let Some(b) = found else { return Err(format!("bundle {serial} is no longer in memory")) };
        let v = b.result.as_ref().expect("found by its verified serial");
        let generations = Generations::at(&settings.data_dir);
        if let Err(e) = generations.apply(v, &b.bytes) {
            error!(serial, error = %e, "the bundle could not be applied");
            audit(&self.storage, "bundle_apply_failed", &format!("serial {serial}: {e:#}"));
            return Err(format!("{e:#}"));
        }
        let signers = v.signers.iter().cloned().collect::<Vec<_>>().join("+");
        audit(
            &self.storage,
            "bundle_applied",
            &format!("serial {serial} sha256 {} signed by {signers}: {} changes", v.sha256, v.changes.len()),
        );
        info!(serial, hash = v.short_hash(), "bundle applied; the booth switches at its next rest");
        let restart = v.changes.iter().any(|c| needs_restart(&c.key));
        let mut new = v.new.clone();
        new.data_dir = settings.data_dir.clone();
        self.pending = Some(Pending { settings: new, serial, restart });
        Ok(serial)
    }

    /// The generation applied at the desk, once the booth rests.
    pub fn take_pending(&mut self) -> Option<Pending> {
        self.pending.take()
    }

    /// `ExportToStick`: on a thread; progress and the outcome to the machine.
    pub fn export(&self, settings: &Settings) {
        let Some(place) = settings.operators.stick.clone() else {
            let _ = self.events.send(Event::Stick(StickEvent::Exported(Err("no stick configured".into()))));
            return;
        };
        let (settings, storage, events) = (settings.clone(), self.storage.clone(), self.events.clone());
        std::thread::spawn(move || {
            let result = export_to(&settings, &place, &events);
            match &result {
                Ok(folder) => audit(&storage, "export", folder),
                Err(e) => {
                    error!(error = %e, "the export failed");
                    audit(&storage, "export_failed", e);
                }
            }
            let _ = events.send(Event::Stick(StickEvent::Exported(result)));
        });
    }

    /// `DeskClosed`: what was read from the stick leaves memory and the screen.
    pub fn close(&self) {
        *lock(&self.report) = None;
        self.ui.send(UiMsg::Desk(None));
    }
}

fn export_to(settings: &Settings, place: &std::path::Path, events: &Events) -> Result<String, String> {
    let ops = &settings.operators;
    run_command(&ops.stick_writable).map_err(|e| format!("the stick could not be made writable: {e}"))?;
    let mut progress = |done, total| {
        let _ = events.send(Event::Stick(StickEvent::ExportProgress { done, total }));
    };
    let written = super::export::run(settings, place, &mut progress).map_err(|e| format!("{e:#}"));
    // Synced and unmounted whatever happened, so the stick may be pulled.
    let ejected = run_command(&ops.stick_eject).map_err(|e| format!("the stick could not be ejected: {e}"));
    let dir = written?;
    ejected?;
    let shown: PathBuf = dir.strip_prefix(place).map(|p| p.to_owned()).unwrap_or(dir);
    Ok(shown.display().to_string())
}

/// Runs `argv` (nothing when empty), at most `COMMAND_TIMEOUT`.
fn run_command(argv: &[String]) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else { return Ok(()) };
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let until = std::time::Instant::now() + COMMAND_TIMEOUT;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(s) if s.success() => return Ok(()),
            Some(s) => return Err(format!("{program}: {s}")),
            None if std::time::Instant::now() > until => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{program}: no answer in {} s", COMMAND_TIMEOUT.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn sorted(changes: &[crate::config::bundle::Change]) -> Vec<&crate::config::bundle::Change> {
    let rank = |k: ChangeKind| match k {
        ChangeKind::Trust => 0,
        ChangeKind::Money => 1,
        ChangeKind::Everyday => 2,
    };
    let mut v: Vec<_> = changes.iter().collect();
    v.sort_by_key(|c| rank(c.kind));
    v
}

/// The report as the desk shows it.
pub fn shown(report: &StickReport, applicable: Option<u64>) -> DeskReport {
    DeskReport {
        stick_error: report.error.as_ref().map(|e| (e.code().to_owned(), format!("{e:?}"))),
        bundles: report
            .bundles
            .iter()
            .map(|b| match &b.result {
                Ok(v) => DeskBundle {
                    name: b.name.clone(),
                    serial: Some(v.header.serial),
                    refusal: None,
                    applicable: applicable == Some(v.header.serial),
                    signers: v.signers.iter().cloned().collect(),
                    short_hash: v.short_hash().to_owned(),
                    comment: v.header.comment.clone(),
                    // Trust first, then money: what an operator must see is never scrolled away.
                    changes: sorted(&v.changes)
                        .into_iter()
                        .map(|c| DeskChange {
                            group: c.key.rsplit_once('.').map_or("", |(g, _)| g).to_owned(),
                            key: c.key.clone(),
                            before: c.before.clone().unwrap_or_default(),
                            after: c.after.clone(),
                            kind: match c.kind {
                                ChangeKind::Everyday => "everyday",
                                ChangeKind::Money => "money",
                                ChangeKind::Trust => "trust",
                            },
                        })
                        .collect(),
                    warnings: v
                        .warnings
                        .iter()
                        .map(|w| {
                            let detail = match w {
                                Warning::PeriodAlreadyEnded => String::new(),
                                Warning::PriceJump { before, after } => {
                                    format!("{} → {}", crate::screen::yuan(*before), crate::screen::yuan(*after))
                                }
                            };
                            (w.code().to_owned(), detail)
                        })
                        .collect(),
                },
                Err(r) => DeskBundle {
                    name: b.name.clone(),
                    serial: None,
                    refusal: Some((
                        if b.alarm.is_some() { "alarm".to_owned() } else { r.code().to_owned() },
                        r.to_string(),
                    )),
                    short_hash: crate::journal::storage::sha256_hex(&b.bytes)[..16].to_owned(),
                    ..DeskBundle::default()
                },
            })
            .collect(),
    }
}
