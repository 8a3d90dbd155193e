//! The booth's journal: one SQLite file in the data directory, in WAL mode with
//! `synchronous=FULL`, so a committed row survives a power cut at any instant. It holds what
//! must outlive the process — tickets seen, attempts used (written *before* the shutter fires),
//! review results, how visits ended, order numbers — and an audit log. It never holds a name,
//! a student number or a photo: tickets are known by their id only.

pub mod storage;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

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

/// Schema migrations, in order; `PRAGMA user_version` is how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        first_seen INTEGER NOT NULL,
        attempts_used INTEGER NOT NULL DEFAULT 0 CHECK (attempts_used BETWEEN 0 AND 3),
        orders INTEGER NOT NULL DEFAULT 0,
        finished_at INTEGER
    );
    CREATE TABLE attempts (
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        n INTEGER NOT NULL CHECK (n BETWEEN 1 AND 3),
        started_at INTEGER NOT NULL,
        voided INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (ticket_id, n)
    );
    CREATE TABLE reviews (
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        reasons TEXT NOT NULL
    );
    CREATE TABLE visits (
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        ended_at INTEGER NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE TABLE audit (
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );",
    // 2: photo files, payment orders, the outbox, and which visits are open (for recovery).
    "CREATE TABLE photos (
        file TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('capture', 'standard')),
        created_at INTEGER NOT NULL,
        chosen_at INTEGER,
        deleted_at INTEGER
    );
    CREATE TABLE orders (
        out_trade_no TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        photo TEXT REFERENCES photos(file),
        amount_fen INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('creating', 'open', 'paid', 'closed', 'unreachable')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        photo TEXT PRIMARY KEY REFERENCES photos(file),
        out_trade_no TEXT NOT NULL UNIQUE REFERENCES orders(out_trade_no),
        queued_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    ALTER TABLE tickets ADD COLUMN visit_open_since INTEGER;",
    // 3: WeChat Pay and the upload. Orders keep their transaction id and expiry and may be
    // 'disputed' (a signed answer that does not match the order); the outbox holds sealed
    // (age) files with their SHA-256 and upload tries; reviews keep their measures for the
    // manifest. SQLite cannot change a CHECK, so `orders` is rebuilt.
    "CREATE TABLE orders_v3 (
        out_trade_no TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id),
        photo TEXT REFERENCES photos(file),
        amount_fen INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('creating', 'open', 'paid', 'closed', 'unreachable', 'disputed')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER,
        transaction_id TEXT
    );
    INSERT INTO orders_v3 (out_trade_no, ticket_id, photo, amount_fen, state, created_at, updated_at)
        SELECT out_trade_no, ticket_id, photo, amount_fen, state, created_at, updated_at FROM orders;
    DROP TABLE orders;
    ALTER TABLE orders_v3 RENAME TO orders;
    ALTER TABLE outbox ADD COLUMN sealed_sha256 TEXT;
    ALTER TABLE outbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE reviews ADD COLUMN measures TEXT NOT NULL DEFAULT '{}';",
    // 4: order numbers from one counter of the booth's (`payment::out_trade_no`: booth id and
    // counter), no longer from the ticket; the orders made under the old scheme keep theirs.
    // Outbox entries keep their last upload error, and whether the store or the files refuse
    // them for good (a person must look).
    "CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN last_error TEXT;
    ALTER TABLE outbox ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;",
];

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
    /// When its code stops being payable (WeChat's `time_expire`), unix seconds.
    pub expires_at: i64,
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

    pub fn schema_version(&self) -> Result<i64, JournalError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Tickets whose visit was never closed (the booth stopped mid-visit).
    pub fn open_visits(&self) -> Result<Vec<String>, JournalError> {
        let mut q = self.conn.prepare("SELECT id FROM tickets WHERE visit_open_since IS NOT NULL ORDER BY id")?;
        let ids = q.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// A photo file is on disk (written and synced): the row that points at it.
    pub fn photo_saved(
        &self,
        file: &str,
        ticket: &str,
        attempt: u8,
        kind: PhotoKind,
        now: i64,
    ) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO photos (file, ticket_id, attempt, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![file, ticket, attempt, kind.as_str(), now],
        )?;
        Ok(())
    }

    /// The graduate chose this photo (sent it to review).
    pub fn photo_chosen(&self, file: &str, now: i64) -> Result<(), JournalError> {
        self.conn.execute("UPDATE photos SET chosen_at = ?2 WHERE file = ?1", params![file, now])?;
        Ok(())
    }

    pub fn photo_deleted(&self, file: &str, now: i64) -> Result<(), JournalError> {
        self.conn
            .execute("UPDATE photos SET deleted_at = ?2 WHERE file = ?1 AND deleted_at IS NULL", params![file, now])?;
        Ok(())
    }

    /// Every photo file the journal knows and has not deleted.
    pub fn live_photos(&self) -> Result<Vec<PhotoRow>, JournalError> {
        let mut q = self.conn.prepare(
            "SELECT p.file, p.ticket_id, p.kind, p.created_at, o.photo IS NOT NULL, t.visit_open_since IS NOT NULL,
                    EXISTS (SELECT 1 FROM orders r WHERE r.photo = p.file AND r.state IN ('creating', 'open'))
             FROM photos p JOIN tickets t ON t.id = p.ticket_id LEFT JOIN outbox o ON o.photo = p.file
             WHERE p.deleted_at IS NULL ORDER BY p.created_at, p.file",
        )?;
        let rows = q
            .query_map([], |r| {
                Ok(PhotoRow {
                    file: r.get(0)?,
                    ticket_id: r.get(1)?,
                    kind: if r.get::<_, String>(2)? == "standard" { PhotoKind::Standard } else { PhotoKind::Capture },
                    created_at: r.get(3)?,
                    in_outbox: r.get(4)?,
                    visit_open: r.get(5)?,
                    order_open: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// A payment order is about to be created for `photo`, its code valid until `expires_at`.
    pub fn order_created(&self, o: &NewOrder<'_>, now: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO orders (out_trade_no, ticket_id, photo, amount_fen, state, created_at, updated_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, 'creating', ?5, ?5, ?6)",
            params![o.out_trade_no, o.ticket_id, o.photo, o.amount_fen, now, o.expires_at],
        )?;
        Ok(())
    }

    /// An order's new state. A paid order stays paid whatever is reported after.
    pub fn order_state(&self, out_trade_no: &str, state: OrderState, now: i64) -> Result<(), JournalError> {
        debug_assert!(state != OrderState::Paid, "use order_paid");
        self.conn.execute(
            "UPDATE orders SET state = ?2, updated_at = ?3 WHERE out_trade_no = ?1 AND state <> 'paid'",
            params![out_trade_no, state.as_str(), now],
        )?;
        Ok(())
    }

    /// The order is paid (WeChat Pay's `transaction_id`): in one transaction its photo joins
    /// the outbox (to be sealed and leave the booth) and the ticket is finished. Repeating it
    /// changes nothing.
    pub fn order_paid(&self, out_trade_no: &str, transaction_id: &str, now: i64) -> Result<(), JournalError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE orders SET state = 'paid', transaction_id = ?3, updated_at = ?2
             WHERE out_trade_no = ?1 AND state <> 'paid'",
            params![out_trade_no, now, transaction_id],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO outbox (photo, out_trade_no, queued_at)
             SELECT photo, out_trade_no, ?2 FROM orders WHERE out_trade_no = ?1 AND photo IS NOT NULL",
            params![out_trade_no, now],
        )?;
        tx.execute(
            "UPDATE tickets SET finished_at = ?2 WHERE id = (SELECT ticket_id FROM orders WHERE out_trade_no = ?1)
             AND finished_at IS NULL",
            params![out_trade_no, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn order(&self, out_trade_no: &str) -> Result<Option<OrderState>, JournalError> {
        let state: Option<String> = self
            .conn
            .query_row("SELECT state FROM orders WHERE out_trade_no = ?1", [out_trade_no], |r| r.get(0))
            .optional()?;
        Ok(state.map(|s| OrderState::parse(&s)))
    }

    /// Orders the booth created but never saw settled (to be asked about again), oldest first;
    /// only `ticket`'s when given.
    pub fn unsettled_orders(&self, ticket: Option<&str>) -> Result<Vec<OpenOrder>, JournalError> {
        let mut q = self.conn.prepare(
            "SELECT out_trade_no, ticket_id, amount_fen FROM orders
             WHERE state IN ('creating', 'open') AND (?1 IS NULL OR ticket_id = ?1) ORDER BY created_at, out_trade_no",
        )?;
        let rows = q
            .query_map([ticket], |r| {
                Ok(OpenOrder { out_trade_no: r.get(0)?, ticket_id: r.get(1)?, amount_fen: r.get(2)? })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every order the booth made (for diagnostics and the crash test).
    pub fn orders(&self) -> Result<Vec<OrderRow>, JournalError> {
        let mut q = self.conn.prepare(
            "SELECT out_trade_no, ticket_id, amount_fen, state, transaction_id FROM orders ORDER BY created_at, out_trade_no",
        )?;
        let rows = q
            .query_map([], |r| {
                Ok(OrderRow {
                    out_trade_no: r.get(0)?,
                    ticket_id: r.get(1)?,
                    amount_fen: r.get(2)?,
                    state: OrderState::parse(&r.get::<_, String>(3)?),
                    transaction_id: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Paid photos not yet sent (sealed or not): (photo file, out_trade_no).
    pub fn outbox(&self) -> Result<Vec<(String, String)>, JournalError> {
        Ok(self.waiting_outbox()?.into_iter().map(|e| (e.photo, e.out_trade_no)).collect())
    }

    /// Every outbox entry, sent or not (diagnostics, recovery, the crash test).
    pub fn outbox_entries(&self) -> Result<Vec<OutboxEntry>, JournalError> {
        self.outbox_where("1", [])
    }

    /// The entries not yet sent: what sealing and the uploader work on (the sent ones pile up
    /// over the booth's life and are not read again).
    pub fn waiting_outbox(&self) -> Result<Vec<OutboxEntry>, JournalError> {
        self.outbox_where("o.sent_at IS NULL", [])
    }

    /// The outbox entry of one paid order.
    pub fn outbox_entry(&self, out_trade_no: &str) -> Result<Option<OutboxEntry>, JournalError> {
        Ok(self.outbox_where("o.out_trade_no = ?1", [out_trade_no])?.pop())
    }

    fn outbox_where<P: rusqlite::Params>(&self, condition: &str, params: P) -> Result<Vec<OutboxEntry>, JournalError> {
        let mut q = self.conn.prepare(&format!(
            "SELECT o.photo, o.out_trade_no, o.sealed_sha256, o.sent_at IS NOT NULL, o.tries, p.deleted_at IS NULL,
                    o.last_error, o.refused
             FROM outbox o JOIN photos p ON p.file = o.photo WHERE {condition} ORDER BY o.queued_at, o.photo"
        ))?;
        let rows = q
            .query_map(params, |r| {
                Ok(OutboxEntry {
                    photo: r.get(0)?,
                    out_trade_no: r.get(1)?,
                    sealed_sha256: r.get(2)?,
                    sent: r.get(3)?,
                    tries: r.get(4)?,
                    plaintext_on_disk: r.get(5)?,
                    last_error: r.get(6)?,
                    refused: r.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// What the collection centre is told about a paid photo (its manifest, but the measures
    /// as the review stored them, JSON).
    pub fn manifest_of(&self, out_trade_no: &str) -> Result<Option<ManifestRow>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT o.ticket_id, p.created_at, o.updated_at, COALESCE(o.transaction_id, ''),
                        COALESCE((SELECT r.measures FROM reviews r WHERE r.ticket_id = p.ticket_id
                                  AND r.attempt = p.attempt AND r.passed = 1 ORDER BY r.at DESC LIMIT 1), '{}')
                 FROM orders o JOIN photos p ON p.file = o.photo
                 WHERE o.out_trade_no = ?1 AND o.state = 'paid'",
                [out_trade_no],
                |r| {
                    Ok(ManifestRow {
                        ticket_id: r.get(0)?,
                        captured_at: r.get(1)?,
                        paid_at: r.get(2)?,
                        transaction_id: r.get(3)?,
                        measures_json: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// The paid photo is sealed (`sha256` of the sealed photo file); from now on only the sealed
    /// files stand for it.
    pub fn outbox_sealed(&self, out_trade_no: &str, sha256: &str) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE outbox SET sealed_sha256 = ?2 WHERE out_trade_no = ?1 AND sealed_sha256 IS NULL",
            params![out_trade_no, sha256],
        )?;
        Ok(())
    }

    /// The store confirmed both objects.
    pub fn outbox_sent(&self, out_trade_no: &str, now: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE outbox SET sent_at = ?2, tries = tries + 1, refused = 0 WHERE out_trade_no = ?1 AND sent_at IS NULL",
            params![out_trade_no, now],
        )?;
        Ok(())
    }

    /// An upload that did not go through (tried again later), and why; `refused` when sending
    /// again cannot mend it. Returns whether it was already refused before.
    pub fn outbox_failed(&self, out_trade_no: &str, error: &str, refused: bool) -> Result<bool, JournalError> {
        let tx = self.conn.unchecked_transaction()?;
        let before: Option<bool> = tx
            .query_row("SELECT refused FROM outbox WHERE out_trade_no = ?1", [out_trade_no], |r| r.get(0))
            .optional()?;
        tx.execute(
            "UPDATE outbox SET tries = tries + 1, last_error = ?2, refused = ?3 WHERE out_trade_no = ?1",
            params![out_trade_no, error, refused],
        )?;
        tx.commit()?;
        Ok(before.unwrap_or(false))
    }

    /// The paid photos' way out: how many wait, since when, and which are refused for good.
    pub fn upload_health(&self) -> Result<UploadHealth, JournalError> {
        let (waiting, oldest_paid_at): (i64, Option<i64>) =
            self.conn.query_row("SELECT COUNT(*), MIN(queued_at) FROM outbox WHERE sent_at IS NULL", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let refused = self
            .waiting_outbox()?
            .into_iter()
            .filter(|e| e.refused)
            .map(|e| (e.out_trade_no, e.last_error.unwrap_or_default()))
            .collect();
        Ok(UploadHealth { waiting: waiting as usize, oldest_paid_at, refused })
    }

    /// Records that a ticket was scanned (once) and returns what is known of it.
    pub fn ticket_seen(&self, id: &str, now: i64) -> Result<TicketState, JournalError> {
        self.conn.execute("INSERT OR IGNORE INTO tickets (id, first_seen) VALUES (?1, ?2)", params![id, now])?;
        Ok(self.ticket(id)?.unwrap_or_default())
    }

    pub fn ticket(&self, id: &str) -> Result<Option<TicketState>, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT attempts_used, finished_at IS NOT NULL FROM tickets WHERE id = ?1", [id], |r| {
                Ok(TicketState { attempts_used: r.get::<_, u8>(0)?, finished: r.get(1)? })
            })
            .optional()?)
    }

    /// Attempt `n` is about to be taken: committed before the shutter fires, so a crash after
    /// this point can never give the attempt back. Attempts only grow.
    pub fn attempt_started(&self, id: &str, n: u8, now: i64) -> Result<(), JournalError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("INSERT OR IGNORE INTO tickets (id, first_seen) VALUES (?1, ?2)", params![id, now])?;
        tx.execute(
            "INSERT INTO attempts (ticket_id, n, started_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (ticket_id, n) DO UPDATE SET voided = 0, started_at = excluded.started_at",
            params![id, n, now],
        )?;
        // The visit is open from its first attempt until `visit_ended`; a booth that stops
        // in between closes it at start-up (`open_visits`).
        tx.execute(
            "UPDATE tickets SET attempts_used = MAX(attempts_used, ?2), visit_open_since = COALESCE(visit_open_since, ?3)
             WHERE id = ?1",
            params![id, n, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The camera failed: attempt `n` does not count after all.
    pub fn attempt_voided(&self, id: &str, n: u8) -> Result<(), JournalError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("UPDATE attempts SET voided = 1 WHERE ticket_id = ?1 AND n = ?2", params![id, n])?;
        tx.execute("UPDATE tickets SET attempts_used = ?2 - 1 WHERE id = ?1 AND attempts_used = ?2", params![id, n])?;
        tx.commit()?;
        Ok(())
    }

    /// A review's result; `measures_json` (numbers only) goes into the paid photo's manifest.
    pub fn review(
        &self,
        id: &str,
        attempt: u8,
        passed: bool,
        reasons: &[&str],
        measures_json: &str,
        now: i64,
    ) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO reviews (ticket_id, attempt, at, passed, reasons, measures) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, attempt, now, passed, reasons.join(","), measures_json],
        )?;
        Ok(())
    }

    /// The booth's next order counter (`payment::out_trade_no`), committed before the order
    /// is made, so a number is never handed out twice. It only grows, and is never below the
    /// wall clock's seconds: a journal started afresh (the old one set aside) still gives
    /// numbers no earlier journal of this booth gave, as long as the clock did not go back.
    pub fn next_order(&self, now: i64) -> Result<u64, JournalError> {
        let now = now.max(0);
        let seq: i64 = self.conn.query_row(
            "INSERT INTO counters (name, value) VALUES ('order', ?1)
             ON CONFLICT (name) DO UPDATE SET value = MAX(value + 1, ?1) RETURNING value",
            [now],
            |r| r.get(0),
        )?;
        Ok(seq as u64)
    }

    /// A visit ended; `paid` finishes the ticket for good.
    pub fn visit_ended(&self, id: &str, outcome: &str, paid: bool, now: i64) -> Result<(), JournalError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("INSERT INTO visits (ticket_id, ended_at, outcome) VALUES (?1, ?2, ?3)", params![id, now, outcome])?;
        tx.execute("UPDATE tickets SET visit_open_since = NULL WHERE id = ?1", [id])?;
        if paid {
            tx.execute("UPDATE tickets SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL", params![id, now])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest standard photo of `ticket` that passed review, was never paid for (nor
    /// disputed) and is still kept: made less than `retention_s` before `now`.
    pub fn kept_photo(&self, ticket: &str, now: i64, retention_s: i64) -> Result<Option<KeptPhoto>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT p.file, p.attempt FROM photos p
                 WHERE p.ticket_id = ?1 AND p.kind = 'standard' AND p.deleted_at IS NULL AND p.created_at + ?3 > ?2
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.photo = p.file)
                   AND NOT EXISTS (SELECT 1 FROM orders r WHERE r.photo = p.file AND r.state IN ('paid', 'disputed'))
                   AND EXISTS (SELECT 1 FROM reviews v WHERE v.ticket_id = p.ticket_id AND v.attempt = p.attempt
                               AND v.passed = 1)
                 ORDER BY p.created_at DESC, p.attempt DESC LIMIT 1",
                params![ticket, now, retention_s],
                |r| Ok(KeptPhoto { file: r.get(0)?, attempt: r.get(1)? }),
            )
            .optional()?)
    }

    /// A visit without a new attempt (paying for a kept photo) is open from now on: its photo
    /// is not swept while it lasts, and start-up closes it if the booth stops.
    pub fn visit_resumed(&self, ticket: &str, now: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE tickets SET visit_open_since = COALESCE(visit_open_since, ?2) WHERE id = ?1",
            params![ticket, now],
        )?;
        Ok(())
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
mod tests {
    use super::*;

    fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open_dir(dir.path()).unwrap();
        (dir, j)
    }

    #[test]
    fn a_new_journal_is_migrated_in_wal_mode_with_full_sync() {
        let (_d, j) = journal();
        assert_eq!(j.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = j.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let sync: i64 = j.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }

    #[test]
    fn attempts_survive_reopening_and_a_paid_ticket_is_finished() {
        let (dir, j) = journal();
        assert_eq!(j.ticket_seen("T1", 10).unwrap(), TicketState { attempts_used: 0, finished: false });
        j.attempt_started("T1", 1, 11).unwrap();
        j.attempt_started("T1", 2, 12).unwrap();
        drop(j);
        let j = Journal::open_dir(dir.path()).unwrap();
        assert_eq!(j.ticket_seen("T1", 20).unwrap(), TicketState { attempts_used: 2, finished: false });
        j.visit_ended("T1", "paid", true, 30).unwrap();
        assert!(j.ticket("T1").unwrap().unwrap().finished);
    }

    #[test]
    fn a_voided_attempt_is_given_back_but_attempts_never_exceed_three() {
        let (_d, j) = journal();
        j.attempt_started("T1", 1, 1).unwrap();
        j.attempt_voided("T1", 1).unwrap();
        assert_eq!(j.ticket("T1").unwrap().unwrap().attempts_used, 0);
        for n in 1..=3 {
            j.attempt_started("T1", n, 2).unwrap();
        }
        // A fourth is refused by the schema itself, whatever the caller does.
        assert!(j.attempt_started("T1", 4, 3).is_err());
        assert_eq!(j.most_attempts().unwrap(), 3);
    }

    #[test]
    fn a_version_2_journal_keeps_its_orders_and_outbox_through_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(MIGRATIONS[0]).unwrap();
            c.execute_batch(MIGRATIONS[1]).unwrap();
            c.pragma_update(None, "user_version", 2).unwrap();
            c.execute_batch(
                "INSERT INTO tickets (id, first_seen) VALUES ('T1', 1);
                 INSERT INTO photos (file, ticket_id, attempt, kind, created_at) VALUES ('p.jpg', 'T1', 1, 'standard', 1);
                 INSERT INTO orders VALUES ('O1', 'T1', 'p.jpg', 3000, 'paid', 1, 2);
                 INSERT INTO outbox (photo, out_trade_no, queued_at) VALUES ('p.jpg', 'O1', 2);
                 INSERT INTO reviews (ticket_id, attempt, at, passed, reasons) VALUES ('T1', 1, 1, 1, '');",
            )
            .unwrap();
        }
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(j.order("O1").unwrap(), Some(OrderState::Paid));
        assert_eq!(j.outbox().unwrap(), vec![("p.jpg".to_string(), "O1".to_string())]);
        assert_eq!(j.manifest_of("O1").unwrap().unwrap().measures_json, "{}");
        assert!(j.integrity_ok().unwrap());
        let fk: i64 = j.conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 0);
        let on: i64 = j.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
        assert_eq!(on, 1, "foreign keys on again after the migration");
        // The new state is allowed, and a paid order stays paid.
        j.order_state("O1", OrderState::Disputed, 3).unwrap();
        assert_eq!(j.order("O1").unwrap(), Some(OrderState::Paid));
    }

    #[test]
    fn a_kept_photo_is_the_last_passing_unpaid_standard_photo_within_its_time() {
        let (_d, j) = journal();
        let photo = |file: &str, attempt: u8, at: i64| {
            j.attempt_started("T1", attempt, at).unwrap();
            j.photo_saved(file, "T1", attempt, PhotoKind::Standard, at).unwrap();
        };
        photo("a1.jpg", 1, 100);
        j.review("T1", 1, true, &[], "{}", 101).unwrap();
        photo("a2.jpg", 2, 200);
        j.review("T1", 2, false, &["blurry"], "{}", 201).unwrap();
        let kept = |now| j.kept_photo("T1", now, 1800).unwrap().map(|k| (k.file, k.attempt));
        assert_eq!(kept(300), Some(("a1.jpg".into(), 1)), "the failed attempt 2 is not offered");
        assert_eq!(kept(100 + 1800), None, "kept for the retention only");
        j.photo_deleted("a1.jpg", 400).unwrap();
        assert_eq!(kept(500), None);
        photo("a3.jpg", 3, 600);
        j.review("T1", 3, true, &[], "{}", 601).unwrap();
        assert_eq!(kept(700), Some(("a3.jpg".into(), 3)));
        let order =
            NewOrder { out_trade_no: "O1", ticket_id: "T1", photo: Some("a3.jpg"), amount_fen: 3000, expires_at: 0 };
        j.order_created(&order, 700).unwrap();
        j.order_state("O1", OrderState::Disputed, 701).unwrap();
        assert_eq!(kept(702), None, "not one whose payment is disputed");
        assert_eq!(j.kept_photo("T2", 702, 1800).unwrap(), None);
    }

    proptest::proptest! {
        /// Order numbers come from one counter of the booth's, whatever the tickets are called
        /// and however the clock moves: never twice, across restarts and a journal started
        /// afresh later, and none of them carries the ticket.
        #[test]
        fn order_numbers_never_repeat_whatever_the_tickets_and_the_clock(
            orders in proptest::collection::vec(
                (proptest::prop_oneof!["A-1", "A1", "a1", "DEMO-0001", "[A-Za-z0-9_-]{1,40}"], -5i64..120),
                1..40,
            ),
            reopen_after in 0usize..40,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut j = Journal::open_dir(dir.path()).unwrap();
            let mut clock = 1_748_916_000i64;
            let mut seen = std::collections::BTreeSet::new();
            for (i, (ticket, step)) in orders.iter().enumerate() {
                if i == reopen_after {
                    drop(j);
                    j = Journal::open_dir(dir.path()).unwrap();
                }
                clock += step;
                j.ticket_seen(ticket, clock).unwrap();
                let no = crate::payment::out_trade_no("fengxian-d108", j.next_order(clock).unwrap());
                let counter = no.strip_prefix("fengxian-d108_").unwrap_or("");
                proptest::prop_assert!(!counter.is_empty() && counter.chars().all(|c| c.is_ascii_digit()), "{}", no);
                proptest::prop_assert!(seen.insert(no.clone()), "{} handed out twice", no);
            }
        }
    }

    #[test]
    fn a_fresh_journal_does_not_reuse_the_numbers_of_the_one_set_aside() {
        let (_d, j) = journal();
        let first: Vec<u64> = (0..3).map(|_| j.next_order(1_748_916_000).unwrap()).collect();
        assert_eq!(first, [1_748_916_000, 1_748_916_001, 1_748_916_002]);
        // The clock going back (a Pi without its time yet) does not lower the counter.
        assert_eq!(j.next_order(1_000).unwrap(), 1_748_916_003);
        let (_e, fresh) = journal();
        assert!(fresh.next_order(1_748_916_000 + 3600).unwrap() > first[2]);
    }

    #[test]
    fn a_journal_from_a_newer_gradbooth_is_refused_not_damaged() {
        let (dir, j) = journal();
        j.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(j);
        let err = Journal::open_dir(dir.path()).err().unwrap();
        assert!(err.to_string().contains("newer gradbooth"), "{err}");
    }
}
