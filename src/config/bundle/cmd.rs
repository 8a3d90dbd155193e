//! `gradbooth bundle new | verify`: an operator writes a bundle skeleton, signs it with the
//! `minisign` tool, and checks it exactly as the booth will before taking it on a stick.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Change, ChangeKind, Checkpoint, MAX_SIGNATURE, Verified, Warning};

#[derive(clap::Subcommand)]
pub enum BundleCmd {
    /// Write a bundle: the signed header (serial, for whom, when) and the settings it changes
    /// (from FILE, a TOML with only those sections; or an example to edit).
    New {
        #[arg(long)]
        serial: u64,
        /// Booth ids it is for (default: this configuration's booth).
        #[arg(long = "booth")]
        booths: Vec<String>,
        /// Or every booth of this site (`tickets.site`).
        #[arg(long)]
        site: Option<String>,
        /// Not applied after this (RFC 3339).
        #[arg(long)]
        apply_before: Option<chrono::DateTime<chrono::FixedOffset>>,
        #[arg(long, default_value = "")]
        comment: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The settings it changes.
        settings: Option<PathBuf>,
    },
    /// Verify a bundle and its signatures (FILE.minisig, FILE.*.minisig) as this booth would:
    /// its changes, or why not (exit 2 when refused).
    Verify {
        file: PathBuf,
        /// The last serial applied (default: the booth's own, from its data directory).
        #[arg(long)]
        floor: Option<u64>,
        /// The moment to check at (RFC 3339; default now).
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Verify and apply a bundle headless (over ssh): the booth starts on it, on trial, at its
    /// next start (exit 2 when refused).
    Apply { file: PathBuf },
}

/// The signatures beside `file`: `NAME.minisig` and `NAME.<signer>.minisig`.
pub fn signatures_of(file: &Path) -> anyhow::Result<Vec<String>> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = file.file_name().and_then(|n| n.to_str()).context("the bundle's name is not UTF-8")?;
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e?;
        let Some(n) = e.file_name().to_str().map(str::to_owned) else { continue };
        if super::stick::signs(name, &n) {
            let text = std::fs::read(e.path())?;
            anyhow::ensure!(text.len() <= MAX_SIGNATURE, "{n}: larger than a signature");
            found.push(String::from_utf8(text).with_context(|| format!("{n} is not text"))?);
        }
    }
    Ok(found)
}

/// `config`: the base file; `data_dir`: where the booth keeps its generations (default: the
/// configuration's `[storage] data_dir`).
pub fn run(cmd: BundleCmd, config: &Path, data_dir: Option<&Path>) -> anyhow::Result<bool> {
    let (base, data_dir) = crate::config::generations::base_of(config, data_dir, None)?;
    let generations = crate::config::generations::Generations::at(&data_dir);
    let state = generations.state()?;
    // What the booth runs now: the base plus the bundles applied.
    let current = generations.current(&base, None).context("the booth's current configuration")?;
    let current_text = &current.source_text;
    match cmd {
        BundleCmd::New { serial, booths, site, apply_before, comment, out, settings } => {
            let booths = if booths.is_empty() && site.is_none() { vec![current.file.booth.id.clone()] } else { booths };
            let mut text = format!("[bundle]\nserial = {serial}\n");
            if !booths.is_empty() {
                text += &format!("booths = {:?}\n", booths);
            }
            if let Some(site) = site {
                text += &format!("site = {site:?}\n");
            }
            text += &format!(
                "issued_at = \"{}\"\n",
                chrono::Local::now().fixed_offset().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
            );
            if let Some(t) = apply_before {
                text += &format!("apply_before = \"{}\"\n", t.to_rfc3339());
            }
            text += &format!("comment = {comment:?}\n\n");
            text += &match settings {
                Some(p) => std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?,
                None => "# The settings this bundle changes, e.g.:\n# [service]\n# period_start = \"2026-12-01\"\n# period_end = \"2026-12-31\"\n".into(),
            };
            // What it says must read back as a bundle.
            super::read(text.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
            println!("bundle {} written; sign it with: minisign -S -s YOUR.key -m {}", out.display(), out.display());
            Ok(true)
        }
        BundleCmd::Verify { file, floor, at } => {
            let now = at.unwrap_or_else(|| chrono::Local::now().fixed_offset());
            let checkpoint =
                Checkpoint { current_text, current: &current, serial_floor: floor.unwrap_or(state.floor), now };
            Ok(check(&file, &checkpoint)?.is_some())
        }
        BundleCmd::Apply { file } => {
            let now = chrono::Local::now().fixed_offset();
            let checkpoint = Checkpoint { current_text, current: &current, serial_floor: state.floor, now };
            let Some((v, bytes)) = check(&file, &checkpoint)? else { return Ok(false) };
            let s = generations.apply(&v, &bytes)?;
            println!("applied: generation {:?}, on trial from the booth's next start", s.applied);
            Ok(true)
        }
    }
}

/// Reads `file` once into memory with its signatures and verifies it: what it changes, or why not.
fn check(file: &Path, at: &Checkpoint) -> anyhow::Result<Option<(Verified, Vec<u8>)>> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let sigs = signatures_of(file)?;
    match super::verify(&bytes, &sigs, at) {
        Ok(v) => {
            print!("{}", describe(&v));
            Ok(Some((v, bytes)))
        }
        Err(r) => {
            println!("refused: {} — {r}", r.code());
            Ok(None)
        }
    }
}

fn describe(v: &Verified) -> String {
    let mut out = format!(
        "valid: serial {}, signed by {}, hash {}\n",
        v.header.serial,
        v.signers.iter().cloned().collect::<Vec<_>>().join(" + "),
        v.short_hash()
    );
    if !v.header.comment.is_empty() {
        out += &format!("comment: {}\n", v.header.comment);
    }
    for Change { key, before, after, kind } in &v.changes {
        let tag = match kind {
            ChangeKind::Everyday => "",
            ChangeKind::Money => "  [money]",
            ChangeKind::Trust => "  [trust]",
        };
        out += &format!("  {key}: {} → {after}{tag}\n", before.as_deref().unwrap_or("(none)"));
    }
    for w in &v.warnings {
        out += &match w {
            Warning::PeriodAlreadyEnded => "warning: the service period has already ended\n".to_owned(),
            Warning::PriceJump { before, after } => format!(
                "warning: the price changes by more than half ({} → {} yuan)\n",
                crate::screen::yuan(*before),
                crate::screen::yuan(*after)
            ),
        };
    }
    out
}
