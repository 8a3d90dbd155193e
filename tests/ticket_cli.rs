//! `gradbooth ticket` as an operator and the issuing platform use it: a key pair, a ticket,
//! and the booth's verdict on it under a configuration that trusts the key.

use std::path::Path;
use std::process::{Command, Output};

fn gradbooth(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradbooth")).arg("--config").arg(config).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn keygen_issue_and_verify_round_trip_and_the_booth_refuses_what_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let booth = concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml");
    let key = dir.path().join("issuer.key");
    let out = gradbooth(Path::new(booth), &["ticket", "keygen", "--out", key.to_str().unwrap(), "--key-id", "fx1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600, "the secret key is private");
    // The printed config line goes into a copy of the booth's configuration.
    let line = stdout(&out).lines().find(|l| l.starts_with("fx1 = ")).unwrap().to_owned();
    let text =
        std::fs::read_to_string(booth).unwrap().replace("[tickets.issuers]\n", &format!("[tickets.issuers]\n{line}\n"));
    let config = dir.path().join("booth.toml");
    std::fs::write(&config, text).unwrap();

    let png = dir.path().join("ticket.png");
    let issue = |extra: &[&str]| {
        let mut args = vec!["ticket", "issue", "--key", key.to_str().unwrap(), "--key-id", "fx1", "--id", "T-7"];
        args.extend_from_slice(&["--name", "王芳", "--student-no", "2021012345", "--school", "上海师范大学"]);
        args.extend_from_slice(&["--issued", "2025-06-01T09:00:00+08:00"]);
        args.extend_from_slice(extra);
        let o = gradbooth(&config, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        stdout(&o).trim().to_owned()
    };
    let at = ["--at", "2025-06-03T10:00:00+08:00"];
    let good = issue(&["--png", png.to_str().unwrap()]);
    assert!(good.starts_with("GBT1:"));
    assert!(image::open(&png).unwrap().width() > 200, "a printable QR code");
    let o = gradbooth(&config, &[&["ticket", "verify", &good][..], &at].concat());
    assert!(o.status.success() && stdout(&o).starts_with("valid: ticket T-7"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("王芳"), "verify prints no personal data");

    for (extra, refusal) in
        [(&["--site", "xuhui-a"][..], "wrong_site"), (&["--expires", "2025-06-02T09:00:00+08:00"][..], "expired")]
    {
        let o = gradbooth(&config, &[&["ticket", "verify", &issue(extra)][..], &at].concat());
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(stdout(&o).trim(), format!("refused: {refusal}"));
    }
    // The booth's own configuration does not trust this key.
    let o = gradbooth(Path::new(booth), &[&["ticket", "verify", &good][..], &at].concat());
    assert_eq!(stdout(&o).trim(), "refused: bad_signature");
    // A key is never overwritten.
    let again = gradbooth(Path::new(booth), &["ticket", "keygen", "--out", key.to_str().unwrap()]);
    assert!(!again.status.success());
}
