//! The booth's devices: choosing them at start-up by `[hardware] backend` — the simulated
//! booth (`simulated`: development, CI, the demo) or the Raspberry Pi's real devices (`pi`) —
//! and running them (`workers`: a thread per device, with its health). Both backends give the
//! same `Devices`; nothing after this point knows which it runs on. `settings` checks
//! `[lights]` and `[hardware]`; `wiring` prints the Pi's pin table.
//!
//! Without `[hardware.scanner]` the booth has no scanner module and reads codes with its
//! camera (`Devices::scanner` is `None`; the workers run the camera-based reader).

pub mod seen;
pub mod settings;
pub mod wiring;
pub mod workers;

use gradbooth_hal::key_switch::{KeySwitch, KeySwitchError};
use gradbooth_hal::opening::Opening;
use gradbooth_hal::sim::SimKeySwitch;
use gradbooth_hal::sim::{ChairModel, SimCamera, SimChair, SimControls, SimLights, SimScanner};
use gradbooth_hal::uvc_camera::{NokhwaSource, ThreadedCamera, UvcConfig};
use gradbooth_hal::{Camera, Chair, Lights, QrScanner, RgbImage, rpi};

use self::settings::{Hardware, SimSettings};

/// The booth's devices, real or simulated.
pub struct Devices {
    pub camera: Box<dyn Camera>,
    /// The scanner module; `None`: the booth reads codes with its camera.
    pub scanner: Option<Box<dyn QrScanner>>,
    pub chair: Box<dyn Chair>,
    pub lights: Box<dyn Lights>,
    /// The service key switch (`[hardware.service]`), when the booth has one.
    pub key_switch: Option<Box<dyn KeySwitch>>,
}

/// The portraits the simulated camera shows (`what` names where the paths came from, for the
/// message). A missing file is named with what to run: the shipped portrait,
/// `models/astronaut.png`, arrives with the face models.
pub fn sitters(paths: &[std::path::PathBuf], what: &str) -> Result<Vec<RgbImage>, String> {
    if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
        return Err(format!(
            "{what}: {} does not exist — the shipped portrait (models/astronaut.png) comes with the face models: run scripts/setup first",
            missing.display()
        ));
    }
    SimCamera::load_sitters(paths).map_err(|e| format!("{what}: {e}"))
}

/// The simulated devices (`gradbooth_hal::sim`), the simulation's hands, and its lights (so
/// callers can see them).
pub fn simulated(hw: &Hardware, sim: &SimSettings, sitters: Vec<RgbImage>) -> (Devices, SimControls, SimLights) {
    let controls = SimControls::new();
    let cam = &hw.camera;
    let camera = SimCamera::new(controls.clone(), cam.width, cam.height, cam.fps).with_sitters(sitters);
    let scanner = match &hw.scanner {
        Some(_) => {
            let mut scanner = SimScanner::new(controls.clone());
            if let Some(path) = &sim.scan_file {
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
    let chair_model = match &hw.chair {
        Some(c) => ChairModel { max_run: c.timing().max_run, ..ChairModel::default() },
        None => ChairModel::default(),
    };
    let devices = Devices {
        camera: Box::new(camera),
        scanner,
        chair: Box::new(SimChair::new(controls.clone(), chair_model)),
        lights: Box::new(lights.clone()),
        key_switch: hw.service.as_ref().map(|_| Box::new(SimKeySwitch(controls.clone())) as Box<dyn KeySwitch>),
    };
    (devices, controls, lights)
}

/// The Raspberry Pi's devices: the UVC camera (nokhwa), the serial scanner module or the
/// camera-based reader, and the chair and lights on GPIO (rppal). A device that cannot be
/// opened does not stop the booth: it starts out of service with that device's fault shown,
/// and each device is opened again (with back-off) until it answers.
pub fn pi(hw: &Hardware) -> Result<Devices, String> {
    let (Some(chair), Some(wiring)) = (hw.chair.clone(), hw.lights.clone()) else {
        return Err("the Pi needs [hardware.chair] and [hardware.lights]".into());
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
    Ok(Devices {
        camera: Box::new(camera),
        scanner,
        chair: Box::new(Opening::new(move || rpi::chair(&chair))),
        lights: Box::new(Opening::new(move || rpi::lights(&wiring))),
        key_switch: hw.service.as_ref().map(|c| match rpi::key_switch(c) {
            Ok(k) => Box::new(k) as Box<dyn KeySwitch>,
            // A switch that cannot be read reads as on: out of service, never an open door.
            Err(e) => Box::new(Unreadable(e)) as Box<dyn KeySwitch>,
        }),
    })
}

/// A configured key switch whose pin could not be opened.
struct Unreadable(KeySwitchError);

impl KeySwitch for Unreadable {
    fn is_on(&mut self) -> Result<bool, KeySwitchError> {
        Err(self.0.clone())
    }
}
