//! The booth's data directory: the journal and the photo files it points at.
//!
//! ```text
//! data_dir/
//!   lock                             held by the one process that owns the directory
//!   journal.sqlite3 (+ -wal, -shm)   the journal (src/journal/mod.rs)
//!   photos/<16 hex>.jpg              captures and standard photos, named at random
//!   photos/<16 hex>.jpg.tmp          a photo being written (removed at start-up)
//!   outbox/<out_trade_no>.jpg.age    a paid photo sealed to the collection centre (age)
//!   outbox/<out_trade_no>.json.age   its manifest, sealed likewise
//! ```
//!
//! A photo is written crash-safe — temporary file, fsync, rename, fsync the directory — and
//! only then does the journal get the row that points at it. So at any instant a power cut
//! leaves a photo either complete with its row, complete without a row (an orphan) or as a
//! `.tmp`; `recover` at start-up removes the last two and closes the visits the cut left open.
//!
//! Photos live only as long as they must: a visit's captures and unpaid photos are deleted
//! when it ends (an unpaid standard photo may be kept for `unpaid_retention`, and a photo whose
//! payment order is not settled yet stays until it is). A paid standard photo is sealed
//! (`seal_paid`: photo and manifest encrypted with age to the collection centre, written
//! crash-safe, the hash in the journal, then the plain file deleted) and the sealed files wait
//! in `outbox/` until the store has confirmed them (`upload_done`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tracing::{error, info, warn};

use crate::journal::{Journal, JournalError, PhotoKind, PhotoRow};

/// What the collection centre learns about a photo besides the photo itself. No name and no
/// student number: the ticket id links it to the graduate at the centre.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub ticket_id: String,
    pub booth_id: String,
    /// Unix seconds.
    pub captured_at: i64,
    pub paid_at: i64,
    pub out_trade_no: String,
    pub transaction_id: String,
    /// The review's measures of the capture (names as in `review::measures`).
    pub measures: BTreeMap<String, f32>,
}

/// What seals a paid photo and its manifest for the collection centre (`upload::seal::Centre`):
/// (`….jpg.age`, `….json.age`).
pub trait Sealer {
    fn seal_photo(&self, jpeg: &[u8], manifest: &Manifest) -> Result<(Vec<u8>, Vec<u8>), String>;
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("photo file {path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("{path} is in use by another gradbooth process (one booth, one data directory)")]
    InUse { path: PathBuf },
    #[error("sealing the paid photo of order {out_trade_no}: {source}")]
    Seal { out_trade_no: String, source: Box<dyn std::error::Error + Send + Sync> },
    #[error("the paid photo of order {0} is not in the journal")]
    NotPaid(String),
    #[error("the journal opened: there is nothing to set aside")]
    NotBroken,
}

/// What start-up found and put right after the booth last stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Visits the booth stopped in the middle of, now closed (their attempts stay counted).
    pub visits_closed: usize,
    /// Half-written photo files removed.
    pub partial_files: usize,
    /// Complete photo files the journal never recorded, removed.
    pub orphan_files: usize,
    /// Unpaid photos deleted (their visit is over).
    pub unpaid_deleted: usize,
    /// Paid photos whose file is gone — must never happen; logged as an error.
    pub paid_missing: usize,
    /// Payment orders never seen settled, to be asked about again.
    pub unsettled_orders: usize,
    /// Sealed files that no waiting outbox entry accounts for (sealed again or already sent),
    /// and half-written ones, removed.
    pub stray_sealed_files: usize,
    /// Sealed files of orders the journal does not know at all (a journal lost or replaced):
    /// never deleted — moved to `outbox-unpaired/` for a person.
    pub sealed_set_aside: usize,
    /// Paid photos still in plain form after sealing, deleted.
    pub plaintext_deleted: usize,
}

impl Recovery {
    /// Nothing was left to put right (unpaid photos going and orders to settle are routine).
    pub fn is_clean(&self) -> bool {
        self.visits_closed == 0
            && self.partial_files == 0
            && self.orphan_files == 0
            && self.paid_missing == 0
            && self.stray_sealed_files == 0
            && self.sealed_set_aside == 0
            && self.plaintext_deleted == 0
    }
}

/// Locks the data directory for this process (its photo directories made first). Recovery
/// deletes files it cannot account for: only one process may own the directory.
fn lock_dir(data_dir: &Path) -> Result<fs::File, StorageError> {
    for dir in [data_dir.join("photos"), data_dir.join("outbox")] {
        fs::create_dir_all(&dir).map_err(|source| StorageError::File { path: dir.clone(), source })?;
    }
    let lock_path = data_dir.join("lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| StorageError::File { path: lock_path.clone(), source })?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(StorageError::InUse { path: data_dir.into() }),
        Err(fs::TryLockError::Error(source)) => Err(StorageError::File { path: lock_path, source }),
    }
}

