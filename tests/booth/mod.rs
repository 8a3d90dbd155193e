#![allow(dead_code)] // shared by several test crates, each using part of it
//! A whole booth for booth-level tests: the real runtime, journal, payment client and uploader
//! on simulated devices, paying through a WeChat Pay sandbox and uploading to a directory
//! store that both live in the test (so the test can misbehave them and outlive a booth).
//! What the graduate is shown is read from the views the booth sends its screen; what the
//! booth believes, from its journal.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gradbooth::config::{Gateway, Settings, UploadTarget};
use gradbooth::journal::OrderState;
use gradbooth::journal::storage::Storage;
use gradbooth::payment::Sandbox;
use gradbooth::review::{Reviewer, ScriptedReviewer};
use gradbooth::runtime::{self, BoothHandle};
use gradbooth::screen::UiMsg;
use gradbooth::upload;
use gradbooth::visit::{Intent, LightingMode, Screen, View};

pub struct Booth {
    pub booth: Option<BoothHandle>,
    pub rx: mpsc::Receiver<UiMsg>,
    pub storage: Arc<Storage>,
    pub view: Option<View>,
    /// Every payment stage shown, in order (repeats collapsed).
    pub stages: Vec<String>,
}

/// The booth's sandbox lives in the test, so the test can misbehave it and outlive a booth.
pub struct World {
    pub sandbox: Sandbox,
    pub data: tempfile::TempDir,
    pub store: tempfile::TempDir,
}

impl World {
    pub fn new() -> Self {
        World {
            sandbox: Sandbox::start().unwrap(),
            data: tempfile::tempdir().unwrap(),
            store: tempfile::tempdir().unwrap(),
        }
    }

    pub fn settings(&self, tune: &dyn Fn(&mut Settings)) -> Settings {
        let mut s = Settings::parse(include_str!("../../config/booth.toml")).unwrap();
        s.data_dir = self.data.path().to_owned();
        s.policy.countdown = Duration::from_millis(100);
        s.payment.gateway = Gateway::Sandbox { url: Some(self.sandbox.url().to_owned()) };
        s.payment.request_timeout = Duration::from_secs(1);
        s.upload.target = UploadTarget::Dir(Some(self.store.path().to_owned()));
        tune(&mut s);
        s
    }

    pub fn start(&self, tune: &dyn Fn(&mut Settings)) -> Booth {
        self.start_reviewing(tune, Arc::new(ScriptedReviewer { pass: true }))
    }

    /// A booth whose photos `reviewer` judges.
    pub fn start_reviewing(&self, tune: &dyn Fn(&mut Settings), reviewer: Arc<dyn Reviewer>) -> Booth {
        let settings = self.settings(tune);
        let (parts, _lights) = runtime::simulated(settings, vec![], reviewer).unwrap();
        let storage = parts.storage.clone();
        let (tx, rx) = mpsc::channel();
        let booth = runtime::start(parts, Arc::new(tx));
        Booth { booth: Some(booth), rx, storage, view: None, stages: vec![] }
    }

    pub fn uploaded(&self, no: &str) -> bool {
        let key = upload::object_key("fengxian-d108", no, gradbooth::journal::storage::SealedPart::Manifest);
        self.store.path().join(key).exists()
    }
}

impl Booth {
    pub fn handle(&self) -> &BoothHandle {
        self.booth.as_ref().unwrap()
    }

    pub fn wait(&mut self, what: &str, within: Duration, done: impl Fn(&View) -> bool) -> View {
        let deadline = Instant::now() + within;
        loop {
            if let Some(v) = &self.view
                && done(v)
            {
                return v.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{what} never came; the screen shows {:?} after stages {:?}",
                self.view.as_ref().map(|v| (v.screen, &v.payment)),
                self.stages
            );
            if let Ok(UiMsg::View(v)) = self.rx.recv_timeout(left.min(Duration::from_millis(50))) {
                if let Some(p) = &v.payment
                    && self.stages.last().map(String::as_str) != Some(p.stage.code())
                {
                    self.stages.push(p.stage.code().into());
                }
                self.view = Some(*v);
            }
        }
    }

    pub fn screen(&mut self, s: Screen) -> View {
        self.wait(&format!("{s:?}"), Duration::from_secs(10), |v| v.screen == s)
    }

    pub fn stage(&mut self, stage: &str, within: Duration) -> View {
        self.wait(&format!("payment {stage}"), within, |v| v.payment.as_ref().is_some_and(|p| p.stage.code() == stage))
    }

    /// Through a visit to the payment code on screen; returns the order number.
    pub fn through_to_payment(&mut self) -> String {
        self.ask_to_pay();
        self.shown_order()
    }

    /// Through a visit to a passing review, and a tap on 去支付.
    pub fn ask_to_pay(&mut self) {
        self.walk_to_review_result();
        self.handle().intent(Intent::GoToPayment);
    }

    /// Through a visit to the review's result on screen.
    pub fn walk_to_review_result(&mut self) {
        self.walk_to_photo_shown();
        self.handle().intent(Intent::UsePhoto);
        self.screen(Screen::ReviewResult);
    }

    /// Through a visit to the first photo on screen, not yet sent to review.
    pub fn walk_to_photo_shown(&mut self) {
        self.screen(Screen::Idle);
        self.handle().intent(Intent::Prepare);
        self.screen(Screen::Scan);
        self.handle().simulate("demo_ticket");
        self.screen(Screen::Confirm);
        self.handle().intent(Intent::ConfirmData);
        self.screen(Screen::Lighting);
        self.handle().intent(Intent::ChooseLighting(LightingMode::NoGlasses));
        self.screen(Screen::Rules);
        self.handle().intent(Intent::AcceptRules);
        self.screen(Screen::Seat);
        self.handle().intent(Intent::StartCapture);
        self.screen(Screen::AttemptShown);
    }

    pub fn shown_order(&mut self) -> String {
        let v = self.stage("waiting", Duration::from_secs(10));
        let code = v.payment.unwrap().code_url.unwrap();
        assert!(code.starts_with("weixin://"), "{code}");
        self.latest_order()
    }

    /// The order the booth made last.
    pub fn latest_order(&self) -> String {
        self.storage.journal().orders().unwrap().into_iter().map(|o| o.out_trade_no).next_back().expect("an order")
    }

    /// The counter of an order number (`<booth>_<counter>`).
    pub fn counter(no: &str) -> u64 {
        no.rsplit('_').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not a booth order number: {no}"))
    }

    pub fn order_state(&self, no: &str) -> Option<OrderState> {
        self.storage.journal().order(no).unwrap()
    }

    pub fn stop(&mut self) {
        if let Some(b) = self.booth.take() {
            b.shutdown();
        }
    }
}

/// The graduate scans the code on screen and pays (the sandbox's "phone").
pub fn pay(w: &World, b: &mut Booth) -> String {
    let code = b.view.as_ref().and_then(|v| v.payment.as_ref()).and_then(|p| p.code_url.clone()).unwrap();
    w.sandbox.pay_code(&code).unwrap()
}
