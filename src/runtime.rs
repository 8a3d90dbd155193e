//! The imperative shell. It owns the devices and services, feeds their results to the
//! visit's state machine as events, carries out the commands the machine returns, and sends
//! the resulting view to the UI. Each device runs on its own thread with timeouts; services
//! (review, payment) run as tokio tasks. Whatever way the booth stops, the chair is stopped
//! and the lights are idled.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use gradbooth_hal::camera_qr::CodeReader;
use gradbooth_hal::sim::SimControls;
use gradbooth_hal::{
    Camera, CameraControls, Chair, DeviceError, DeviceKind, LightLevels, Lights, Motion, QrScanner, RgbImage,
    SeatButton,
};
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::config::Settings;
use crate::journal::storage::Storage;
use crate::journal::{NewOrder, OrderState as JournalOrder, PhotoKind};
use crate::payment::checkout::{self, Checkout, Settlement};
use crate::payment::{OrderRequest, PaymentError, PaymentGateway, Sandbox, out_trade_no};
use crate::review::Reviewer;
use crate::screen::preview::{PREVIEW_HEIGHT, PREVIEW_WIDTH, preview_image};
use crate::screen::{UiMsg, UiSink};
use crate::ticket;
use crate::upload::{Target, Uploader};
use crate::visit::{
    self, Booth, CodeReading, Command, Event, Instant, Intent, LightScene, LightingMode, NoCode, Part, PaymentOrder,
    PaymentUpdate, PhotoId, TicketGrant, TicketRefusal, VisitOutcome,
};

/// The booth's rhythm. The defaults are the booth's; a soak test runs faster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// How often the machine hears the time (countdowns, timeouts, opening hours).
    pub tick: Duration,
    /// How often an open payment order is asked about (WeChat Pay suggests 2–3 s); when the
    /// service is busy or out of reach the pause doubles up to `payment_poll_max`.
    pub payment_poll: Duration,
    pub payment_poll_max: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            tick: Duration::from_millis(100),
            payment_poll: Duration::from_secs(2),
            payment_poll_max: Duration::from_secs(16),
        }
    }
}

/// Creating an order is tried three times, this far apart (and further), with the same number.
const CREATE_RETRY: Duration = Duration::from_secs(1);
/// WeChat Pay's `time_expire` is this much later than the code leaves the screen: a graduate
/// who scanned at the last second can still finish paying on the phone. The booth closes the
/// order when the code leaves the screen, which stops any later payment, then asks once more.
const PAY_GRACE: Duration = Duration::from_secs(60);
/// How often orders left unsettled (a restart, a cut network) are asked about again.
const SETTLE_PERIOD: Duration = Duration::from_secs(60);
const DEVICE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often a photo review that cannot judge photos (models missing or failing) is checked again.
const REVIEW_RECHECK: Duration = Duration::from_secs(30);
/// How often photos past their time are looked for (they normally go when their visit ends).
const SWEEP: Duration = Duration::from_secs(60);
/// JPEG quality of a stored capture (the standard photo has its own, from the spec).
const CAPTURE_QUALITY: u8 = 92;
/// The camera-based QR reader looks at five frames a second on the scan screen (two while idle).
const CODE_FRAME_PERIOD: Duration = Duration::from_millis(200);
/// Its bounds, as a scanner module's (`[hardware.scanner]` defaults).
const CODE_MAX_LEN: usize = 2048;
const CODE_REPEAT_WINDOW: Duration = Duration::from_secs(2);

/// The wall clock for opening hours: the system's, or a simulated one that starts at a
/// configured instant and runs at real speed.
#[derive(Debug, Clone, Copy)]
pub enum WallClock {
    System,
    Simulated { start: DateTime<FixedOffset>, at: std::time::Instant },
}

impl WallClock {
    pub fn simulated(start: DateTime<FixedOffset>) -> Self {
        WallClock::Simulated { start, at: std::time::Instant::now() }
    }
    pub fn now(&self) -> DateTime<FixedOffset> {
        match self {
            WallClock::System => chrono::Local::now().fixed_offset(),
            WallClock::Simulated { start, at } => *start + chrono::Duration::from_std(at.elapsed()).unwrap_or_default(),
        }
    }
}

/// The booth's monotonic clock, shared by the loop and its tasks.
#[derive(Debug, Clone, Copy)]
struct Clock(std::time::Instant);

impl Clock {
    fn now(&self) -> Instant {
        Instant(self.0.elapsed().as_millis() as u64)
    }
}

pub struct Devices {
    pub camera: Box<dyn Camera>,
    /// The scanner module; `None`: the booth reads codes with its camera.
    pub scanner: Option<Box<dyn QrScanner>>,
    pub chair: Box<dyn Chair>,
    pub lights: Box<dyn Lights>,
}

pub struct Parts {
    pub settings: Settings,
    pub devices: Devices,
    pub reviewer: Arc<dyn Reviewer>,
    pub payment: Arc<dyn PaymentGateway>,
    /// Where paid photos go (`upload`).
    pub upload: Arc<dyn Target>,
    pub wall_clock: WallClock,
    /// The simulation's hands, when the hardware is simulated.
    pub sim: Option<SimControls>,
    /// The WeChat Pay sandbox the booth pays through, when it does (the debug panel pays it).
    pub sandbox: Option<SandboxLink>,
    /// The simulated booth's own throw-away ticket issuer (key id "sim"), for the demo ticket.
    pub sim_issuer: Option<Arc<ed25519_dalek::SigningKey>>,
    /// The journal and the photo files (already recovered from the last stop).
    pub storage: Arc<Storage>,
    pub pace: Pace,
}

/// The sandbox a simulated booth pays through: its own, or one running elsewhere.
#[derive(Clone)]
pub enum SandboxLink {
    Local(Arc<Sandbox>),
    Remote(String),
}

impl SandboxLink {
    /// The graduate's phone: scans `code_url` and pays.
    pub async fn pay(&self, code_url: &str) -> Result<String, String> {
        match self {
            SandboxLink::Local(s) => s.pay_code(code_url).map_err(|e| e.to_string()),
            SandboxLink::Remote(url) => {
                crate::net::init();
                let http =
                    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(|e| e.to_string())?;
                crate::payment::sandbox::pay_remote(&http, url, code_url).await
            }
        }
    }
}

/// What the simulated booth needs to issue its demo ticket.
struct SimIssuer {
    key: Arc<ed25519_dalek::SigningKey>,
    site: String,
    wall_clock: WallClock,
    /// The demo graduate's ticket id: new for every simulated booth, so a journal kept from an
    /// earlier run does not find him finished.
    ticket_id: String,
}

