//! Paid photos leaving the booth. The uploader sends each sealed photo and its sealed manifest
//! from the outbox (`Storage::ready_to_send`) to the configured target — a local directory by
//! default, an S3-compatible object store in production — and only after the target has
//! confirmed both does the journal mark it sent and the local copy go (`Storage::upload_done`).
//!
//! Object keys are fixed by the order (`<booth>/<out_trade_no>.jpg.age`, `….json.age`) and the
//! sealed bytes are made once, so sending again after a crash or a lost answer writes the same
//! object with the same bytes: harmless. The photo goes first; a manifest in the store means
//! its photo is there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};

use crate::payment::BoxFuture;
use crate::runtime::WallClock;
use crate::storage::{SealedPart, Storage, StorageError, sha256_hex};

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("object store: {0}")]
    Store(String),
    #[error("{0} is already in the store with other contents")]
    Conflict(String),
    #[error("the sealed file {0} does not match the hash journaled when it was sealed")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where the outbox goes.
pub trait Target: Send + Sync {
    /// Stores `bytes` under `key`; done only once the target has them durably. Storing the
    /// same bytes under the same key again is harmless.
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), UploadError>>;
    /// For the log: where this target is.
    fn describe(&self) -> String;
}

/// The store's name for a part of a paid photo.
pub fn object_key(booth_id: &str, out_trade_no: &str, part: SealedPart) -> String {
    format!("{booth_id}/{}", part.file_name(out_trade_no))
}

/// A local (or mounted) directory: `<dir>/<booth>/<out_trade_no>.jpg.age`. Written crash-safe
/// (temporary file, fsync, rename, fsync); an object already there with the same bytes is
/// taken as sent, one with other bytes is a conflict and is never overwritten.
pub struct DirTarget {
    root: PathBuf,
}

impl DirTarget {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirTarget { root: root.into() }
    }

    fn put_sync(&self, key: &str, bytes: &[u8]) -> Result<(), UploadError> {
        let path = self.root.join(key);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| UploadError::Io { path, source }
        };
        let dir = path.parent().unwrap_or(&self.root).to_owned();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        match std::fs::read(&path) {
            Ok(existing) if existing == bytes => return Ok(()),
            Ok(_) => return Err(UploadError::Conflict(key.into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // A temporary file left by a put that was cut short.
        let tmp = dir.join(format!("{name}.tmp"));
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp)(e)),
            _ => {}
        }
        crate::storage::write_durably(&dir, &name, bytes)?;
        Ok(())
    }
}

impl Target for DirTarget {
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), UploadError>> {
        Box::pin(async move { self.put_sync(key, &bytes) })
    }

    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }
}

/// What an S3-compatible store needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `https://…` (plain `http://` only on loopback, for tests).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Prepended to every key (`""` or ending in `/`).
    pub prefix: String,
    /// The longest one request may take.
    pub timeout: Duration,
}

/// An S3-compatible object store through `object_store` (SigV4, path-style requests).
pub struct S3Target {
    store: AmazonS3,
    describe: String,
    prefix: String,
}

impl S3Target {
    pub fn new(s: &S3Settings) -> Result<Self, UploadError> {
        crate::net::init();
        let options = ClientOptions::new()
            .with_allow_http(s.endpoint.starts_with("http://"))
            .with_timeout(s.timeout)
            .with_connect_timeout(s.timeout.min(Duration::from_secs(5)));
        // The uploader retries with its own back-off; one quick retry here covers a dropped
        // connection.
        let retry = RetryConfig { max_retries: 1, retry_timeout: s.timeout * 2, ..RetryConfig::default() };
        let store = AmazonS3Builder::new()
            .with_endpoint(&s.endpoint)
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_access_key_id(&s.access_key_id)
            .with_secret_access_key(&s.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_client_options(options)
            .with_retry(retry)
            .build()
            .map_err(|e| UploadError::Store(e.to_string()))?;
        Ok(S3Target { store, describe: format!("s3 {} bucket {}", s.endpoint, s.bucket), prefix: s.prefix.clone() })
    }
}

impl Target for S3Target {
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), UploadError>> {
        Box::pin(async move {
            let path = object_store::path::Path::from(format!("{}{key}", self.prefix));
            self.store.put(&path, PutPayload::from(bytes)).await.map_err(|e| UploadError::Store(e.to_string()))?;
            Ok(())
        })
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

/// Sends the outbox; `wake` it when a photo has been sealed.
pub struct Uploader {
    pub storage: Arc<Storage>,
    pub target: Arc<dyn Target>,
    pub booth_id: String,
    pub wall_clock: WallClock,
    pub wake: Arc<Notify>,
    pub backoff: Backoff,
}

/// Waits between passes: after a failure from `first`, doubling up to `max`; otherwise a look
/// every `idle` (and at once when woken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub idle: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { first: Duration::from_secs(1), max: Duration::from_secs(300), idle: Duration::from_secs(60) }
    }
}

