use super::*;

const DEFAULT: &str = include_str!("../../config/booth.toml");

fn with(key_line: &str, replacement: &str) -> String {
    assert!(DEFAULT.contains(key_line), "test edits a line that exists: {key_line}");
    DEFAULT.replacen(key_line, replacement, 1)
}

fn refusal(text: &str) -> String {
    Settings::parse(text).expect_err("should be refused").to_string()
}

#[test]
fn the_shipped_config_is_valid_and_holds_the_fengxian_values() {
    let s = Settings::parse(DEFAULT).unwrap();
    assert_eq!(s.price_fen, 3000);
    assert_eq!(s.policy.max_attempts, 3);
    assert_eq!(s.schedule.hours_text(), "09:00–16:30");
    assert_eq!(s.file.help.data_phone, "56629328");
    assert_eq!(s.file.hardware.backend, Backend::Simulated);
}

#[test]
fn the_pi_runs_the_shared_file_once_it_trusts_an_issuer_and_has_its_pins() {
    let pi = Some(Backend::Pi);
    // The shipped file has no issuer key yet: the real booth says which key is missing.
    let msg = Settings::parse_on(DEFAULT, pi).expect_err("no issuer").to_string();
    assert!(msg.contains("tickets.issuers") && msg.contains("keygen"), "{msg}");
    let public = crate::ticket::generate_key().verifying_key();
    let key = format!("[tickets.issuers]\nfengxian-2025 = \"{}\"", data_encoding::HEXLOWER.encode(public.as_bytes()));
    let keyed = with("[tickets.issuers]", &key);
    // The sandbox takes no real money: a real booth refuses it and names the section.
    let msg = Settings::parse_on(&keyed, pi).expect_err("sandbox").to_string();
    assert!(msg.contains("payment.gateway") && msg.contains("[payment.wechat]"), "{msg}");
    let keys = tempfile::tempdir().unwrap();
    let keyed = with_wechat(&keyed, keys.path());
    // Nor does it seal photos to the test centre, whose identity is public.
    let msg = Settings::parse_on(&keyed, pi).expect_err("test centre").to_string();
    assert!(msg.contains("upload.recipient") && msg.contains("test-centre.key"), "{msg}");
    let centre = age::x25519::Identity::generate().to_public().to_string();
    let keyed = keyed.replace(TEST_CENTRE, &centre);
    let s = Settings::parse_on(&keyed, pi).unwrap();
    assert_eq!(s.file.hardware.backend, Backend::Pi);
    assert!(matches!(&s.payment.gateway, Gateway::WechatPay(c) if c.mchid == "1900000109" && !c.sandbox));
    // Without the chair's pins there is nothing to drive.
    let start = keyed.find("[hardware.chair]").unwrap();
    let end = start + keyed[start..].find("\n\n").unwrap();
    let no_chair = format!("{}{}", &keyed[..start], &keyed[end..]);
    let msg = Settings::parse_on(&no_chair, pi).expect_err("no chair").to_string();
    assert!(msg.contains("[hardware.chair]"), "{msg}");
    assert!(Settings::parse_on(&no_chair, None).is_ok(), "the simulated booth needs no pins");
}

/// `text` paying with WeChat Pay: the sandbox's test keys written into `dir`.
fn with_wechat(text: &str, dir: &Path) -> String {
    let cfg = crate::payment::sandbox::client_config("http://x", "b", Duration::from_secs(1));
    std::fs::write(dir.join("apiclient_key.pem"), &cfg.private_key_pem).unwrap();
    std::fs::write(dir.join("pub_key.pem"), &cfg.public_key_pem).unwrap();
    let section = format!(
        "[payment.wechat]\nmchid = \"{}\"\nappid = \"{}\"\ncert_serial = \"{}\"\n\
         private_key = \"{}\"\npublic_key = \"{}\"\npublic_key_id = \"{}\"\nnotify_url = \"https://booth.example/notify\"\n",
        cfg.mchid,
        cfg.appid,
        cfg.cert_serial,
        dir.join("apiclient_key.pem").display(),
        dir.join("pub_key.pem").display(),
        cfg.public_key_id
    );
    text.replace("gateway = \"sandbox\"\n", "gateway = \"wechat\"\n")
        .replace("\n[upload]\n", &format!("\n{section}\n[upload]\n"))
}

