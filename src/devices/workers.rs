//! The device threads: one per device, each call with a timeout. A worker reports its
//! device's health to the loop (`Health`: `Fault` once, `Restored` once, backing off while the
//! device is gone) and carries out the shell's commands: the camera streams preview frames to
//! the screen and the live guide, hands frames to the camera-based QR reader, and stores each
//! capture crash-safe before anyone sees it; the chair reports its height and the seat button;
//! the lights apply a scene's levels.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};
use std::thread;
use std::time::Duration;

use gradbooth_hal::camera_qr::CodeReader;
use gradbooth_hal::key_switch::KeySwitch;
use gradbooth_hal::{
    Camera, CameraControls, Chair, DeviceError, DeviceKind, LightLevels, Lights, Motion, QrScanner, RgbImage,
};
use tracing::{debug, error, info, warn};

use crate::bus::{Events, UiMsg, UiSink};
use crate::clock::{Backoff, WallClock};
use crate::journal::PhotoKind;
use crate::journal::storage::Storage;
use crate::review::Reviewer;
use crate::review::job::{Captured, PhotoStore};
use crate::screen::preview::{PREVIEW_HEIGHT, PREVIEW_WIDTH, preview_image};
use crate::visit::{CodeReading, Event, Part, PhotoId};

use super::Devices;
use super::seen::Seen;

const DEVICE_TIMEOUT: Duration = Duration::from_millis(500);
/// Between attempts to reach a device that is gone.
const DEVICE_BACKOFF: Backoff = Backoff { first: Duration::from_millis(200), max: Duration::from_secs(5) };
/// JPEG quality of a stored capture (the standard photo has its own, from the spec).
const CAPTURE_QUALITY: u8 = 92;
/// The camera-based QR reader looks at five frames a second on the scan screen (two while idle).
const CODE_FRAME_PERIOD: Duration = Duration::from_millis(200);
/// Its bounds, as a scanner module's (`[hardware.scanner]` defaults).
const CODE_MAX_LEN: usize = 2048;
const CODE_REPEAT_WINDOW: Duration = Duration::from_secs(2);
/// Tracks a device's health: reports a fault once, a recovery once, and backs off between
/// attempts to reach a device that is gone.
struct Health {
    device: DeviceKind,
    faulted: bool,
    /// The last wait between attempts (none while the device answers).
    wait: Option<Duration>,
    events: Events,
}

impl Health {
    fn new(device: DeviceKind, events: Events) -> Self {
        Health { device, faulted: false, wait: None, events }
    }
    fn ok(&mut self) {
        if self.faulted {
            self.faulted = false;
            self.wait = None;
            info!(device = %self.device, "device is back");
            let _ = self.events.send(Event::Restored(Part::Device(self.device)));
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
            let _ = self.events.send(Event::Fault(Part::Device(self.device)));
        }
        let wait = DEVICE_BACKOFF.after(self.wait);
        thread::sleep(wait);
        self.wait = Some(wait);
    }
}

/// One frame for a diagnostic check: a preview frame, or a still (kept in memory only).
pub type Probe = std_mpsc::SyncSender<Result<RgbImage, DeviceError>>;

pub enum CameraCmd {
    Preview(bool),
    /// A frame for the diagnostics (`still`: a full-resolution still), never stored.
    Probe {
        still: bool,
        reply: Probe,
    },
    /// Hand frames to the camera-based QR reader (the booth is waiting for a code).
    ReadCodes(CodeReading),
    Controls(CameraControls),
    Capture {
        ticket_id: String,
        attempt: u8,
    },
}

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
    events: Events,
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
    seen: Arc<Seen>,
}

/// How often a preview frame is measured (brightness, sharpness) for the diagnostics.
const MEASURE_PERIOD: Duration = Duration::from_millis(500);

