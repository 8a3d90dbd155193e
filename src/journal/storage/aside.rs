//! A journal that cannot be opened (overwritten, damaged, from a newer booth): the booth starts
//! on a scratch journal (`rescue/`) instead — out of service, nothing recovered and nothing
//! deleted — so a technician can see why in the diagnostics mode and set it aside there:
//! renamed and kept (never deleted), a fresh journal started that adopts every sealed paid
//! photo waiting in `outbox/` (so none is lost: the uploader sends them as they are), the
//! scratch journal's audit log carried over, then the start-up recovery as usual.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::params;
use tracing::{error, info, warn};

use super::{SealedPart, Storage, StorageError, list_dir, sha256_hex, sync_dir};
use crate::journal::{Journal, JournalError};

/// The journal's file and its companions, as SQLite names them.
const FILES: [&str; 3] = ["journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"];

/// What setting the journal aside did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// Where the old journal now is (its `-wal` / `-shm` beside it, when there were any).
    pub kept_as: PathBuf,
    /// Sealed paid photos found in `outbox/` and adopted by the fresh journal.
    pub adopted: Vec<String>,
    /// Sealed files without their other half, moved to `outbox-unpaired/` (kept for a person).
    pub unpaired: Vec<String>,
}

impl Storage {
    /// The data directory (locked, as `open` locks it) on a scratch journal, when its own
    /// journal cannot be opened: `why` is that error, shown to the technician.
    pub fn open_rescue(
        data_dir: &Path,
        unpaid_retention: std::time::Duration,
        why: String,
    ) -> Result<Self, StorageError> {
        let lock = super::lock_dir(data_dir)?;
        let dir = data_dir.join("rescue");
        fs::create_dir_all(&dir).map_err(|source| StorageError::File { path: dir.clone(), source })?;
        for f in FILES {
            match fs::remove_file(dir.join(f)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StorageError::File { path: dir.join(f), source: e });
                }
                _ => {}
            }
        }
        let journal = Journal::open_dir(&dir)?;
        error!(reason = %why, "the journal cannot be opened: out of service on a scratch journal");
        Ok(Storage::assemble(lock, journal, data_dir, unpaid_retention, Some(why)))
    }

    /// Why the booth runs on a scratch journal, if it does.
    pub fn broken(&self) -> Option<String> {
        self.broken.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets the journal that could not be opened aside and starts afresh (see the module).
    pub fn set_aside_journal(&self, now: i64) -> Result<SetAside, StorageError> {
        let mut broken = self.broken.lock().unwrap_or_else(|e| e.into_inner());
        if broken.is_none() {
            return Err(StorageError::NotBroken);
        }
        let dir = &self.data_dir;
        // A journal a newer gradbooth wrote is not broken: that version must run it again.
        if let Some(found) = Journal::file_version(&dir.join(FILES[0]))
            && found > Journal::known_version()
        {
            return Err(StorageError::Journal(JournalError::Newer {
                path: dir.join(FILES[0]),
                found,
                known: Journal::known_version(),
            }));
        }
        let kept_as = dir.join(format!("journal.set-aside-{now}.sqlite3"));
        for f in FILES {
            let to = f.replacen("journal.sqlite3", &format!("journal.set-aside-{now}.sqlite3"), 1);
            let (from, to) = (dir.join(f), dir.join(to));
            match fs::rename(&from, &to) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(StorageError::File { path: from, source }),
            }
        }
        sync_dir(dir)?;
        let fresh = Journal::open_dir(dir)?;
        let (adopted, unpaired) = self.adopt_outbox(&fresh, now)?;
        // The scratch journal's audit log (this session's entries) goes along.
        let rescue = std::mem::replace(&mut *self.journal(), fresh);
        let carried = carry_audit(&rescue, &self.journal());
        drop(rescue);
        if let Err(e) = carried {
            warn!(error = %e, "the scratch journal's audit log was not carried over");
        }
        *broken = None;
        drop(broken);
        let r = self.recover(now)?;
        info!(kept_as = %kept_as.display(), adopted = adopted.len(), unpaired = unpaired.len(), ?r, "journal set aside; a fresh one started");
        Ok(SetAside { kept_as, adopted, unpaired })
    }

    /// Every complete pair of sealed files in `outbox/` becomes a paid order waiting to be sent
    /// in `journal`; a half pair is moved to `outbox-unpaired/`.
    fn adopt_outbox(&self, journal: &Journal, now: i64) -> Result<(Vec<String>, Vec<String>), StorageError> {
        let names = list_dir(&self.outbox)?;
        let photo_suffix = SealedPart::Photo.file_name("");
        let mut adopted = Vec::new();
        let mut unpaired = Vec::new();
        for name in &names {
            let Some(no) = name.strip_suffix(&photo_suffix) else { continue };
            if !names.contains(&SealedPart::Manifest.file_name(no)) {
                continue;
            }
            let path = self.sealed_path(no, SealedPart::Photo);
            let bytes = fs::read(&path).map_err(|source| StorageError::File { path: path.clone(), source })?;
            journal.adopt_sealed(no, &sha256_hex(&bytes), now)?;
            adopted.push(no.to_owned());
        }
        for name in &names {
            let taken = adopted.iter().any(|no| SealedPart::BOTH.iter().any(|p| p.file_name(no) == *name));
            if taken {
                continue;
            }
            self.set_aside_sealed(name)?;
            unpaired.push(name.clone());
        }
        sync_dir(&self.outbox)?;
        Ok((adopted, unpaired))
    }

    /// A file of `outbox/` moved to `outbox-unpaired/`, kept for a person (never deleted).
    pub(super) fn set_aside_sealed(&self, name: &str) -> Result<(), StorageError> {
        let aside = self.data_dir.join("outbox-unpaired");
        fs::create_dir_all(&aside).map_err(|source| StorageError::File { path: aside.clone(), source })?;
        fs::rename(self.outbox.join(name), aside.join(name))
            .map_err(|source| StorageError::File { path: self.outbox.join(name), source })?;
        sync_dir(&aside)
    }
}

