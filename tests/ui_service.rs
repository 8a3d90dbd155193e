//! The technicians' diagnostics mode through the real touchscreen UI (Slint's testing
//! backend) on the real runtime and simulated hardware: who gets in, what each refusal says,
//! the lock-out, the chair's hold-to-run under a real pointer, a dead lamp found by the
//! camera, and every way out.

mod ui;

use std::time::{Duration, Instant};

use gradbooth::diagnostics::code::{self, ServiceClaims};
use gradbooth::journal::Journal;
use gradbooth::ui::BoothAdapter;
use gradbooth_hal::Motion;
use slint::ComponentHandle;
use slint::platform::{PointerEventButton, WindowEvent};
use ui::{Booth, SOON};

/// The simulated booth's clock starts here (config/booth.toml `[hardware.simulated]`).
const SIM_NOW: &str = "2025-06-03T10:00:00+08:00";

fn sim_now() -> u32 {
    chrono::DateTime::parse_from_rfc3339(SIM_NOW).unwrap().timestamp() as u32
}

/// A service key this test holds, trusted by the booth, with technician `T-REVOKED` revoked.
fn test_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
}

fn start() -> Booth {
    Booth::start(|s| {
        s.diagnostics.issuers.insert("test-svc", test_key().verifying_key());
        s.diagnostics.revoked.0.insert("T-REVOKED".into());
        // The journal's self-test needs no chair here; the exit test never runs it anyway.
        s.diagnostics.selftest_chair = false;
    })
}

fn service_code(b: &Booth, technician: &str, not_before: u32, expires_at: u32) -> String {
    let claims = ServiceClaims {
        key_id: "test-svc".into(),
        technician: technician.into(),
        sites: vec![b.settings.file.tickets.site.clone()],
        not_before,
        expires_at,
        nonce: code::nonce(),
    };
    code::issue(&test_key(), &claims)
}

fn show(b: &Booth, text: String) {
    b.booth.sim().unwrap().present_qr(text);
}

fn enter(b: &Booth) {
    b.wait_for("idle", SOON);
    b.booth.simulate("demo_service_code");
    b.wait_for("service", SOON);
    assert!(b.shows("维护中：暂停拍照"), "anyone walking up sees the booth is under maintenance");
}

fn audit(b: &Booth) -> Vec<(String, String, String)> {
    let j = Journal::open_dir(b._data.path()).unwrap();
    j.audit_log(200).unwrap().into_iter().map(|(_, actor, action, detail)| (actor, action, detail)).collect()
}

#[test]
fn a_valid_service_code_opens_the_mode_and_every_page_shows_its_lines() {
    let b = start();
    enter(&b);
    assert_eq!(b.app.global::<BoothAdapter>().get_technician(), "DEMO-TECH");
    // The status page: every part of the booth, each OK.
    b.wait_until_shown("相机：正常 / OK");
    assert!(b.shows("照片审核：正常 / OK"));
    assert!(audit(&b).iter().any(|(who, what, _)| who == "DEMO-TECH" && what == "service_entered"), "entry audited");
    for (nav, line) in [
        ("相机检查", "帧率"),
        ("灯光检查", "key_left 100%"),
        ("座椅检查", "上限位"),
        ("扫码检查", "扫码"),
        ("存储检查", "待上传"),
        ("统计数据", "来访"),
        ("一键自检", "自检"),
    ] {
        b.press(nav);
        b.pump_until(&format!("{nav}: {line}"), SOON, |b| !b.find_prefix(line).is_empty());
    }
    // No ticket is taken meanwhile: a graduate's code held up is not a visit.
    b.press("状态总览");
    b.booth.simulate("demo_ticket");
    std::thread::sleep(Duration::from_millis(500));
    b.pump_until("a while", SOON, |_| true);
    assert_eq!(b.screen(), "service");
}