enum Msg {
    Event(Event),
    /// An action by a technician or operator, for the journal's audit log.
    Audit {
        actor: &'static str,
        action: String,
    },
    /// The debug panel: the graduate pays the code on screen with the sandbox's "phone".
    SandboxPay,
    Shutdown,
}

/// A running booth: send it intents; drop or `shutdown` to stop it safely.
pub struct BoothHandle {
    tx: mpsc::UnboundedSender<Msg>,
    /// When the runtime's loop last went round (ms on its clock), for the service watchdog.
    heartbeat: Arc<std::sync::atomic::AtomicU64>,
    started: std::time::Instant,
    sim: Option<SimControls>,
    sandbox: Option<SandboxLink>,
    sim_issuer: Option<SimIssuer>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl BoothHandle {
    pub fn intent(&self, intent: Intent) {
        let _ = self.tx.send(Msg::Event(Event::Intent(intent)));
    }

    /// The seat's own button: pressed on the simulated chair.
    pub fn seat_button(&self, button: SeatButton) {
        if let Some(sim) = &self.sim {
            sim.seat_button(button);
        }
    }

    /// Debug-panel actions of the simulated booth.
    pub fn simulate(&self, action: &str) {
        let Some(sim) = &self.sim else {
            warn!(action, "simulation action ignored: the hardware is real");
            return;
        };
        let _ = self.tx.send(Msg::Audit { actor: "technician", action: format!("simulate {action}") });
        match action {
            "demo_ticket" => match self.demo_ticket() {
                Some(text) => sim.present_qr(text),
                None => warn!("no simulated ticket issuer"),
            },
            "pay" => {
                let _ = self.tx.send(Msg::SandboxPay);
            }
            "unplug_camera" => sim.unplug(DeviceKind::Camera),
            "replug_camera" => sim.replug(DeviceKind::Camera),
            "unplug_scanner" => sim.unplug(DeviceKind::QrScanner),
            "replug_scanner" => sim.replug(DeviceKind::QrScanner),
            "jam_chair" => sim.jam_chair(true),
            "free_chair" => sim.jam_chair(false),
            other => warn!(action = other, "unknown simulation action"),
        }
    }

    /// A freshly signed ticket for the demo graduate (李明), valid now at this booth's site.
    pub fn demo_ticket(&self) -> Option<String> {
        let i = self.sim_issuer.as_ref()?;
        let claims =
            ticket::Claims { id: i.ticket_id.clone(), ..ticket::demo_claims(&i.site, i.wall_clock.now().timestamp()) };
        Some(ticket::issue(&i.key, &claims))
    }

    /// How long ago the runtime's loop last went round (it ticks every 100 ms).
    pub fn since_heartbeat(&self) -> Duration {
        let beat = Duration::from_millis(self.heartbeat.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(beat)
    }

    pub fn sim(&self) -> Option<&SimControls> {
        self.sim.as_ref()
    }

    /// The sandbox the booth pays through, when it does.
    pub fn sandbox(&self) -> Option<&SandboxLink> {
        self.sandbox.as_ref()
    }

    /// Stop the booth: chair stopped, lights idle, device threads ended.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take()
            && t.join().is_err()
        {
            error!("the booth's runtime thread panicked");
        }
    }
}

impl Drop for BoothHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start the booth on its own thread (a tokio runtime plus one thread per device).
pub fn start(parts: Parts, ui: Arc<dyn UiSink>) -> BoothHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let sim = parts.sim.clone();
    let sandbox = parts.sandbox.clone();
    let sim_issuer = parts.sim_issuer.clone().map(|key| SimIssuer {
        key,
        site: parts.settings.file.tickets.site.clone(),
        wall_clock: parts.wall_clock,
        ticket_id: {
            let mut b = [0u8; 4];
            getrandom::fill(&mut b).expect("the operating system's random source");
            format!("DEMO-{}", data_encoding::HEXUPPER.encode(&b))
        },
    });
    let loop_tx = tx.clone();
    let heartbeat = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let clock = Clock(std::time::Instant::now());
    let beat = heartbeat.clone();
    let thread = thread::Builder::new()
        .name("booth-runtime".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    error!(error = %e, "cannot start the async runtime");
                    return;
                }
            };
            rt.block_on(run(parts, ui, loop_tx, rx, clock, beat));
        })
        .expect("spawning the runtime thread");
    BoothHandle { tx, heartbeat, started: clock.0, sim, sandbox, sim_issuer, thread: Mutex::new(Some(thread)) }
}

/// Tracks a device's health: reports a fault once, a recovery once, and backs off between
/// attempts to reach a device that is gone.
struct Health {
    device: DeviceKind,
    faulted: bool,
    backoff: Duration,
    events: mpsc::UnboundedSender<Msg>,
}

impl Health {
    fn new(device: DeviceKind, events: mpsc::UnboundedSender<Msg>) -> Self {
        Health { device, faulted: false, backoff: Duration::from_millis(200), events }
    }
    fn ok(&mut self) {
        if self.faulted {
            self.faulted = false;
            self.backoff = Duration::from_millis(200);
            info!(device = %self.device, "device is back");
            let _ = self.events.send(Msg::Event(Event::Restored(Part::Device(self.device))));
        }
    }
    fn failed(&mut self, err: &DeviceError) {
        if err.is_temporary() {
            debug!(device = %self.device, error = %err, "device slow; retrying");
            return;
        }
        if !self.faulted {
            self.faulted = true;
            error!(device = %self.device, error = %err, "device fault");
            let _ = self.events.send(Msg::Event(Event::Fault(Part::Device(self.device))));
        }
        thread::sleep(self.backoff);
        self.backoff = (self.backoff * 2).min(Duration::from_secs(5));
    }
}

enum CameraCmd {
    Preview(bool),
    /// Hand frames to the camera-based QR reader (the booth is waiting for a code).
    ReadCodes(CodeReading),
    Controls(CameraControls),
    Capture {
        ticket_id: String,
        attempt: u8,
    },
}

/// A capture of this visit: in memory for the review, on disk (crash-safe) for the journal.
struct Captured {
    image: Arc<RgbImage>,
    ticket_id: String,
    attempt: u8,
    file: String,
}

type PhotoStore = Arc<Mutex<BTreeMap<PhotoId, Arc<Captured>>>>;

/// The capture as the JPEG kept on disk while its visit lasts.
fn capture_jpeg(still: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, CAPTURE_QUALITY).encode_image(still)?;
    Ok(jpeg)
}