impl Journal {
    /// A sealed paid photo found without its journal: a paid order of an unknown ticket
    /// (`adopted-<order>`; the sealed manifest, which only the centre can open, names the
    /// graduate), its photo file gone (only the sealed files stand for it), waiting to be sent.
    fn adopt_sealed(&self, out_trade_no: &str, sealed_sha256: &str, now: i64) -> Result<(), JournalError> {
        let ticket = format!("adopted-{out_trade_no}");
        let photo = format!("{out_trade_no}.adopted.jpg");
        self.conn.execute_batch("BEGIN")?;
        let result = (|| {
            self.conn.execute(
                "INSERT INTO tickets (id, first_seen, finished_at) VALUES (?1, ?2, ?2)",
                params![ticket, now],
            )?;
            self.conn.execute(
                "INSERT INTO photos (file, ticket_id, attempt, kind, created_at, deleted_at)
                 VALUES (?1, ?2, 1, 'standard', ?3, ?3)",
                params![photo, ticket, now],
            )?;
            self.conn.execute(
                "INSERT INTO orders (out_trade_no, ticket_id, photo, amount_fen, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 0, 'paid', ?4, ?4)",
                params![out_trade_no, ticket, photo, now],
            )?;
            self.conn.execute(
                "INSERT INTO outbox (photo, out_trade_no, queued_at, sealed_sha256) VALUES (?1, ?2, ?3, ?4)",
                params![photo, out_trade_no, now, sealed_sha256],
            )?;
            Ok::<_, rusqlite::Error>(())
        })();
        match result {
            Ok(()) => Ok(self.conn.execute_batch("COMMIT")?),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        }
    }
}

fn carry_audit(from: &Journal, to: &Journal) -> Result<(), JournalError> {
    let rows = from.audit_log(10_000)?;
    for (at, actor, action, detail) in rows.into_iter().rev() {
        to.audit(&actor, &action, &detail, at)?;
    }
    Ok(())
}
