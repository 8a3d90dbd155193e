//! The diagnostics mode's headless side on a whole booth (real runtime, journal, payment
//! client against the sandbox, directory store): the Prometheus metrics checked by
//! Prometheus's own `promtool`, the network checks on both sides (a forged answer, a service
//! that cannot be reached), and the service key switch.

mod booth;

use std::io::{Read, Write};
use std::time::Duration;

use booth::World;
use gradbooth::payment::sandbox::Faults;
use gradbooth::visit::{Intent, Screen};

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET /metrics`, as curl (`accept` None) or a Prometheus asking for OpenMetrics would.
fn scrape_as(port: u16, accept: Option<&str>) -> (String, String) {
    let mut last = None;
    for _ in 0..50 {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut s) => {
                let accept = accept.map(|a| format!("Accept: {a}\r\n")).unwrap_or_default();
                s.write_all(format!("GET /metrics HTTP/1.0\r\nHost: booth\r\n{accept}\r\n").as_bytes()).unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer).unwrap();
                let (head, body) = answer.split_once("\r\n\r\n").unwrap();
                return (head.to_owned(), body.to_owned());
            }
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("metrics never served: {last:?}");
}

fn scrape(port: u16) -> (String, String) {
    scrape_as(port, None)
}

/// Prometheus's own check of the text format.
fn promtool(text: &str) {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; scripts/setup --tests installs it)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
}

#[test]
fn metrics_count_a_paid_visit_show_each_parts_health_and_pass_promtool() {
    let w = World::new();
    let port = free_port();
    let mut b = w.start(&|s| {
        s.diagnostics.metrics_listen = Some(([127, 0, 0, 1], port).into());
        s.diagnostics.selftest_chair = false;
    });
    b.screen(Screen::Idle);
    let (head, text) = scrape(port);
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    promtool(&text);
    // A Prometheus that asks for OpenMetrics gets it.
    let (head, om) = scrape_as(port, Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"));
    assert!(head.contains("application/openmetrics-text"), "{head}");
    assert!(om.ends_with("# EOF\n") && om.contains("# TYPE gradbooth_visits counter"), "{om}");
    assert_eq!(value(&text, "gradbooth_part_ok{part=\"camera\"}"), Some(1.0), "{text}");
    assert_eq!(value(&text, "gradbooth_visits_total"), Some(0.0));

    // A graduate pays; the camera is then unplugged; a self-test runs.
    b.through_to_payment();
    booth::pay(&w, &mut b);
    b.screen(Screen::Done);
    b.handle().intent(Intent::Finish);
    b.screen(Screen::Idle);
    b.handle().simulate("unplug_camera");
    b.wait("out of service", Duration::from_secs(10), |v| v.screen == Screen::OutOfService);
    let report = b.handle().self_test(Duration::from_secs(60)).unwrap();
    assert!(!report.passed);
    let (_, text) = scrape(port);
    promtool(&text);
    assert_eq!(value(&text, "gradbooth_visits_total"), Some(1.0), "{text}");
    assert_eq!(value(&text, "gradbooth_orders_total{state=\"paid\"}"), Some(1.0));
    assert_eq!(value(&text, "gradbooth_takings_fen_total"), Some(3000.0));
    assert_eq!(value(&text, "gradbooth_part_ok{part=\"camera\"}"), Some(0.0), "the camera is out");
    assert_eq!(value(&text, "gradbooth_part_ok{part=\"lights\"}"), Some(1.0));
    assert_eq!(value(&text, "gradbooth_selftest_passed"), Some(0.0));
    assert_eq!(value(&text, "gradbooth_selftest_check_passed{check=\"camera\"}"), Some(0.0));
    assert_eq!(value(&text, "gradbooth_selftest_check_passed{check=\"journal\"}"), Some(1.0));
    // Counts only: nothing of the graduate, no order number.
    for private in ["李明", "DEMO-", "fengxian-d108_"] {
        assert!(!text.contains(private), "{private} in the metrics");
    }
    b.stop();
}

#[test]
fn the_network_checks_fail_on_a_forged_answer_and_on_a_service_out_of_reach_and_pass_otherwise() {
    let w = World::new();
    let b = w.start(&|s| s.diagnostics.selftest_chair = false);
    let checks = |r: &gradbooth::diagnostics::selftest::Report, name: &str| {
        r.checks.iter().find(|c| c.name == name).cloned().unwrap_or_else(|| panic!("no {name}"))
    };
    let good = b.handle().self_test(Duration::from_secs(60)).unwrap();
    assert!(checks(&good, "payment").passed, "{good:?}");
    assert!(checks(&good, "clock").passed);
    assert!(checks(&good, "upload").passed);
    w.sandbox.set_faults(Faults { bad_signatures: 5, ..Faults::default() });
    let forged = b.handle().self_test(Duration::from_secs(60)).unwrap();
    let pay = checks(&forged, "payment");
    assert!(!pay.passed && pay.detail.contains("not trusted"), "{pay:?}");
    w.sandbox.set_faults(Faults::default());
    drop(b);

    // The payment service at an address nobody answers.
    let port = free_port();
    let b = w.start(&|s| {
        s.payment.gateway = gradbooth::config::Gateway::Sandbox { url: Some(format!("http://127.0.0.1:{port}")) };
        s.diagnostics.selftest_chair = false;
    });
    let down = b.handle().self_test(Duration::from_secs(60)).unwrap();
    assert!(!checks(&down, "payment").passed);
    assert!(checks(&down, "journal").passed && checks(&down, "camera").passed, "the rest still passes");
}

#[test]
fn a_key_switch_found_on_at_start_up_shows_out_of_service_and_turning_it_off_serves() {
    let w = World::new();
    let settings = w.settings(&|s| {
        s.file.hardware.service = Some(gradbooth_hal::key_switch::KeySwitchConfig { key_pin: 16, active_low: true })
    });
    let (parts, _lights) = gradbooth::runtime::simulated(
        settings,
        vec![],
        std::sync::Arc::new(gradbooth::review::ScriptedReviewer { pass: true }),
    )
    .unwrap();
    parts.sim.as_ref().unwrap().set_service_key(true);
    let storage = parts.storage.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = gradbooth::runtime::start(parts, std::sync::Arc::new(tx));
    let mut b = booth::Booth { booth: Some(handle), rx, storage, view: None, stages: vec![] };
    let v = b.wait("out of service", Duration::from_secs(10), |v| v.screen == Screen::OutOfService);
    assert!(v.key_left_on, "the screen says why");
    // With the key on, the code opens the mode; turning the key off ends it.
    b.handle().simulate("demo_service_code");
    b.screen(Screen::Service);
    b.handle().simulate("service_key_off");
    b.screen(Screen::ServiceLeaving);
    b.screen(Screen::Idle);
    // With the key off, a code alone does not open it.
    b.handle().simulate("demo_service_code");
    let v = b.wait("refused", Duration::from_secs(10), |v| v.service_refusal.is_some());
    assert_eq!(v.service_refusal.map(|r| r.code()), Some("key_off"));
    b.stop();
}

#[test]
fn a_journal_overwritten_by_garbage_is_set_aside_kept_and_a_fresh_one_sends_every_sealed_photo() {
    use gradbooth::screen::Controls;
    use gradbooth::visit::{Part, ServiceAction, ServiceIntent};
    let w = World::new();
    let data = w.data.path();
    let garbage = b"this is not a database, whatever it was before".repeat(100);
    std::fs::write(data.join("journal.sqlite3"), &garbage).unwrap();
    std::fs::create_dir_all(data.join("outbox")).unwrap();
    // Two paid photos sealed and waiting, and half of a third.
    for no in ["fengxian-d108_1748916001", "fengxian-d108_1748916002"] {
        std::fs::write(data.join("outbox").join(format!("{no}.jpg.age")), format!("sealed photo {no}")).unwrap();
        std::fs::write(data.join("outbox").join(format!("{no}.json.age")), format!("sealed manifest {no}")).unwrap();
    }
    std::fs::write(data.join("outbox/fengxian-d108_1748916003.jpg.age"), "half").unwrap();

    let mut b = w.start(&|s| s.diagnostics.selftest_chair = false);
    let v = b.wait("out of service", Duration::from_secs(10), |v| v.screen == Screen::OutOfService);
    assert_eq!(v.faults, vec![Part::Journal], "the booth says why");
    // Nothing was deleted while the journal could not be read.
    assert_eq!(std::fs::read_dir(data.join("outbox")).unwrap().count(), 5);

    b.handle().simulate("demo_service_code");
    b.screen(Screen::Service);
    b.handle().service(ServiceIntent::Act(ServiceAction::SetAsideJournal));
    b.wait("the journal back", Duration::from_secs(10), |v| !v.faults.contains(&Part::Journal));
    // Kept, byte for byte, under a new name.
    let kept: Vec<_> = std::fs::read_dir(data)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("journal.set-aside-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(kept[0].path()).unwrap(), garbage);
    // Both complete photos leave the booth; the half one is kept aside for a person.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !(w.uploaded("fengxian-d108_1748916001") && w.uploaded("fengxian-d108_1748916002")) {
        assert!(std::time::Instant::now() < deadline, "the adopted photos were not uploaded");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(data.join("outbox-unpaired/fengxian-d108_1748916003.jpg.age").exists());
    // Audited in the fresh journal, the entry of this session carried over.
    let audit = b.storage.journal().audit_log(100).unwrap();
    assert!(
        audit.iter().any(|(_, _, what, d)| what == "journal_set_aside" && d.contains("2 sealed paid photo(s) adopted")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|(_, who, what, _)| who == "DEMO-TECH" && what == "service_entered"), "{audit:?}");
    // The technician leaves; the booth serves again.
    b.handle().service(ServiceIntent::Exit);
    b.wait("in service", Duration::from_secs(30), |v| v.screen == Screen::Idle);
    b.stop();
}
