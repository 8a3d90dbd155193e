//! The booth's records for the office, onto a stick (the desk's export) or any directory
//! (`gradbooth export --to DIR`): the audit log, the configuration history (the applied
//! bundles and the state), statistics per day (CSV), the last self-test report, the booth's
//! recent log — counts, codes and log lines only: **no names, student numbers or photos**. Into `DIR/gradbooth/export/<booth>-<date>/`, each file written
//! under a temporary name and renamed, with `SHA256SUMS` signed by the booth's own minisign key
//! (`<data_dir>/export.key`, made at the first export; its public half is `booth.pub`, for
//! `minisign -V -p booth.pub -m SHA256SUMS`).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::Settings;
use crate::journal::Journal;
use crate::journal::storage::{sha256_hex, write_durably};

/// The reasons a photo did not pass, as columns of the statistics.
fn reason_codes() -> Vec<&'static str> {
    crate::review::checks::CHECKS.iter().map(|c| c.code).collect()
}

/// The booth's own export key: made on first use, kept in the data directory (mode 0600).
fn booth_key(data_dir: &Path) -> anyhow::Result<(minisign::PublicKey, minisign::SecretKey)> {
    let (sk_path, pk_path) = (data_dir.join("export.key"), data_dir.join("export.pub"));
    if !sk_path.exists() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().map_err(|e| anyhow::anyhow!("{e}"))?;
        let sk = kp.sk.to_box(Some("gradbooth booth export key")).map_err(|e| anyhow::anyhow!("{e}"))?;
        let pk = kp.pk.to_box().map_err(|e| anyhow::anyhow!("{e}"))?;
        write_durably(data_dir, "export.key", sk.into_string().as_bytes())?;
        write_durably(data_dir, "export.pub", pk.into_string().as_bytes())?;
    }
    let sk_box =
        minisign::SecretKeyBox::from_string(&std::fs::read_to_string(&sk_path)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sk =
        minisign::SecretKey::from_unencrypted_box(sk_box).map_err(|e| anyhow::anyhow!("{}: {e}", sk_path.display()))?;
    let pk_box =
        minisign::PublicKeyBox::from_string(&std::fs::read_to_string(&pk_path)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let pk = minisign::PublicKey::from_box(pk_box).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((pk, sk))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Writes the export; returns its folder. `progress(done, total)` hears of each file written.
pub fn run(settings: &Settings, to: &Path, progress: &mut dyn FnMut(u32, u32)) -> anyhow::Result<PathBuf> {
    let data_dir = &settings.data_dir;
    let journal = Journal::open_dir(data_dir).context("the booth's journal")?;
    let offset = settings.schedule.offset;
    let now = chrono::Utc::now().with_timezone(&offset);
    let booth = &settings.file.booth.id;
    let dir = to.join("gradbooth").join("export").join(format!("{booth}-{}", now.format("%Y-%m-%d")));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();

    let mut audit = String::from("at,actor,action,detail\n");
    for (at, actor, action, detail) in journal.audit_log(1_000_000)?.into_iter().rev() {
        let t =
            chrono::DateTime::from_timestamp(at, 0).map(|t| t.with_timezone(&offset).to_rfc3339()).unwrap_or_default();
        audit += &format!("{t},{},{},{}\n", csv_field(&actor), csv_field(&action), csv_field(&detail));
    }
    files.push(("audit.csv".into(), audit.into_bytes()));

    let reasons = reason_codes();
    let mut stats = String::from("day,visits,attempts,reviews,passed,paid_orders,takings_yuan");
    for r in &reasons {
        stats += &format!(",{r}");
    }
    stats.push('\n');
    for (day, c) in journal.per_day(offset.local_minus_utc() as i64)? {
        stats += &format!(
            "{day},{},{},{},{},{},{}",
            c.visits,
            c.attempts,
            c.reviews,
            c.reviews_passed,
            c.orders_paid,
            crate::screen::yuan(c.takings_fen.max(0) as u32)
        );
        for r in &reasons {
            stats += &format!(",{}", c.reasons.get(*r).copied().unwrap_or(0));
        }
        stats.push('\n');
    }
    files.push(("stats.csv".into(), stats.into_bytes()));

    // The configuration history: the state and every bundle applied.
    let config = data_dir.join("config");
    if let Ok(state) = std::fs::read(config.join("state.json")) {
        files.push(("config-state.json".into(), state));
    }
    if let Ok(entries) = std::fs::read_dir(config.join("bundles")) {
        let mut names: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let name = format!("bundle-{}", p.file_name().unwrap_or_default().to_string_lossy());
            files.push((name, std::fs::read(&p)?));
        }
    }
    // The newest self-test report.
    if let Ok(entries) = std::fs::read_dir(data_dir.join("reports"))
        && let Some(newest) = entries.filter_map(|e| e.ok()).map(|e| e.path()).max()
    {
        files.push(("selftest.json".into(), std::fs::read(newest)?));
    }

    // The booth's recent log (this process's; `gradbooth export` run beside the booth has none).
    let log = super::log::recent();
    if !log.is_empty() {
        files.push(("recent.log".into(), (log.join("\n") + "\n").into_bytes()));
    }

    let (pk, sk) = booth_key(data_dir)?;
    let mut sums = String::new();
    // The files, then SHA256SUMS, its signature and the booth's public key.
    let total = files.len() as u32 + 3;
    for (i, (name, bytes)) in files.iter().enumerate() {
        write_durably(&dir, name, bytes).with_context(|| format!("writing {name}"))?;
        sums += &format!("{}  {name}\n", sha256_hex(bytes));
        progress(i as u32 + 1, total);
    }
    let signature = minisign::sign(
        Some(&pk),
        &sk,
        Cursor::new(sums.as_bytes()),
        Some(&format!("gradbooth export of booth {booth} at {}", now.to_rfc3339())),
        Some("signature from the gradbooth booth export key"),
    )
    .map_err(|e| anyhow::anyhow!("signing SHA256SUMS: {e}"))?;
    write_durably(&dir, "SHA256SUMS", sums.as_bytes())?;
    progress(total - 2, total);
    write_durably(&dir, "SHA256SUMS.minisig", signature.into_string().as_bytes())?;
    progress(total - 1, total);
    write_durably(&dir, "booth.pub", &std::fs::read(data_dir.join("export.pub"))?)?;
    progress(total, total);
    Ok(dir)
}
