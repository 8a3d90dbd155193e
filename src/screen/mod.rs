//! The thin glue between the booth and its Slint UI: applying a `View` (and camera images)
//! to the `BoothAdapter` global, and turning the UI's intents back into events. Which page,
//! which payment stage and which intent cross as Slint enums (`Page`, `Stage`, `Action` in
//! `ui/adapter.slint`), matched exhaustively here; the configuration's facts every screen may
//! show arrive as `Facts`; `Controls` is what the screen may ask of a running booth.
//! `preview` and `qr` make the camera's and the payment code's images; `headless` is a Slint
//! platform without a display (demo, gallery).

pub mod desk;
pub mod headless;
pub mod preview;
pub mod qr;
pub mod service;
pub mod studios;

use std::cell::RefCell;
use std::rc::Rc;

use gradbooth_hal::Motion;
use slint::{ComponentHandle, Image, ModelRc, SharedPixelBuffer, SharedString, VecModel};

use crate::ui::{Action, AppWindow, BoothAdapter, Finding, Page, Stage as UiStage};
use crate::visit::{GlassesPolicy, Intent, LightingMode, NoCode, Notice, Screen, Stage, View};

pub use crate::bus::{UiMsg, UiSink};

pub use crate::bus::Facts;

pub fn apply_facts(app: &AppWindow, f: &Facts) {
    let a = app.global::<BoothAdapter>();
    a.set_photo_type(f.photo_type.as_str().into());
    a.set_location(f.location.as_str().into());
    a.set_location_en(f.location_en.as_str().into());
    a.set_hours(f.hours.as_str().into());
    a.set_period(f.period.as_str().into());
    a.set_help_phone(f.help_phone.as_str().into());
    a.set_data_phone(f.data_phone.as_str().into());
    a.set_price(yuan(f.price_fen).into());
    a.set_attempts_max(f.attempts_max as i32);
    a.set_kept_minutes(f.kept_minutes as i32);
    a.set_codes_by_camera(f.codes_by_camera);
    a.set_glasses_policy(
        match f.glasses {
            GlassesPolicy::Allowed => "allowed",
            GlassesPolicy::Discouraged => "discouraged",
            GlassesPolicy::Forbidden => "forbidden",
        }
        .into(),
    );
}

/// The booth could not start (its configuration or data directory is unusable): the out of
/// service screen with the reason for the technician, until it is fixed.
pub fn show_startup_error(app: &AppWindow, reason: &str) {
    let a = app.global::<BoothAdapter>();
    a.set_startup_error(reason.into());
    a.set_screen(Page::OutOfService);
}

pub fn yuan(fen: u32) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// Switch the UI language: Chinese (the source language) or English.
pub fn set_language(app: &AppWindow, english: bool) {
    let lang = if english { "en" } else { "" };
    if let Err(e) = slint::select_bundled_translation(lang) {
        tracing::warn!(error = ?e, "could not switch language");
        return;
    }
    app.global::<BoothAdapter>().set_english(english);
}

thread_local! {
    /// The payment code image, rendered once per code_url.
    static QR_CACHE: RefCell<Option<(String, Image)>> = const { RefCell::new(None) };
}

pub fn apply(app: &AppWindow, msg: UiMsg) {
    let a = app.global::<BoothAdapter>();
    match msg {
        UiMsg::View(v) => apply_view(&a, &v),
        UiMsg::Preview(buf) => a.set_preview(Image::from_rgb8(buf)),
        UiMsg::Hint(code) => a.set_hint(code.into()),
        UiMsg::Photo(Some(photo)) => a.set_photo(Image::from_rgb8(preview::photo_image(&photo, 960))),
        UiMsg::Photo(None) => {
            a.set_photo(Image::default());
            a.set_preview(Image::default());
        }
        UiMsg::Chair { height_percent, fault } => {
            a.set_chair_height(height_percent.map_or(-1, i32::from));
            a.set_chair_fault(fault.unwrap_or_default().into());
        }
        UiMsg::Panel(p) => service::apply_panel(&a, &p),
        UiMsg::Facts(f) => apply_facts(app, &f),
        UiMsg::Desk(report) => desk::apply_report(&a, report.as_deref()),
        UiMsg::Studios(places) => {
            let places: Vec<crate::ui::Place> = places
                .iter()
                .map(|p| crate::ui::Place {
                    name: p.name.as_str().into(),
                    name_en: p.name_en.as_str().into(),
                    address: p.address.as_str().into(),
                    address_en: p.address_en.as_str().into(),
                    hours: p.hours.as_str().into(),
                })
                .collect();
            a.set_studios(ModelRc::new(VecModel::from(places)));
        }
    }
}

