//! The technician's bench: what the diagnostics mode does with the booth's real parts. It
//! checks service codes, carries out the pages' actions (a light channel, a scene, a test
//! capture judged by the real review, the network checks), reads codes for the scanner page,
//! runs the self-test (`selftest`) and fills the pages (`panel`). It drives the devices through
//! the same device threads as a visit, so every driver's safety rule still applies; it changes
//! no setting, marks no order, and never shows or logs a graduate's data or photo.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gradbooth_hal::{CameraControls, DeviceError, LightLevels, Motion, RgbImage};
use tracing::{info, warn};

use super::code::{self, ServiceCheckpoint};
use super::selftest::{self, Report};
use super::settings::DiagnosticsSettings;
use crate::bus::{Events, Mark, Panel, Row, UiMsg, UiSink};
use crate::clock::WallClock;
use crate::devices::seen::Seen;
use crate::devices::settings::LightsFile;
use crate::devices::workers::{CameraCmd, Links};
use crate::journal::storage::Storage;
use crate::payment::PaymentGateway;
use crate::review::{Check, Reviewer};
use crate::ticket::{self, Keyring};
use crate::upload::Target;
use crate::visit::{self, Event, LightingMode, Part, ServiceAction, ServicePage};

/// What the bench needs to know of the booth's configuration.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub booth_id: String,
    pub site: String,
    /// SHA-256 of `booth.toml` as loaded.
    pub config_sha256: String,
    pub ticket_keys: Keyring,
    pub diagnostics: DiagnosticsSettings,
    pub lights: LightsFile,
    pub checks: Vec<Check>,
    /// The chair driver's longest run (`max_run_ms`).
    pub chair_max_run: Duration,
    pub models_dir: std::path::PathBuf,
    pub data_dir: std::path::PathBuf,
    /// How much the payment service's clock may differ from ours before the clock check fails.
    pub clock_slack: Duration,
}

/// The device threads' ends the bench drives.
#[derive(Clone)]
pub struct BenchLinks {
    pub camera: std_mpsc::Sender<CameraCmd>,
    pub lights: std_mpsc::Sender<LightLevels>,
    pub chair: std_mpsc::Sender<Motion>,
    pub seen: Arc<Seen>,
}

impl BenchLinks {
    pub fn of(links: &Links) -> Self {
        BenchLinks {
            camera: links.camera.clone(),
            lights: links.lights.clone(),
            chair: links.chair.clone(),
            seen: links.seen.clone(),
        }
    }
}

/// What the pages show that a check or an action found, kept until the mode ends.
#[derive(Default)]
pub(super) struct Found {
    pub test_capture: Vec<Row>,
    /// The face of the last test capture on the live picture (`face_box`).
    pub face: Option<[f32; 4]>,
    pub lamps: Vec<Row>,
    pub inspected: Vec<Row>,
    pub network: Vec<Row>,
    pub storage: Vec<Row>,
    pub last_selftest: Option<Report>,
    /// A check of this page is running.
    pub busy: Option<ServicePage>,
    /// The faults the booth's machine knows (for the status page and the metrics).
    pub faults: Vec<Part>,
}

/// The diagnostics mode's hands; cheap to clone (everything shared).
#[derive(Clone)]
pub struct Bench {
    /// The configuration's part the bench needs (replaced when the booth switches generation).
    cfg: Arc<std::sync::RwLock<Arc<BenchConfig>>>,
    pub(super) links: BenchLinks,
    pub(super) reviewer: Arc<dyn Reviewer>,
    pub(super) storage: Arc<Storage>,
    pub(super) payment: Arc<dyn PaymentGateway>,
    pub(super) target: Arc<dyn Target>,
    pub(super) wall_clock: WallClock,
    pub(super) events: Events,
    pub(super) ui: Arc<dyn UiSink>,
    pub(super) started: Instant,
    pub(super) found: Arc<Mutex<Found>>,
    /// One self-test (or lamp test) at a time: a second waits for the first.
    pub(super) testing: Arc<Mutex<()>>,
    /// The light levels the bench set last (the lights page changes one channel of them).
    pub(super) levels: Arc<Mutex<LightLevels>>,
    pub(super) rt: tokio::runtime::Handle,
    /// Wakes the uploader (photos adopted by a fresh journal).
    pub(super) uploads: Arc<tokio::sync::Notify>,
    /// The face models' hashes for the status page, filled by a thread of their own the first
    /// time the page is shown (tens of MB to read: never on the loop's thread, nor at start).
    model_hashes: Arc<std::sync::OnceLock<String>>,
    hashing: Arc<std::sync::Once>,
}