impl Uploader {
    /// Sends everything waiting, in the order it was paid; stops at the first failure (the rest
    /// waits for the next pass). Returns how many photos went.
    pub async fn send_waiting(&self) -> Result<usize, UploadError> {
        let mut sent = 0;
        for (no, sha256) in self.storage.ready_to_send()? {
            match self.send_one(&no, &sha256).await {
                Ok(()) => sent += 1,
                Err(e) => {
                    if let Err(j) = self.storage.journal().outbox_failed(&no) {
                        warn!(order = %no, error = %j, "failed upload not recorded");
                    }
                    return Err(e);
                }
            }
        }
        Ok(sent)
    }

    async fn send_one(&self, no: &str, sha256: &str) -> Result<(), UploadError> {
        let mut parts = Vec::with_capacity(2);
        for part in SealedPart::BOTH {
            let path = self.storage.sealed_path(no, part);
            let bytes = std::fs::read(&path).map_err(|source| UploadError::Io { path: path.clone(), source })?;
            if part == SealedPart::Photo && sha256_hex(&bytes) != sha256 {
                return Err(UploadError::Corrupt(path.display().to_string()));
            }
            parts.push((part, Bytes::from(bytes)));
        }
        for (part, bytes) in parts {
            self.target.put(&object_key(&self.booth_id, no, part), bytes).await?;
        }
        self.storage.upload_done(no, self.wall_clock.now().timestamp())?;
        info!(order = %no, "paid photo uploaded");
        Ok(())
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        info!(target = %self.target.describe(), "uploader started");
        let Backoff { first, max, idle } = self.backoff;
        let mut wait = first;
        loop {
            let failed = match self.send_waiting().await {
                Ok(0) => false,
                Ok(n) => {
                    debug!(sent = n, "outbox sent");
                    false
                }
                Err(e) => {
                    match &e {
                        UploadError::Corrupt(_) | UploadError::Conflict(_) => {
                            error!(error = %e, "upload refused; kept")
                        }
                        _ => warn!(error = %e, retry_in_s = wait.as_secs(), "upload failed; will retry"),
                    }
                    true
                }
            };
            let pause = if failed { wait } else { idle };
            wait = if failed { (wait * 2).min(max) } else { first };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_directory_store_takes_an_object_once_and_never_overwrites_another() {
        let dir = tempfile::tempdir().unwrap();
        let t = DirTarget::new(dir.path());
        let key = "booth/O-1.jpg.age";
        // A put cut short earlier left its temporary file.
        std::fs::create_dir_all(dir.path().join("booth")).unwrap();
        std::fs::write(dir.path().join("booth/O-1.jpg.age.tmp"), b"half").unwrap();
        t.put(key, Bytes::from_static(b"sealed")).await.unwrap();
        assert_eq!(std::fs::read(dir.path().join(key)).unwrap(), b"sealed");
        assert!(!dir.path().join("booth/O-1.jpg.age.tmp").exists());
        t.put(key, Bytes::from_static(b"sealed")).await.unwrap();
        let err = t.put(key, Bytes::from_static(b"other")).await.unwrap_err();
        assert!(matches!(err, UploadError::Conflict(_)), "{err}");
        assert_eq!(std::fs::read(dir.path().join(key)).unwrap(), b"sealed");
    }
}
