//! `gradbooth demo`: a scripted graduate goes through a whole visit on simulated hardware,
//! headless. Every screen reached is saved as a PNG, every captured photo as a JPEG, and
//! `session.json` says what happened. The graduate acts through the UI's own callbacks.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use slint::ComponentHandle;
use tracing::info;

use crate::review::{FaceReviewer, Reviewer, ScriptedReviewer};
use crate::screen::{self, UiMsg};
use crate::ui::{Action, AppWindow, BoothAdapter};
use crate::visit::{Screen, Stage, View};

pub struct DemoArgs {
    pub config: PathBuf,
    pub out: PathBuf,
    pub sitters: Vec<PathBuf>,
    /// `Some(true)`/`Some(false)`: a fixed review outcome instead of the real reviewer.
    pub scripted_review: Option<bool>,
    pub english: bool,
}

#[derive(Debug, serde::Serialize)]
pub struct Session {
    pub states: Vec<&'static str>,
    pub screenshots: Vec<String>,
    pub captured_photos: Vec<String>,
    pub standard_photos: Vec<String>,
    pub attempts: u8,
    pub reviews: Vec<ReviewRecord>,
    pub payment: &'static str,
    /// The paid order (WeChat Pay's `out_trade_no`, through the sandbox).
    pub out_trade_no: Option<String>,
    /// The paid photo's key in the store, and where the demo's local store holds it (relative
    /// to the output directory): sealed with age to the test centre (config/test-centre.key).
    pub upload_key: Option<String>,
    pub uploaded_photo: Option<String>,
    pub uploaded_manifest: Option<String>,
    /// Plain photo files left in the data directory after the visit (none: a paid photo rests
    /// only sealed).
    pub photo_files_left: usize,
    pub ended_cleanly: bool,
}

#[derive(Debug, serde::Serialize)]
pub struct ReviewRecord {
    pub attempt: u8,
    pub verdict: &'static str,
    pub reasons: Vec<&'static str>,
    pub scripted: bool,
}

/// Longest a whole demo visit may take before it counts as stuck.
const DEADLINE: Duration = Duration::from_secs(120);