fn spawn_device<F: FnOnce() + Send + 'static>(name: &str, f: F) -> thread::JoinHandle<()> {
    thread::Builder::new().name(name.into()).spawn(f).expect("spawning a device thread")
}

struct CameraWorker {
    cmds: std_mpsc::Receiver<CameraCmd>,
    events: mpsc::UnboundedSender<Msg>,
    ui: Arc<dyn UiSink>,
    photos: PhotoStore,
    storage: Arc<Storage>,
    wall_clock: WallClock,
    capture_timeout: Duration,
    guide: std_mpsc::SyncSender<Arc<RgbImage>>,
    /// The camera-based QR reader, when the booth has no scanner module.
    codes: Option<std_mpsc::SyncSender<Arc<RgbImage>>>,
    /// Where photo ids come from (shared with kept photos read back from disk).
    photo_ids: Arc<AtomicU32>,
}

fn camera_worker(mut camera: Box<dyn Camera>, w: CameraWorker) {
    let CameraWorker { cmds, events, ui, photos, storage, wall_clock, capture_timeout, guide, codes, photo_ids } = w;
    let mut health = Health::new(DeviceKind::Camera, events.clone());
    let mut previewing = false;
    let mut reading = CodeReading::Off;
    loop {
        let reading_codes = reading != CodeReading::Off;
        let wait = if previewing {
            Duration::ZERO
        } else if reading == CodeReading::Shown && codes.is_some() {
            CODE_FRAME_PERIOD
        } else {
            // Idle (a code held up still starts a visit) and the camera's liveness check.
            Duration::from_millis(500)
        };
        match cmds.recv_timeout(wait) {
            Ok(CameraCmd::Preview(on)) => {
                previewing = on;
                if !on {
                    ui.send(UiMsg::Hint(""));
                }
            }
            Ok(CameraCmd::ReadCodes(r)) => {
                if r != CodeReading::Shown && reading == CodeReading::Shown && !previewing {
                    ui.send(UiMsg::Photo(None));
                }
                reading = r;
                continue;
            }
            Ok(CameraCmd::Controls(c)) => {
                camera.set_controls(c);
                continue;
            }
            Ok(CameraCmd::Capture { ticket_id, attempt }) => {
                let result = camera.capture_still(capture_timeout);
                match result {
                    Ok(still) => {
                        health.ok();
                        // On disk (crash-safe, then its journal row) before anyone sees it.
                        let saved = capture_jpeg(&still).map_err(|e| e.to_string()).and_then(|jpeg| {
                            storage
                                .save_photo(
                                    &ticket_id,
                                    attempt,
                                    PhotoKind::Capture,
                                    &jpeg,
                                    wall_clock.now().timestamp(),
                                )
                                .map_err(|e| e.to_string())
                        });
                        let file = match saved {
                            Ok(file) => file,
                            Err(e) => {
                                error!(ticket = %ticket_id, attempt, error = %e, "capture could not be stored");
                                let _ = events.send(Msg::Event(Event::PhotoCaptured(Err(e))));
                                continue;
                            }
                        };
                        let id = PhotoId(photo_ids.fetch_add(1, Ordering::Relaxed));
                        let image = Arc::new(still);
                        let captured = Captured { image: image.clone(), ticket_id, attempt, file };
                        photos.lock().unwrap_or_else(|e| e.into_inner()).insert(id, Arc::new(captured));
                        ui.send(UiMsg::Photo(Some(image)));
                        let _ = events.send(Msg::Event(Event::PhotoCaptured(Ok(id))));
                    }
                    Err(e) => {
                        let _ = events.send(Msg::Event(Event::PhotoCaptured(Err(e.to_string()))));
                        health.failed(&e);
                    }
                }
                continue;
            }
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
        }
        // Previewing streams frames; otherwise one frame now and then tells whether the camera is alive.
        match camera.preview_frame(DEVICE_TIMEOUT) {
            Ok(frame) => {
                health.ok();
                if previewing {
                    ui.send(UiMsg::Preview(preview_image(&frame, PREVIEW_WIDTH, PREVIEW_HEIGHT)));
                    // The guide takes the newest frame when it is free; others are dropped.
                    let _ = guide.try_send(Arc::new(frame));
                } else if reading_codes && let Some(codes) = &codes {
                    if reading == CodeReading::Shown {
                        // The scan screen shows what the camera sees, so the code can be aimed.
                        ui.send(UiMsg::Preview(preview_image(&frame, PREVIEW_WIDTH, PREVIEW_HEIGHT)));
                    }
                    // Likewise the code reader: a frame waiting while it reads is dropped.
                    let _ = codes.try_send(Arc::new(frame));
                }
            }
            Err(e) => health.failed(&e),
        }
    }
}

/// Live guidance: the light checks on preview frames, one hint at a time, at most
/// `GUIDE_RATE` times a second (each takes ~10 ms on one core).
fn guide_worker(reviewer: Arc<dyn Reviewer>, frames: std_mpsc::Receiver<Arc<RgbImage>>, ui: Arc<dyn UiSink>) {
    const GUIDE_PERIOD: Duration = Duration::from_millis(66);
    let mut failed = false;
    while let Ok(frame) = frames.recv() {
        let started = std::time::Instant::now();
        match reviewer.guide(&frame) {
            Ok(hint) => {
                failed = false;
                ui.send(UiMsg::Hint(hint));
            }
            Err(e) => {
                // No advice rather than a hint nobody measured.
                ui.send(UiMsg::Hint(""));
                if !failed {
                    warn!(error = %e, "live guidance unavailable");
                    failed = true;
                }
            }
        }
        drop(frame);
        // A frame that waited while this one was judged is stale: take the next fresh one.
        thread::sleep(GUIDE_PERIOD.saturating_sub(started.elapsed()));
        while frames.try_recv().is_ok() {}
    }
}

/// The camera-based QR reader: decodes the frames the camera hands it while the booth waits
/// for a code; a code held in front of the camera counts once per `repeat_window`.
fn codes_worker(frames: std_mpsc::Receiver<Arc<RgbImage>>, events: mpsc::UnboundedSender<Msg>) {
    let mut reader = CodeReader::new(CODE_MAX_LEN, CODE_REPEAT_WINDOW);
    while let Ok(frame) = frames.recv() {
        for text in reader.read(&frame, std::time::Instant::now()) {
            // The text is personal (it names the graduate): log only its size.
            debug!(bytes = text.len(), "QR code read by the camera");
            let _ = events.send(Msg::Event(Event::QrScanned(text)));
        }
    }
}