/// The parts a bench is built from.
pub struct BenchParts {
    pub cfg: BenchConfig,
    pub links: BenchLinks,
    pub reviewer: Arc<dyn Reviewer>,
    pub storage: Arc<Storage>,
    pub payment: Arc<dyn PaymentGateway>,
    pub target: Arc<dyn Target>,
    pub wall_clock: WallClock,
    pub events: Events,
    pub ui: Arc<dyn UiSink>,
    pub uploads: Arc<tokio::sync::Notify>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a frame for a check may take: a still's own timeout (`timeouts.capture`, 10 s in
/// the shipped file) and a few seconds for the camera thread to finish what it was doing.
const FRAME_WAIT: Duration = Duration::from_secs(13);

impl Bench {
    pub(super) fn cfg(&self) -> Arc<BenchConfig> {
        self.cfg.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The booth switched to a new configuration generation.
    pub fn reconfigure(&self, cfg: BenchConfig) {
        *self.cfg.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(cfg);
    }

    /// Must be called on the booth's tokio runtime (the network checks run on it).
    pub fn new(p: BenchParts) -> Self {
        let idle = p.cfg.lights.idle.clone();
        Bench {
            cfg: Arc::new(std::sync::RwLock::new(Arc::new(p.cfg))),
            links: p.links,
            reviewer: p.reviewer,
            storage: p.storage,
            payment: p.payment,
            target: p.target,
            wall_clock: p.wall_clock,
            events: p.events,
            ui: p.ui,
            started: Instant::now(),
            found: Arc::default(),
            testing: Arc::default(),
            levels: Arc::new(Mutex::new(idle)),
            rt: tokio::runtime::Handle::current(),
            uploads: p.uploads,
            model_hashes: Arc::default(),
            hashing: Arc::new(std::sync::Once::new()),
        }
    }

    /// The face models' hashes, "…" until they are known.
    pub(super) fn model_hashes(&self) -> &str {
        self.hashing.call_once(|| {
            let (hashes, dir) = (self.model_hashes.clone(), self.cfg().models_dir.clone());
            std::thread::spawn(move || {
                let _ = hashes.set(super::panel::model_hashes(&dir));
            });
        });
        self.model_hashes.get().map_or("…", String::as_str)
    }

    /// A scanned code at the service entry: a pass for this technician, or why not.
    pub fn check_code(&self, text: &str, now: visit::Instant) {
        let wall = self.wall_clock.now_s();
        let at = ServiceCheckpoint {
            keys: &self.cfg().diagnostics.issuers,
            revoked: &self.cfg().diagnostics.revoked,
            site: &self.cfg().site,
            now: wall,
        };
        let result = code::verify(text, &at).map(|claims| claims.pass(wall, now));
        match &result {
            Ok(pass) => info!(technician = %pass.technician, code = %pass.code_id, "service code accepted"),
            // Refusals are logged by code only: a graduate's ticket held up here names them.
            Err(r) => info!(refusal = r.code(), "service code refused"),
        }
        let _ = self.events.send(Event::ServiceChecked(result));
    }

    /// The faults the machine knows, for the status page.
    pub fn faults(&self, faults: Vec<Part>) {
        lock(&self.found).faults = faults;
    }

    /// A page's action (already audited by the machine's command).
    pub fn act(&self, action: ServiceAction) {
        match action {
            ServiceAction::Light { channel, level } => {
                let levels = {
                    let mut l = lock(&self.levels);
                    l.0.insert(channel, level.min(100));
                    l.clone()
                };
                let _ = self.links.lights.send(levels);
            }
            ServiceAction::Scene(scene) => {
                let levels = self.cfg().lights.scene(scene).0.clone();
                *lock(&self.levels) = levels.clone();
                let _ = self.links.lights.send(levels);
            }
            ServiceAction::TestCapture => self.spawn(ServicePage::Camera, |b| b.test_capture()),
            ServiceAction::SelfTest => self.self_test(false),
            ServiceAction::CheckNetwork => self.spawn(ServicePage::Network, |b| {
                let rows = selftest::network(&b).iter().map(|c| c.row()).collect();
                lock(&b.found).network = rows;
            }),
            ServiceAction::TestLamps => self.spawn(ServicePage::Lights, |b| {
                let _one = lock(&b.testing);
                let rows = selftest::lamps(&b).iter().map(|c| c.row()).collect();
                b.restore();
                lock(&b.found).lamps = rows;
            }),
            ServiceAction::SetAsideJournal => self.spawn(ServicePage::Storage, |b| b.set_aside_journal()),
            ServiceAction::CheckStorage => self.spawn(ServicePage::Storage, |b| {
                let rows = selftest::storage(&b).iter().map(|c| c.row()).collect();
                lock(&b.found).storage = rows;
            }),
        }
    }

    /// The journal that could not be opened: set aside, a fresh one adopting the outbox; the
    /// booth hears the journal is back, the uploader is woken for the adopted photos.
    fn set_aside_journal(&self) {
        let now = self.wall_clock.now_s();
        let rows = match self.storage.set_aside_journal(now) {
            Ok(a) => {
                let detail = format!(
                    "kept as {}; {} sealed paid photo(s) adopted; {} unpaired file(s) moved to outbox-unpaired/",
                    a.kept_as.display(),
                    a.adopted.len(),
                    a.unpaired.len()
                );
                if let Err(e) = self.storage.journal().audit("booth", "journal_set_aside", &detail, now) {
                    warn!(error = %e, "the setting aside was not audited");
                }
                let _ = self.events.send(Event::Restored(Part::Journal));
                self.uploads.notify_one();
                vec![
                    Row::check("旧日志已保留", "Old journal kept", a.kept_as.display().to_string(), true),
                    Row::check("已接管待上传照片", "Paid photos adopted", a.adopted.len().to_string(), true),
                    Row::new(
                        "不成对的文件",
                        "Unpaired files",
                        format!("{} → outbox-unpaired/", a.unpaired.len()),
                        if a.unpaired.is_empty() { Mark::Ok } else { Mark::Warn },
                    ),
                ]
            }
            Err(e) => vec![Row::check("另起日志", "Fresh journal", e.to_string(), false)],
        };
        lock(&self.found).storage = rows;
    }

    /// Runs `work` on its own thread, the page marked busy meanwhile.
    fn spawn(&self, page: ServicePage, work: impl FnOnce(Bench) + Send + 'static) {
        let b = self.clone();
        lock(&self.found).busy = Some(page);
        std::thread::Builder::new()
            .name(format!("diag-{}", page.code()))
            .spawn(move || {
                work(b.clone());
                lock(&b.found).busy = None;
            })
            .map(drop)
            .unwrap_or_else(|e| warn!(error = %e, "a diagnostics check could not start"));
    }

    /// A frame from the camera thread: a preview frame, or a still (never stored).
    pub(super) fn frame(&self, still: bool) -> Result<RgbImage, String> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        self.links
            .camera
            .send(CameraCmd::Probe { still, reply })
            .map_err(|_| "the camera thread has stopped".to_owned())?;
        match answer.recv_timeout(FRAME_WAIT) {
            Ok(Ok(frame)) => Ok(frame),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => {
                Err(DeviceError::Timeout { device: gradbooth_hal::DeviceKind::Camera, timeout: FRAME_WAIT }.to_string())
            }
        }
    }

