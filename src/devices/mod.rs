//! Choosing the devices at start-up, by `[hardware] backend`: the simulated booth
//! (`simulated`, development, CI, the demo) or the Raspberry Pi's real devices (`pi`).
//! Both return the same `Parts`; nothing after this point knows which it runs on.
//!
//! Without `[hardware.scanner]` the booth has no scanner module and reads codes with its
//! camera (`Devices::scanner` is `None`; the runtime runs the camera-based reader).

pub mod wiring;

use std::sync::Arc;

use gradbooth_hal::opening::Opening;
use gradbooth_hal::sim::{ChairModel, SimCamera, SimChair, SimControls, SimLights, SimScanner};
use gradbooth_hal::uvc_camera::{NokhwaSource, ThreadedCamera, UvcConfig};
use gradbooth_hal::{QrScanner, RgbImage, rpi};

use crate::config::{Gateway, Settings, UploadTarget};
use crate::journal::storage::{Storage, StorageError};
use crate::payment::{PaymentGateway, Sandbox, WechatPay, sandbox};
use crate::review::Reviewer;
use crate::runtime::{Devices, Parts, SandboxLink, WallClock};
use crate::ticket;
use crate::upload::{DirTarget, S3Target, Target};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Config(String),
    #[error("payment: {0}")]
    Payment(String),
    #[error("upload: {0}")]
    Upload(String),
}

/// The portraits the simulated camera shows (`what` names where the paths came from, for the
/// message). A missing file is named with what to run: the shipped portrait,
/// `models/astronaut.png`, arrives with the face models.
pub fn sitters(paths: &[std::path::PathBuf], what: &str) -> Result<Vec<RgbImage>, StartError> {
    if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
        return Err(StartError::Config(format!(
            "{what}: {} does not exist — the shipped portrait (models/astronaut.png) comes with the face models: run scripts/setup first",
            missing.display()
        )));
    }
    SimCamera::load_sitters(paths).map_err(|e| StartError::Config(format!("{what}: {e}")))
}

/// The WeChat Pay client the booth pays with, and the sandbox behind it when it is one (the
/// booth's own, started here, or one at `payment.sandbox_url`).
pub fn payment(settings: &Settings) -> Result<(Arc<dyn PaymentGateway>, Option<SandboxLink>), StartError> {
    let booth = &settings.file.booth.id;
    let timeout = settings.payment.request_timeout;
    let bad = |e: crate::payment::wechat_sign::SignError| StartError::Payment(e.to_string());
    Ok(match &settings.payment.gateway {
        Gateway::Sandbox { url: None } => {
            let sb = Arc::new(Sandbox::start().map_err(|e| StartError::Payment(format!("starting the sandbox: {e}")))?);
            let client = WechatPay::new(sb.client_config(booth, timeout)).map_err(bad)?;
            (Arc::new(client), Some(SandboxLink::Local(sb)))
        }
        Gateway::Sandbox { url: Some(url) } => {
            let client = WechatPay::new(sandbox::client_config(url, booth, timeout)).map_err(bad)?;
            (Arc::new(client), Some(SandboxLink::Remote(url.clone())))
        }
        Gateway::WechatPay(config) => (Arc::new(WechatPay::new((**config).clone()).map_err(bad)?), None),
    })
}

/// Where paid photos go.
pub fn upload_target(settings: &Settings) -> Result<Arc<dyn Target>, StartError> {
    Ok(match &settings.upload.target {
        UploadTarget::Dir(dir) => {
            Arc::new(DirTarget::new(dir.clone().unwrap_or_else(|| settings.data_dir.join("uploaded"))))
        }
        UploadTarget::S3(s3) => Arc::new(S3Target::new(s3).map_err(|e| StartError::Upload(e.to_string()))?),
    })
}