fn scanner_worker(mut scanner: Box<dyn QrScanner>, events: mpsc::UnboundedSender<Msg>) {
    let mut health = Health::new(DeviceKind::QrScanner, events.clone());
    while !events.is_closed() {
        match scanner.next_text(Duration::from_millis(200)) {
            Ok(Some(text)) => {
                health.ok();
                // The text is personal (it names the graduate): log only its size.
                debug!(bytes = text.len(), "QR code read");
                let _ = events.send(Msg::Event(Event::QrScanned(text)));
            }
            Ok(None) => health.ok(),
            Err(e) => health.failed(&e),
        }
    }
}

fn chair_worker(
    mut chair: Box<dyn Chair>,
    cmds: std_mpsc::Receiver<Motion>,
    events: mpsc::UnboundedSender<Msg>,
    ui: Arc<dyn UiSink>,
) {
    let mut health = Health::new(DeviceKind::Chair, events.clone());
    let mut last_shown = None;
    loop {
        loop {
            match cmds.try_recv() {
                Ok(motion) => {
                    if let Err(e) = chair.drive(motion) {
                        health.failed(&e);
                    }
                }
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => {
                    let _ = chair.drive(Motion::Stop);
                    return;
                }
            }
        }
        let shown = match chair.poll(Duration::from_millis(50)) {
            Ok(report) => {
                health.ok();
                for b in report.buttons {
                    let _ = events.send(Msg::Event(Event::SeatButton(b)));
                }
                (report.height_percent, None)
            }
            Err(e @ DeviceError::Fault { .. }) => {
                // The driver already stopped the motor (stall, stuck button): say so on screen.
                warn!(error = %e, "chair fault");
                (None, Some(e.to_string()))
            }
            Err(e) => {
                health.failed(&e);
                (None, None)
            }
        };
        if last_shown.as_ref() != Some(&shown) {
            ui.send(UiMsg::Chair { height_percent: shown.0, fault: shown.1.clone() });
            last_shown = Some(shown);
        }
    }
}

fn lights_worker(
    mut lights: Box<dyn Lights>,
    cmds: std_mpsc::Receiver<LightLevels>,
    events: mpsc::UnboundedSender<Msg>,
) {
    let mut health = Health::new(DeviceKind::Lights, events);
    while let Ok(levels) = cmds.recv() {
        match lights.apply(&levels) {
            Ok(()) => health.ok(),
            Err(e) => health.failed(&e),
        }
    }
}

struct Shell {
    settings: Settings,
    clock: Clock,
    /// Calendar time, for ticket validity.
    wall_clock: WallClock,
    events: mpsc::UnboundedSender<Msg>,
    ui: Arc<dyn UiSink>,
    camera: std_mpsc::Sender<CameraCmd>,
    chair: std_mpsc::Sender<Motion>,
    lights: std_mpsc::Sender<LightLevels>,
    photos: PhotoStore,
    /// Files of the standard photos made from passing captures: what a payment pays for.
    standards: Arc<Mutex<BTreeMap<PhotoId, String>>>,
    reviewer: Arc<dyn Reviewer>,
    checkout: Arc<Checkout>,
    storage: Arc<Storage>,
    /// The journal could not record an attempt: the shutter must not fire for it.
    attempt_unrecorded: bool,
    payment_task: Option<tokio::task::JoinHandle<()>>,
    /// The exposure and white balance last sent to the camera.
    camera_controls: Option<CameraControls>,
    /// Where photo ids come from (shared with the camera worker).
    photo_ids: Arc<AtomicU32>,
    /// Counts the visits that ended; a review that finishes in another visit than it began in
    /// is dropped (`ReviewJob`). Its lock is held while a review's result is kept.
    visit_epoch: Arc<Mutex<u64>>,
    /// Reviews that failed for the booth's own reason, to the review's keeper.
    review_failures: mpsc::UnboundedSender<String>,
    pace: Pace,
}

impl Shell {
    /// The light levels and camera controls of a scene: the mode's preset, or idle (the camera
    /// automatic).
    fn scene(&self, scene: LightScene) -> (LightLevels, CameraControls) {
        let l = &self.settings.file.lights;
        let mode = |m: LightingMode| if m == LightingMode::Glasses { &l.glasses } else { &l.no_glasses };
        match scene {
            LightScene::Idle => (l.idle.clone(), CameraControls::default()),
            LightScene::Preview(m) => (mode(m).preview.clone(), mode(m).camera),
            LightScene::Capture(m) => (mode(m).capture.clone(), mode(m).camera),
        }
    }

    fn emit(&self, e: Event) {
        let _ = self.events.send(Msg::Event(e));
    }

    fn now_s(&self) -> i64 {
        self.wall_clock.now().timestamp()
    }

    /// Deletes the photos whose time is up (see `Storage::sweep`).
    fn sweep(&self) {
        match self.storage.sweep(self.now_s()) {
            Ok(0) => {}
            Ok(n) => info!(deleted = n, "photos deleted"),
            Err(e) => error!(error = %e, "photos could not be swept; will try again"),
        }
    }

