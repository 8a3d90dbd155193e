//! The booth's journal: one SQLite file in the data directory, in WAL mode with
//! `synchronous=FULL`, so a committed row survives a power cut at any instant. It holds what
//! must outlive the process — tickets seen, attempts used (written *before* the shutter fires),
//! review results, how visits ended, order numbers — and an audit log. It never holds a name,
//! a student number or a photo: tickets are known by their id only.

mod counters;
mod orders;
pub use counters::Counters;
mod schema;
pub mod settings;
pub mod storage;
mod visits;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use self::schema::MIGRATIONS;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("journal {path} was written by a newer gradbooth (schema {found}, this one knows {known})")]
    Newer { path: PathBuf, found: i64, known: i64 },
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("journal directory {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
}

/// What a photo file holds: the camera's still, or the standard 480×640 photo made from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoKind {
    Capture,
    Standard,
}

impl PhotoKind {
    fn as_str(self) -> &'static str {
        match self {
            PhotoKind::Capture => "capture",
            PhotoKind::Standard => "standard",
        }
    }
}

/// A payment order's state as the booth last knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    Creating,
    Open,
    Paid,
    Closed,
    /// Its creation could not reach the service (no code was shown).
    Unreachable,
    /// A signed answer did not match the order (another amount, merchant or order): for a
    /// person to look at, never taken as paid.
    Disputed,
}

impl OrderState {
    fn as_str(self) -> &'static str {
        match self {
            OrderState::Creating => "creating",
            OrderState::Open => "open",
            OrderState::Paid => "paid",
            OrderState::Closed => "closed",
            OrderState::Unreachable => "unreachable",
            OrderState::Disputed => "disputed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "creating" => OrderState::Creating,
            "open" => OrderState::Open,
            "paid" => OrderState::Paid,
            "closed" => OrderState::Closed,
            "disputed" => OrderState::Disputed,
            _ => OrderState::Unreachable,
        }
    }
}

/// An order about to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder<'a> {
    pub out_trade_no: &'a str,
    pub ticket_id: &'a str,
    pub photo: Option<&'a str>,
    pub amount_fen: u32,
}

/// An order not yet seen settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOrder {
    pub out_trade_no: String,
    pub ticket_id: String,
    pub amount_fen: u32,
}

/// A photo kept from an earlier visit, that may still be paid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPhoto {
    pub file: String,
    pub attempt: u8,
}

/// An order as the journal has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub out_trade_no: String,
    pub ticket_id: String,
    pub amount_fen: u32,
    pub state: OrderState,
    pub transaction_id: Option<String>,
}

/// A paid photo on its way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub photo: String,
    pub out_trade_no: String,
    /// SHA-256 (hex) of the sealed photo file, once sealed.
    pub sealed_sha256: Option<String>,
    pub sent: bool,
    pub tries: u32,
    /// The plain photo file is still on disk (only until it is sealed).
    pub plaintext_on_disk: bool,
    /// Why its last upload failed, if it did.
    pub last_error: Option<String>,
    /// Its last upload was refused in a way sending again cannot mend (see `UploadError::is_refusal`).
    pub refused: bool,
}

/// How the paid photos' way out is going, for the booth's health and its technician.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadHealth {
    /// Paid photos not yet confirmed by the store.
    pub waiting: usize,
    /// When the oldest of them was paid (unix seconds).
    pub oldest_paid_at: Option<i64>,
    /// Entries refused for good: (out_trade_no, why).
    pub refused: Vec<(String, String)>,
    /// The most times any waiting photo was tried (`outbox.tries`): a photo stuck behind a
    /// store that keeps failing shows here long before it is refused.
    pub most_tries: u32,
}

/// What a paid photo's manifest is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestRow {
    pub ticket_id: String,
    pub captured_at: i64,
    pub paid_at: i64,
    pub transaction_id: String,
    pub measures_json: String,
}

/// A photo file the journal knows and has not deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRow {
    pub file: String,
    pub ticket_id: String,
    pub kind: PhotoKind,
    pub created_at: i64,
    /// Paid for and waiting to leave the booth: never deleted by the booth itself.
    pub in_outbox: bool,
    /// Its ticket's visit is still going on.
    pub visit_open: bool,
    /// A payment order for it is not settled yet: it may still be paid for.
    pub order_open: bool,
}

