//! `gradbooth service-code keygen | issue | verify`: for whoever runs the technicians (keys,
//! codes for one day at most) and for a technician checking a code before the trip.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::code::{self, Revoked, ServiceCheckpoint, ServiceClaims};
use crate::ticket::Keyring;
use crate::ticket::cmd::{VerifyArgs, keygen_for, load_key, write_png};

/// `gradbooth service-code …`.
#[derive(clap::Subcommand)]
pub enum ServiceCodeCmd {
    /// Make a service key pair: the secret into --out (mode 0600), the public key printed as
    /// its `[diagnostics.issuers]` line.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long, default_value = "service")]
        key_id: String,
    },
    /// Issue a service code for one technician: prints the QR text; --png also writes the image.
    Issue {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[arg(long, default_value = "service")]
        key_id: String,
        /// The technician's staff id (audited at the booth).
        #[arg(long)]
        technician: String,
        /// A site it opens (repeat for several; default: this configuration's `tickets.site`).
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Hours it is valid from now (at most 24).
        #[arg(long, default_value_t = 8)]
        hours: u32,
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
    },
    /// Verify a service code's text as this booth would (exit 2 when refused).
    Verify(VerifyArgs),
}

/// What a booth checks a service code against.
pub struct BoothKeys {
    pub site: String,
    pub issuers: Keyring,
    pub revoked: Revoked,
}

pub fn run(cmd: ServiceCodeCmd, booth: impl FnOnce() -> anyhow::Result<BoothKeys>) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    match cmd {
        ServiceCodeCmd::Keygen { out: file, key_id } => {
            keygen_for(&file, &key_id, "diagnostics.issuers", "whoever issues service codes", out)
        }
        ServiceCodeCmd::Issue { key, key_id, technician, sites, hours, png } => {
            let sites = if sites.is_empty() { vec![booth()?.site] } else { sites };
            let now = chrono::Utc::now().timestamp();
            let secs = |t: i64| u32::try_from(t).context("times must lie between 1970 and 2106");
            let claims = ServiceClaims {
                key_id,
                technician,
                sites,
                not_before: secs(now)?,
                expires_at: secs(now + i64::from(hours) * 3600)?,
                nonce: code::nonce(),
            };
            claims.check().map_err(anyhow::Error::msg)?;
            let text = code::issue(&load_key(&key)?, &claims);
            if let Some(path) = png {
                write_png(&text, &path)?;
            }
            writeln!(out, "{text}")?;
            Ok(())
        }
        ServiceCodeCmd::Verify(v) => {
            let keys = booth()?;
            let at = ServiceCheckpoint { keys: &keys.issuers, revoked: &keys.revoked, site: &keys.site, now: v.now() };
            match code::verify(&v.text, &at) {
                Ok(c) => {
                    let until = chrono::DateTime::from_timestamp(c.expires_at as i64, 0).map(|t| t.to_rfc3339());
                    writeln!(
                        out,
                        "valid: service code of technician {} (key {}, nonce {}), sites {}, until {}",
                        c.technician,
                        c.key_id,
                        c.nonce_hex(),
                        c.sites.join(", "),
                        until.unwrap_or_default()
                    )?;
                    Ok(())
                }
                Err(r) => {
                    writeln!(out, "refused: {}", r.code())?;
                    std::process::exit(2);
                }
            }
        }
    }
}
