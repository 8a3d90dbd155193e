//! The booth's real touchscreen UI on the real runtime (simulated hardware), driven through
//! Slint's testing backend: elements are found by their accessible labels and pressed.
//! Shared by `ui_flow` (the graduate's visit) and `ui_service` (the diagnostics mode).

#![allow(dead_code)]

use std::rc::Rc;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gradbooth::config::Settings;
use gradbooth::review::ScriptedReviewer;
use gradbooth::runtime::{self, BoothHandle};
use gradbooth::screen::{self, UiMsg};
use gradbooth::ui::{AppWindow, BoothAdapter};
use gradbooth::visit::Screen;
use gradbooth_hal::sim::{SimControls, SimLights};
use i_slint_backend_testing::ElementHandle;
use slint::ComponentHandle;

pub struct Booth {
    pub app: AppWindow,
    pub rx: mpsc::Receiver<UiMsg>,
    pub booth: Rc<BoothHandle>,
    pub lights: SimLights,
    pub settings: Settings,
    pub _data: tempfile::TempDir,
}

impl Booth {
    pub fn start(tune: impl FnOnce(&mut Settings)) -> Booth {
        Self::start_with(tune, vec![], Arc::new(ScriptedReviewer { pass: true }))
    }

    pub fn start_with(
        tune: impl FnOnce(&mut Settings),
        sitters: Vec<gradbooth_hal::RgbImage>,
        reviewer: Arc<dyn gradbooth::review::Reviewer>,
    ) -> Booth {
        Self::start_text(include_str!("../../config/booth.toml"), tune, sitters, reviewer)
    }

    /// The booth on the configuration `text` (what an operator's bundle is merged onto).
    pub fn start_text(
        text: &str,
        tune: impl FnOnce(&mut Settings),
        sitters: Vec<gradbooth_hal::RgbImage>,
        reviewer: Arc<dyn gradbooth::review::Reviewer>,
    ) -> Booth {
        i_slint_backend_testing::init_no_event_loop();
        let mut settings = Settings::parse(text).unwrap();
        tune(&mut settings);
        let app = AppWindow::new().unwrap();
        app.window().set_size(slint::PhysicalSize::new(1920, 1080));
        screen::apply_facts(&app, &settings.facts());
        let (tx, rx) = mpsc::channel();
        // Each booth its own journal.
        let data = tempfile::tempdir().unwrap();
        settings.data_dir = data.path().to_owned();
        let (parts, lights) = runtime::simulated(settings.clone(), sitters, reviewer).unwrap();
        let booth = Rc::new(runtime::start(parts, Arc::new(tx)));
        screen::connect(&app, booth.clone());
        Booth { app, rx, booth, lights, settings, _data: data }
    }

    /// The booth on the Raspberry Pi's real devices, at the paths `tune` sets.
    pub fn start_pi(tune: impl FnOnce(&mut Settings)) -> Booth {
        i_slint_backend_testing::init_no_event_loop();
        let mut settings = Settings::parse(include_str!("../../config/booth.toml")).unwrap();
        settings.file.hardware.backend = gradbooth::config::Backend::Pi;
        tune(&mut settings);
        let app = AppWindow::new().unwrap();
        screen::apply_facts(&app, &settings.facts());
        let (tx, rx) = mpsc::channel();
        let data = tempfile::tempdir().unwrap();
        settings.data_dir = data.path().to_owned();
        let parts = runtime::pi(settings.clone(), Arc::new(ScriptedReviewer { pass: true })).unwrap();
        let booth = Rc::new(runtime::start(parts, Arc::new(tx)));
        screen::connect(&app, booth.clone());
        // No simulated lights on the Pi: these stay untouched.
        Booth { app, rx, booth, lights: SimLights::new(SimControls::new()), settings, _data: data }
    }

    pub fn screen(&self) -> String {
        // The page's name as the machine's `Screen::code` spells it ("out_of_service").
        let page = self.app.global::<BoothAdapter>().get_screen();
        let screen = Screen::ALL.into_iter().find(|s| screen::page(*s) == page);
        screen.map_or("?", |s| s.code()).to_owned()
    }

    /// Show what the booth sends until `done` holds.
    pub fn pump_until(&self, what: &str, within: Duration, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + within;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{what} never came; screen is {:?}", self.screen());
            if let Ok(msg) = self.rx.recv_timeout(left.min(Duration::from_millis(50))) {
                screen::apply(&self.app, msg);
            }
        }
    }

    pub fn wait_for(&self, want: &str, within: Duration) {
        self.pump_until(&format!("screen {want:?}"), within, |b| b.screen() == want);
    }

    pub fn wait_until_shown(&self, label: &str) {
        self.pump_until(&format!("{label:?}"), SOON, |b| b.shows(label));
    }

    pub fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.app, label).collect()
    }

    pub fn press(&self, label: &str) {
        let found = self.find(label);
        assert!(!found.is_empty(), "no element labelled {label:?} on screen {:?}", self.screen());
        found[0].invoke_accessible_default_action();
    }

    /// Elements whose accessible label starts with `prefix` (a diagnostics line: "label：value").
    pub fn find_prefix(&self, prefix: &str) -> Vec<ElementHandle> {
        let prefix = prefix.to_owned();
        i_slint_backend_testing::ElementQuery::from_root(&self.app)
            .match_descendants()
            .match_predicate(move |e| e.accessible_label().is_some_and(|l| l.starts_with(prefix.as_str())))
            .find_all()
    }

    pub fn shows(&self, label: &str) -> bool {
        !self.find(label).is_empty()
    }

    pub fn lights_idle(&self) -> bool {
        self.lights.levels() == self.settings.file.lights.idle
    }
}

pub const SOON: Duration = Duration::from_secs(5);
