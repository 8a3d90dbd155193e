//! Choosing the devices at start-up, by `[hardware] backend`: the simulated booth
//! (`simulated`, development, CI, the demo) or the Raspberry Pi's real devices (`pi`).
//! Both return the same `Parts`; nothing after this point knows which it runs on.
//!
//! Without `[hardware.scanner]` the booth has no scanner module and reads codes with its
//! camera (`Devices::scanner` is `None`; the runtime runs the camera-based reader).

use std::sync::Arc;

use gradbooth_hal::opening::Opening;
use gradbooth_hal::sim::{ChairModel, SimCamera, SimChair, SimControls, SimLights, SimScanner};
use gradbooth_hal::uvc_camera::{NokhwaSource, ThreadedCamera, UvcConfig};
use gradbooth_hal::{QrScanner, RgbImage, rpi};

use crate::config::Settings;
use crate::payment::SimulatedGateway;
use crate::review::Reviewer;
use crate::runtime::{Devices, Parts, WallClock};
use crate::storage::{Storage, StorageError};
use crate::ticket;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Config(String),
}

/// The booth on simulated hardware: devices from `gradbooth_hal::sim`, the simulated
/// payment gateway, and the simulated clock from the configuration when it has one.
/// Returns the parts and the simulated lights (so callers can see what they show).
pub fn simulated(
    settings: Settings,
    sitters: Vec<RgbImage>,
    reviewer: Arc<dyn Reviewer>,
) -> Result<(Parts, SimLights), StorageError> {
    let wall_clock = settings.sim_clock_start.map_or(WallClock::System, WallClock::simulated);
    let storage = open_storage(&settings, wall_clock)?;
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
    let gateway = Arc::new(SimulatedGateway::new());
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
        payment: gateway.clone(),
        wall_clock,
        sim: Some(controls),
        sim_gateway: Some(gateway),
        sim_issuer: Some(issuer),
        storage: Arc::new(storage),
        settings,
    };
    Ok((parts, lights))
}

/// The booth on the Raspberry Pi: the UVC camera (nokhwa), the serial scanner module or the
/// camera-based reader, and the chair and lights on GPIO (rppal). A device that cannot be
/// opened does not stop the booth: it starts out of service with that device's fault shown,
/// and each device is opened again (with back-off) until it answers.
///
/// Payment is still the simulated gateway until WeChat Pay lands (issue 7).
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
    let scanner = hw.scanner.clone().map(|c| {
        Box::new(gradbooth_hal::serial_scanner::SerialScanner::new(c)) as Box<dyn QrScanner>
    });
    let gateway = Arc::new(SimulatedGateway::new());
    Ok(Parts {
        devices: Devices {
            camera: Box::new(camera),
            scanner,
            chair: Box::new(Opening::new(move || rpi::chair(&chair))),
            lights: Box::new(Opening::new(move || rpi::lights(&wiring))),
        },
        reviewer,
        payment: gateway.clone(),
        wall_clock,
        sim: None,
        sim_gateway: Some(gateway),
        sim_issuer: None,
        storage: Arc::new(storage),
        settings,
    })
}

fn open_storage(settings: &Settings, wall_clock: WallClock) -> Result<Storage, StorageError> {
    let (storage, _recovery) =
        Storage::open(&settings.data_dir, settings.unpaid_retention, wall_clock.now().timestamp())?;
    Ok(storage)
}
