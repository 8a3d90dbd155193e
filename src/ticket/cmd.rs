//! `gradbooth ticket keygen | issue | verify`: for operators (keys), the issuing platform's
//! tests, and the demo. Secret keys are files of 64 hex digits (the Ed25519 seed), written
//! with mode 0600; public keys are printed as the `[tickets.issuers]` line they belong in.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ed25519_dalek::SigningKey;

use crate::ticket::{self, Checkpoint, Claims, Keyring};

/// `gradbooth ticket …`.
#[derive(clap::Subcommand)]
pub enum TicketCmd {
    /// Make an issuer key pair: the secret into --out (mode 0600), the public key printed.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The key id tickets will name (printed in the config line).
        #[arg(long, default_value = "issuer")]
        key_id: String,
    },
    /// Issue a ticket: prints the QR text; --png also writes the code as an image.
    Issue {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[arg(long, default_value = "issuer")]
        key_id: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// The full student number; the ticket carries it masked (2022****56).
        #[arg(long)]
        student_no: String,
        #[arg(long)]
        school: String,
        /// The site it is valid at (default: this configuration's `tickets.site`).
        #[arg(long)]
        site: Option<String>,
        /// Valid from (RFC 3339; default now).
        #[arg(long)]
        issued: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Valid until (RFC 3339; default 30 days after --issued).
        #[arg(long)]
        expires: Option<chrono::DateTime<chrono::FixedOffset>>,
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
    },
    /// Verify a ticket's text as this booth would (exit 2 when refused).
    Verify(VerifyArgs),
}

/// A signed code to check as this booth would, and when.
#[derive(clap::Args)]
pub struct VerifyArgs {
    pub text: String,
    /// The moment to check at (RFC 3339; default now).
    #[arg(long)]
    pub at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

impl VerifyArgs {
    /// The moment to check at, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.at.map_or_else(|| chrono::Utc::now().timestamp(), |t| t.timestamp())
    }
}

/// Runs `cmd`; `booth` gives this booth's ticket settings (its site and trusted issuers) when
/// the command needs them.
pub fn run(cmd: TicketCmd, booth: impl FnOnce() -> anyhow::Result<(String, Keyring)>) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    match cmd {
        TicketCmd::Keygen { out: file, key_id } => keygen(&file, &key_id, out),
        TicketCmd::Issue { key, key_id, id, name, student_no, school, site, issued, expires, png } => {
            let site = match site {
                Some(s) => s,
                None => booth()?.0,
            };
            let issued = issued.map_or_else(|| chrono::Utc::now().timestamp(), |t| t.timestamp());
            let expires = expires.map_or(issued + 30 * 86400, |t| t.timestamp());
            let secs = |t: i64| u32::try_from(t).context("times must lie between 1970 and 2106");
            let claims = ticket::Claims {
                key_id,
                id,
                name,
                student_no_masked: ticket::mask(&student_no),
                school,
                photo_type: ticket::PHOTO_GRADUATE,
                site,
                issued_at: secs(issued)?,
                expires_at: secs(expires)?,
            };
            claims.check().map_err(anyhow::Error::msg)?;
            issue(&key, &claims, png.as_deref(), out).map(|_| ())
        }
        TicketCmd::Verify(v) => {
            let (site, issuers) = booth()?;
            if !verify(&v.text, &issuers, &site, v.now(), out)? {
                std::process::exit(2);
            }
            Ok(())
        }
    }
}

pub fn keygen(out: &Path, key_id: &str, w: &mut dyn Write) -> anyhow::Result<()> {
    keygen_for(out, key_id, "tickets.issuers", "the issuing platform", w)
}

/// A key pair whose public half belongs in the config's `[section]`; `holder` keeps the secret.
pub fn keygen_for(out: &Path, key_id: &str, section: &str, holder: &str, w: &mut dyn Write) -> anyhow::Result<()> {
    if out.exists() {
        bail!("{} exists; not overwriting a key", out.display());
    }
    let key = ticket::generate_key();
    write_secret(out, &data_encoding::HEXLOWER.encode(&key.to_bytes()))?;
    writeln!(w, "secret key written to {} (keep it with {holder} only)", out.display())?;
    writeln!(
        w,
        "trust it in the booth's config:\n[{section}]\n{key_id} = \"{}\"",
        ticket::public_key_hex(&key.verifying_key())
    )?;
    Ok(())
}

fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(f, "{text}")?;
    f.sync_all()?;
    Ok(())
}

pub fn load_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.trim().as_bytes())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .with_context(|| {
            format!("{}: expected 64 hex digits (a key from `gradbooth ticket keygen`)", path.display())
        })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Signs `claims` with the key in `key_file`; writes the QR code as PNG when asked.
pub fn issue(key_file: &Path, claims: &Claims, png: Option<&Path>, w: &mut dyn Write) -> anyhow::Result<String> {
    let key = load_key(key_file)?;
    let text = ticket::issue(&key, claims);
    if let Some(path) = png {
        write_png(&text, path)?;
    }
    writeln!(w, "{text}")?;
    Ok(text)
}

/// A signed code as a QR code image (PNG), for printing or a phone's screen.
pub fn write_png(text: &str, path: &Path) -> anyhow::Result<()> {
    let img = crate::screen::qr::render(text, qrcode::EcLevel::M, 8).context("the code does not fit a QR code")?;
    img.save(path).with_context(|| format!("writing {}", path.display()))
}

/// Checks a ticket as the booth would; `Err` names the refusal.
pub fn verify(text: &str, keys: &Keyring, site: &str, now: i64, w: &mut dyn Write) -> anyhow::Result<bool> {
    match ticket::verify(text, &Checkpoint { keys, site, now }) {
        Ok(c) => {
            writeln!(
                w,
                "valid: ticket {} (key {}), site {}, photo type {}, valid until {}",
                c.id,
                c.key_id,
                c.site,
                c.photo_type,
                chrono::DateTime::from_timestamp(c.expires_at as i64, 0).map(|t| t.to_rfc3339()).unwrap_or_default()
            )?;
            Ok(true)
        }
        Err(r) => {
            writeln!(w, "refused: {}", r.code())?;
            Ok(false)
        }
    }
}
