//! The booth in a window: its parts put together from the configuration, the Slint event
//! loop as the runtime's `UiSink`, the service manager's watchdog, and the out of service
//! screen when the booth cannot start.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::Context;
use slint::ComponentHandle;

use crate::config::{Backend, Settings};
use crate::screen::{self, UiMsg, UiSink};
use crate::ui::{AppWindow, BoothAdapter};

/// Sends UI messages to the Slint event loop. Preview frames are dropped while one is
/// still waiting to be shown, so a slow screen never builds a queue.
struct EventLoopSink {
    app: slint::Weak<AppWindow>,
    frame_pending: Arc<std::sync::atomic::AtomicBool>,
}

impl UiSink for EventLoopSink {
    fn send(&self, msg: UiMsg) {
        use std::sync::atomic::Ordering;
        let is_frame = matches!(msg, UiMsg::Preview(_));
        if is_frame && self.frame_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending = self.frame_pending.clone();
        let _ = self.app.upgrade_in_event_loop(move |app| {
            if is_frame {
                pending.store(false, Ordering::Release);
            }
            screen::apply(&app, msg);
        });
    }
}

/// The configuration as the booth runs it: the file, the data directory and devices given on
/// the command line (or by the service's environment).
pub(super) fn load_settings(
    config: &Path,
    data_dir: Option<&Path>,
    hardware: Option<Backend>,
) -> anyhow::Result<Settings> {
    let (text, data_dir) = crate::config::generations::base_of(config, data_dir, hardware)?;
    // The base file plus the operators' bundles applied (on trial, or rolled back).
    let (mut settings, _, notes) = crate::config::generations::Generations::at(&data_dir)
        .start(&text, hardware)
        .with_context(|| format!("the configuration generations in {}", data_dir.join("config").display()))?;
    settings.data_dir = data_dir;
    settings.config_notes = notes;
    Ok(settings)
}

/// The booth's parts from its configuration, the window set up for them.
fn assemble(app: &AppWindow, settings: Settings, debug_panel: bool) -> anyhow::Result<crate::runtime::Parts> {
    screen::apply_facts(app, &settings.facts());
    screen::set_language(app, settings.file.ui.language == "en");
    if settings.file.hardware.backend == Backend::Simulated {
        app.global::<BoothAdapter>().set_debug_panel(debug_panel);
    }
    parts(settings)
}

/// The booth's parts on the configured devices, with the booth's own reviewer.
pub(super) fn parts(settings: Settings) -> anyhow::Result<crate::runtime::Parts> {
    let reviewer: Arc<dyn crate::review::Reviewer> = Arc::new(crate::review::BoothReviewer::new(&settings.review));
    Ok(match settings.file.hardware.backend {
        Backend::Simulated => {
            let sitters = crate::devices::sitters(
                &settings.file.hardware.simulated.sitter_images,
                "hardware.simulated.sitter_images",
            )
            .map_err(anyhow::Error::msg)?;
            crate::runtime::simulated(settings, sitters, reviewer)?.0
        }
        Backend::Pi => crate::runtime::pi(settings, reviewer)?,
    })
}

pub fn run_booth(
    config: &Path,
    data_dir: Option<&Path>,
    hardware: Option<Backend>,
    debug_panel: bool,
) -> anyhow::Result<()> {
    let app = match AppWindow::new() {
        Ok(app) => app,
        Err(e) => {
            eprintln!(
                "gradbooth: cannot open a window ({e}).\n\
                 No display? Run the booth headlessly instead:\n  \
                 cargo run --release -- demo --out out/demo\n  \
                 cargo run --release -- gallery --out out/gallery"
            );
            std::process::exit(2);
        }
    };
    let parts = match load_settings(config, data_dir, hardware).and_then(|s| assemble(&app, s, debug_panel)) {
        Ok(parts) => parts,
        Err(e) => {
            let (config, data_dir) = (config.to_owned(), data_dir.map(|d| d.to_owned()));
            return cannot_start(&app, &e, move || load_and_open(&config, data_dir.as_deref(), hardware));
        }
    };
    let sink = EventLoopSink { app: app.as_weak(), frame_pending: Arc::default() };
    let booth = Rc::new(crate::runtime::start(parts, Arc::new(sink)));
    screen::connect(&app, booth.clone());
    // The service manager's watchdog (systemd WatchdogSec): fed from the UI thread, and only
    // while the runtime's loop is also going round, so a hung UI or a hung runtime is restarted.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = slint::Timer::default();
    {
        let booth = booth.clone();
        watchdog.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(2), move || {
            if booth.restart_wanted() {
                let _ = slint::quit_event_loop();
            } else if booth.since_heartbeat() < std::time::Duration::from_secs(5) {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        });
    }
    let result = app.run();
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    booth.shutdown();
    if booth.restart_wanted() {
        // The service manager starts it again (Restart=always) on the new generation.
        eprintln!("gradbooth: restarting on the new configuration (exit 75; the service starts it again)");
        std::process::exit(75);
    }
    result.context("the UI event loop failed")
}

/// Whether the booth could start now: its configuration loads and its data directory opens.
fn load_and_open(config: &Path, data_dir: Option<&Path>, hardware: Option<Backend>) -> anyhow::Result<()> {
    let s = load_settings(config, data_dir, hardware)?;
    let now = chrono::Utc::now().timestamp();
    crate::journal::storage::Storage::open(&s.data_dir, s.unpaid_retention, now)
        .context("opening the data directory")?;
    Ok(())
}

/// The booth cannot start (a bad configuration, an unusable data directory). Rather than
/// exiting into a restart loop behind a black screen, it shows the out of service screen with
/// the reason, keeps the service watchdog fed, and looks again every 30 s; once the problem is
/// fixed it exits with status 75 so the service manager starts it afresh.
fn cannot_start(
    app: &AppWindow,
    err: &anyhow::Error,
    retry: impl Fn() -> anyhow::Result<()> + 'static,
) -> anyhow::Result<()> {
    let reason = format!("{err:#}");
    tracing::error!(reason, "the booth cannot start; out of service until this is fixed");
    screen::show_startup_error(app, &reason);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = slint::Timer::default();
    watchdog.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(2), || {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
    });
    let fixed = Rc::new(std::cell::Cell::new(false));
    let recheck = slint::Timer::default();
    {
        let fixed = fixed.clone();
        recheck.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(30), move || {
            if retry().is_ok() {
                fixed.set(true);
                let _ = slint::quit_event_loop();
            }
        });
    }
    app.run().context("the UI event loop failed")?;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    if fixed.get() {
        tracing::info!("the problem is fixed; exiting so the service starts the booth again");
        eprintln!("gradbooth: the problem is fixed; start the booth again (the service does so itself)");
        std::process::exit(75);
    }
    Ok(())
}