    /// A standard photo of this ticket that passed review and is kept unpaid: read back,
    /// shown, and ready to be paid for (its visit reopened in the journal, so nothing deletes
    /// it while the graduate is here).
    fn kept_photo(&self, ticket_id: &str, now: i64) -> Option<PhotoId> {
        let retention = self.settings.unpaid_retention.as_secs() as i64;
        let kept = match self.storage.journal().kept_photo(ticket_id, now, retention) {
            Ok(k) => k?,
            Err(e) => {
                error!(ticket = %ticket_id, error = %e, "kept photos could not be looked up");
                return None;
            }
        };
        let path = self.storage.photo_path(&kept.file);
        let image = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| image::load_from_memory(&b).map(|i| i.to_rgb8()).map_err(|e| e.to_string()))
        {
            Ok(i) => i,
            Err(e) => {
                warn!(ticket = %ticket_id, error = %e, "kept photo unreadable; a new one must be taken");
                return None;
            }
        };
        if let Err(e) = self.storage.journal().visit_resumed(ticket_id, now) {
            error!(ticket = %ticket_id, error = %e, "resumed visit not recorded; the kept photo is not offered");
            return None;
        }
        let id = PhotoId(self.photo_ids.fetch_add(1, Ordering::Relaxed));
        self.standards.lock().unwrap_or_else(|e| e.into_inner()).insert(id, kept.file);
        self.ui.send(UiMsg::Photo(Some(Arc::new(image))));
        info!(ticket = %ticket_id, attempt = kept.attempt, "a kept photo can be paid for");
        Some(id)
    }

    /// A technician's or operator's action, in the journal's audit log.
    fn audit(&self, actor: &str, action: &str, detail: &str) {
        if let Err(e) = self.storage.journal().audit(actor, action, detail, self.now_s()) {
            error!(actor, action, error = %e, "audit entry not recorded");
        }
    }

    fn run(&mut self, cmd: Command) {
        match cmd {
            Command::Lights(scene) => {
                let (levels, controls) = self.scene(scene);
                let _ = self.lights.send(levels);
                if self.camera_controls != Some(controls) {
                    self.camera_controls = Some(controls);
                    let _ = self.camera.send(CameraCmd::Controls(controls));
                }
            }
            Command::Chair(motion) => {
                let _ = self.chair.send(motion);
            }
            Command::Preview(on) => {
                let _ = self.camera.send(CameraCmd::Preview(on));
            }
            Command::CheckTicket(text) => {
                let at = ticket::Checkpoint {
                    keys: &self.settings.issuers,
                    site: &self.settings.file.tickets.site,
                    now: self.wall_clock.now().timestamp(),
                };
                let now = at.now;
                let result = ticket::verify(&text, &at).map(ticket::to_ticket).and_then(|t| {
                    let state = self.storage.journal().ticket_seen(&t.id, now).map_err(|e| {
                        error!(error = %e, "journal unavailable; ticket cannot be checked");
                        TicketRefusal::CannotCheck
                    })?;
                    if state.finished {
                        return Err(TicketRefusal::AlreadyFinished);
                    }
                    let kept_photo = self.kept_photo(&t.id, now);
                    Ok(TicketGrant { ticket: t, attempts_used: state.attempts_used, kept_photo })
                });
                match &result {
                    Ok(g) => info!(
                        ticket = %g.ticket.id,
                        attempts_used = g.attempts_used,
                        kept_photo = g.kept_photo.is_some(),
                        "ticket accepted"
                    ),
                    Err(r) => info!(refusal = r.code(), "ticket refused"),
                }
                self.emit(Event::TicketChecked(result));
            }
            Command::AttemptStarted { ticket_id, attempt } => {
                // Committed before the shutter fires: a crash can never hand out a fourth attempt.
                let now = self.now_s();
                match self.storage.journal().attempt_started(&ticket_id, attempt, now) {
                    Ok(()) => {
                        self.attempt_unrecorded = false;
                        info!(ticket = %ticket_id, attempt, "attempt started");
                    }
                    Err(e) => {
                        self.attempt_unrecorded = true;
                        error!(ticket = %ticket_id, attempt, error = %e, "attempt could not be recorded; no capture");
                    }
                }
            }
            Command::AttemptVoided { ticket_id, attempt } => {
                info!(ticket = %ticket_id, attempt, "attempt voided");
                if let Err(e) = self.storage.journal().attempt_voided(&ticket_id, attempt) {
                    error!(ticket = %ticket_id, attempt, error = %e, "voided attempt not recorded; it stays counted");
                }
            }
            Command::Capture { .. } if self.attempt_unrecorded => {
                self.emit(Event::PhotoCaptured(Err("the journal could not record the attempt".into())));
            }
            Command::Capture { ticket_id, attempt } => {
                let _ = self.camera.send(CameraCmd::Capture { ticket_id, attempt });
            }
            Command::Review { photo, mode } => {
                let captured = self.photos.lock().unwrap_or_else(|e| e.into_inner()).get(&photo).cloned();
                let job = ReviewJob {
                    photo,
                    mode,
                    reviewer: self.reviewer.clone(),
                    events: self.events.clone(),
                    review_failures: self.review_failures.clone(),
                    ui: self.ui.clone(),
                    standards: self.standards.clone(),
                    storage: self.storage.clone(),
                    wall_clock: self.wall_clock,
                    epoch: self.visit_epoch.clone(),
                    visit: *self.visit_epoch.lock().unwrap_or_else(|e| e.into_inner()),
                };
                tokio::task::spawn_blocking(move || job.run(captured));
            }
            Command::CreateOrder { ticket_id, photo, amount_fen } => {
                // What is paid for: the standard photo (the capture itself when none was made).
                let file =
                    self.standards.lock().unwrap_or_else(|e| e.into_inner()).get(&photo).cloned().or_else(|| {
                        self.photos.lock().unwrap_or_else(|e| e.into_inner()).get(&photo).map(|c| c.file.clone())
                    });
                let booth = &self.settings.file.booth.id;
                let now = self.now_s();
                let valid_for = self.settings.policy.timeouts.payment;
                if let Some(t) = self.payment_task.take() {
                    t.abort();
                }
                let recorded = {
                    let journal = self.storage.journal();
                    journal.next_order(now).and_then(|seq| {
                        let no = out_trade_no(booth, seq);
                        // On screen from now: the background settling leaves it to its payer.
                        self.checkout.set_live(Some(no.clone()));
                        let order = NewOrder {
                            out_trade_no: &no,
                            ticket_id: &ticket_id,
                            photo: file.as_deref(),
                            amount_fen,
                            expires_at: now + (valid_for + PAY_GRACE).as_secs() as i64,
                        };
                        journal.order_created(&order, now).map(|()| no)
                    })
                };
                let no = match recorded {
                    Ok(no) => no,
                    Err(e) => {
                        // No code the journal could not account for is ever shown.
                        error!(ticket = %ticket_id, error = %e, "order not recorded; no payment code");
                        self.checkout.set_live(None);
                        self.emit(Event::Payment(PaymentUpdate::NoCode(NoCode::NotRecorded)));
                        return;
                    }
                };
                let request = OrderRequest {
                    out_trade_no: no,
                    amount_fen,
                    description: self.settings.file.booth.photo_type.clone(),
                    valid_for: valid_for + PAY_GRACE,
                };
                let task = Payer {
                    checkout: self.checkout.clone(),
                    clock: self.clock,
                    events: self.events.clone(),
                    pace: self.pace,
                };
                self.payment_task = Some(tokio::spawn(task.pay(request, ticket_id, valid_for)));
            }
            Command::CloseOrder { out_trade_no } => {
                if let Some(t) = self.payment_task.take() {
                    t.abort();
                }
                self.checkout.set_live(None);
                let (checkout, events) = (self.checkout.clone(), self.events.clone());
                tokio::spawn(async move {
                    let update = match checkout.settle_no(&out_trade_no).await {
                        Settlement::Paid { .. } => PaymentUpdate::Paid { out_trade_no },
                        Settlement::Closed => PaymentUpdate::Closed { out_trade_no },
                        Settlement::Unknown(_) | Settlement::Disputed(_) => PaymentUpdate::Unconfirmed { out_trade_no },
                    };
                    let _ = events.send(Msg::Event(Event::Payment(update)));
                    // The photo kept while its order could still be paid may go now.
                    if let Err(e) = checkout.storage.sweep(checkout.wall_clock.now().timestamp()) {
                        error!(error = %e, "photos could not be swept; will try again");
                    }
                });
            }
            Command::VisitEnded { ticket_id, outcome, paid_photo } => {
                // From here on, a review still running belongs to no visit.
                *self.visit_epoch.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                if let Some(t) = self.payment_task.take() {
                    t.abort();
                }
                self.checkout.set_live(None);
                if let Some(id) = &ticket_id {
                    let paid = outcome == VisitOutcome::Paid;
                    let label = format!("{outcome:?}").to_lowercase();
                    if let Err(e) = self.storage.journal().visit_ended(id, &label, paid, self.now_s()) {
                        error!(ticket = %id, error = %e, "end of visit not recorded");
                    }
                }
                // Photos leave memory with the visit, and the disk too unless paid for (the
                // paid standard photo waits in the outbox to leave the booth).
                self.sweep();
                self.photos.lock().unwrap_or_else(|e| e.into_inner()).clear();
                self.standards.lock().unwrap_or_else(|e| e.into_inner()).clear();
                self.ui.send(UiMsg::Photo(None));
                info!(ticket = ticket_id.as_deref().unwrap_or("-"), ?outcome, paid_photo = ?paid_photo.map(|p| p.0), "visit ended");
            }
        }
    }
}