    /// The camera page's test capture: a still judged by the real review, every measure
    /// against its limit. In memory only: no attempt, no file, no journal row, no upload.
    fn test_capture(&self) {
        let rows = match self.frame(true) {
            Err(e) => vec![Row::check("测试拍照", "Test capture", e, false)],
            Ok(still) => match self.reviewer.review(&still, LightingMode::NoGlasses) {
                Err(e) => vec![Row::check("照片审核", "Photo review", e.to_string(), false)],
                Ok(review) => {
                    lock(&self.found).face = face_box(&review.measures);
                    let mut rows = vec![Row::check(
                        "审核结果",
                        "Verdict",
                        if review.verdict.passed() { "通过 / pass" } else { "不通过 / fail" },
                        review.verdict.passed(),
                    )];
                    for c in &self.cfg().checks {
                        let Some(&v) = review.measures.get(c.spec.measure) else { continue };
                        let failed = review.verdict.findings.iter().any(|f| f.code == c.spec.code);
                        let mark = match (failed, c.severity) {
                            (false, _) => Mark::Ok,
                            (true, visit::Severity::Blocks) => Mark::Fail,
                            (true, visit::Severity::Warns) => Mark::Warn,
                        };
                        let bound = |b| match b {
                            crate::review::checks::Bound::Min => "≥",
                            crate::review::checks::Bound::Max => "≤",
                        };
                        let mut shown = format!("{v:.3} ({} {})", bound(c.spec.bound), c.limit);
                        // The check's second sign, when it was measured (the eyes cast down).
                        if let Some(a) = c.spec.also
                            && let Some(&w) = review.measures.get(a.measure)
                        {
                            shown += &format!(" · {} {w:.3} ({} {})", a.measure, bound(a.bound), a.limit);
                        }
                        rows.push(Row::new(c.spec.code, c.spec.code, shown, mark));
                    }
                    rows
                }
            },
        };
        lock(&self.found).test_capture = rows;
    }

