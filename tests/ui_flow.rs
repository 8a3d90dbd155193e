//! The real touchscreen UI, driven through Slint's testing backend: elements are found by
//! their accessible labels and pressed, while the real runtime runs on simulated hardware.

mod ui;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gradbooth::config::Settings;
use gradbooth::ui::BoothAdapter;
use gradbooth_hal::CameraControls;
use slint::ComponentHandle;
use ui::{Booth, SOON};

/// From idle to the lighting screen with the demo ticket.
fn to_lighting(b: &Booth) {
    b.wait_for("idle", SOON);
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    b.booth.simulate("demo_ticket");
    b.wait_for("confirm", SOON);
    assert!(b.shows("李明"), "the confirm screen shows the graduate's name");
    assert!(b.shows("2022****56"), "and the masked student number");
    b.press("信息无误，下一步");
    b.wait_for("lighting", SOON);
}

#[test]
fn a_graduate_goes_from_idle_to_paid_through_the_touchscreen() {
    let b = Booth::start(|_| {});
    to_lighting(&b);
    b.press("不戴眼镜");
    b.wait_for("rules", SOON);
    assert!(b.shows("眼镜框不能遮住眼睛"), "the four illustrated mistakes are shown");
    b.press("开始拍摄");
    b.wait_for("seat", SOON);
    assert!(b.shows("第 1 次拍摄，共 3 次"), "the seat screen names the coming attempt");
    b.press("开始拍摄");
    b.wait_for("countdown", SOON);
    assert!(b.shows("第 1 次拍摄，共 3 次"), "the countdown is still the first attempt");
    b.wait_for("attempt_shown", SOON);
    b.press("使用这张");
    b.wait_for("review_result", SOON);
    assert!(b.shows("审核通过"));
    b.press("去支付");
    b.wait_for("payment", SOON);
    b.wait_until_shown("微信支付二维码");
    assert!(b.shows("模拟支付：演示用，不会真实扣款。"), "a simulated payment says so");
    // The simulated booth's debug panel stands in for the graduate's phone.
    b.app.global::<BoothAdapter>().set_debug_panel(true);
    b.press("F5 微信已支付 / pay");
    b.wait_for("done", SOON);
    assert!(!b.shows("李明"), "personal data has left the screen");
    b.press("完成");
    b.wait_for("idle", SOON);
    assert_eq!(b.app.global::<BoothAdapter>().get_name(), "");
    assert!(b.lights_idle());
    // The journal knows the ticket is finished: scanning it again is refused with the reason.
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    b.booth.simulate("demo_ticket");
    b.wait_until_shown("该二维码已完成拍摄并付款，无需再拍。可在小程序中查看照片。");
}

#[test]
fn the_live_guidance_tells_a_graduate_sitting_too_far_to_come_closer_and_the_real_review_says_why() {
    // The astronaut portrait fills a 1080p frame with her face about a quarter of the frame
    // wide: too far from the camera for the booth.
    let astronaut = image::open(gradbooth::review::models::default_dir().join("astronaut.png")).unwrap().to_rgb8();
    let settings = Settings::parse(include_str!("../config/booth.toml")).unwrap();
    let reviewer = std::sync::Arc::new(gradbooth::review::BoothReviewer::new(&settings.review));
    let b = Booth::start_with(|_| {}, vec![astronaut], reviewer);
    to_lighting(&b);
    b.press("不戴眼镜");
    b.wait_for("rules", SOON);
    b.press("开始拍摄");
    b.wait_for("seat", SOON);
    b.wait_until_shown("请坐近一点");
    shoot_and_use(&b);
    // Her smile shows her teeth: the graduate reads the reason and what to do.
    b.wait_until_shown("嘴巴张开或露出牙齿");
    assert!(b.shows("请自然闭合嘴唇，不要露出牙齿。"));
    assert!(!b.shows("去支付"), "a failing photo cannot be paid for");
}

#[test]
fn the_runtime_loop_beats_for_the_service_watchdog_while_the_booth_waits() {
    let b = Booth::start(|_| {});
    b.wait_for("idle", SOON);
    std::thread::sleep(Duration::from_millis(600));
    // It ticks every 100 ms even with nothing happening; the watchdog is fed only while it does.
    assert!(b.booth.since_heartbeat() < Duration::from_millis(400), "{:?}", b.booth.since_heartbeat());
    b.booth.shutdown();
    std::thread::sleep(Duration::from_millis(600));
    assert!(b.booth.since_heartbeat() >= Duration::from_millis(500), "a stopped loop no longer beats");
}