/// The booth on simulated hardware: devices from `gradbooth_hal::sim`, the configured payment
/// gateway (the WeChat Pay sandbox by default), and the simulated clock from the configuration
/// when it has one. Returns the parts and the simulated lights (so callers can see them).
pub fn simulated(
    settings: Settings,
    sitters: Vec<RgbImage>,
    reviewer: Arc<dyn Reviewer>,
) -> Result<(Parts, SimLights), StartError> {
    let wall_clock = settings.sim_clock_start.map_or(WallClock::System, WallClock::simulated);
    let storage = open_storage(&settings, wall_clock)?;
    let (payment, sandbox) = payment(&settings)?;
    let upload = upload_target(&settings)?;
    let controls = SimControls::new();
    let cam = &settings.file.hardware.camera;
    let camera = SimCamera::new(controls.clone(), cam.width, cam.height, cam.fps).with_sitters(sitters);
    let scanner = match &settings.file.hardware.scanner {
        Some(_) => {
            let mut scanner = SimScanner::new(controls.clone());
            if let Some(path) = &settings.scan_file {
                scanner = scanner.with_file(path.clone());
            }
            Some(Box::new(scanner) as Box<dyn QrScanner>)
        }
        None => {
            controls.set_codes_to_camera(true);
            None
        }
    };
    let lights = SimLights::new(controls.clone());
    // The simulated chair keeps the configured run-time guard, like the real driver.
    let chair_model = match &settings.file.hardware.chair {
        Some(c) => ChairModel { max_run: c.timing().max_run, ..ChairModel::default() },
        None => ChairModel::default(),
    };
    // A throw-away issuer key, trusted only by this simulated booth, for the demo ticket.
    let issuer = Arc::new(ticket::generate_key());
    let mut settings = settings;
    settings.issuers.insert("sim", issuer.verifying_key());
    let parts = Parts {
        devices: Devices {
            camera: Box::new(camera),
            scanner,
            chair: Box::new(SimChair::new(controls.clone(), chair_model)),
            lights: Box::new(lights.clone()),
        },
        reviewer,
        payment,
        upload,
        wall_clock,
        sim: Some(controls),
        sandbox,
        sim_issuer: Some(issuer),
        storage: Arc::new(storage),
        pace: crate::runtime::Pace::default(),
        settings,
    };
    Ok((parts, lights))
}

/// The booth on the Raspberry Pi: the UVC camera (nokhwa), the serial scanner module or the
/// camera-based reader, and the chair and lights on GPIO (rppal). A device that cannot be
/// opened does not stop the booth: it starts out of service with that device's fault shown,
/// and each device is opened again (with back-off) until it answers.
///
/// Payment is WeChat Pay with the merchant's keys (the configuration refuses the sandbox here).
pub fn pi(settings: Settings, reviewer: Arc<dyn Reviewer>) -> Result<Parts, StartError> {
    let wall_clock = WallClock::System;
    let storage = open_storage(&settings, wall_clock)?;
    let hw = &settings.file.hardware;
    let (Some(chair), Some(wiring)) = (hw.chair.clone(), hw.lights.clone()) else {
        return Err(StartError::Config("the Pi needs [hardware.chair] and [hardware.lights]".into()));
    };
    let uvc = UvcConfig {
        device: hw.camera.device.clone(),
        width: hw.camera.width,
        height: hw.camera.height,
        fps: hw.camera.fps,
    };
    let camera = ThreadedCamera::start(move || NokhwaSource::new(uvc));
    let scanner = hw
        .scanner
        .clone()
        .map(|c| Box::new(gradbooth_hal::serial_scanner::SerialScanner::new(c)) as Box<dyn QrScanner>);
    let (payment, sandbox) = payment(&settings)?;
    let upload = upload_target(&settings)?;
    Ok(Parts {
        devices: Devices {
            camera: Box::new(camera),
            scanner,
            chair: Box::new(Opening::new(move || rpi::chair(&chair))),
            lights: Box::new(Opening::new(move || rpi::lights(&wiring))),
        },
        reviewer,
        payment,
        upload,
        wall_clock,
        sim: None,
        sandbox,
        sim_issuer: None,
        storage: Arc::new(storage),
        pace: crate::runtime::Pace::default(),
        settings,
    })
}

fn open_storage(settings: &Settings, wall_clock: WallClock) -> Result<Storage, StorageError> {
    let (storage, _recovery) =
        Storage::open(&settings.data_dir, settings.unpaid_retention, wall_clock.now().timestamp())?;
    Ok(storage)
}