pub fn run(args: DemoArgs) -> anyhow::Result<Session> {
    let settings = super::cli::load(&args.config)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let window = crate::screen::headless::install()?;
    crate::screen::headless::resize(&window, 1920, 1080, 1.0);

    // --sitter images, else the configuration's (hardware.simulated.sitter_images).
    let sitters = if args.sitters.is_empty() {
        crate::devices::sitters(&settings.file.hardware.simulated.sitter_images, "hardware.simulated.sitter_images")
            .map_err(anyhow::Error::msg)?
    } else {
        crate::devices::sitters(&args.sitters, "--sitter").map_err(anyhow::Error::msg)?
    };
    let reviewer: Arc<dyn Reviewer> = match args.scripted_review {
        Some(pass) => Arc::new(ScriptedReviewer { pass }),
        None => Arc::new(FaceReviewer::from_settings(&settings.review)?),
    };
    let mut settings = settings;
    if settings.sim.clock_start.is_none() {
        bail!("the demo needs hardware.simulated.clock_start in the configuration (an open service day)");
    }
    // The scripted graduate pays at once; keep the demo's payment poll short.
    settings.policy.timeouts.done = Duration::from_secs(3);

    let app = AppWindow::new()?;
    screen::apply_facts(&app, &settings.facts());
    screen::set_language(&app, args.english);
    let (tx, rx) = mpsc::channel::<UiMsg>();
    // The demo keeps its journal, photos and store with its output: a demo is self-contained.
    settings.data_dir = args.out.join("data");
    settings.upload.target = crate::config::UploadTarget::Dir(None);
    let (parts, lights) = crate::runtime::simulated(settings.clone(), sitters, reviewer)?;
    let storage = parts.storage.clone();
    let booth = std::rc::Rc::new(crate::runtime::start(parts, Arc::new(tx)));
    screen::connect(&app, booth.clone());
    let adapter = app.global::<BoothAdapter>();

    let mut session = Session {
        states: vec![],
        screenshots: vec![],
        captured_photos: vec![],
        standard_photos: vec![],
        attempts: 0,
        reviews: vec![],
        payment: "not_reached",
        out_trade_no: None,
        upload_key: None,
        uploaded_photo: None,
        uploaded_manifest: None,
        photo_files_left: 0,
        ended_cleanly: false,
    };
    let started = Instant::now();
    let mut current: Option<View> = None;
    let mut shot_taken = false;
    let mut entered = Instant::now();
    let mut visit_started = false;
    let mut acted = false;
    while started.elapsed() < DEADLINE {
        let msg = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(m) => Some(m),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the booth stopped unexpectedly"),
        };
        let mut new_screen = false;
        let mut preview_arrived = false;
        if let Some(msg) = msg {
            match &msg {
                UiMsg::View(v) => {
                    if current.as_ref().is_none_or(|c| c.screen != v.screen) {
                        new_screen = true;
                    }
                    current = Some((**v).clone());
                }
                // During the review, the photo shown is the standard photo of a passing capture.
                UiMsg::Photo(Some(photo)) if current.as_ref().is_some_and(|c| c.screen == Screen::Reviewing) => {
                    let name = format!("standard-{}.jpg", session.standard_photos.len() + 1);
                    image::DynamicImage::ImageRgb8((**photo).clone()).save(args.out.join(&name))?;
                    session.standard_photos.push(name);
                }
                UiMsg::Photo(Some(photo)) => {
                    let name = format!("capture-{}.jpg", session.captured_photos.len() + 1);
                    image::DynamicImage::ImageRgb8((**photo).clone()).save(args.out.join(&name))?;
                    session.captured_photos.push(name);
                }
                UiMsg::Preview(_) => preview_arrived = true,
                _ => {}
            }
            screen::apply(&app, msg);
        }
        let Some(view) = current.clone() else { continue };
        if new_screen {
            session.states.push(view.screen.code());
            shot_taken = false;
            acted = false;
            entered = Instant::now();
            info!(screen = view.screen.code(), "demo reached screen");
            match view.screen {
                Screen::Idle if visit_started => {
                    session.ended_cleanly = session.states.iter().all(|s| *s != "notice" && *s != "out_of_service");
                    shoot(&app, &args, &mut session, &view)?;
                    break;
                }
                Screen::ReviewResult => {
                    let v = view.verdict.as_ref().context("review result without a verdict")?;
                    session.reviews.push(ReviewRecord {
                        attempt: view.attempts_used,
                        verdict: if v.passed() { "pass" } else { "fail" },
                        reasons: v.findings.iter().map(|f| f.code).collect(),
                        scripted: v.scripted,
                    });
                }
                Screen::Done => session.payment = "paid",
                Screen::Payment => session.payment = "shown",
                _ => {}
            }
            session.attempts = session.attempts.max(view.attempts_used);
        }
        // The live screens are photographed once a camera frame is on them.
        let live = matches!(view.screen, Screen::Seat);
        if !shot_taken && (!live || preview_arrived || entered.elapsed() > Duration::from_secs(2)) {
            shoot(&app, &args, &mut session, &view)?;
            shot_taken = true;
        }
        if !shot_taken || acted {
            continue;
        }
        // The scripted graduate: a moment to read, then act as a graduate in a hurry would.
        if entered.elapsed() < Duration::from_millis(300) {
            continue;
        }
        acted = true;
        let intent = |action: Action| adapter.invoke_intent(action);
        match view.screen {
            Screen::Idle => {
                visit_started = true;
                intent(Action::Prepare);
            }
            Screen::Scan if view.refusal.is_some() => bail!("the demo ticket was refused: {:?}", view.refusal),
            Screen::Scan => {
                if let (Some(sim), Some(text)) = (booth.sim(), booth.demo_ticket()) {
                    sim.present_qr(text);
                }
            }
            Screen::Confirm => intent(Action::Confirm),
            Screen::Lighting => intent(Action::NoGlasses),
            Screen::Rules => intent(Action::AcceptRules),
            Screen::Seat => intent(Action::StartCapture),
            Screen::AttemptShown => intent(Action::UsePhoto),
            Screen::ReviewResult => match view.verdict.as_ref().is_some_and(|v| v.passed()) {
                true => intent(Action::Pay),
                false if view.can_retake() => intent(Action::Retake),
                false => intent(Action::Exit),
            },
            Screen::Payment if view.payment.as_ref().is_some_and(|p| p.stage == Stage::Waiting) => {
                // The graduate scans the code with WeChat and pays.
                adapter.invoke_simulate("pay".into());
            }
            Screen::Done | Screen::Notice => intent(Action::Finish),
            Screen::OutOfService => bail!("the booth is out of service: {:?} {:?}", view.closed, view.faults),
            // Countdown, capturing, reviewing, creating a payment: wait for the booth.
            _ => acted = false,
        }
    }
    // A paid photo leaves for the store (the demo's: a directory in its output) at once.
    if session.payment == "paid" {
        let until = Instant::now() + Duration::from_secs(15);
        while storage.journal().summary()?.outbox > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    booth.shutdown();
    let sent = storage.journal().outbox_entries()?.into_iter().find(|e| e.sent);
    if let Some(e) = sent {
        let booth_id = &settings.file.booth.id;
        let key = crate::upload::object_key(booth_id, &e.out_trade_no, crate::journal::storage::SealedPart::Photo);
        session.uploaded_photo = Some(format!("data/uploaded/{key}"));
        session.uploaded_manifest = Some(format!(
            "data/uploaded/{}",
            crate::upload::object_key(booth_id, &e.out_trade_no, crate::journal::storage::SealedPart::Manifest)
        ));
        session.upload_key = Some(key);
        session.out_trade_no = Some(e.out_trade_no);
    }
    session.photo_files_left = storage.files_on_disk()?.len();
    if !session.ended_cleanly {
        std::fs::write(args.out.join("session.json"), serde_json::to_vec_pretty(&session)?)?;
        bail!("the visit did not end cleanly within {} s (screens: {:?})", DEADLINE.as_secs(), session.states);
    }
    // After the visit the lights must be back at idle.
    if lights.levels() != settings.file.lights.idle {
        session.ended_cleanly = false;
    }
    std::fs::write(args.out.join("session.json"), serde_json::to_vec_pretty(&session)?)?;
    if !session.ended_cleanly {
        bail!("the lights were not idle after the visit");
    }
    Ok(session)
}

fn shoot(app: &AppWindow, args: &DemoArgs, session: &mut Session, view: &View) -> anyhow::Result<()> {
    let name = format!("{:02}-{}.png", session.screenshots.len() + 1, view.screen.code());
    crate::screen::headless::save_png(app, &args.out.join(&name))?;
    session.screenshots.push(name);
    Ok(())
}