    /// The scanner page: how the booth reads this code. Personal data masked, never logged.
    pub fn inspect(&self, text: &str) {
        let wall = self.wall_clock.now_s();
        let size = Row::info("长度", "Length", format!("{} bytes", text.len()));
        let rows = if visit::service::is_service_code(text) {
            let at = ServiceCheckpoint {
                keys: &self.cfg().diagnostics.issuers,
                revoked: &self.cfg().diagnostics.revoked,
                site: &self.cfg().site,
                now: wall,
            };
            match code::verify(text, &at) {
                Ok(c) => {
                    vec![Row::check("维修码", "Service code", format!("有效 / valid: {}", c.technician), true), size]
                }
                Err(r) => vec![Row::check("维修码", "Service code", r.code(), false), size],
            }
        } else {
            let at = ticket::Checkpoint { keys: &self.cfg().ticket_keys, site: &self.cfg().site, now: wall };
            match ticket::verify(text, &at) {
                Ok(c) => {
                    let name: String = c.name.chars().take(1).chain("**".chars()).collect();
                    vec![
                        Row::check("拍摄码", "Shooting code", format!("有效 / valid ticket for {name}"), true),
                        Row::info("学号", "Student no.", c.student_no_masked),
                        size,
                    ]
                }
                Err(r) => vec![Row::check("拍摄码", "Shooting code", r.code(), false), size],
            }
        };
        info!(bytes = text.len(), "service: a code inspected");
        lock(&self.found).inspected = rows;
    }

    /// The self-test, on its own thread; the machine hears its outcome.
    pub fn self_test(&self, quick: bool) {
        self.spawn(ServicePage::SelfTest, move |b| {
            let report = b.run_self_test(quick);
            let outcome = visit::SelfTestOutcome { failed: report.failed(), on_exit: quick };
            let _ = b.events.send(Event::SelfTested(outcome));
        });
    }

    /// The self-test here and now (blocking; one at a time), kept and returned.
    pub fn run_self_test(&self, quick: bool) -> Report {
        let report = {
            let _one = lock(&self.testing);
            let r = selftest::run(self, quick);
            self.restore();
            r
        };
        self.keep(&report);
        lock(&self.found).last_selftest = Some(report.clone());
        report
    }