fn apply_view(a: &BoothAdapter<'_>, v: &View) {
    a.set_screen(page(v.screen));
    service::apply_view(a, v);
    desk::apply_view(a, v);
    // Personal data is only in the view on the confirm screen; everywhere else it is blank.
    a.set_name(v.name.as_str().into());
    a.set_student_no(v.student_no_masked.as_str().into());
    a.set_school(v.school.as_str().into());
    a.set_attempts_used(v.attempts_used as i32);
    a.set_attempts_max(v.attempts_max as i32);
    a.set_kept_photo(v.kept_photo);
    a.set_countdown(v.countdown as i32);
    a.set_seconds_left(v.seconds_left.map_or(-1, |s| s.min(i32::MAX as u64) as i32));
    a.set_checking_ticket(v.checking_ticket);
    a.set_refusal(v.refusal.map_or("", |r| r.code()).into());
    a.set_notice(
        match v.notice {
            Some(Notice::Fault(part)) => part.code(),
            Some(Notice::CaptureFailed) => "capture_failed",
            Some(Notice::ReviewUnavailable) => "review_unavailable",
            None => "",
        }
        .into(),
    );
    a.set_closed_reason(v.closed.map_or("", |c| c.code()).into());
    let faults: Vec<SharedString> = v.faults.iter().map(|d| d.code().into()).collect();
    a.set_faults(ModelRc::new(VecModel::from(faults)));
    a.set_mode(
        match v.mode {
            Some(LightingMode::Glasses) => "glasses",
            Some(LightingMode::NoGlasses) => "no_glasses",
            None => "",
        }
        .into(),
    );
    a.set_chair(
        match v.chair {
            Motion::Up => "up",
            Motion::Down => "down",
            Motion::Stop => "stop",
        }
        .into(),
    );
    let (passed, scripted, findings) = match &v.verdict {
        Some(verdict) => (
            verdict.passed(),
            verdict.scripted,
            verdict
                .findings
                .iter()
                .map(|f| Finding { code: f.code.into(), blocks: f.severity == crate::visit::Severity::Blocks })
                .collect(),
        ),
        None => (false, false, Vec::new()),
    };
    a.set_review_passed(passed);
    a.set_review_scripted(scripted);
    a.set_findings(ModelRc::new(VecModel::from(findings)));
    match &v.payment {
        Some(p) => {
            a.set_payment_stage(stage(p.stage));
            a.set_payment_simulated(p.simulated);
            a.set_price(yuan(p.amount_fen).into());
            if let Some(url) = &p.code_url {
                a.set_payment_qr(qr_image(url));
            }
        }
        None => {
            a.set_payment_stage(UiStage::None);
            a.set_payment_qr(Image::default());
        }
    }
}

/// The payment code as an image: black modules on white with a quiet zone, 1 px a module
/// (the UI scales it up with pixelated rendering).
fn qr_image(url: &str) -> Image {
    QR_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((cached, img)) = cache.as_ref()
            && cached == url
        {
            return img.clone();
        }
        let img = match crate::screen::qr::render(url, qrcode::EcLevel::M, 1) {
            Ok(grey) => {
                let rgb = image::DynamicImage::ImageLuma8(grey).to_rgb8();
                Image::from_rgb8(SharedPixelBuffer::clone_from_slice(rgb.as_raw(), rgb.width(), rgb.height()))
            }
            Err(e) => {
                tracing::error!(error = %e, "payment code does not fit a QR code");
                Image::default()
            }
        };
        *cache = Some((url.to_owned(), img.clone()));
        img
    })
}

/// The page the UI shows for a screen.
pub fn page(screen: Screen) -> Page {
    match screen {
        Screen::Idle => Page::Idle,
        Screen::OutOfService => Page::OutOfService,
        Screen::Scan => Page::Scan,
        Screen::Confirm => Page::Confirm,
        Screen::Lighting => Page::Lighting,
        Screen::Rules => Page::Rules,
        Screen::Seat => Page::Seat,
        Screen::Countdown => Page::Countdown,
        Screen::Capturing => Page::Capturing,
        Screen::AttemptShown => Page::AttemptShown,
        Screen::Reviewing => Page::Reviewing,
        Screen::ReviewResult => Page::ReviewResult,
        Screen::Payment => Page::Payment,
        Screen::Done => Page::Done,
        Screen::Notice => Page::Notice,
        Screen::ServiceEntry => Page::ServiceEntry,
        Screen::Service => Page::Service,
        Screen::ServiceLeaving => Page::ServiceLeaving,
        Screen::Desk => Page::Desk,
    }
}

