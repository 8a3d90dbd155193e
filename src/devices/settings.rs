//! `[lights]` (the channels, the idle scene and each mode's preview and capture presets, with
//! the camera's exposure and white balance) and `[hardware]` (the backend, the camera, the
//! simulated booth, and the Pi's pins: one use per BCM GPIO, every light channel wired).

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use gradbooth_hal::LightLevels;
use serde::Deserialize;

use crate::validate::{Invalid, in_range, invalid};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeLights {
    pub preview: LightLevels,
    pub capture: LightLevels,
    /// The camera's exposure and white balance in this mode (preview and capture); missing =
    /// automatic. The idle and scanning camera is always automatic.
    #[serde(default)]
    pub camera: gradbooth_hal::CameraControls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightsFile {
    pub channels: Vec<String>,
    pub idle: LightLevels,
    pub no_glasses: ModeLights,
    pub glasses: ModeLights,
}

impl LightsFile {
    /// The light levels and camera controls of a scene: the mode's preset, or idle (the
    /// camera automatic).
    pub fn scene(&self, scene: crate::visit::LightScene) -> (&LightLevels, gradbooth_hal::CameraControls) {
        use crate::visit::{LightScene, LightingMode};
        let mode = |m: LightingMode| if m == LightingMode::Glasses { &self.glasses } else { &self.no_glasses };
        match scene {
            LightScene::Idle => (&self.idle, gradbooth_hal::CameraControls::default()),
            LightScene::Preview(m) => (&mode(m).preview, mode(m).camera),
            LightScene::Capture(m) => (&mode(m).capture, mode(m).camera),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Simulated devices: development, CI, the demo.
    Simulated,
    /// The Raspberry Pi's devices: UVC camera, serial scanner (or the camera reads codes),
    /// chair and lights on GPIO.
    Pi,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    pub backend: Backend,
    pub camera: CameraFile,
    pub simulated: SimulatedFile,
    /// The serial QR scanner (the real booth; none = the camera-based reader).
    #[serde(default)]
    pub scanner: Option<gradbooth_hal::serial_scanner::SerialScannerConfig>,
    /// The chair motor's relays, the seat button and the limit switches (BCM GPIO numbers).
    #[serde(default)]
    pub chair: Option<gradbooth_hal::gpio_chair::ChairConfig>,
    /// The light channels' pins.
    #[serde(default)]
    pub lights: Option<gradbooth_hal::gpio_lights::LightsWiring>,
    /// The service key switch (none: the service code alone opens the diagnostics mode).
    #[serde(default)]
    pub service: Option<gradbooth_hal::key_switch::KeySwitchConfig>,
}

impl Hardware {
    /// Every GPIO the configuration wires: (BCM number, what it is), in config order.
    pub fn gpio_uses(&self) -> Vec<(u8, String)> {
        let mut uses = Vec::new();
        if let Some(c) = &self.chair {
            let out = if c.outputs_active_low { "output, on = low" } else { "output, on = high" };
            let inp =
                if c.inputs_active_low { "input, pull-up, closed = low" } else { "input, pull-down, closed = high" };
            uses.push((c.up_pin, format!("chair motor up (relay / H-bridge), {out}")));
            uses.push((c.down_pin, format!("chair motor down (relay / H-bridge), {out}")));
            uses.push((c.button_up_pin, format!("seat button up (lower right of the seat), {inp}")));
            uses.push((c.button_down_pin, format!("seat button down, {inp}")));
            uses.push((c.top_limit_pin, format!("chair top limit switch, {inp}")));
            uses.push((c.bottom_limit_pin, format!("chair bottom limit switch, {inp}")));
        }
        if let Some(l) = &self.lights {
            for (name, p) in &l.channels {
                let kind = if p.pwm { format!("PWM {} Hz", l.pwm_hz) } else { "relay".into() };
                let on = if p.active_low { "on = low" } else { "on = high" };
                uses.push((p.pin, format!("light {name}, {kind}, {on}")));
            }
        }
        if let Some(k) = &self.service {
            let inp = if k.active_low { "input, pull-up, on = low" } else { "input, pull-down, on = high" };
            uses.push((k.key_pin, format!("service key switch, {inp}")));
        }
        uses
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraFile {
    /// The V4L2 device (the udev rules name the booth camera `/dev/gradbooth-camera`).
    #[serde(default = "default_camera_device")]
    pub device: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

fn default_camera_device() -> String {
    "/dev/gradbooth-camera".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedFile {
    #[serde(default)]
    clock_start: String,
    #[serde(default)]
    pub sitter_images: Vec<PathBuf>,
    #[serde(default)]
    scan_file: String,
}

fn levels(key: &str, lv: &LightLevels, channels: &[String]) -> Result<(), Invalid> {
    for (ch, v) in &lv.0 {
        if !channels.contains(ch) {
            return Err(invalid(
                &format!("{key}.{ch}"),
                v,
                format!("unknown light channel; channels are {channels:?}"),
            ));
        }
        in_range(&format!("{key}.{ch}"), *v as u32, 0, 100)?;
    }
    Ok(())
}

impl LightsFile {
    pub fn validate(&self) -> Result<(), Invalid> {
        let l = self;
        if l.channels.is_empty() {
            return Err(invalid("lights.channels", "[]", "name at least one light channel"));
        }
        levels("lights.idle", &l.idle, &l.channels)?;
        for (name, m) in [("no_glasses", &l.no_glasses), ("glasses", &l.glasses)] {
            levels(&format!("lights.{name}.preview"), &m.preview, &l.channels)?;
            levels(&format!("lights.{name}.capture"), &m.capture, &l.channels)?;
            if let Some(e) = m.camera.exposure_100us {
                in_range(&format!("lights.{name}.camera.exposure_100us"), e, 1, 10_000)?;
            }
            if let Some(k) = m.camera.white_balance_k {
                in_range(&format!("lights.{name}.camera.white_balance_k"), k, 2_000, 10_000)?;
            }
        }

        Ok(())
    }
}

/// The simulated booth's settings, checked.
#[derive(Debug, Clone, Default)]
pub struct SimSettings {
    /// The simulated wall clock starts here (none: the system's clock).
    pub clock_start: Option<DateTime<FixedOffset>>,
    /// A file the simulated scanner reads codes from.
    pub scan_file: Option<PathBuf>,
}

impl Hardware {
    /// `lights`: the channels the pins must wire.
    pub fn validate(&self, lights: &LightsFile) -> Result<SimSettings, Invalid> {
        let mut seen = std::collections::BTreeMap::new();
        for (pin, what) in self.gpio_uses() {
            if pin > 27 {
                return Err(invalid("hardware (GPIO)", format!("{pin} for {what}"), "BCM GPIO 0 to 27"));
            }
            if let Some(other) = seen.insert(pin, what.clone()) {
                return Err(invalid("hardware (GPIO)", format!("{pin}"), format!("one use per pin: {other} / {what}")));
            }
        }
        if let Some(w) = &self.lights {
            let wired: Vec<&String> = w.channels.keys().collect();
            let mut named: Vec<&String> = lights.channels.iter().collect();
            named.sort();
            if wired != named {
                return Err(invalid(
                    "hardware.lights.channels",
                    format!("{wired:?}"),
                    format!("exactly the channels of [lights]: {named:?}"),
                ));
            }
            in_range("hardware.lights.pwm_hz", w.pwm_hz.round() as u32, 50, 20_000)?;
        }
        if let Some(c) = &self.chair {
            in_range("hardware.chair.debounce_ms", c.debounce_ms.min(u64::from(u32::MAX)) as u32, 5, 500)?;
            in_range("hardware.chair.dead_time_ms", c.dead_time_ms.min(u64::from(u32::MAX)) as u32, 50, 5_000)?;
            in_range("hardware.chair.max_run_ms", c.max_run_ms.min(u64::from(u32::MAX)) as u32, 1_000, 120_000)?;
        }
        if let Some(sc) = &self.scanner {
            if !gradbooth_hal::serial_scanner::STANDARD_BAUDS.contains(&sc.baud) {
                return Err(invalid(
                    "hardware.scanner.baud",
                    sc.baud,
                    format!("a standard rate: {:?}", gradbooth_hal::serial_scanner::STANDARD_BAUDS),
                ));
            }
            in_range("hardware.scanner.max_line", sc.max_line.min(u32::MAX as usize) as u32, 64, 65_536)?;
        }
        if self.backend == Backend::Pi {
            let h = self;
            if h.chair.is_none() || h.lights.is_none() {
                return Err(invalid(
                    "hardware",
                    "backend = \"pi\"",
                    "the Pi's pins: [hardware.chair] and [hardware.lights] (see the README's wiring table)",
                ));
            }
            if h.camera.device.trim().is_empty() {
                return Err(invalid("hardware.camera.device", "\"\"", "a V4L2 device like \"/dev/gradbooth-camera\""));
            }
        }
        let c = &self.camera;
        in_range("hardware.camera.width", c.width, 320, 7680)?;
        in_range("hardware.camera.height", c.height, 240, 4320)?;
        in_range("hardware.camera.fps", c.fps, 1, 120)?;
        let sim = &self.simulated;
        let sim_clock_start = match sim.clock_start.trim() {
            "" => None,
            s => Some(DateTime::parse_from_rfc3339(s).map_err(|_| {
                invalid(
                    "hardware.simulated.clock_start",
                    format!("{s:?}"),
                    "an RFC 3339 time like 2025-06-03T10:00:00+08:00, or empty",
                )
            })?),
        };
        let scan_file = Some(PathBuf::from(sim.scan_file.trim())).filter(|p| !p.as_os_str().is_empty());
        Ok(SimSettings { clock_start: sim_clock_start, scan_file })
    }
}