#[test]
fn an_abandoned_rules_screen_times_out_to_idle() {
    let b = Booth::start(|s| s.policy.timeouts.rules = Duration::from_millis(800));
    to_lighting(&b);
    b.press("戴眼镜");
    b.wait_for("rules", SOON);
    // Nobody touches anything: the booth gives up and forgets the visit.
    b.wait_for("idle", SOON);
    assert_eq!(b.app.global::<BoothAdapter>().get_name(), "");
    assert!(b.shows("准备拍摄"));
}

#[test]
fn exit_from_the_lighting_screen_returns_to_idle_with_the_lights_idle() {
    let b = Booth::start(|_| {});
    to_lighting(&b);
    b.press("退出");
    b.wait_for("idle", SOON);
    assert!(b.shows("准备拍摄"));
    assert!(b.lights_idle());
}

#[test]
fn a_code_that_is_not_a_shooting_code_is_explained_on_the_scan_screen() {
    let b = Booth::start(|_| {});
    b.wait_for("idle", SOON);
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    b.booth.sim().unwrap().present_qr("https://example.com/some-poster");
    b.wait_until_shown("这不是拍摄二维码。请打开小程序，出示“个人拍摄二维码”。");
    assert_eq!(b.screen(), "scan", "the graduate can scan again");
}

#[test]
fn an_altered_ticket_and_an_expired_one_are_each_explained_and_a_good_one_still_works() {
    // An issuer this test controls, trusted by the booth next to the simulated one.
    let issuer = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let public = issuer.verifying_key();
    let b = Booth::start(|s| s.issuers.insert("test", public));
    b.wait_for("idle", SOON);
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    // One character of a genuine ticket changed.
    let good = b.booth.demo_ticket().unwrap();
    let mut altered = good.clone().into_bytes();
    altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
    b.booth.sim().unwrap().present_qr(String::from_utf8(altered).unwrap());
    b.wait_until_shown("二维码无法验证，可能被修改过。请在小程序中重新打开个人拍摄二维码。");
    // Signed by a trusted issuer, but its time is over (the simulated clock is 2025-06-03).
    let now = chrono::DateTime::parse_from_rfc3339("2025-06-03T10:00:00+08:00").unwrap().timestamp();
    let claims = gradbooth::ticket::Claims {
        key_id: "test".into(),
        expires_at: (now - 86400) as u32,
        issued_at: (now - 40 * 86400) as u32,
        ..gradbooth::ticket::demo_claims(&b.settings.file.tickets.site, now)
    };
    b.booth.sim().unwrap().present_qr(gradbooth::ticket::issue(&issuer, &claims));
    b.wait_until_shown("二维码已过期。请在小程序中刷新个人拍摄二维码。");
    assert_eq!(b.screen(), "scan");
    b.booth.sim().unwrap().present_qr(good);
    b.wait_for("confirm", SOON);
}

#[test]
fn a_journal_that_cannot_be_read_is_the_booths_fault_not_the_codes() {
    let b = Booth::start(|_| {});
    b.wait_for("idle", SOON);
    // Something outside the booth breaks its journal while it runs.
    let journal = rusqlite::Connection::open(b.settings.data_dir.join("journal.sqlite3")).unwrap();
    journal.execute_batch("ALTER TABLE tickets RENAME TO tickets_damaged").unwrap();
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    b.booth.simulate("demo_ticket");
    b.wait_until_shown("本机暂时无法核验二维码。请稍后再扫一次；如仍不行，请拨打服务电话。");
    assert_eq!(b.screen(), "scan");
    // Repaired, the same code works.
    journal.execute_batch("ALTER TABLE tickets_damaged RENAME TO tickets").unwrap();
    b.booth.simulate("demo_ticket");
    b.wait_for("confirm", SOON);
}

#[test]
fn the_language_switch_shows_the_booth_in_english() {
    let b = Booth::start(|_| {});
    b.wait_for("idle", SOON);
    b.press("English");
    assert!(b.shows("Get ready"), "the main button is translated");
    b.press("中文");
    assert!(b.shows("准备拍摄"));
}

#[test]
fn pulling_the_camera_out_takes_the_booth_out_of_service_until_it_is_back() {
    let b = Booth::start(|_| {});
    b.wait_for("idle", SOON);
    b.booth.simulate("unplug_camera");
    b.wait_for("out_of_service", SOON);
    assert!(b.shows("相机出现故障，工作人员正在处理。"));
    b.booth.simulate("replug_camera");
    b.wait_for("idle", Duration::from_secs(10));
}