#[test]
fn wechat_pay_settings_are_checked_when_loaded_and_name_what_is_wrong() {
    let keys = tempfile::tempdir().unwrap();
    let wechat = with_wechat(DEFAULT, keys.path());
    assert!(matches!(Settings::parse(&wechat).unwrap().payment.gateway, Gateway::WechatPay(_)));
    let missing = wechat.replace("apiclient_key.pem", "nothing-here.pem");
    let msg = refusal(&missing);
    assert!(msg.contains("payment.wechat.private_key") && msg.contains("cannot read"), "{msg}");
    std::fs::write(keys.path().join("pub_key.pem"), "not a key").unwrap();
    assert!(refusal(&wechat).contains("payment.wechat"), "a key that is not one is named at start-up");
    let msg = refusal(&DEFAULT.replace("gateway = \"sandbox\"", "gateway = \"wechat\""));
    assert!(msg.contains("[payment.wechat]"), "{msg}");
    let msg = refusal(&DEFAULT.replace("sandbox_url = \"\"", "sandbox_url = \"ftp://x\""));
    assert!(msg.contains("payment.sandbox_url"), "{msg}");
}

#[test]
fn upload_settings_name_what_is_wrong() {
    let msg = refusal(&DEFAULT.replace(TEST_CENTRE, "age1notakey"));
    assert!(msg.contains("upload.recipient"), "{msg}");
    let s3 = |endpoint: &str| {
        DEFAULT.replace(
            "target = \"dir\"",
            &format!(
                "target = \"s3\"\ns3 = {{ endpoint = \"{endpoint}\", bucket = \"b\", access_key_id = \"k\", secret_access_key_file = \"/nonexistent\" }}"
            ),
        )
    };
    let msg = refusal(&s3("http://oss.example.com"));
    assert!(msg.contains("upload.s3.endpoint") && msg.contains("https"), "{msg}");
    let msg = refusal(&s3("http://127.0.0.1:9000"));
    assert!(msg.contains("upload.s3.secret_access_key_file"), "{msg}");
    let msg = refusal(&DEFAULT.replace("target = \"dir\"", "target = \"s3\""));
    assert!(msg.contains("[upload.s3]"), "{msg}");
    assert!(matches!(Settings::parse(DEFAULT).unwrap().upload.target, UploadTarget::Dir(None)));
}

#[test]
fn camera_controls_out_of_range_are_refused_with_their_key() {
    let msg = refusal(&with("camera = { exposure_100us = 170,", "camera = { exposure_100us = 0,"));
    assert!(msg.contains("lights.glasses.camera.exposure_100us"), "{msg}");
    let msg = refusal(&with("white_balance_k = 5200 }\n\n", "white_balance_k = 52000 }\n\n"));
    assert!(msg.contains("white_balance_k"), "{msg}");
}

#[test]
fn a_fourth_attempt_is_refused_with_key_and_range() {
    let msg = refusal(&with("max_attempts = 3", "max_attempts = 4"));
    assert!(msg.contains("policy.max_attempts") && msg.contains("1..=3"), "{msg}");
}

#[test]
fn bad_price_time_and_timeout_name_their_keys() {
    assert!(refusal(&with("price_yuan = \"30.00\"", "price_yuan = \"30.001\"")).contains("payment.price_yuan"));
    assert!(refusal(&with("closes = \"16:30\"", "closes = \"08:00\"")).contains("service.closes"));
    assert!(refusal(&with("rules = 120", "rules = 1")).contains("timeouts.rules"));
    assert!(refusal(&with("days = [\"mon\",", "days = [\"moon\",")).contains("service.days"));
    assert!(refusal(&with("fill = 60,", "fill = 160,")).contains("lights.no_glasses.capture.fill"));
}

#[test]
fn a_scanner_baud_rate_termios_does_not_know_is_refused_with_the_rates_it_does() {
    let msg = refusal(&with("baud = 9600", "baud = 10000"));
    assert!(msg.contains("hardware.scanner.baud") && msg.contains("115200"), "{msg}");
    assert!(Settings::parse(&with("baud = 9600", "baud = 115200")).is_ok());
}