fn stage(stage: Stage) -> UiStage {
    match stage {
        Stage::Creating => UiStage::Creating,
        Stage::Waiting => UiStage::Waiting,
        Stage::Confirming => UiStage::Confirming,
        Stage::Expired => UiStage::Expired,
        Stage::Failed => UiStage::Failed,
        Stage::Unconfirmed => UiStage::Unconfirmed,
        Stage::NoCode(NoCode::Unreachable) => UiStage::Unreachable,
        Stage::NoCode(NoCode::Refused) => UiStage::Refused,
        Stage::NoCode(NoCode::NotRecorded) => UiStage::NotRecorded,
        Stage::NoCode(NoCode::EarlierUnsettled) => UiStage::EarlierUnsettled,
    }
}

/// What the graduate's touch asks the machine.
pub fn intent(action: Action) -> Intent {
    match action {
        Action::Prepare => Intent::Prepare,
        Action::Exit => Intent::Exit,
        Action::Confirm => Intent::ConfirmData,
        Action::Glasses => Intent::ChooseLighting(LightingMode::Glasses),
        Action::NoGlasses => Intent::ChooseLighting(LightingMode::NoGlasses),
        Action::AcceptRules => Intent::AcceptRules,
        Action::ChairUp => Intent::ChairUp,
        Action::ChairDown => Intent::ChairDown,
        Action::ChairStop => Intent::ChairStop,
        Action::StartCapture => Intent::StartCapture,
        Action::UsePhoto => Intent::UsePhoto,
        Action::Retake => Intent::Retake,
        Action::Pay => Intent::GoToPayment,
        Action::PayKept => Intent::PayKeptPhoto,
        Action::NewCode => Intent::NewPaymentCode,
        Action::Finish => Intent::Finish,
    }
}

/// What the screen can ask of a running booth (`runtime::BoothHandle`).
pub trait Controls {
    fn intent(&self, intent: Intent);
    /// The seat's own button (the simulated chair's, from the keyboard).
    fn seat_button(&self, button: gradbooth_hal::SeatButton);
    /// A debug-panel action of the simulated booth.
    fn simulate(&self, action: &str);
    /// A technician's touch in the diagnostics mode.
    fn service(&self, intent: crate::visit::ServiceIntent);
    /// An operator's touch at the desk.
    fn desk(&self, intent: crate::visit::DeskIntent);
}

/// Connect the window's callbacks to a running booth.
pub fn connect(app: &AppWindow, booth: Rc<dyn Controls>) {
    let a = app.global::<BoothAdapter>();
    let b = booth.clone();
    a.on_intent(move |action| b.intent(intent(action)));
    let b = booth.clone();
    a.on_simulate(move |action| b.simulate(&action));
    service::connect(&a, booth.clone());
    desk::connect(&a, booth.clone());
    let weak = app.as_weak();
    a.on_toggle_language(move || {
        if let Some(app) = weak.upgrade() {
            let english = !app.global::<BoothAdapter>().get_english();
            set_language(&app, english);
        }
    });
    let weak = app.as_weak();
    a.on_key(move |text, pressed| {
        use slint::platform::Key;
        let key = |k: Key| SharedString::from(k) == text;
        let b = &booth;
        // The seat button is held: it acts on press and on release.
        if key(Key::F3) || key(Key::F4) {
            let up = key(Key::F3);
            b.seat_button(match (pressed, up) {
                (false, _) => gradbooth_hal::SeatButton::Released,
                (true, true) => gradbooth_hal::SeatButton::UpPressed,
                (true, false) => gradbooth_hal::SeatButton::DownPressed,
            });
            return;
        }
        // Every other shortcut acts once, on press.
        if !pressed {
            return;
        }
        if key(Key::F2) {
            b.simulate("demo_ticket");
        } else if key(Key::F7) {
            b.simulate("demo_service_code");
        } else if key(Key::F5) {
            b.simulate("pay");
        } else if key(Key::F8) {
            b.simulate("unplug_camera");
        } else if key(Key::F9) {
            b.simulate("replug_camera");
        } else if key(Key::F6)
            && let Some(app) = weak.upgrade()
        {
            let english = !app.global::<BoothAdapter>().get_english();
            set_language(&app, english);
        }
    });
}