/// What the journal knows of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TicketState {
    pub attempts_used: u8,
    pub finished: bool,
}

/// How much the journal holds (see `Journal::summary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub tickets: i64,
    pub attempts: i64,
    pub reviews: i64,
    pub paid_orders: i64,
    /// Paid photos still waiting to leave the booth.
    pub outbox: i64,
    /// Paid photos the store has confirmed.
    pub uploaded: i64,
    pub interrupted_visits: i64,
}

pub struct Journal {
    conn: Connection,
}

impl Journal {
    /// Opens (creating and migrating) `journal.sqlite3` in `dir`.
    pub fn open_dir(dir: &Path) -> Result<Self, JournalError> {
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Dir { path: dir.into(), source })?;
        Self::open(&dir.join("journal.sqlite3"))
    }

    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let err = |source| JournalError::Open { path: path.into(), source };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(2)).map_err(err)?;
        // WAL: readers never block the writer; FULL: every commit is on disk before it returns.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
        let mut j = Journal { conn };
        j.migrate(path)?;
        Ok(j)
    }

    fn migrate(&mut self, path: &Path) -> Result<(), JournalError> {
        let version: i64 = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(JournalError::Newer { path: path.into(), found: version, known });
        }
        if version == known {
            return Ok(());
        }
        // Rebuilding a table that others point at needs the foreign keys off (outside the
        // transaction, as SQLite requires) and checked again before the commit.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let result = (|| {
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                let tx = self.conn.transaction()?;
                tx.execute_batch(sql)?;
                let broken: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
                if broken > 0 {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                        Some(format!("migration {} leaves {broken} broken references", i + 1)),
                    ));
                }
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
                tx.commit()?;
            }
            Ok(())
        })();
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(result?)
    }

    /// The connection itself, for tests that must put the journal in a state a crash leaves.
    #[cfg(test)]
    pub(crate) fn raw(&self) -> &Connection {
        &self.conn
    }

    /// The schema version a journal file says it has, without opening it as the booth's
    /// journal (no migration, read only): `None` when it cannot be read as SQLite at all.
    pub fn file_version(path: &Path) -> Option<i64> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).ok()
    }

    /// The newest schema this gradbooth knows.
    pub fn known_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    pub fn schema_version(&self) -> Result<i64, JournalError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Tickets whose visit was never closed (the booth stopped mid-visit).
    pub fn open_visits(&self) -> Result<Vec<String>, JournalError> {
        let mut q = self.conn.prepare("SELECT id FROM tickets WHERE visit_open_since IS NOT NULL ORDER BY id")?;
        let ids = q.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// A technician's or operator's action, for the audit log.
    pub fn audit(&self, actor: &str, action: &str, detail: &str, now: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now, actor, action, detail],
        )?;
        Ok(())
    }

    /// SQLite's own check of the file (`PRAGMA integrity_check`): true when it finds nothing.
    pub fn integrity_ok(&self) -> Result<bool, JournalError> {
        let result: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(result == "ok")
    }

    /// Counts for diagnostics and the crash test.
    pub fn summary(&self) -> Result<Summary, JournalError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM tickets),
                    (SELECT COUNT(*) FROM attempts WHERE voided = 0),
                    (SELECT COUNT(*) FROM reviews),
                    (SELECT COUNT(*) FROM orders WHERE state = 'paid'),
                    (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL),
                    (SELECT COUNT(*) FROM visits WHERE outcome = 'interrupted'),
                    (SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL)",
            [],
            |r| {
                Ok(Summary {
                    tickets: r.get(0)?,
                    attempts: r.get(1)?,
                    reviews: r.get(2)?,
                    paid_orders: r.get(3)?,
                    outbox: r.get(4)?,
                    interrupted_visits: r.get(5)?,
                    uploaded: r.get(6)?,
                })
            },
        )?)
    }

    /// The most counted (not voided) attempts any ticket has, by the tickets' own count and by
    /// the attempt rows (the crash test's invariant: never above 3).
    pub fn most_attempts(&self) -> Result<u8, JournalError> {
        Ok(self.conn.query_row(
            "SELECT MAX(COALESCE((SELECT MAX(attempts_used) FROM tickets), 0),
                        COALESCE((SELECT MAX(c) FROM (SELECT COUNT(*) AS c FROM attempts WHERE voided = 0
                                                      GROUP BY ticket_id)), 0))",
            [],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests;