/// One photo under review, on a blocking thread (a review takes about a second of CPU).
struct ReviewJob {
    photo: PhotoId,
    mode: LightingMode,
    reviewer: Arc<dyn Reviewer>,
    events: mpsc::UnboundedSender<Msg>,
    /// Tells the review's keeper that the reviewer failed (the booth goes out of service).
    review_failures: mpsc::UnboundedSender<String>,
    ui: Arc<dyn UiSink>,
    standards: Arc<Mutex<BTreeMap<PhotoId, String>>>,
    storage: Arc<Storage>,
    wall_clock: WallClock,
    /// The visit counter (`Shell::visit_epoch`) and its value when the review began.
    epoch: Arc<Mutex<u64>>,
    visit: u64,
}

impl ReviewJob {
    fn run(self, captured: Option<Arc<Captured>>) {
        let photo = self.photo;
        let Some(captured) = captured else {
            error!(?photo, "photo to review is gone");
            let _ = self.events.send(Msg::Event(Event::ReviewFailed { photo }));
            return;
        };
        let Captured { image, ticket_id, attempt, file } = &*captured;
        if let Err(e) = self.storage.journal().photo_chosen(file, self.wall_clock.now().timestamp()) {
            warn!(ticket = %ticket_id, attempt, error = %e, "choice of photo not recorded");
        }
        let started = std::time::Instant::now();
        let review = match self.reviewer.review(image, self.mode) {
            Ok(r) => r,
            Err(e) => {
                // The booth's own failure: the review's keeper takes it out of service, and the
                // visit ends with the attempt given back.
                error!(?photo, error = %e, "photo could not be reviewed");
                let _ = self.review_failures.send(e.to_string());
                return;
            }
        };
        let ms = started.elapsed().as_millis() as u64;
        // The visit may have ended meanwhile (the review's timeout, a device fault): then the
        // result is nobody's. Checked and acted on under the lock the end of a visit takes, so
        // a result is either wholly in its visit or wholly dropped.
        let current = self.epoch.lock().unwrap_or_else(|e| e.into_inner());
        if *current != self.visit {
            info!(?photo, ms, "review finished after its visit ended; result dropped");
            return;
        }
        self.keep(ticket_id, *attempt, review, ms);
        drop(current);
    }

    /// Journals the result, stores the standard photo of a pass and shows it, and tells the machine.
    fn keep(&self, ticket_id: &str, attempt: u8, review: crate::review::Review, ms: u64) {
        let photo = self.photo;
        let verdict = review.verdict;
        let codes: Vec<_> = verdict.findings.iter().map(|f| f.code).collect();
        let now = self.wall_clock.now().timestamp();
        // Numbers only (no NaN): they go into the paid photo's manifest.
        let measures: BTreeMap<&str, f32> =
            review.measures.iter().filter(|(_, v)| v.is_finite()).map(|(k, v)| (*k, *v)).collect();
        let measures = serde_json::to_string(&measures).unwrap_or_else(|_| "{}".into());
        if let Err(e) = self.storage.journal().review(ticket_id, attempt, verdict.passed(), &codes, &measures, now) {
            error!(ticket = %ticket_id, attempt, error = %e, "review result not recorded");
        }
        info!(?photo, passed = verdict.passed(), ?codes, ms, "photo reviewed");
        if let Some(std) = review.standard {
            info!(?photo, bytes = std.jpeg.bytes.len(), quality = std.jpeg.quality, "standard photo made");
            if !std.jpeg.size_in_range {
                warn!(?photo, bytes = std.jpeg.bytes.len(), "standard photo outside the configured size range");
            }
            // Kept (crash-safe) as what a payment pays for; without it there is nothing to pay for.
            match self.storage.save_photo(ticket_id, attempt, PhotoKind::Standard, &std.jpeg.bytes, now) {
                Ok(file) => {
                    self.standards.lock().unwrap_or_else(|e| e.into_inner()).insert(photo, file);
                }
                Err(e) => {
                    error!(ticket = %ticket_id, attempt, error = %e, "standard photo could not be stored");
                    let _ = self.events.send(Msg::Event(Event::ReviewFailed { photo }));
                    return;
                }
            }
            // The graduate sees the standard photo before paying.
            self.ui.send(UiMsg::Photo(Some(Arc::new(std.image))));
        }
        let _ = self.events.send(Msg::Event(Event::Reviewed { photo, verdict }));
    }
}

