//! `gradbooth service-code` as whoever runs the technicians uses it: a service key, a code for
//! one technician, and the booth's verdict on it — valid, refused for another site or by a
//! booth that trusts no service key, and refused once revoked.

use std::path::Path;
use std::process::{Command, Output};

fn gradbooth(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradbooth")).arg("--config").arg(config).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_service_code_is_issued_verified_and_refused_once_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let booth = concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml");
    let key = dir.path().join("service.key");
    let out =
        gradbooth(Path::new(booth), &["service-code", "keygen", "--out", key.to_str().unwrap(), "--key-id", "field"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("[diagnostics.issuers]"), "{}", stdout(&out));
    let line = stdout(&out).lines().find(|l| l.starts_with("field = ")).unwrap().to_owned();
    let shipped = std::fs::read_to_string(booth).unwrap();
    let trusting = shipped.replace("[diagnostics.issuers]\n", &format!("[diagnostics.issuers]\n{line}\n"));
    let config = dir.path().join("booth.toml");
    std::fs::write(&config, &trusting).unwrap();

    let issue = |extra: &[&str]| {
        let mut args = vec!["service-code", "issue", "--key", key.to_str().unwrap(), "--key-id", "field"];
        args.extend_from_slice(&["--technician", "T-0042"]);
        args.extend_from_slice(extra);
        gradbooth(&config, &args)
    };
    let png = dir.path().join("code.png");
    let o = issue(&["--hours", "8", "--png", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let code = stdout(&o).trim().to_owned();
    assert!(code.starts_with("GBS1:"), "{code}");
    assert!(image::open(&png).unwrap().width() > 200, "a printable QR code");
    let o = gradbooth(&config, &["service-code", "verify", &code]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("valid: service code of technician T-0042"), "{}", stdout(&o));
    let nonce = stdout(&o).split("nonce ").nth(1).unwrap()[..16].to_owned();

    // Longer than a day is never issued.
    let o = issue(&["--hours", "25"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("24 hours"));
    // Another booth's code, and the shipped configuration that trusts no service key.
    let other = stdout(&issue(&["--site", "xuhui-a"])).trim().to_owned();
    let o = gradbooth(&config, &["service-code", "verify", &other]);
    assert_eq!((o.status.code(), stdout(&o).trim()), (Some(2), "refused: wrong_site"));
    let o = gradbooth(Path::new(booth), &["service-code", "verify", &code]);
    assert_eq!(stdout(&o).trim(), "refused: bad_signature");
    // Revoked by its nonce, or by its technician.
    for entry in [nonce.to_uppercase(), "T-0042".to_owned()] {
        let revoking = trusting.replace("revoked = []", &format!("revoked = [\"{entry}\"]"));
        std::fs::write(&config, &revoking).unwrap();
        let o = gradbooth(&config, &["service-code", "verify", &code]);
        assert_eq!((o.status.code(), stdout(&o).trim()), (Some(2), "refused: revoked"), "{entry}");
    }
}
