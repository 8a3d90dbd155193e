//! `gradbooth demo` as an operator runs it: a scripted graduate through a whole visit,
//! headless, on both review outcomes.

mod eval;

use std::process::Command;

fn demo(outcome: &str) -> (std::process::Output, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "debug")
        .args(["demo", "--scripted-review", outcome, "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    (output, out)
}

fn session(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("session.json")).unwrap()).unwrap()
}

#[test]
fn a_scripted_visit_that_passes_is_paid_and_every_screen_is_saved() {
    let (output, dir) = demo("pass");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let s = session(dir.path());
    let states: Vec<&str> = s["states"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for screen in [
        "idle",
        "scan",
        "confirm",
        "lighting",
        "rules",
        "seat",
        "countdown",
        "attempt_shown",
        "reviewing",
        "review_result",
        "payment",
        "done",
    ] {
        assert!(states.contains(&screen), "{screen} missing from {states:?}");
    }
    assert_eq!(states.last(), Some(&"idle"));
    assert_eq!(s["payment"], "paid");
    assert_eq!(s["attempts"], 1);
    assert_eq!(s["reviews"][0]["verdict"], "pass");
    assert_eq!(s["reviews"][0]["scripted"], true);
    for shot in s["screenshots"].as_array().unwrap() {
        let img = image::open(dir.path().join(shot.as_str().unwrap())).unwrap();
        assert_eq!((img.width(), img.height()), (1920, 1080));
    }
    let photo = image::open(dir.path().join(s["captured_photos"][0].as_str().unwrap())).unwrap();
    assert_eq!((photo.width(), photo.height()), (1920, 1080));
    // Paid through the sandbox with the real WeChat Pay client; the photo was sealed to the
    // test centre and uploaded to the demo's store. `age` (the reference tool, not our code)
    // opens it with the test identity to the standard photo; no plain photo is left behind.
    let no = s["out_trade_no"].as_str().expect("an order number");
    // The booth and its counter; nothing of the graduate (the ticket id is DEMO-…).
    assert!(no.strip_prefix("fengxian-d108_").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())), "{no}");
    assert_eq!(s["upload_key"].as_str().unwrap(), format!("fengxian-d108/{no}.jpg.age"));
    let sealed = dir.path().join(s["uploaded_photo"].as_str().expect("an uploaded photo"));
    let identity = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/test-centre.key");
    let opened = Command::new("age").arg("-d").arg("-i").arg(&identity).arg(&sealed).output().expect("the age tool");
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    let paid = image::load_from_memory(&opened.stdout).unwrap();
    assert_eq!((paid.width(), paid.height()), (480, 640));
    let standard = image::open(dir.path().join(s["standard_photos"][0].as_str().unwrap())).unwrap().to_rgb8();
    let diff = paid.to_rgb8().pixels().zip(standard.pixels()).map(|(a, b)| (a[1] as i32 - b[1] as i32).abs()).max();
    assert!(diff.unwrap() <= 40, "the uploaded photo is the standard photo shown (JPEG-close)");
    let manifest = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&identity)
        .arg(dir.path().join(s["uploaded_manifest"].as_str().unwrap()))
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(manifest["out_trade_no"], no);
    assert!(manifest["transaction_id"].as_str().unwrap().starts_with("4200"), "{manifest}");
    assert_eq!(s["photo_files_left"], 0);
    let sealed_text = std::fs::read(&sealed).unwrap();
    assert!(sealed_text.starts_with(b"age-encryption.org/v1"));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("ticket accepted"), "the log was captured at debug level");
    // Exactly what the demo ticket carries (the library's own demo claims), and the number it
    // was masked from.
    let demo = gradbooth::ticket::demo_claims("any site", 0);
    assert_eq!(demo.student_no_masked, gradbooth::ticket::mask(gradbooth::ticket::DEMO_STUDENT_NO));
    let carried = [demo.name.as_str(), &demo.student_no_masked, gradbooth::ticket::DEMO_STUDENT_NO, &demo.school];
    for personal in carried {
        assert!(!log.contains(personal), "personal data {personal:?} reached the log");
    }
}