#[test]
fn a_booth_id_that_cannot_start_order_numbers_is_refused() {
    for bad in ["id = \"Fengxian_D108\"", "id = \"fengxian-d108-lobby-east\"", "id = \"\""] {
        let msg = refusal(&with("id = \"fengxian-d108\"", bad));
        assert!(msg.contains("booth.id") && msg.contains("unique"), "{msg}");
    }
}

#[test]
fn unknown_keys_are_refused_rather_than_ignored() {
    let msg = refusal(&with("[policy]", "[policy]\nmax_atempts = 2"));
    assert!(msg.contains("max_atempts"), "{msg}");
}

#[test]
fn a_pin_used_twice_or_outside_the_header_and_unwired_lights_are_refused() {
    let msg = refusal(&with("down_pin = 27", "down_pin = 17"));
    assert!(msg.contains("one use per pin") && msg.contains("chair motor up"), "{msg}");
    let msg = refusal(&with("top_limit_pin = 23", "top_limit_pin = 40"));
    assert!(msg.contains("BCM GPIO 0 to 27"), "{msg}");
    let msg = refusal(&with("channels.fill = { pin = 18, pwm = true }\n", ""));
    assert!(msg.contains("hardware.lights.channels") && msg.contains("fill"), "{msg}");
    let msg = refusal(&with("max_run_ms = 15000", "max_run_ms = 500"));
    assert!(msg.contains("hardware.chair.max_run_ms"), "{msg}");
}

#[test]
fn prices_parse_to_fen() {
    assert_eq!(parse_price_fen("30.00"), Some(3000));
    assert_eq!(parse_price_fen("30"), Some(3000));
    assert_eq!(parse_price_fen("0.5"), Some(50));
    for bad in ["", "-1", "1.234", "abc", ".5", "0", "100000"] {
        assert_eq!(parse_price_fen(bad), None, "{bad}");
    }
}

#[test]
fn schedule_follows_period_days_hours_and_holidays() {
    let s = Settings::parse(DEFAULT).unwrap().schedule;
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    assert_eq!(s.check(at("2025-06-03T10:00:00+08:00")), Ok(()));
    assert_eq!(s.check(at("2025-06-03T08:59:00+08:00")), Err(Closed::OutsideHours));
    assert_eq!(s.check(at("2025-06-03T16:30:00+08:00")), Err(Closed::OutsideHours));
    // 02:00 UTC is 10:00 in Shanghai: the offset is the booth's, not the server's.
    assert_eq!(s.check(at("2025-06-03T02:00:00+00:00")), Ok(()));
    assert_eq!(s.check(at("2025-06-08T10:00:00+08:00")), Err(Closed::ClosedDay), "a Sunday");
    assert_eq!(s.check(at("2025-06-02T10:00:00+08:00")), Err(Closed::Holiday));
    assert_eq!(s.check(at("2025-05-29T10:00:00+08:00")), Err(Closed::BeforePeriod));
    assert_eq!(s.check(at("2025-07-01T10:00:00+08:00")), Err(Closed::AfterPeriod));
}

#[test]
fn service_code_keys_are_their_own_and_revocations_match_as_written() {
    let key = |n: u8| {
        data_encoding::HEXLOWER.encode(ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key().as_bytes())
    };
    let text = with("[diagnostics.issuers]", &format!("[diagnostics.issuers]\nfield-2026 = \"{}\"", key(3)));
    let s = Settings::parse(&text.replace("revoked = []", "revoked = [\"T-0042\", \"0A0B0C0D0E0F1011\"]")).unwrap();
    assert!(s.diagnostics.issuers.get("field-2026").is_some());
    assert!(s.diagnostics.revoked.0.contains("T-0042") && s.diagnostics.revoked.0.contains("0a0b0c0d0e0f1011"));
    assert!(Settings::parse(DEFAULT).unwrap().diagnostics.issuers.is_empty(), "shipped: no code opens the mode");
    let msg = refusal(&with("[diagnostics.issuers]", "[diagnostics.issuers]\nfield-2026 = \"abc\""));
    assert!(msg.contains("diagnostics.issuers"), "{msg}");
    // A key that signs graduates' tickets may not open the mode too.
    let both = text.replace("[tickets.issuers]\n", &format!("[tickets.issuers]\nplatform = \"{}\"\n", key(3)));
    let msg = refusal(&both);
    assert!(msg.contains("diagnostics.issuers.field-2026") && msg.contains("a key of its own"), "{msg}");
}
