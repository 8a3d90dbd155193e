//! `[upload]`: the collection centre's age key (never the public test centre's on a real
//! booth) and where sealed photos go — a directory or an S3-compatible store.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::validate::{Invalid, invalid, read_key_file};

/// The collection centre and how paid photos reach it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadFile {
    /// The centre's age X25519 recipient (`age1…`).
    recipient: String,
    #[serde(default)]
    target: TargetKind,
    /// The local directory target; empty = `<data_dir>/uploaded`.
    #[serde(default)]
    dir: String,
    #[serde(default)]
    s3: Option<S3File>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    #[default]
    Dir,
    S3,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3File {
    endpoint: String,
    bucket: String,
    #[serde(default = "default_region")]
    region: String,
    access_key_id: String,
    /// A file holding the secret access key (kept out of the configuration).
    secret_access_key_file: String,
    #[serde(default)]
    prefix: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// The public key of `config/test-centre.key`, whose identity is in the repository: the
/// simulated booth may seal to it, a real booth must not.
pub const TEST_CENTRE: &str = "age1thff052nml9nmt87fkmwzzsfy269hl0acvkvnuwz2yx5f7xnlpsq7ndh8j";

#[derive(Debug, Clone)]
pub enum UploadTarget {
    /// A local directory; `None`: `<data_dir>/uploaded`.
    Dir(Option<PathBuf>),
    S3(super::S3Settings),
}

#[derive(Debug, Clone)]
pub struct UploadSettings {
    pub centre: std::sync::Arc<super::seal::Centre>,
    pub target: UploadTarget,
}

impl UploadFile {
    /// `real`: a real booth (it refuses the test centre).
    pub fn validate(&self, real: bool) -> Result<UploadSettings, Invalid> {
        let centre: super::seal::Centre = self.recipient.parse().map_err(|e: super::seal::SealError| {
            invalid("upload.recipient", format!("{:?}", self.recipient), e.to_string())
        })?;
        if real && self.recipient.trim() == TEST_CENTRE {
            return Err(invalid(
                "upload.recipient",
                TEST_CENTRE,
                "the test centre's identity is public (config/test-centre.key): the collection centre's own age1… key",
            ));
        }
        let target = match (self.target, &self.s3) {
            (TargetKind::Dir, _) => {
                UploadTarget::Dir(Some(PathBuf::from(self.dir.trim())).filter(|d| !d.as_os_str().is_empty()))
            }
            (TargetKind::S3, None) => return Err(invalid("upload.target", "\"s3\"", "the store in [upload.s3]")),
            (TargetKind::S3, Some(s)) => {
                let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
                if !s.endpoint.starts_with("https://") && !loopback.iter().any(|l| s.endpoint.starts_with(l)) {
                    return Err(invalid(
                        "upload.s3.endpoint",
                        format!("{:?}", s.endpoint),
                        "an https:// URL (plain http only on this machine's loopback)",
                    ));
                }
                if s.bucket.trim().is_empty() || s.access_key_id.trim().is_empty() {
                    return Err(invalid("upload.s3", "bucket / access_key_id", "both set"));
                }
                if !(s.prefix.is_empty() || s.prefix.ends_with('/')) {
                    return Err(invalid("upload.s3.prefix", format!("{:?}", s.prefix), "empty or ending in \"/\""));
                }
                let secret = read_key_file("upload.s3.secret_access_key_file", &s.secret_access_key_file)?;
                UploadTarget::S3(super::S3Settings {
                    endpoint: s.endpoint.clone(),
                    bucket: s.bucket.clone(),
                    region: s.region.clone(),
                    access_key_id: s.access_key_id.clone(),
                    secret_access_key: secret.trim().to_owned(),
                    prefix: s.prefix.clone(),
                    timeout: Duration::from_secs(30),
                })
            }
        };
        Ok(UploadSettings { centre: std::sync::Arc::new(centre), target })
    }
}