#[test]
fn a_scripted_visit_that_keeps_failing_uses_three_attempts_and_pays_nothing() {
    let (output, dir) = demo("fail");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let s = session(dir.path());
    assert_eq!(s["attempts"], 3);
    assert_eq!(s["reviews"].as_array().unwrap().len(), 3);
    assert_eq!(s["payment"], "not_reached");
    assert_eq!(s["captured_photos"].as_array().unwrap().len(), 3);
    // An unpaid visit leaves no photo behind.
    assert_eq!((s["out_trade_no"].is_null(), &s["photo_files_left"]), (true, &serde_json::json!(0)));
    assert!(
        !dir.path().join("data/uploaded").exists()
            || std::fs::read_dir(dir.path().join("data/uploaded")).unwrap().count() == 0
    );
}

#[test]
fn the_real_reviewer_fails_the_smiling_astronaut_three_times_and_says_why() {
    // The configuration's sitter is the astronaut portrait; no --scripted-review.
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["demo", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let s = session(out.path());
    assert_eq!(s["attempts"], 3);
    for review in s["reviews"].as_array().unwrap() {
        assert_eq!(review["scripted"], false);
        assert_eq!(review["verdict"], "fail");
        let reasons: Vec<&str> = review["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert!(reasons.contains(&"mouth_open"), "{reasons:?}");
    }
    assert!(s["standard_photos"].as_array().unwrap().is_empty());
}

#[test]
fn a_photo_the_real_reviewer_passes_is_shown_as_the_standard_photo_before_payment() {
    let out = tempfile::tempdir().unwrap();
    // A plain-background head-and-shoulders portrait; the smile allowed for this test only.
    let sitter = eval::write_case("plain_background", out.path());
    let config = eval::config_allowing_smile(out.path());

    let output = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--config")
        .arg(&config)
        .args(["demo", "--sitter"])
        .arg(&sitter)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let s = session(out.path());
    assert_eq!(s["reviews"][0]["verdict"], "pass", "{s}");
    assert_eq!(s["reviews"][0]["scripted"], false);
    assert_eq!(s["payment"], "paid");
    let standard = image::open(out.path().join(s["standard_photos"][0].as_str().unwrap())).unwrap();
    assert_eq!((standard.width(), standard.height()), (480, 640));
    // The standard photo's background is the CHSI blue in its top corners.
    let px = standard.to_rgb8().get_pixel(10, 10).0;
    let blue = [100i32, 197, 255];
    assert!(px.iter().zip(blue).all(|(&a, b)| (a as i32 - b).abs() <= 6), "{px:?}");
}

#[test]
fn a_demo_before_the_set_up_says_what_to_run() {
    // As on a fresh clone before scripts/setup: the portrait the configuration names is not there.
    let out = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml")).unwrap();
    let config = out.path().join("booth.toml");
    std::fs::write(&config, text.replace("\"models/astronaut.png\"", "\"not-fetched-yet/astronaut.png\"")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--config")
        .arg(&config)
        .args(["demo", "--out"])
        .arg(out.path().join("demo"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("not-fetched-yet/astronaut.png") && err.contains("run scripts/setup"), "{err}");
}

#[test]
fn the_demo_refuses_a_data_directory_rather_than_ignoring_it() {
    let out = tempfile::tempdir().unwrap();
    let booths_own = out.path().join("var-lib-gradbooth");
    let output = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--data-dir")
        .arg(&booths_own)
        .args(["demo", "--scripted-review", "pass", "--out"])
        .arg(out.path().join("demo"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("--data-dir") && err.contains("leave it out"), "{err}");
    assert!(!booths_own.exists(), "nothing written where the booth keeps its journal");
}
