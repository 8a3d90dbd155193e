//! Payment orders (the counter their numbers come from, their states, the one paid) and
//! the outbox of paid photos on their way to the collection centre.

use rusqlite::{OptionalExtension, params};

use super::*;

impl Journal {
    /// A payment order is about to be created for `photo`.
    pub fn order_created(&self, o: &NewOrder<'_>, now: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO orders (out_trade_no, ticket_id, photo, amount_fen, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'creating', ?5, ?5)",
            params![o.out_trade_no, o.ticket_id, o.photo, o.amount_fen, now],
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
        let entries = self.waiting_outbox()?;
        let most_tries = entries.iter().map(|e| e.tries).max().unwrap_or(0);
        let refused = entries
            .into_iter()
            .filter(|e| e.refused)
            .map(|e| (e.out_trade_no, e.last_error.unwrap_or_default()))
            .collect();
        Ok(UploadHealth { waiting: waiting as usize, oldest_paid_at, refused, most_tries })
    }
}
