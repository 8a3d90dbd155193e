//! Paid photos leaving the booth. The uploader sends each sealed photo and its sealed manifest
//! from the outbox (`Storage::ready_to_send`) to the configured target — a local directory by
//! default, an S3-compatible object store in production — and only after the target has
//! confirmed both does the journal mark it sent and the local copy go (`Storage::upload_done`).
//!
//! Object keys are fixed by the order (`<booth>/<out_trade_no>.jpg.age`, `….json.age`) and the
//! sealed bytes are made once, so sending again after a crash or a lost answer writes the same
//! object with the same bytes: harmless. The photo goes first; a manifest in the store means
//! its photo is there.

pub mod seal;
pub mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};

use crate::clock::{Backoff, WallClock};
use crate::journal::storage::{SealedPart, Storage, StorageError, sha256_hex};
use crate::net::BoxFuture;

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
    /// Whether the target takes photos now, without storing one: a directory is writable, a
    /// store answers a signed listing of the booth's prefix. Says what it checked.
    fn probe(&self) -> BoxFuture<'_, Result<String, UploadError>>;
}

/// The store's name for a part of a paid photo.
pub fn object_key(booth_id: &str, out_trade_no: &str, part: SealedPart) -> String {
    format!("{booth_id}/{}", part.file_name(out_trade_no))
}

/// A local (or mounted) directory: `<dir>/<booth>/<out_trade_no>.jpg.age`. Written crash-safe
/// (temporary file, fsync, rename, fsync); an object already there with the same bytes is
/// taken as sent, one with other bytes is a conflict and is never overwritten.
#[derive(Clone)]
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
        crate::journal::storage::write_durably(&dir, &name, bytes)?;
        Ok(())
    }
}

impl Target for DirTarget {
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), UploadError>> {
        // Written durably (fsync) on the blocking pool, off the async workers.
        let (me, key) = (self.clone(), key.to_owned());
        Box::pin(crate::journal::storage::off_worker(move || me.put_sync(&key, &bytes)))
    }

    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    fn probe(&self) -> BoxFuture<'_, Result<String, UploadError>> {
        let root = self.root.clone();
        Box::pin(crate::journal::storage::off_worker(move || {
            let io = |path: &Path| {
                let path = path.to_owned();
                move |source| UploadError::Io { path, source }
            };
            std::fs::create_dir_all(&root).map_err(io(&root))?;
            let name = ".gradbooth-probe";
            crate::journal::storage::write_durably(&root, name, b"probe")?;
            std::fs::remove_file(root.join(name)).map_err(io(&root.join(name)))?;
            Ok(format!("directory {} is writable", root.display()))
        }))
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

    fn probe(&self) -> BoxFuture<'_, Result<String, UploadError>> {
        Box::pin(async move {
            let prefix = object_store::path::Path::from(self.prefix.trim_end_matches('/'));
            let listed =
                self.store.list_with_delimiter(Some(&prefix)).await.map_err(|e| UploadError::Store(e.to_string()))?;
            Ok(format!("{}: signed listing answered ({} objects at the top)", self.describe, listed.objects.len()))
        })
    }
}

/// Sends the outbox; `wake` it when a photo has been sealed.
///
/// Each entry backs off on its own: one that fails (a sealed file that no longer matches its
/// hash, an object the store holds with other bytes) waits, doubling from `pace.retry.first` to
/// `pace.retry.max`, while the entries after it go. A refusal that sending again cannot mend is
/// kept in the journal (`refused`, with the error) for the booth's health and a technician.
/// A store that cannot be reached ends the pass: the rest would fail alike.
pub struct Uploader {
    storage: Arc<Storage>,
    target: Arc<dyn Target>,
    booth_id: String,
    wall_clock: WallClock,
    wake: Arc<Notify>,
    pace: Pace,
    /// Entries backing off: when each may be tried again, and its next wait.
    retries: std::sync::Mutex<std::collections::HashMap<String, Retry>>,
}

#[derive(Debug, Clone, Copy)]
struct Retry {
    due: tokio::time::Instant,
    wait: Duration,
}

/// The uploader's rhythm: after a failure it backs off (`retry`: an entry on its own, and the
/// whole pass when the store itself fails); otherwise a look every `idle` (and at once when
/// woken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub retry: Backoff,
    pub idle: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            retry: Backoff { first: Duration::from_secs(1), max: Duration::from_secs(300) },
            idle: Duration::from_secs(60),
        }
    }
}

impl UploadError {
    /// Sending the same entry again will not help: its sealed file is damaged or gone, or the
    /// store holds other bytes under its key. A person must look (the journal keeps why).
    pub fn is_refusal(&self) -> bool {
        matches!(self, UploadError::Corrupt(_) | UploadError::Conflict(_) | UploadError::Io { .. })
    }