fn camera_worker(mut camera: Box<dyn Camera>, w: CameraWorker) {
    let CameraWorker { cmds, events, ui, photos, storage, wall_clock, capture_timeout, guide, codes, photo_ids, seen } =
        w;
    let mut health = Health::new(DeviceKind::Camera, events.clone());
    let mut previewing = false;
    let mut measured = std::time::Instant::now();
    let mut second = (std::time::Instant::now(), 0u32);
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
                seen.controls(c);
                continue;
            }
            Ok(CameraCmd::Probe { still, reply }) => {
                let frame =
                    if still { camera.capture_still(capture_timeout) } else { camera.preview_frame(DEVICE_TIMEOUT) };
                match &frame {
                    Ok(f) => {
                        health.ok();
                        seen.frame(Some(f), true);
                    }
                    Err(e) => {
                        seen.frame(None, false);
                        // The prober hears at once; the back-off waits after.
                        let _ = reply.try_send(Err(e.clone()));
                        health.failed(e);
                        continue;
                    }
                }
                let _ = reply.try_send(frame);
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
                                .save_photo(&ticket_id, attempt, PhotoKind::Capture, &jpeg, wall_clock.now_s())
                                .map_err(|e| e.to_string())
                        });
                        let file = match saved {
                            Ok(file) => file,
                            Err(e) => {
                                error!(ticket = %ticket_id, attempt, error = %e, "capture could not be stored");
                                let _ = events.send(Event::PhotoCaptured(Err(e)));
                                continue;
                            }
                        };
                        let id = PhotoId(photo_ids.fetch_add(1, Ordering::Relaxed));
                        let image = Arc::new(still);
                        let captured = Captured { image: image.clone(), ticket_id, attempt, file };
                        photos.lock().unwrap_or_else(|e| e.into_inner()).insert(id, Arc::new(captured));
                        ui.send(UiMsg::Photo(Some(image)));
                        let _ = events.send(Event::PhotoCaptured(Ok(id)));
                    }
                    Err(e) => {
                        let _ = events.send(Event::PhotoCaptured(Err(e.to_string())));
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
                let measure = previewing && measured.elapsed() >= MEASURE_PERIOD;
                if measure {
                    measured = std::time::Instant::now();
                }
                seen.frame(Some(&frame), measure);
                second.1 += 1;
                if second.0.elapsed() >= Duration::from_secs(1) {
                    seen.fps(second.1 as f32 / second.0.elapsed().as_secs_f32());
                    second = (std::time::Instant::now(), 0);
                }
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
            Err(e) => {
                seen.frame(None, false);
                health.failed(&e)
            }
        }
    }
}

/// Live guidance: the light checks on preview frames, one hint at a time, at most
/// 15 times a second (`GUIDE_PERIOD`) (each takes ~10 ms on one core).
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
fn codes_worker(frames: std_mpsc::Receiver<Arc<RgbImage>>, events: Events) {
    let mut reader = CodeReader::new(CODE_MAX_LEN, CODE_REPEAT_WINDOW);
    while let Ok(frame) = frames.recv() {
        for text in reader.read(&frame, std::time::Instant::now()) {
            // The text is personal (it names the graduate): log only its size.
            debug!(bytes = text.len(), "QR code read by the camera");
            let _ = events.send(Event::QrScanned(text));
        }
    }
}

fn scanner_worker(mut scanner: Box<dyn QrScanner>, events: Events) {
    let mut health = Health::new(DeviceKind::QrScanner, events.clone());
    while !events.is_closed() {
        match scanner.next_text(Duration::from_millis(200)) {
            Ok(Some(text)) => {
                health.ok();
                // The text is personal (it names the graduate): log only its size.
                debug!(bytes = text.len(), "QR code read");
                let _ = events.send(Event::QrScanned(text));
            }
            Ok(None) => health.ok(),
            Err(e) => health.failed(&e),
        }
    }
}

