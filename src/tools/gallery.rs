//! `gradbooth gallery`: every screen, in Chinese and English, with representative data,
//! rendered headless to PNG — the way to review the UI and its translations at a glance.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gradbooth_hal::sim::{SimCamera, SimControls};
use gradbooth_hal::{Camera, DeviceKind};

use crate::config::Closed;
use crate::screen::preview::{PREVIEW_HEIGHT, PREVIEW_WIDTH, preview_image};
use crate::screen::{self, UiMsg};
use crate::ui::AppWindow;
use crate::visit::*;
use slint::ComponentHandle;

/// One picture of the gallery: a name and the booth state it shows.
pub struct Example {
    pub name: &'static str,
    pub booth: Booth,
}

fn visit() -> Visit {
    Visit {
        ticket: Ticket {
            id: "DEMO-0001".into(),
            name: "李明".into(),
            student_no_masked: "2022****56".into(),
            school: "上海电子信息职业技术学院".into(),
        },
        mode: LightingMode::NoGlasses,
        attempts_used: 1,
        photos: vec![PhotoId(1)],
        kept: None,
    }
}

fn at(phase: Phase) -> Booth {
    Booth { phase, ..Booth::default() }
}

/// The booth states the gallery shows, at t = 0 (timeouts count from there).
pub fn examples(policy: &Policy) -> Vec<Example> {
    let t0 = Instant(0);
    let photo = PhotoId(1);
    let failed = Verdict {
        findings: vec![
            Finding { code: "head_tilted", severity: Severity::Blocks, measured: 9.5, limit: 8.0 },
            Finding { code: "uneven_lighting", severity: Severity::Blocks, measured: 0.52, limit: 0.7 },
            Finding { code: "glasses_reflection", severity: Severity::Warns, measured: 0.1, limit: 0.05 },
        ],
        scripted: false,
    };
    let order = PaymentOrder {
        out_trade_no: "fengxiand108-DEMO0001-1".into(),
        code_url: "weixin://wxpay/bizpayurl?pr=SIM-fengxiand108-DEMO0001-1".into(),
        amount_fen: policy.price_fen,
        expires_at: t0.after(Duration::from_secs(287)),
        simulated: true,
    };
    let mut closed = at(Phase::OutOfService);
    closed.closed = Some(Closed::OutsideHours);
    let mut broken = at(Phase::OutOfService);
    broken.faults.insert(Part::Device(DeviceKind::Camera));
    let three = Visit { attempts_used: 3, ..visit() };
    // The payment screen at one stage.
    let paying = |stage| at(Phase::Payment { visit: visit(), since: t0, photo, stage });
    let confirming_no = || "fengxian-d108_1748916000".to_owned();
    vec![
        Example { name: "idle", booth: at(Phase::Idle) },
        Example { name: "out_of_service-closed", booth: closed },
        Example { name: "out_of_service-camera", booth: broken },
        Example { name: "scan", booth: at(Phase::Scan { since: t0, checking: false, refusal: None }) },
        Example {
            name: "scan-chsi_code",
            booth: at(Phase::Scan { since: t0, checking: false, refusal: Some(TicketRefusal::ChsiCaptureCode) }),
        },
        Example {
            name: "confirm",
            booth: at(Phase::Confirm { visit: Visit { attempts_used: 0, ..visit() }, since: t0 }),
        },
        Example {
            name: "confirm-kept_photo",
            booth: at(Phase::Confirm {
                visit: Visit { attempts_used: 3, kept: Some(PhotoId(1)), ..visit() },
                since: t0,
            }),
        },
        Example { name: "lighting", booth: at(Phase::Lighting { visit: visit(), since: t0 }) },
        Example { name: "rules", booth: at(Phase::Rules { visit: visit(), since: t0 }) },
        Example {
            name: "seat",
            booth: at(Phase::Seat { visit: visit(), since: t0, chair: gradbooth_hal::Motion::Up }),
        },
        Example { name: "countdown", booth: at(Phase::Countdown { visit: visit(), since: t0 }) },
        Example {
            name: "capturing",
            booth: at(Phase::Capturing { visit: Visit { attempts_used: 2, ..visit() }, since: t0 }),
        },
        Example { name: "attempt_shown", booth: at(Phase::AttemptShown { visit: visit(), since: t0, photo }) },
        Example { name: "reviewing", booth: at(Phase::Reviewing { visit: visit(), since: t0, photo }) },
        Example {
            name: "review_result-pass",
            booth: at(Phase::ReviewResult {
                visit: visit(),
                since: t0,
                photo,
                verdict: Verdict { findings: vec![], scripted: false },
            }),
        },
        Example {
            name: "review_result-fail",
            booth: at(Phase::ReviewResult { visit: visit(), since: t0, photo, verdict: failed.clone() }),
        },
        Example {
            name: "review_result-fail-last",
            booth: at(Phase::ReviewResult { visit: three, since: t0, photo, verdict: failed }),
        },
        Example { name: "payment", booth: paying(PaymentStage::Waiting(order)) },
        Example {
            name: "payment-confirming",
            booth: paying(PaymentStage::Confirming { out_trade_no: confirming_no() }),
        },
        Example { name: "payment-expired", booth: paying(PaymentStage::Expired) },
        Example { name: "payment-failed", booth: paying(PaymentStage::Failed) },
        Example { name: "payment-unreachable", booth: paying(PaymentStage::NoCode(NoCode::Unreachable)) },
        Example { name: "payment-refused", booth: paying(PaymentStage::NoCode(NoCode::Refused)) },
        Example { name: "payment-not-recorded", booth: paying(PaymentStage::NoCode(NoCode::NotRecorded)) },
        Example { name: "payment-earlier-unsettled", booth: paying(PaymentStage::NoCode(NoCode::EarlierUnsettled)) },
        Example {
            name: "payment-unconfirmed",
            booth: paying(PaymentStage::Unconfirmed { out_trade_no: confirming_no() }),
        },
        Example { name: "done", booth: at(Phase::Done { since: t0 }) },
        Example {
            name: "notice-camera",
            booth: at(Phase::Notice { since: t0, notice: Notice::Fault(Part::Device(DeviceKind::Camera)) }),
        },
        Example { name: "notice-review", booth: at(Phase::Notice { since: t0, notice: Notice::Fault(Part::Review) }) },
        Example {
            name: "out-of-service-review",
            booth: {
                let mut b = Booth { phase: Phase::OutOfService, ..Booth::default() };
                b.faults.insert(Part::Review);
                b
            },
        },
    ]
}