pub struct Storage {
    /// Held (locked) while this process owns the data directory.
    _lock: fs::File,
    journal: Mutex<Journal>,
    photos: PathBuf,
    outbox: PathBuf,
    unpaid_retention: Duration,
    /// Held while a paid photo is sealed: the payment path and the minute-by-minute sweep may
    /// both find an order "not sealed yet", and two writers would leave one's bytes on disk
    /// and the other's hash in the journal (an upload refused for ever). One seal at a time
    /// (a few milliseconds each) makes sealing single-flight for every order.
    sealing: Mutex<()>,
    data_dir: PathBuf,
    /// The journal could not be opened (why): the booth runs on a scratch one (`aside`).
    broken: Mutex<Option<String>>,
}

/// The two sealed files of a paid photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedPart {
    Photo,
    Manifest,
}

impl SealedPart {
    pub const BOTH: [SealedPart; 2] = [SealedPart::Photo, SealedPart::Manifest];
    pub fn file_name(self, out_trade_no: &str) -> String {
        match self {
            SealedPart::Photo => format!("{out_trade_no}.jpg.age"),
            SealedPart::Manifest => format!("{out_trade_no}.json.age"),
        }
    }
}

impl Storage {
    /// Opens the journal and the photo directory in `data_dir` and recovers from whatever state
    /// the last stop left (`now`: wall-clock seconds).
    pub fn open(data_dir: &Path, unpaid_retention: Duration, now: i64) -> Result<(Self, Recovery), StorageError> {
        let lock = lock_dir(data_dir)?;
        let journal = Journal::open_dir(data_dir)?;
        let storage = Storage::assemble(lock, journal, data_dir, unpaid_retention, None);
        let recovery = storage.recover(now)?;
        Ok((storage, recovery))
    }

    fn assemble(
        lock: fs::File,
        journal: Journal,
        data_dir: &Path,
        unpaid_retention: Duration,
        broken: Option<String>,
    ) -> Storage {
        Storage {
            _lock: lock,
            journal: Mutex::new(journal),
            photos: data_dir.join("photos"),
            outbox: data_dir.join("outbox"),
            unpaid_retention,
            sealing: Mutex::new(()),
            data_dir: data_dir.to_owned(),
            broken: Mutex::new(broken),
        }
    }