#[test]
fn a_graduates_ticket_and_an_expired_a_forged_and_a_revoked_code_are_each_refused_with_their_reason() {
    let b = start();
    b.wait_for("idle", SOON);
    let now = sim_now();
    show(&b, service_code(&b, "T-0042", now - 9 * 3600, now - 3600));
    b.wait_until_shown("维修码已过期。请重新签发。");
    assert_eq!(b.screen(), "service_entry");
    // On the service code screen a graduate's ticket is named for what it is.
    show(&b, b.booth.demo_ticket().unwrap());
    b.wait_until_shown("这是毕业生的个人拍摄二维码，不是维修码。本机正在暂停服务或等待维修码，暂不能拍照。");
    // One character of a genuine code changed.
    let mut forged = service_code(&b, "T-0042", now - 60, now + 3600).into_bytes();
    forged[24] = if forged[24] == b'A' { b'B' } else { b'A' };
    show(&b, String::from_utf8(forged).unwrap());
    b.wait_until_shown("维修码无法验证：可能被修改过，或不是本机信任的密钥签发的。");
    show(&b, service_code(&b, "T-REVOKED", now - 60, now + 3600));
    b.wait_until_shown("该维修码或该技术人员已被吊销。");
    b.press("返回");
    b.wait_for("idle", SOON);
    let refusals: Vec<_> =
        audit(&b).into_iter().filter(|(_, what, _)| what == "service_refused").map(|(_, _, d)| d).collect();
    assert_eq!(
        refusals,
        ["revoked", "bad_signature", "graduate_ticket", "expired"],
        "each refusal audited, newest first"
    );
}

#[test]
fn five_refused_codes_lock_entry_and_a_good_code_is_refused_meanwhile() {
    let b = start();
    b.wait_for("idle", SOON);
    let now = sim_now();
    for i in 0..5 {
        show(&b, service_code(&b, "T-0042", now - 9 * 3600, now - 3600 - i));
        b.pump_until("the refusal", SOON, |b| {
            !b.app.global::<BoothAdapter>().get_checking_service() && b.screen() == "service_entry"
        });
        // The same code twice within 2 s counts once at a scanner: wait it out.
        std::thread::sleep(Duration::from_millis(300));
    }
    b.wait_until_shown("维修码连续被拒次数过多，15 分钟内不接受维修码。");
    assert_eq!(b.app.global::<BoothAdapter>().get_service_refusal(), "locked");
    b.booth.simulate("demo_service_code");
    std::thread::sleep(Duration::from_millis(500));
    b.pump_until("a while", SOON, |_| true);
    assert_eq!(b.screen(), "service_entry", "a good code does not open a locked booth");
    assert!(audit(&b).iter().any(|(_, what, _)| what == "service_locked"));
}

/// The centre of the element labelled `label`, in the window's logical coordinates.
fn centre(b: &Booth, label: &str) -> slint::LogicalPosition {
    let e = b.find(label).into_iter().next().unwrap_or_else(|| panic!("no {label:?}"));
    let (p, s) = (e.absolute_position(), e.size());
    slint::LogicalPosition::new(p.x + s.width / 2.0, p.y + s.height / 2.0)
}

/// Time passes for the UI (its timers fire) and the booth; the screen takes its messages.
fn hold_for(b: &Booth, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(50));
        std::thread::sleep(Duration::from_millis(50));
        b.pump_until("a moment", SOON, |_| true);
    }
}

fn chair_motion_becomes(b: &Booth, want: Motion, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if b.booth.sim().unwrap().chair_motion() == want {
            return true;
        }
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(10));
    }
    b.booth.sim().unwrap().chair_motion() == want
}

#[test]
fn the_chair_runs_while_its_button_is_held_and_stops_when_released_or_the_finger_slides_off() {
    let b = start();
    enter(&b);
    b.press("座椅检查");
    b.wait_until_shown("按住升高座椅");
    let window = b.app.window();
    let up = centre(&b, "按住升高座椅");
    window.dispatch_event(WindowEvent::PointerMoved { position: up });
    window.dispatch_event(WindowEvent::PointerPressed { position: up, button: PointerEventButton::Left });
    i_slint_backend_testing::mock_elapsed_time(Duration::ZERO);
    assert!(chair_motion_becomes(&b, Motion::Up, Duration::from_millis(500)), "the chair runs while held");
    // Held for longer than the machine's 300 ms dead man: the screen renews the hold.
    hold_for(&b, Duration::from_millis(800));
    assert_eq!(b.booth.sim().unwrap().chair_motion(), Motion::Up, "still running while held");
    // Let go: stopped at once — well before the machine's dead man (300 ms after the last
    // renewal) would have stopped it.
    window.dispatch_event(WindowEvent::PointerReleased { position: up, button: PointerEventButton::Left });
    i_slint_backend_testing::mock_elapsed_time(Duration::ZERO);
    assert!(chair_motion_becomes(&b, Motion::Stop, Duration::from_millis(200)), "stopped on release");

    // Pressed again, then the finger slides off the button without lifting.
    let down = centre(&b, "按住降低座椅");
    window.dispatch_event(WindowEvent::PointerMoved { position: down });
    window.dispatch_event(WindowEvent::PointerPressed { position: down, button: PointerEventButton::Left });
    i_slint_backend_testing::mock_elapsed_time(Duration::ZERO);
    assert!(chair_motion_becomes(&b, Motion::Down, Duration::from_millis(500)));
    hold_for(&b, Duration::from_millis(400));
    let off = slint::LogicalPosition::new(down.x + 600.0, down.y);
    window.dispatch_event(WindowEvent::PointerMoved { position: off });
    i_slint_backend_testing::mock_elapsed_time(Duration::ZERO);
    assert!(chair_motion_becomes(&b, Motion::Stop, Duration::from_millis(200)), "stopped when the finger left");
    window.dispatch_event(WindowEvent::PointerReleased { position: off, button: PointerEventButton::Left });
    // The page counts the runs it saw.
    b.pump_until("the run count", SOON, |b| b.shows("运行次数：2") || b.shows("运行次数：3"));
}