fn chair_worker(
    mut chair: Box<dyn Chair>,
    cmds: std_mpsc::Receiver<Motion>,
    events: Events,
    ui: Arc<dyn UiSink>,
    seen: Arc<Seen>,
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
                seen.chair_report(&report);
                seen.chair_fault(None);
                for b in report.buttons {
                    let _ = events.send(Event::SeatButton(b));
                }
                (report.height_percent, None)
            }
            Err(e @ DeviceError::Fault { .. }) => {
                // The driver already stopped the motor (stall, stuck button): say so on screen.
                warn!(error = %e, "chair fault");
                seen.chair_fault(Some(e.to_string()));
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

fn lights_worker(mut lights: Box<dyn Lights>, cmds: std_mpsc::Receiver<LightLevels>, events: Events, seen: Arc<Seen>) {
    let mut health = Health::new(DeviceKind::Lights, events);
    while let Ok(levels) = cmds.recv() {
        match lights.apply(&levels) {
            Ok(()) => {
                health.ok();
                seen.lights_applied(&levels);
            }
            Err(e) => health.failed(&e),
        }
    }
}

/// The service key switch: its state at start-up, then every change (read every 100 ms). A
/// switch that cannot be read counts as on: out of service rather than an open door.
fn key_worker(mut key: Box<dyn KeySwitch>, events: Events) {
    let mut last = None;
    let mut failing = false;
    while !events.is_closed() {
        let on = match key.is_on() {
            Ok(on) => {
                failing = false;
                on
            }
            Err(e) => {
                if !failing {
                    error!(error = %e, "service key switch unreadable: treated as on");
                    failing = true;
                }
                true
            }
        };
        if last != Some(on) {
            info!(on, "service key switch");
            let _ = events.send(Event::KeySwitch(on));
            last = Some(on);
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// The shell's ends of the device threads.
pub struct Links {
    pub camera: std_mpsc::Sender<CameraCmd>,
    pub chair: std_mpsc::Sender<Motion>,
    pub lights: std_mpsc::Sender<LightLevels>,
    /// The booth reads codes with its camera (it has no scanner module).
    pub reads_codes_by_camera: bool,
    /// What the devices last reported (diagnostics, metrics).
    pub seen: Arc<Seen>,
}

/// What the camera thread needs besides its camera.
pub struct CameraContext {
    pub events: Events,
    pub ui: Arc<dyn UiSink>,
    pub photos: PhotoStore,
    pub storage: Arc<Storage>,
    pub wall_clock: WallClock,
    pub capture_timeout: Duration,
    pub photo_ids: Arc<AtomicU32>,
    pub reviewer: Arc<dyn Reviewer>,
}

/// Starts a thread per device (and the live guide and, without a scanner module, the camera's
/// QR reader). The threads end when the shell drops its `Links` and the event queue closes;
/// join them with the handles returned.
pub fn spawn(devices: Devices, cx: CameraContext) -> (Links, Vec<thread::JoinHandle<()>>) {
    let CameraContext { events, ui, photos, storage, wall_clock, capture_timeout, photo_ids, reviewer } = cx;
    let (guide_tx, guide_rx) = std_mpsc::sync_channel(1);
    {
        let ui = ui.clone();
        spawn_device("guide", move || guide_worker(reviewer, guide_rx, ui));
    }
    let codes = match devices.scanner {
        Some(_) => None,
        None => {
            let (codes_tx, codes_rx) = std_mpsc::sync_channel(1);
            let events = events.clone();
            spawn_device("qr-camera", move || codes_worker(codes_rx, events));
            info!("no scanner module: codes are read by the camera");
            Some(codes_tx)
        }
    };
    let reads_codes_by_camera = codes.is_some();
    let (cam_tx, cam_rx) = std_mpsc::channel();
    let (chair_tx, chair_rx) = std_mpsc::channel();
    let (lights_tx, lights_rx) = std_mpsc::channel();
    let seen = Arc::new(Seen::default());
    let mut threads = vec![
        {
            let worker = CameraWorker {
                cmds: cam_rx,
                events: events.clone(),
                ui: ui.clone(),
                photos,
                storage,
                wall_clock,
                capture_timeout,
                guide: guide_tx,
                codes,
                photo_ids,
                seen: seen.clone(),
            };
            let camera = devices.camera;
            spawn_device("camera", move || camera_worker(camera, worker))
        },
        {
            let events = events.clone();
            let scanner = devices.scanner;
            spawn_device("qr-scanner", move || {
                if let Some(scanner) = scanner {
                    scanner_worker(scanner, events)
                }
            })
        },
        {
            let (events, ui, seen) = (events.clone(), ui.clone(), seen.clone());
            let chair = devices.chair;
            spawn_device("chair", move || chair_worker(chair, chair_rx, events, ui, seen))
        },
        {
            let (lights, events, seen) = (devices.lights, events.clone(), seen.clone());
            spawn_device("lights", move || lights_worker(lights, lights_rx, events, seen))
        },
    ];
    if let Some(key) = devices.key_switch {
        threads.push(spawn_device("service-key", move || key_worker(key, events)));
    }
    (Links { camera: cam_tx, chair: chair_tx, lights: lights_tx, reads_codes_by_camera, seen }, threads)
}
