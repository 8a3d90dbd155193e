//! What the booth has done, counted from the journal for the diagnostics' counters page and
//! the metrics: visits, attempts, reviews and their reasons, orders and takings, uploads, starts.
//! Only graduates' activity is journaled this way: a technician's test capture never is.

use std::collections::BTreeMap;

use super::{Journal, JournalError};

/// Counts since a moment (unix seconds; 0 = since install).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    pub visits: i64,
    pub attempts: i64,
    pub reviews: i64,
    pub reviews_passed: i64,
    /// Blocking reasons found, by code (a review may have several).
    pub reasons: BTreeMap<String, i64>,
    pub orders_paid: i64,
    pub orders_closed: i64,
    pub orders_disputed: i64,
    /// Sum of the paid orders, in fen.
    pub takings_fen: i64,
    /// Paid photos not yet confirmed by the store (whenever paid).
    pub uploads_waiting: i64,
    /// How often the booth started (the service's restarts included).
    pub starts: i64,
}

impl Journal {
    pub fn counters(&self, since: i64) -> Result<Counters, JournalError> {
        let mut c = self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM visits WHERE ended_at >= ?1),
                    (SELECT COUNT(*) FROM attempts WHERE voided = 0 AND started_at >= ?1),
                    (SELECT COUNT(*) FROM reviews WHERE at >= ?1),
                    (SELECT COUNT(*) FROM reviews WHERE passed = 1 AND at >= ?1),
                    (SELECT COUNT(*) FROM orders WHERE state = 'paid' AND created_at >= ?1),
                    (SELECT COUNT(*) FROM orders WHERE state = 'closed' AND created_at >= ?1),
                    (SELECT COUNT(*) FROM orders WHERE state = 'disputed' AND created_at >= ?1),
                    (SELECT COALESCE(SUM(amount_fen), 0) FROM orders WHERE state = 'paid' AND created_at >= ?1),
                    (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL),
                    (SELECT COUNT(*) FROM audit WHERE actor = 'booth' AND action = 'started' AND at >= ?1)",
            [since],
            |r| {
                Ok(Counters {
                    visits: r.get(0)?,
                    attempts: r.get(1)?,
                    reviews: r.get(2)?,
                    reviews_passed: r.get(3)?,
                    reasons: BTreeMap::new(),
                    orders_paid: r.get(4)?,
                    orders_closed: r.get(5)?,
                    orders_disputed: r.get(6)?,
                    takings_fen: r.get(7)?,
                    uploads_waiting: r.get(8)?,
                    starts: r.get(9)?,
                })
            },
        )?;
        let mut q = self.conn.prepare("SELECT reasons FROM reviews WHERE reasons != '' AND at >= ?1")?;
        for reasons in q.query_map([since], |r| r.get::<_, String>(0))? {
            for code in reasons?.split(',').filter(|c| !c.is_empty()) {
                *c.reasons.entry(code.to_owned()).or_default() += 1;
            }
        }
        Ok(c)
    }

    /// The counters per calendar day (`offset_s`: the booth's time zone, seconds east of UTC),
    /// oldest day first: what the office's statistics are made of.
    pub fn per_day(&self, offset_s: i64) -> Result<Vec<(String, Counters)>, JournalError> {
        let mut days: BTreeMap<String, Counters> = BTreeMap::new();
        let mut add = |sql: &str, f: &mut dyn FnMut(&mut Counters, i64, String)| -> Result<(), JournalError> {
            let mut q = self.conn.prepare(sql)?;
            let rows =
                q.query_map([offset_s], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))?;
            for row in rows {
                let (day, n, extra) = row?;
                f(days.entry(day).or_default(), n, extra);
            }
            Ok(())
        };
        let day = |col: &str| format!("date({col} + ?1, 'unixepoch')");
        add(&format!("SELECT {}, COUNT(*), '' FROM visits GROUP BY 1", day("ended_at")), &mut |c, n, _| c.visits = n)?;
        add(
            &format!("SELECT {}, COUNT(*), '' FROM attempts WHERE voided = 0 GROUP BY 1", day("started_at")),
            &mut |c, n, _| c.attempts = n,
        )?;
        add(
            &format!("SELECT {}, COUNT(*), CAST(passed AS TEXT) FROM reviews GROUP BY 1, 3", day("at")),
            &mut |c, n, passed| {
                c.reviews += n;
                if passed == "1" {
                    c.reviews_passed += n;
                }
            },
        )?;
        add(&format!("SELECT {}, 1, reasons FROM reviews WHERE reasons != ''", day("at")), &mut |c, _, reasons| {
            for code in reasons.split(',').filter(|r| !r.is_empty()) {
                *c.reasons.entry(code.to_owned()).or_default() += 1;
            }
        })?;
        add(
            &format!(
                "SELECT {}, COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS TEXT) FROM orders WHERE state = 'paid' GROUP BY 1",
                day("created_at")
            ),
            &mut |c, n, sum| {
                c.orders_paid = n;
                c.takings_fen = sum.parse().unwrap_or(0);
            },
        )?;
        Ok(days.into_iter().collect())
    }

    /// The journal's audit log, newest first (at most `limit` rows).
    pub fn audit_log(&self, limit: usize) -> Result<Vec<(i64, String, String, String)>, JournalError> {
        let mut q = self.conn.prepare("SELECT at, actor, action, detail FROM audit ORDER BY rowid DESC LIMIT ?1")?;
        let rows = q.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_count_since_the_moment_asked_and_split_the_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open_dir(dir.path()).unwrap();
        j.raw()
            .execute_batch(
                "INSERT INTO tickets (id, first_seen) VALUES ('T1', 10), ('T2', 100);
                 INSERT INTO attempts (ticket_id, n, started_at) VALUES ('T1', 1, 10), ('T2', 1, 100), ('T2', 2, 110);
                 INSERT INTO attempts (ticket_id, n, started_at, voided) VALUES ('T1', 2, 20, 1);
                 INSERT INTO reviews (ticket_id, attempt, at, passed, reasons) VALUES
                    ('T1', 1, 11, 0, 'blurry,eyes_closed'), ('T2', 1, 101, 0, 'blurry'), ('T2', 2, 111, 1, '');
                 INSERT INTO orders (out_trade_no, ticket_id, amount_fen, state, created_at, updated_at) VALUES
                    ('b_1', 'T2', 3000, 'paid', 112, 113), ('b_2', 'T1', 3000, 'closed', 12, 13),
                    ('b_3', 'T2', 3000, 'disputed', 105, 106);
                 INSERT INTO visits (ticket_id, ended_at, outcome) VALUES ('T1', 30, 'exited'), ('T2', 120, 'paid');
                 INSERT INTO audit (at, actor, action, detail) VALUES (1, 'booth', 'started', ''), (99, 'booth', 'started', '');",
            )
            .unwrap();
        let all = j.counters(0).unwrap();
        assert_eq!((all.visits, all.attempts, all.reviews, all.reviews_passed), (2, 3, 3, 1));
        assert_eq!(all.reasons, BTreeMap::from([("blurry".into(), 2), ("eyes_closed".into(), 1)]));
        assert_eq!((all.orders_paid, all.orders_closed, all.orders_disputed, all.takings_fen), (1, 1, 1, 3000));
        assert_eq!(all.starts, 2);
        let today = j.counters(50).unwrap();
        assert_eq!((today.visits, today.attempts, today.reviews, today.orders_closed, today.starts), (1, 2, 2, 0, 1));
        assert_eq!(today.reasons, BTreeMap::from([("blurry".into(), 1)]));
    }
}
