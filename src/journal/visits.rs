//! Tickets, attempts, photos, reviews and how visits ended: what decides whether a graduate
//! may take another photo, and which photos may be deleted.

use rusqlite::{OptionalExtension, params};

use super::*;

impl Journal {
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
}
