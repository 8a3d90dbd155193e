//! A Slint platform without a display: the software renderer draws into memory, so the demo
//! and the gallery can save every screen as a PNG on a machine with no screen at all.

use std::path::Path;
use std::rc::Rc;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, PhysicalSize};

struct Headless {
    window: Rc<MinimalSoftwareWindow>,
    started: std::time::Instant,
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
    fn duration_since_start(&self) -> std::time::Duration {
        self.started.elapsed()
    }
}

/// Install the headless platform. Call once, before creating any window.
pub fn install() -> anyhow::Result<Rc<MinimalSoftwareWindow>> {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(Headless { window: window.clone(), started: std::time::Instant::now() }))
        .map_err(|e| anyhow::anyhow!("cannot install the headless platform: {e:?}"))?;
    Ok(window)
}

/// Give the window a physical size; `scale` < 1 fits the 1920×1080 design onto a smaller panel.
pub fn resize(window: &MinimalSoftwareWindow, width: u32, height: u32, scale: f32) {
    window.window().dispatch_event(WindowEvent::ScaleFactorChanged { scale_factor: scale });
    window.set_size(PhysicalSize::new(width, height));
}

/// Render the component's window now and save it as a PNG.
pub fn save_png(app: &impl ComponentHandle, path: &Path) -> anyhow::Result<()> {
    slint::platform::update_timers_and_animations();
    let shot = app.window().take_snapshot().map_err(|e| anyhow::anyhow!("snapshot failed: {e}"))?;
    let img = image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec())
        .ok_or_else(|| anyhow::anyhow!("snapshot has an unexpected size"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    img.save(path)?;
    Ok(())
}