    /// After a check: lights idle, the camera automatic, the chair stopped.
    pub(super) fn restore(&self) {
        let _ = self.links.chair.send(Motion::Stop);
        let idle = self.cfg().lights.idle.clone();
        *lock(&self.levels) = idle.clone();
        let _ = self.links.lights.send(idle);
        let _ = self.links.camera.send(CameraCmd::Controls(CameraControls::default()));
    }

    /// The report into the journal's audit log and `reports/` of the data directory.
    fn keep(&self, report: &Report) {
        let json = report.json();
        if let Err(e) = self.storage.journal().audit("booth", "selftest", &json, self.wall_clock.now_s()) {
            warn!(error = %e, "self-test report not journaled");
        }
        let dir = self.cfg().data_dir.join("reports");
        let name = format!("selftest-{}.json", report.at);
        if let Err(e) = std::fs::create_dir_all(&dir).map_err(|e| e.to_string()).and_then(|_| {
            crate::journal::storage::write_durably(&dir, &name, json.as_bytes()).map_err(|e| e.to_string())
        }) {
            warn!(error = %e, "self-test report not written");
        }
        info!(passed = report.passed(), failed = ?report.failed(), "self-test");
    }

    /// The mode ended: what the pages found is forgotten (test photos were never kept).
    pub fn ended(&self) {
        let mut f = lock(&self.found);
        f.test_capture.clear();
        f.face = None;
        f.inspected.clear();
        f.lamps.clear();
        f.network.clear();
        f.storage.clear();
        drop(f);
        *lock(&self.levels) = self.cfg().lights.idle.clone();
        let _ = self.links.camera.send(CameraCmd::Controls(CameraControls::default()));
    }

    /// The current page's lines to the screen.
    pub fn refresh(&self, page: ServicePage) {
        let rows = super::panel::rows(self, page);
        let f = lock(&self.found);
        let face = if page == ServicePage::Camera { f.face } else { None };
        let panel = Panel { page: Some(page), rows, busy: f.busy == Some(page), face };
        drop(f);
        self.ui.send(UiMsg::Panel(Box::new(panel)));
    }

    /// The last self-test's report, if one ran.
    pub fn last_report(&self) -> Option<Report> {
        lock(&self.found).last_selftest.clone()
    }
}

/// Where the review found the face, on the live picture (which shows the same portrait region
/// the measures are taken in): its width and centre from the measures, its height from a
/// face's usual proportions (1.3 × its width), the eyes 40 % down it. `None` without one face.
pub fn face_box(m: &crate::review::checks::Measures) -> Option<[f32; 4]> {
    if m.get("faces") != Some(&1.0) {
        return None;
    }
    let (w, offset, eyes) = (*m.get("face_width_ratio")?, *m.get("centre_offset")?, *m.get("eye_line")?);
    // The picture is 3:4: a face 1.3 × as tall as wide takes 1.3 × 3/4 of its width in height.
    let h = w * 1.3 * 0.75;
    Some([0.5 + offset - w / 2.0, eyes - 0.4 * h, w, h])
}

#[cfg(test)]
mod tests {
    use super::face_box;

    #[test]
    fn the_face_box_follows_the_measures_and_is_drawn_only_for_one_face() {
        let mut m = crate::review::checks::Measures::new();
        m.insert("faces", 1.0);
        m.insert("face_width_ratio", 0.4);
        m.insert("centre_offset", 0.05);
        m.insert("eye_line", 0.4);
        let [x, y, w, h] = face_box(&m).unwrap();
        assert!((x - 0.35).abs() < 1e-6 && (w - 0.4).abs() < 1e-6, "{x} {w}");
        assert!((h - 0.39).abs() < 1e-6 && (y - (0.4 - 0.156)).abs() < 1e-6, "{y} {h}");
        m.insert("faces", 2.0);
        assert_eq!(face_box(&m), None);
        m.insert("faces", 0.0);
        assert_eq!(face_box(&m), None);
    }
}