#[test]
fn a_lamp_the_simulation_unplugs_is_found_by_the_camera() {
    let b = start();
    enter(&b);
    b.booth.simulate("kill_lamp:key_left");
    b.press("灯光检查");
    b.wait_until_shown("逐一测灯");
    b.press("逐一测灯");
    b.pump_until("the lamp test", Duration::from_secs(20), |b| {
        !b.find_prefix("灯光：lights.key_left · key_left: no change in the picture").is_empty()
    });
    assert!(!b.find_prefix("灯光：lights.fill · picture luma").is_empty(), "the other lamps are seen");
    b.press("退出维护");
    b.wait_for("out_of_service", Duration::from_secs(30));
}

#[test]
fn no_touch_for_the_idle_time_leaves_the_mode_after_a_warning_and_the_booth_serves_again() {
    let b = Booth::start(|s| s.policy.timeouts.service_idle = Duration::from_secs(3));
    enter(&b);
    b.pump_until("the warning", SOON, |b| b.app.global::<BoothAdapter>().get_inactivity_warning() >= 0);
    b.wait_for("service_leaving", SOON);
    assert!(b.shows("长时间无操作，维护模式已退出。") || b.app.global::<BoothAdapter>().get_leaving() == "inactive");
    b.wait_for("idle", Duration::from_secs(30));
    assert!(b.lights_idle(), "the lights are idle again");
    assert_eq!(b.booth.sim().unwrap().camera_controls(), gradbooth_hal::CameraControls::default(), "camera automatic");
    assert_eq!(b.booth.sim().unwrap().chair_motion(), Motion::Stop);
    assert!(audit(&b).iter().any(|(_, what, d)| what == "service_left" && d == "inactive"));
    assert!(audit(&b).iter().any(|(_, what, d)| what == "exit_selftest" && d == "passed"));
}

#[test]
fn a_failed_self_test_on_the_way_out_keeps_the_booth_out_of_service_with_its_reason() {
    let b = start();
    enter(&b);
    b.booth.simulate("kill_lamp:fill");
    b.press("退出维护");
    b.wait_for("service_leaving", SOON);
    b.wait_for("out_of_service", Duration::from_secs(30));
    assert!(b.shows("维护后自检未通过，工作人员正在处理。未通过：lights.fill"));
    // A graduate's ticket is not taken.
    b.booth.simulate("demo_ticket");
    b.pump_until("the refusal", SOON, |b| b.app.global::<BoothAdapter>().get_service_refusal() == "graduate_ticket");
    assert_eq!(b.screen(), "service_entry");
    // The lamp replaced, the technician leaves again and the booth serves.
    b.booth.simulate("mend_lamp:fill");
    b.press("返回");
    b.wait_for("out_of_service", SOON);
    b.booth.simulate("demo_service_code");
    b.wait_for("service", SOON);
    b.press("退出维护");
    b.wait_for("idle", Duration::from_secs(30));
}

#[test]
fn a_test_capture_is_judged_but_never_kept() {
    let b = start();
    enter(&b);
    b.press("相机检查");
    b.wait_until_shown("测试拍照");
    b.press("测试拍照");
    b.pump_until("the verdict", Duration::from_secs(15), |b| !b.find_prefix("审核结果：").is_empty());
    let photos = std::fs::read_dir(b._data.path().join("photos")).unwrap().count();
    assert_eq!(photos, 0, "no file");
    let j = Journal::open_dir(b._data.path()).unwrap();
    let s = j.summary().unwrap();
    assert_eq!((s.tickets, s.attempts, s.reviews), (0, 0, 0), "nothing journaled as a visit");
}