/// Render the gallery into `out/{zh,en}/NN-name.png` and `out/1280x800/…`; returns the files.
pub fn run(config: &Path, out: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let settings = super::cli::load(config)?;
    let window = crate::screen::headless::install()?;
    let app = AppWindow::new()?;
    screen::apply_facts(&app, &settings.facts());

    let mut camera = SimCamera::new(SimControls::new(), 1920, 1080, 1000);
    let frame = camera.preview_frame(Duration::from_secs(1))?;
    let held = {
        let mut held = frame.clone();
        let text = crate::ticket::issue(
            &crate::ticket::generate_key(),
            &crate::ticket::demo_claims(&settings.file.tickets.site, 1_748_916_000),
        );
        gradbooth_hal::camera_qr::draw_code(&mut held, &text, 960, 648, 6).map_err(anyhow::Error::msg)?;
        held
    };
    // The camera pictures are the same on every screen: set them once.
    screen::apply(&app, UiMsg::Preview(preview_image(&frame, PREVIEW_WIDTH, PREVIEW_HEIGHT)));
    screen::apply(&app, UiMsg::Photo(Some(Arc::new(frame.clone()))));
    screen::apply(&app, UiMsg::Chair { height_percent: Some(55), fault: None });
    // A live hint as the guidance gives one (the seat and countdown screens show it).
    screen::apply(&app, UiMsg::Hint("hint_seat_up"));
    // The staffed studio open on the gallery's day (a Tuesday in the first half of the round).
    let day = chrono::NaiveDate::from_ymd_opt(2025, 6, 3).expect("a date");
    let open = crate::screen::studios::open_on(&settings.studios, day, &settings.schedule.holidays);
    screen::apply(&app, UiMsg::Studios(open.iter().map(|s| s.place()).collect()));
    let mut written = Vec::new();
    let sizes: [(&str, u32, u32, f32, bool); 3] =
        [("zh", 1920, 1080, 1.0, false), ("en", 1920, 1080, 1.0, true), ("1280x800", 1280, 800, 2.0 / 3.0, false)];
    for (dir, w, h, scale, english) in sizes {
        crate::screen::headless::resize(&window, w, h, scale);
        screen::set_language(&app, english);
        for (i, ex) in examples(&settings.policy).iter().enumerate() {
            let view = view(&settings.policy, &ex.booth, Instant(0));
            screen::apply(&app, UiMsg::View(Box::new(view)));
            let path = out.join(dir).join(format!("{:02}-{}.png", i + 1, ex.name));
            crate::screen::headless::save_png(&app, &path)?;
            written.push(path);
        }
        let mut n = examples(&settings.policy).len();
        // The technicians' diagnostics mode.
        for ex in super::gallery_service::examples(&settings.policy) {
            screen::apply(&app, UiMsg::View(Box::new(view(&settings.policy, &ex.booth, ex.now))));
            if let Some(panel) = ex.panel {
                screen::apply(&app, UiMsg::Panel(Box::new(panel)));
            }
            n += 1;
            let path = out.join(dir).join(format!("{n:02}-{}.png", ex.name));
            crate::screen::headless::save_png(&app, &path)?;
            written.push(path);
        }
        // The operators' desk.
        for ex in super::gallery_desk::examples() {
            screen::apply(&app, UiMsg::Desk(ex.report.map(Box::new)));
            screen::apply(&app, UiMsg::View(Box::new(view(&settings.policy, &ex.booth, Instant(0)))));
            n += 1;
            let path = out.join(dir).join(format!("{n:02}-{}.png", ex.name));
            crate::screen::headless::save_png(&app, &path)?;
            written.push(path);
        }
        screen::apply(&app, UiMsg::Desk(None));
        // A booth without a scanner module: the scan screen shows the camera, a code held up.
        let adapter = app.global::<crate::ui::BoothAdapter>();
        adapter.set_codes_by_camera(true);
        screen::apply(&app, UiMsg::Preview(preview_image(&held, PREVIEW_WIDTH, PREVIEW_HEIGHT)));
        let scan =
            view(&settings.policy, &at(Phase::Scan { since: Instant(0), checking: false, refusal: None }), Instant(0));
        screen::apply(&app, UiMsg::View(Box::new(scan)));
        let path = out.join(dir).join(format!("{:02}-scan-by-camera.png", n + 1));
        crate::screen::headless::save_png(&app, &path)?;
        written.push(path);
        adapter.set_codes_by_camera(false);
        screen::apply(&app, UiMsg::Preview(preview_image(&frame, PREVIEW_WIDTH, PREVIEW_HEIGHT)));
        // A booth that cannot start (here: the Pi without an issuer key).
        screen::show_startup_error(
            &app,
            "loading /etc/gradbooth/booth.toml: tickets.issuers = {}: the real booth needs at least one issuer key (gradbooth ticket keygen prints one)",
        );
        let path = out.join(dir).join(format!("{:02}-cannot_start.png", n + 2));
        crate::screen::headless::save_png(&app, &path)?;
        written.push(path);
        adapter.set_startup_error("".into());
    }
    Ok(written)
}