    /// The journal, for one short operation at a time.
    /// Runs `f` on tokio's blocking pool, off the async workers: the journal's writes are
    /// fsync'd, sealing encrypts and fsyncs, a sweep deletes and fsyncs — each may take a disk's
    /// while, during which no payment query, upload or settling must wait.
    pub async fn blocking<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        f: impl FnOnce(&Storage) -> T + Send + 'static,
    ) -> T {
        let storage = self.clone();
        off_worker(move || f(&storage)).await
    }

    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        // A panic while holding the lock cannot leave SQLite half-written: use it anyway.
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn photo_dir(&self) -> &Path {
        &self.photos
    }

    pub fn photo_path(&self, file: &str) -> PathBuf {
        self.photos.join(file)
    }

    pub fn sealed_path(&self, out_trade_no: &str, part: SealedPart) -> PathBuf {
        self.outbox.join(part.file_name(out_trade_no))
    }

    /// Seals a paid photo: the standard photo and its manifest encrypted to the collection
    /// centre, both files written crash-safe, the photo file's hash journaled, then the plain
    /// photo deleted. Returns false when it was already sealed. After a crash at any point it
    /// can be done again (start-up does: `seal_pending`).
    pub fn seal_paid(
        &self,
        centre: &dyn Sealer,
        booth_id: &str,
        out_trade_no: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        // From "not sealed yet" to the journal's hash, nobody else seals.
        let _single = self.sealing.lock().unwrap_or_else(|e| e.into_inner());
        let (entry, row) = {
            let j = self.journal();
            let entry = j.outbox_entry(out_trade_no)?;
            (entry, j.manifest_of(out_trade_no)?)
        };
        let (Some(entry), Some(row)) = (entry, row) else {
            return Err(StorageError::NotPaid(out_trade_no.into()));
        };
        if entry.sealed_sha256.is_some() {
            return Ok(false);
        }
        let path = self.photo_path(&entry.photo);
        let jpeg = fs::read(&path).map_err(|source| StorageError::File { path: path.clone(), source })?;
        let manifest = Manifest {
            ticket_id: row.ticket_id,
            booth_id: booth_id.into(),
            captured_at: row.captured_at,
            paid_at: row.paid_at,
            out_trade_no: out_trade_no.into(),
            transaction_id: row.transaction_id,
            measures: serde_json::from_str(&row.measures_json).unwrap_or_default(),
        };
        let seal_err = |e: String| StorageError::Seal { out_trade_no: out_trade_no.into(), source: e.into() };
        let (photo, json) = centre.seal_photo(&jpeg, &manifest).map_err(seal_err)?;
        // A file left by an earlier try that never reached the journal is replaced.
        for (part, bytes) in [(SealedPart::Photo, &photo), (SealedPart::Manifest, &json)] {
            remove(&self.sealed_path(out_trade_no, part))?;
            write_durably(&self.outbox, &part.file_name(out_trade_no), bytes)?;
        }
        self.journal().outbox_sealed(out_trade_no, &sha256_hex(&photo))?;
        remove(&path)?;
        sync_dir(&self.photos)?;
        self.journal().photo_deleted(&entry.photo, now)?;
        Ok(true)
    }

    /// Seals every paid photo that is not sealed yet; returns how many.
    pub fn seal_pending(&self, centre: &dyn Sealer, booth_id: &str, now: i64) -> Result<usize, StorageError> {
        let pending: Vec<String> = self
            .journal()
            .waiting_outbox()?
            .into_iter()
            .filter(|e| e.sealed_sha256.is_none())
            .map(|e| e.out_trade_no)
            .collect();
        let mut n = 0;
        for no in pending {
            if self.seal_paid(centre, booth_id, &no, now)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Sealed photos waiting to leave: (out_trade_no, SHA-256 of the sealed photo file).
    pub fn ready_to_send(&self) -> Result<Vec<(String, String)>, StorageError> {
        Ok(self
            .journal()
            .waiting_outbox()?
            .into_iter()
            .filter_map(|e| Some((e.out_trade_no, e.sealed_sha256?)))
            .collect())
    }

    /// The paid photos' way out, for the booth's health and its technician.
    pub fn upload_health(&self) -> Result<crate::journal::UploadHealth, StorageError> {
        Ok(self.journal().upload_health()?)
    }

    /// The store has confirmed both objects: journaled as sent, then the sealed files go.
    pub fn upload_done(&self, out_trade_no: &str, now: i64) -> Result<(), StorageError> {
        self.journal().outbox_sent(out_trade_no, now)?;
        for part in SealedPart::BOTH {
            remove(&self.sealed_path(out_trade_no, part))?;
        }
        sync_dir(&self.outbox)
    }

    /// Writes a photo crash-safe, then records it; returns its file name.
    pub fn save_photo(
        &self,
        ticket: &str,
        attempt: u8,
        kind: PhotoKind,
        jpeg: &[u8],
        now: i64,
    ) -> Result<String, StorageError> {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).expect("the operating system's random source");
        let file = format!("{}.jpg", data_encoding::HEXLOWER.encode(&b));
        write_durably(&self.photos, &file, jpeg)?;
        if let Err(e) = self.journal().photo_saved(&file, ticket, attempt, kind, now) {
            // Without its row the file would be an orphan: remove it now rather than at start-up.
            let _ = fs::remove_file(self.photo_path(&file));
            return Err(e.into());
        }
        Ok(file)
    }

    /// Deletes the photos no one may keep any more: captures and unpaid standard photos of
    /// visits that are over (unpaid standard photos once `unpaid_retention` has passed). Paid
    /// photos in the outbox are never touched. Returns how many were deleted.
    pub fn sweep(&self, now: i64) -> Result<usize, StorageError> {
        let retention = self.unpaid_retention.as_secs() as i64;
        let rows = self.journal().live_photos()?;
        let mut deleted = 0;
        for PhotoRow { file, kind, created_at, in_outbox, visit_open, order_open, .. } in rows {
            // No retention: gone with its visit, whatever the clocks say.
            let expired = kind == PhotoKind::Capture || retention == 0 || created_at.saturating_add(retention) <= now;
            if in_outbox || visit_open || order_open || !expired {
                continue;
            }
            let path = self.photo_path(&file);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    // Left for the next sweep; the row stays so it is not forgotten.
                    warn!(error = %StorageError::File { path, source }, "photo not deleted; will try again");
                    continue;
                }
            }
            self.journal().photo_deleted(&file, now)?;
            deleted += 1;
        }
        if deleted > 0 {
            sync_dir(&self.photos)?;
        }
        Ok(deleted)
    }

    /// Puts right what a stop at any instant may have left: open visits are closed (a paid
    /// one as paid; attempts stay counted), half-written and unrecorded files removed, unpaid
    /// photos deleted, and a paid photo without its file reported.
    pub fn recover(&self, now: i64) -> Result<Recovery, StorageError> {
        let mut r = Recovery::default();
        {
            let journal = self.journal();
            for id in journal.open_visits()? {
                let finished = journal.ticket(&id)?.is_some_and(|t| t.finished);
                journal.visit_ended(&id, if finished { "paid" } else { "interrupted" }, false, now)?;
                r.visits_closed += 1;
            }
            r.unsettled_orders = journal.unsettled_orders(None)?.len();
        }
        let mut on_disk = BTreeSet::new();
        for name in self.files_on_disk()? {
            if name.ends_with(".tmp") {
                remove(&self.photo_path(&name))?;
                r.partial_files += 1;
            } else {
                on_disk.insert(name);
            }
        }
        let rows = self.journal().live_photos()?;
        let known: BTreeSet<&str> = rows.iter().map(|p| p.file.as_str()).collect();
        for name in on_disk.iter().filter(|n| !known.contains(n.as_str())) {
            remove(&self.photo_path(name))?;
            r.orphan_files += 1;
        }
        let outbox = self.journal().outbox_entries()?;
        for row in rows.iter().filter(|p| !on_disk.contains(&p.file)) {
            let sealed = outbox.iter().any(|e| e.photo == row.file && e.sealed_sha256.is_some());
            if row.in_outbox && !sealed {
                r.paid_missing += 1;
                error!(ticket = %row.ticket_id, file = %row.file, "a paid photo's file is missing");
            } else {
                // Its deletion was under way when the booth stopped.
                self.journal().photo_deleted(&row.file, now)?;
            }
        }
        // A sealed photo's plain file was being deleted when the booth stopped.
        for e in outbox.iter().filter(|e| e.sealed_sha256.is_some() && e.plaintext_on_disk) {
            if on_disk.contains(&e.photo) {
                remove(&self.photo_path(&e.photo))?;
                r.plaintext_deleted += 1;
            }
            self.journal().photo_deleted(&e.photo, now)?;
        }
        // The outbox directory holds exactly the sealed files of the entries still waiting.
        let waiting: BTreeSet<String> = outbox
            .iter()
            .filter(|e| e.sealed_sha256.is_some() && !e.sent)
            .flat_map(|e| SealedPart::BOTH.map(|p| p.file_name(&e.out_trade_no)))
            .collect();
        let sealed_on_disk = list_dir(&self.outbox)?;
        let known: BTreeSet<&str> = outbox.iter().map(|e| e.out_trade_no.as_str()).collect();
        for name in sealed_on_disk.iter().filter(|n| !waiting.contains(n.as_str())) {
            let order = SealedPart::BOTH.iter().find_map(|p| name.strip_suffix(&p.file_name("")));
            match order {
                // A paid photo no journal row speaks for: perhaps the only copy. Kept.
                Some(no) if !known.contains(no) => {
                    self.set_aside_sealed(name)?;
                    r.sealed_set_aside += 1;
                    error!(file = %name, "a sealed file of an order the journal does not know: moved to outbox-unpaired/");
                }
                // Sent already, sealed again, or half-written.
                _ => {
                    remove(&self.outbox.join(name))?;
                    r.stray_sealed_files += 1;
                }
            }
        }
        for name in waiting.iter().filter(|n| !sealed_on_disk.contains(n.as_str())) {
            r.paid_missing += 1;
            error!(file = %name, "a sealed paid photo waiting to be sent is missing");
        }
        sync_dir(&self.outbox)?;
        r.unpaid_deleted = self.sweep(now)?;
        sync_dir(&self.photos)?;
        if r.is_clean() {
            info!(?r, "journal opened");
        } else {
            warn!(?r, "recovered from an interrupted run");
            self.journal().audit("booth", "recovered", &format!("{r:?}"), now)?;
        }
        Ok(r)
    }

    /// The files in the photo directory (for tests and diagnostics).
    pub fn files_on_disk(&self) -> Result<BTreeSet<String>, StorageError> {
        list_dir(&self.photos)
    }

    /// The files in the outbox directory (for tests and diagnostics).
    pub fn sealed_files_on_disk(&self) -> Result<BTreeSet<String>, StorageError> {
        list_dir(&self.outbox)
    }
}

fn list_dir(dir: &Path) -> Result<BTreeSet<String>, StorageError> {
    let dir_err = |source| StorageError::File { path: dir.into(), source };
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(dir).map_err(dir_err)? {
        names.insert(entry.map_err(dir_err)?.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Writes `name` in `dir` so that it is either absent or complete after a power cut:
/// `name.tmp` (created new, owner-only), written and fsynced, renamed, directory fsynced.
pub fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    if let Err(source) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(StorageError::File { path: tmp, source });
    }
    let path = dir.join(name);
    if let Err(source) = fs::rename(&tmp, &path) {
        let _ = fs::remove_file(&tmp);
        return Err(StorageError::File { path, source });
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|source| StorageError::File { path: dir.into(), source })
}

fn remove(path: &Path) -> Result<(), StorageError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StorageError::File { path: path.into(), source: e }),
        _ => Ok(()),
    }
}

mod aside;
pub use aside::SetAside;

#[cfg(test)]
mod tests;

/// `f` on tokio's blocking pool (a panic in it is the caller's panic).
pub async fn off_worker<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(t) => t,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