/// The photo review as a part of the booth, like a device: checked at start-up and, while it
/// cannot judge photos, every `REVIEW_RECHECK`; a review that failed for the booth's own
/// reason counts as a failed check. `Fault(Part::Review)` is reported once, `Restored` once.
async fn review_keeper(
    reviewer: Arc<dyn Reviewer>,
    events: mpsc::UnboundedSender<Msg>,
    mut failures: mpsc::UnboundedReceiver<String>,
) {
    let report = |faulted: bool| {
        let event = if faulted { Event::Fault(Part::Review) } else { Event::Restored(Part::Review) };
        let _ = events.send(Msg::Event(event));
    };
    let mut faulted = false;
    let mut check = true;
    loop {
        if check {
            let r = reviewer.clone();
            let result = tokio::task::spawn_blocking(move || r.check()).await;
            match result.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                Ok(()) if faulted => {
                    faulted = false;
                    info!("photo review is back");
                    report(false);
                }
                Ok(()) => {}
                Err(e) => {
                    if !faulted {
                        faulted = true;
                        error!(error = %e, "photo review unavailable; out of service");
                        report(true);
                    } else {
                        debug!(error = %e, "photo review still unavailable");
                    }
                }
            }
        }
        tokio::select! {
            failure = failures.recv() => {
                let Some(reason) = failure else { return };
                if !faulted {
                    faulted = true;
                    error!(reason, "a photo review failed; out of service until the review answers again");
                    report(true);
                }
                check = false;
            }
            _ = tokio::time::sleep(REVIEW_RECHECK), if faulted => check = true,
        }
    }
}

/// Makes an order, shows its code, then asks until it is paid (or the task is aborted: the
/// code expired, the graduate left). Every change of the order's state is journaled first.
struct Payer {
    checkout: Arc<Checkout>,
    clock: Clock,
    events: mpsc::UnboundedSender<Msg>,
    pace: Pace,
}

impl Payer {
    fn send(&self, u: PaymentUpdate) {
        let _ = self.events.send(Msg::Event(Event::Payment(u)));
    }

    /// No code for this order, and why (nothing was paid: it was never created).
    fn no_code(&self, no: &str, why: NoCode) {
        self.checkout.record(no, JournalOrder::Unreachable);
        self.send(PaymentUpdate::NoCode(why));
    }

    /// `shown_for`: how long the code is on screen (WeChat's own expiry is `PAY_GRACE` later).
    async fn pay(self, request: OrderRequest, ticket_id: String, shown_for: Duration) {
        let no = &request.out_trade_no;
        let payment = self.checkout.payment.clone();
        // At most one order of a ticket is ever payable: one left open by a restart or a cut
        // network is settled first — and if it was paid, this visit is paid.
        match self.checkout.settle_all(Some(&ticket_id)).await {
            Ok(settled) => {
                if let Some((paid, _)) = settled.iter().find(|(_, s)| matches!(s, Settlement::Paid { .. })) {
                    info!(order = %paid, "an earlier order of this ticket was paid");
                    self.checkout.record(no, JournalOrder::Closed);
                    self.send(PaymentUpdate::Paid { out_trade_no: paid.clone() });
                    return;
                }
                let left = checkout::unknown(&settled);
                if left > 0 {
                    warn!(ticket = %ticket_id, left, "an earlier order cannot be settled; no new one");
                    return self.no_code(no, NoCode::EarlierUnsettled);
                }
            }
            Err(e) => {
                error!(error = %e, "earlier orders could not be read");
                return self.no_code(no, NoCode::NotRecorded);
            }
        }
        let mut tries = 0;
        let code_url = loop {
            match payment.create(&request).await {
                Ok(url) => break url,
                Err(e) if e.is_transient() && tries < 2 => {
                    tries += 1;
                    warn!(order = %no, error = %e, "creating the order failed; trying again");
                    tokio::time::sleep(CREATE_RETRY * tries).await;
                }
                Err(e) => {
                    warn!(order = %no, error = %e, "could not create payment order");
                    // Out of reach or busy: try again soon. Refused or untrustworthy: the booth's
                    // keys or settings, which trying again does not mend.
                    let why = if e.is_transient() { NoCode::Unreachable } else { NoCode::Refused };
                    return self.no_code(no, why);
                }
            }
        };
        info!(order = %no, amount_fen = request.amount_fen, "payment order created");
        self.checkout.record(no, JournalOrder::Open);
        self.send(PaymentUpdate::Created(PaymentOrder {
            out_trade_no: no.clone(),
            code_url,
            amount_fen: request.amount_fen,
            expires_at: self.clock.now().after(shown_for),
            simulated: payment.simulated(),
        }));
        let Pace { payment_poll, payment_poll_max, .. } = self.pace;
        let mut pause = payment_poll;
        loop {
            tokio::time::sleep(pause).await;
            let answer = payment.query(no, request.amount_fen).await;
            match self.checkout.on_answer(no, &answer) {
                Some(Settlement::Paid { .. }) => {
                    self.send(PaymentUpdate::Paid { out_trade_no: no.clone() });
                    return;
                }
                // Failed on the phone or closed: this code is done with.
                Some(Settlement::Closed) => {
                    self.send(PaymentUpdate::Closed { out_trade_no: no.clone() });
                    return;
                }
                Some(Settlement::Disputed(_)) => {
                    self.send(PaymentUpdate::Unconfirmed { out_trade_no: no.clone() });
                    return;
                }
                Some(Settlement::Unknown(_)) => pause = payment_poll,
                None => match answer {
                    Ok(_) => pause = payment_poll,
                    Err(e @ PaymentError::Forged(_)) => {
                        error!(order = %no, error = %e, "a payment answer was refused");
                        pause = payment_poll;
                    }
                    Err(e) => {
                        pause = (pause * 2).min(payment_poll_max);
                        warn!(order = %no, error = %e, retry_in_s = pause.as_secs(), "payment query failed; will ask again");
                    }
                },
            }
        }
    }
}