    /// The store itself failed (out of reach, refusing every request): the rest of the pass
    /// would fail alike.
    fn is_the_store(&self) -> bool {
        matches!(self, UploadError::Store(_))
    }
}

impl Uploader {
    pub fn new(
        storage: Arc<Storage>,
        target: Arc<dyn Target>,
        booth_id: String,
        wall_clock: WallClock,
        wake: Arc<Notify>,
        pace: Pace,
    ) -> Self {
        Uploader { storage, target, booth_id, wall_clock, wake, pace, retries: Default::default() }
    }

    fn retries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Retry>> {
        self.retries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends every entry that is due, in the order they were paid; an entry that fails backs
    /// off on its own and the others still go. Returns how many photos went, or the store's
    /// error when the store itself failed (the pass ends there).
    pub async fn send_waiting(&self) -> Result<usize, UploadError> {
        let mut sent = 0;
        let now = tokio::time::Instant::now();
        for (no, sha256) in self.storage.blocking(|s| s.ready_to_send()).await? {
            if self.retries().get(&no).is_some_and(|r| r.due > now) {
                continue;
            }
            match self.send_one(&no, &sha256).await {
                Ok(()) => {
                    self.retries().remove(&no);
                    sent += 1;
                }
                // Not this entry's fault: the whole pass waits (`run`'s back-off).
                Err(e) if e.is_the_store() => {
                    self.failed(&no, &e, None).await;
                    return Err(e);
                }
                Err(e) => {
                    let wait = self.pace.retry.after(self.retries().get(&no).map(|r| r.wait));
                    self.retries().insert(no.clone(), Retry { due: tokio::time::Instant::now() + wait, wait });
                    self.failed(&no, &e, Some(wait)).await;
                }
            }
        }
        Ok(sent)
    }

    /// A failed upload: journaled (a refusal is marked so), logged.
    async fn failed(&self, no: &str, e: &UploadError, retry_in: Option<Duration>) {
        let retry_in_s = retry_in.map(|d| d.as_secs());
        let refused = e.is_refusal();
        let (entry, why) = (no.to_owned(), e.to_string());
        let was_refused = match self.storage.blocking(move |s| s.journal().outbox_failed(&entry, &why, refused)).await {
            Ok(was) => was,
            Err(j) => {
                warn!(order = %no, error = %j, "failed upload not recorded");
                false
            }
        };
        match (refused, was_refused) {
            (true, false) => {
                error!(order = %no, error = %e, "upload refused; the photo is kept and a technician must look")
            }
            (true, true) => debug!(order = %no, error = %e, retry_in_s, "upload still refused"),
            (false, _) => warn!(order = %no, error = %e, retry_in_s, "upload failed; will retry"),
        }
    }

    /// When the next entry that is backing off may be tried.
    fn next_due(&self) -> Option<tokio::time::Instant> {
        self.retries().values().map(|r| r.due).min()
    }

    async fn send_one(&self, no: &str, sha256: &str) -> Result<(), UploadError> {
        let (entry, sha256) = (no.to_owned(), sha256.to_owned());
        let parts = self
            .storage
            .blocking(move |s| {
                let mut parts = Vec::with_capacity(2);
                for part in SealedPart::BOTH {
                    let path = s.sealed_path(&entry, part);
                    let bytes =
                        std::fs::read(&path).map_err(|source| UploadError::Io { path: path.clone(), source })?;
                    if part == SealedPart::Photo && sha256_hex(&bytes) != sha256 {
                        return Err(UploadError::Corrupt(path.display().to_string()));
                    }
                    parts.push((part, Bytes::from(bytes)));
                }
                Ok(parts)
            })
            .await?;
        for (part, bytes) in parts {
            self.target.put(&object_key(&self.booth_id, no, part), bytes).await?;
        }
        let (entry, now) = (no.to_owned(), self.wall_clock.now_s());
        self.storage.blocking(move |s| s.upload_done(&entry, now)).await?;
        info!(order = %no, "paid photo uploaded");
        Ok(())
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        info!(target = %self.target.describe(), "uploader started");
        let Pace { retry, idle } = self.pace;
        // The store's own back-off, for a store that cannot be reached.
        let mut wait = retry.first;
        loop {
            let store_failed = match self.send_waiting().await {
                Ok(n) => {
                    if n > 0 {
                        debug!(sent = n, "outbox sent");
                    }
                    false
                }
                Err(e) => {
                    debug!(error = %e, retry_in_s = wait.as_secs(), "the store failed; the pass waits");
                    true
                }
            };
            let pause = if store_failed {
                wait
            } else {
                // An entry backing off is tried when it is due, not only at the next look.
                let due = self.next_due().map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
                due.map_or(idle, |d| d.min(idle))
            };
            wait = if store_failed { retry.after(Some(wait)) } else { retry.first };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// Where paid photos go, from `[upload]` (a directory defaults to `<data_dir>/uploaded`).
pub fn target(settings: &settings::UploadSettings, data_dir: &Path) -> Result<Arc<dyn Target>, UploadError> {
    Ok(match &settings.target {
        settings::UploadTarget::Dir(dir) => {
            Arc::new(DirTarget::new(dir.clone().unwrap_or_else(|| data_dir.join("uploaded"))))
        }
        settings::UploadTarget::S3(s3) => Arc::new(S3Target::new(s3)?),
    })
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

    /// `n` paid photos sealed in `storage`'s outbox, in the order paid; their order numbers.
    fn sealed(storage: &Storage, centre: &crate::upload::seal::Centre, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let ticket = format!("T{i}");
                let j = || storage.journal();
                j().ticket_seen(&ticket, 1).unwrap();
                j().attempt_started(&ticket, 1, 1).unwrap();
                let file = storage.save_photo(&ticket, 1, crate::journal::PhotoKind::Standard, b"jpeg", 1).unwrap();
                let no = crate::payment::out_trade_no("booth", 1_748_916_000 + i as u64);
                let order = crate::journal::NewOrder {
                    out_trade_no: &no,
                    ticket_id: &ticket,
                    photo: Some(&file),
                    amount_fen: 3000,
                };
                j().order_created(&order, 1 + i as i64).unwrap();
                j().order_paid(&no, "4200", 2 + i as i64).unwrap();
                j().visit_ended(&ticket, "paid", true, 2).unwrap();
                storage.seal_paid(centre, "booth", &no, 3).unwrap();
                no
            })
            .collect()
    }

    #[tokio::test]
    async fn a_refused_entry_backs_off_on_its_own_and_the_photos_after_it_still_go() {
        let data = tempfile::tempdir().unwrap();
        let store = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(data.path(), Duration::ZERO, 0).unwrap().0);
        let centre: crate::upload::seal::Centre =
            age::x25519::Identity::generate().to_public().to_string().parse().unwrap();
        let nos = sealed(&storage, &centre, 4);
        // The first is already in the store with other bytes; the second's sealed file was damaged.
        let conflict = store.path().join(object_key("booth", &nos[0], SealedPart::Photo));
        std::fs::create_dir_all(conflict.parent().unwrap()).unwrap();
        std::fs::write(&conflict, b"someone else's photo").unwrap();
        std::fs::write(storage.sealed_path(&nos[1], SealedPart::Photo), b"damaged").unwrap();
        let pace = Pace {
            retry: Backoff { first: Duration::from_millis(300), max: Duration::from_secs(8) },
            idle: Duration::from_secs(60),
        };
        let u = Uploader::new(
            storage.clone(),
            Arc::new(DirTarget::new(store.path())),
            "booth".into(),
            WallClock::System,
            Arc::default(),
            pace,
        );
        assert_eq!(u.send_waiting().await.unwrap(), 2, "the two after the bad ones went");
        let health = storage.upload_health().unwrap();
        assert_eq!(health.waiting, 2);
        let refused: Vec<&str> = health.refused.iter().map(|(no, _)| no.as_str()).collect();
        assert_eq!(refused, [nos[0].as_str(), nos[1].as_str()], "visible as refused, for a technician");
        assert!(health.refused[0].1.contains("other contents") && health.refused[1].1.contains("does not match"));
        // Backing off: not tried again at once …
        let tries = |no: &str| storage.journal().outbox_entry(no).unwrap().unwrap().tries;
        assert_eq!(u.send_waiting().await.unwrap(), 0);
        assert_eq!((tries(&nos[0]), tries(&nos[1])), (1, 1));
        // … but when due; and once the store's copy is cleared up, the photo goes.
        std::fs::remove_file(&conflict).unwrap();
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(u.send_waiting().await.unwrap(), 1);
        assert_eq!(tries(&nos[1]), 2);
        let health = storage.upload_health().unwrap();
        assert_eq!((health.waiting, health.refused.len()), (1, 1));
        assert_eq!(health.most_tries, 2, "the damaged one was tried twice");
        // The damaged one waits longer each time (600 ms now).
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(u.send_waiting().await.unwrap(), 0);
        assert_eq!(tries(&nos[1]), 2, "not due yet");
    }
}