#[test]
fn the_debug_panel_breaks_a_lamp_and_mends_it_as_the_diagnostics_mode_will_need() {
    let b = Booth::start(|_| {});
    b.wait_for("idle", SOON);
    let lit = |ch: &str| b.lights.lit().0.get(ch).copied();
    b.pump_until("idle lights", SOON, |b| b.lights_idle());
    assert_eq!(lit("key_left"), Some(10));
    b.booth.simulate("kill_lamp:key_left");
    assert_eq!(lit("key_left"), Some(0), "a dead lamp gives no light");
    assert_eq!(lit("fill"), Some(10), "the others still do");
    assert!(b.lights_idle(), "the driver still took its level");
    b.booth.simulate("mend_lamp:key_left");
    assert_eq!(lit("key_left"), Some(10));
}

/// To the seat screen of a first attempt.
fn to_seat(b: &Booth) {
    to_lighting(b);
    b.press("不戴眼镜");
    b.wait_for("rules", SOON);
    b.press("开始拍摄");
    b.wait_for("seat", SOON);
}

/// From the seat screen: the photo taken, sent to review, its result on screen.
fn shoot_and_use(b: &Booth) {
    b.press("开始拍摄");
    b.wait_for("attempt_shown", SOON);
    b.press("使用这张");
    b.wait_for("review_result", SOON);
}