async fn run(
    parts: Parts,
    ui: Arc<dyn UiSink>,
    tx: mpsc::UnboundedSender<Msg>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    clock: Clock,
    heartbeat: Arc<std::sync::atomic::AtomicU64>,
) {
    let Parts { settings, devices, reviewer, payment, upload, wall_clock, storage, sandbox, pace, .. } = parts;
    let uploads = Arc::new(tokio::sync::Notify::new());
    let checkout = Arc::new(Checkout {
        payment,
        storage: storage.clone(),
        centre: settings.upload.centre.clone(),
        booth_id: settings.file.booth.id.clone(),
        wall_clock,
        uploads: uploads.clone(),
        live: Mutex::new(None),
        retry_pause: CREATE_RETRY,
    });
    // Paid photos sealed and open orders settled (at once, then every minute), the outbox sent.
    let background = [
        tokio::spawn(checkout.clone().run_settler(SETTLE_PERIOD)),
        tokio::spawn(
            Uploader::new(
                storage.clone(),
                upload,
                settings.file.booth.id.clone(),
                wall_clock,
                uploads,
                crate::upload::Backoff::default(),
            )
            .run(),
        ),
    ];
    let (review_failures, failures) = mpsc::unbounded_channel();
    let keeper = tokio::spawn(review_keeper(reviewer.clone(), tx.clone(), failures));
    let photos: PhotoStore = Arc::default();
    let photo_ids = Arc::new(AtomicU32::new(1));
    let (guide_tx, guide_rx) = std_mpsc::sync_channel(1);
    {
        let (reviewer, ui) = (reviewer.clone(), ui.clone());
        thread::Builder::new()
            .name("guide".into())
            .spawn(move || guide_worker(reviewer, guide_rx, ui))
            .expect("spawning the guide thread");
    }

    let codes_tx = match devices.scanner {
        Some(_) => None,
        None => {
            let (codes_tx, codes_rx) = std_mpsc::sync_channel(1);
            let events = tx.clone();
            thread::Builder::new()
                .name("qr-camera".into())
                .spawn(move || codes_worker(codes_rx, events))
                .expect("spawning the camera QR reader");
            info!("no scanner module: codes are read by the camera");
            Some(codes_tx)
        }
    };
    let reads_codes_by_camera = codes_tx.is_some();
    let (cam_tx, cam_rx) = std_mpsc::channel();
    let (chair_tx, chair_rx) = std_mpsc::channel();
    let (lights_tx, lights_rx) = std_mpsc::channel();
    let capture_timeout = settings.policy.timeouts.capture;
    let workers = [
        {
            let worker = CameraWorker {
                cmds: cam_rx,
                events: tx.clone(),
                ui: ui.clone(),
                photos: photos.clone(),
                storage: storage.clone(),
                wall_clock,
                capture_timeout,
                guide: guide_tx,
                codes: codes_tx,
                photo_ids: photo_ids.clone(),
            };
            let camera = devices.camera;
            spawn_device("camera", move || camera_worker(camera, worker))
        },
        {
            let events = tx.clone();
            let scanner = devices.scanner;
            spawn_device("qr-scanner", move || {
                if let Some(scanner) = scanner {
                    scanner_worker(scanner, events)
                }
            })
        },
        {
            let (events, ui) = (tx.clone(), ui.clone());
            let chair = devices.chair;
            spawn_device("chair", move || chair_worker(chair, chair_rx, events, ui))
        },
        {
            let events = tx.clone();
            let lights = devices.lights;
            spawn_device("lights", move || lights_worker(lights, lights_rx, events))
        },
    ];

    let policy = settings.policy.clone();
    let schedule = settings.schedule.clone();
    let mut shell = Shell {
        settings,
        clock,
        wall_clock,
        events: tx.clone(),
        ui: ui.clone(),
        camera: cam_tx,
        chair: chair_tx,
        lights: lights_tx,
        photos,
        standards: Arc::default(),
        reviewer,
        checkout,
        storage,
        attempt_unrecorded: false,
        payment_task: None,
        camera_controls: None,
        photo_ids,
        visit_epoch: Arc::default(),
        review_failures,
        pace,
    };
    // Start safe: motor stopped, lights idle.
    shell.run(Command::Chair(Motion::Stop));
    shell.run(Command::Lights(LightScene::Idle));

    let mut booth = Booth::default();
    let mut last_view = None;
    let mut reading = CodeReading::Off;
    let mut ticker = tokio::time::interval(pace.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sweeper = tokio::time::interval(SWEEP);
    sweeper.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    info!(booth = %shell.settings.file.booth.id, "booth started");
    shell.audit("booth", "started", &format!("booth {}", shell.settings.file.booth.id));
    loop {
        let event = tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Event(e)) => e,
                Some(Msg::Audit { actor, action }) => {
                    shell.audit(actor, &action, "");
                    continue;
                }
                Some(Msg::SandboxPay) => {
                    match (&booth.phase, &sandbox) {
                        (visit::Phase::Payment { stage: visit::PaymentStage::Waiting(order), .. }, Some(link)) => {
                            let (link, code) = (link.clone(), order.code_url.clone());
                            tokio::spawn(async move {
                                match link.pay(&code).await {
                                    Ok(no) => info!(order = %no, "sandbox: the graduate paid"),
                                    Err(e) => warn!(error = %e, "sandbox: payment refused"),
                                }
                            });
                        }
                        (_, None) => warn!("no sandbox to pay: the booth takes real payments"),
                        _ => info!("sandbox: no payment code on screen"),
                    }
                    continue;
                }
                Some(Msg::Shutdown) | None => break,
            },
            _ = sweeper.tick() => {
                shell.sweep();
                continue;
            }
            _ = ticker.tick() => {
                let closed = schedule.check(wall_clock.now()).err();
                if closed != booth.closed { Event::Hours(closed) } else { Event::Tick }
            }
        };
        if !matches!(event, Event::Tick) {
            debug!(event = event_name(&event), "event");
        }
        let now = clock.now();
        heartbeat.store(now.0, Ordering::Relaxed);
        let (next, cmds) = visit::step(&policy, booth, event, now);
        booth = next;
        for cmd in cmds {
            shell.run(cmd);
        }
        if reads_codes_by_camera && visit::code_reading(&booth) != reading {
            reading = visit::code_reading(&booth);
            let _ = shell.camera.send(CameraCmd::ReadCodes(reading));
        }
        let v = visit::view(&policy, &booth, now);
        if last_view.as_ref() != Some(&v) {
            if last_view.as_ref().is_none_or(|l: &visit::View| l.screen != v.screen) {
                info!(screen = v.screen.code(), "screen");
            }
            ui.send(UiMsg::View(Box::new(v.clone())));
            last_view = Some(v);
        }
    }
    // Every way out leaves the hardware safe.
    shell.run(Command::Chair(Motion::Stop));
    shell.run(Command::Preview(false));
    shell.run(Command::Lights(LightScene::Idle));
    if let Some(t) = shell.payment_task.take() {
        t.abort();
    }
    for t in background {
        t.abort();
    }
    keeper.abort();
    shell.audit("booth", "stopped", "");
    drop(shell);
    drop(tx);
    rx.close();
    for w in workers {
        let _ = w.join();
    }
    info!("booth stopped");
}

/// An event's kind, for the log (never its personal content).
fn event_name(e: &Event) -> &'static str {
    match e {
        Event::Tick => "tick",
        Event::Intent(_) => "intent",
        Event::QrScanned(_) => "qr_scanned",
        Event::TicketChecked(_) => "ticket_checked",
        Event::SeatButton(_) => "seat_button",
        Event::PhotoCaptured(_) => "photo_captured",
        Event::Reviewed { .. } => "reviewed",
        Event::ReviewFailed { .. } => "review_failed",
        Event::Payment(_) => "payment",
        Event::Fault(_) => "fault",
        Event::Restored(_) => "restored",
        Event::Hours(_) => "hours",
    }
}