fn journal_attempts(b: &Booth) -> (i64, i64) {
    let j = rusqlite::Connection::open(b.settings.data_dir.join("journal.sqlite3")).unwrap();
    j.query_row("SELECT COUNT(*), COALESCE(MAX(attempts_used), 0) FROM tickets", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
}

#[test]
fn losing_the_camera_during_the_preview_ends_the_visit_without_counting_an_attempt() {
    let b = Booth::start(|_| {});
    to_seat(&b);
    b.booth.simulate("unplug_camera");
    b.wait_for("notice", SOON);
    assert!(b.shows("请稍后重新扫码继续拍摄；如需帮助请拨打 021-36521351 / 36521352。"), "what to do next");
    assert!(b.lights_idle(), "the visit ended safely");
    b.press("返回首页");
    b.wait_for("out_of_service", SOON);
    assert_eq!(journal_attempts(&b), (1, 0), "the ticket was seen, no attempt was counted");
    b.booth.simulate("replug_camera");
    b.wait_for("idle", Duration::from_secs(10));
    // The same graduate continues with all three attempts.
    to_seat(&b);
    assert!(b.shows("第 1 次拍摄，共 3 次"));
}

#[test]
fn a_jammed_chair_is_stopped_by_its_run_time_guard_and_the_graduate_is_told() {
    let b = Booth::start(|s| s.file.hardware.chair.as_mut().unwrap().max_run_ms = 1000);
    to_seat(&b);
    let sim = b.booth.sim().unwrap().clone();
    b.booth.simulate("jam_chair");
    b.booth.seat_button(gradbooth_hal::SeatButton::UpPressed);
    b.pump_until("the motor running", SOON, |_| sim.chair_motion() == gradbooth_hal::Motion::Up);
    let started = Instant::now();
    b.wait_until_shown("座椅暂时不能调节，请直接坐好拍摄。");
    let stopped_after = started.elapsed();
    assert_eq!(sim.chair_motion(), gradbooth_hal::Motion::Stop, "the guard stopped the motor");
    assert!(stopped_after < Duration::from_millis(2000), "stopped after {stopped_after:?} (limit 1 s)");
    assert_eq!(b.screen(), "seat", "the graduate can still take the photo");
}

#[test]
fn a_scanner_plugged_back_in_reads_the_next_code() {
    let b = Booth::start(|_| {});
    b.wait_for("idle", SOON);
    b.booth.simulate("unplug_scanner");
    b.wait_for("out_of_service", SOON);
    assert!(b.shows("扫码器出现故障，工作人员正在处理。"), "the fault is named");
    b.booth.simulate("replug_scanner");
    b.wait_for("idle", Duration::from_secs(10));
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    b.booth.simulate("demo_ticket");
    b.wait_for("confirm", SOON);
}

#[test]
fn without_a_scanner_module_the_camera_reads_the_code_held_up_to_it() {
    let b = Booth::start(|s| s.file.hardware.scanner = None);
    b.wait_for("idle", SOON);
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    // A poster's code held up to the camera is read from its frames, and explained.
    b.booth.sim().unwrap().present_qr("https://example.com/some-poster");
    b.wait_until_shown("这不是拍摄二维码。请打开小程序，出示“个人拍摄二维码”。");
    // The demo graduate holds up the personal shooting code: drawn into the simulated camera's
    // frames, decoded by the camera-based reader.
    b.booth.simulate("demo_ticket");
    b.wait_for("confirm", SOON);
    assert!(b.shows("李明"));
}

#[test]
fn the_lighting_mode_sets_the_cameras_exposure_and_white_balance_and_the_end_resets_them() {
    let b = Booth::start(|_| {});
    let sim = b.booth.sim().unwrap().clone();
    let glasses = b.settings.file.lights.glasses.camera;
    assert_ne!(glasses, CameraControls::default(), "the default config sets the glasses preset's camera");
    to_lighting(&b);
    b.press("戴眼镜");
    b.wait_for("rules", SOON);
    b.press("开始拍摄");
    b.wait_for("seat", SOON);
    b.pump_until("the glasses preset on the camera", SOON, |_| sim.camera_controls() == glasses);
    b.press("退出");
    b.wait_for("idle", SOON);
    b.pump_until("the camera automatic again", SOON, |_| sim.camera_controls() == CameraControls::default());
}

#[test]
fn the_pi_booth_without_its_devices_is_out_of_service_and_names_each_one() {
    let dir = tempfile::tempdir().unwrap();
    let b = Booth::start_pi(|s| {
        let missing = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        s.file.hardware.camera.device = missing("video-camera");
        s.file.hardware.scanner.as_mut().unwrap().path = missing("tty-scanner");
    });
    b.wait_for("out_of_service", Duration::from_secs(10));
    // This machine is not a Raspberry Pi: its GPIO (chair, lights) cannot open either.
    for device in ["相机", "扫码器", "升降座椅", "灯光"] {
        b.wait_until_shown(&format!("{device}出现故障，工作人员正在处理。"));
    }
    assert!(b.booth.sim().is_none(), "no simulated devices on the Pi");
}

#[test]
fn a_graduate_who_could_not_pay_comes_back_and_pays_for_the_kept_photo_on_the_touchscreen() {
    let b = Booth::start(|s| s.unpaid_retention = Duration::from_secs(30 * 60));
    let Some(gradbooth::payment::SandboxLink::Local(sandbox)) = b.booth.sandbox().cloned() else {
        panic!("a local sandbox")
    };
    sandbox.set_faults(gradbooth::payment::sandbox::Faults { server_errors: 100, ..Default::default() });
    to_seat(&b);
    shoot_and_use(&b);
    b.press("去支付");
    b.wait_until_shown("获取新的付款码");
    assert!(b.shows(
        "暂时无法连接支付服务，未扣款。请点“获取新的付款码”重试；也可稍后再来：照片为您保留 30 分钟，期间重新扫码即可直接支付，无需重拍。如需帮助请拨打 021-36521351 / 36521352。"
    ));
    b.press("放弃支付");
    b.wait_for("idle", SOON);
    sandbox.set_faults(Default::default());
    b.press("准备拍摄");
    b.wait_for("scan", SOON);
    b.booth.simulate("demo_ticket");
    b.wait_for("confirm", SOON);
    b.wait_until_shown("您上次拍摄的照片已通过审核、尚未支付，已为您保留：可直接支付这张照片，无需重拍。");
    b.press("支付保留的照片");
    b.wait_for("payment", SOON);
    b.wait_until_shown("微信支付二维码");
    b.app.global::<BoothAdapter>().set_debug_panel(true);
    b.press("F5 微信已支付 / pay");
    b.wait_for("done", SOON);
    assert_eq!(journal_attempts(&b), (1, 1), "paid without another attempt");
}

#[test]
fn a_booth_without_its_face_models_says_photo_review_is_out_of_order() {
    let models = tempfile::tempdir().unwrap();
    let mut review = Settings::parse(include_str!("../config/booth.toml")).unwrap().review;
    review.models = models.path().to_owned();
    let b = Booth::start_with(|_| {}, vec![], Arc::new(gradbooth::review::BoothReviewer::new(&review)));
    b.wait_for("out_of_service", SOON);
    b.wait_until_shown("照片审核出现故障，工作人员正在处理。");
    assert!(!b.shows("准备拍摄"), "no way into a visit whose photo could not be judged");
}
