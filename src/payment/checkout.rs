//! Settling payment orders: what the booth does with WeChat Pay's answers, journal first.
//!
//! - `paid`: the order is paid → journal (`order_paid`: order, outbox, ticket finished, one
//!   transaction) → the photo sealed to the collection centre → the uploader woken.
//! - `settle`: an order nobody is showing any more (the code expired, the visit ended, the
//!   booth restarted, the network came back) is asked about, closed if unpaid, and asked about
//!   once more — a graduate may pay at the last second, and closing a paid order is refused
//!   with `ORDERPAID`.
//! - `settle_all`: every order the journal has not seen settled, except the one on screen;
//!   at start-up and then every minute while any is left.
//!
//! An answer whose signature fails is never believed (the order stays unsettled and is asked
//! about again); a signed answer that does not match the order (amount, merchant, order) makes
//! the order `disputed` — for a person to look at, never taken as paid.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tracing::{error, info, warn};

use crate::clock::WallClock;
use crate::journal::storage::{Storage, StorageError, off_worker};
use crate::journal::{OpenOrder, OrderState};
use crate::payment::{PaymentError, PaymentGateway, TradeState};
use crate::upload::seal::Centre;

/// How many of `settled` are still unknown.
pub fn unknown(settled: &[(String, Settlement)]) -> usize {
    settled.iter().filter(|(_, s)| matches!(s, Settlement::Unknown(_))).count()
}

/// What became of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Paid {
        transaction_id: String,
    },
    /// Confirmed unpaid and closed (or never created).
    Closed,
    /// No trustworthy answer yet (network, busy, forged): asked again later.
    Unknown(String),
    /// A signed answer that contradicts the order.
    Disputed(String),
}

pub struct Checkout {
    pub payment: Arc<dyn PaymentGateway>,
    pub storage: Arc<Storage>,
    pub centre: Arc<Centre>,
    pub booth_id: String,
    pub wall_clock: WallClock,
    /// Wakes the uploader when a photo has been sealed.
    pub uploads: Arc<Notify>,
    /// The order on screen (its payer asks about it): `settle_all` leaves it alone.
    pub live: Mutex<Option<String>>,
    /// Pause between the tries of a close.
    pub retry_pause: Duration,
}

impl Checkout {
    pub fn set_live(&self, out_trade_no: Option<String>) {
        *self.live.lock().unwrap_or_else(|e| e.into_inner()) = out_trade_no;
    }

    fn is_live(&self, out_trade_no: &str) -> bool {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).as_deref() == Some(out_trade_no)
    }

    /// `f` with this checkout, on tokio's blocking pool: its journal writes are fsync'd and a
    /// payment seals the photo (`Storage::blocking`).
    async fn blocking<T: Send + 'static>(self: &Arc<Self>, f: impl FnOnce(&Checkout) -> T + Send + 'static) -> T {
        let me = self.clone();
        off_worker(move || f(&me)).await
    }

    /// The order is paid: journaled, sealed, the uploader woken. Sealing may fail (the disk);
    /// the order stays paid and start-up seals it again.
    pub fn paid(&self, out_trade_no: &str, transaction_id: &str) -> Result<(), StorageError> {
        let now = self.wall_clock.now_s();
        self.storage.journal().order_paid(out_trade_no, transaction_id, now)?;
        info!(order = %out_trade_no, "payment received and journaled");
        match self.storage.seal_paid(&*self.centre, &self.booth_id, out_trade_no, now) {
            Ok(_) => self.uploads.notify_one(),
            Err(e) => error!(order = %out_trade_no, error = %e, "paid photo not sealed yet; will try again"),
        }
        Ok(())
    }

    /// An order's new state, journaled (a failure is logged: the order is asked about again).
    pub async fn record(self: &Arc<Self>, out_trade_no: &str, state: OrderState) {
        let no = out_trade_no.to_owned();
        self.blocking(move |c| c.record_now(&no, state)).await
    }

    fn record_now(&self, out_trade_no: &str, state: OrderState) {
        if let Err(e) = self.storage.journal().order_state(out_trade_no, state, self.wall_clock.now_s()) {
            error!(order = %out_trade_no, ?state, error = %e, "order state not recorded");
        }
    }

    /// Acts on one trustworthy answer about order `no`: paid, closed or disputed.
    pub async fn on_answer(
        self: &Arc<Self>,
        no: &str,
        answer: &Result<TradeState, PaymentError>,
    ) -> Option<Settlement> {
        let (no, answer) = (no.to_owned(), answer.clone());
        self.blocking(move |c| c.on_answer_now(&no, &answer)).await
    }

    fn on_answer_now(&self, no: &str, answer: &Result<TradeState, PaymentError>) -> Option<Settlement> {
        match answer {
            Ok(TradeState::Paid { transaction_id }) => match self.paid(no, transaction_id) {
                Ok(()) => Some(Settlement::Paid { transaction_id: transaction_id.clone() }),
                Err(e) => {
                    error!(order = %no, error = %e, "paid order not recorded; will ask again");
                    Some(Settlement::Unknown(e.to_string()))
                }
            },
            Ok(TradeState::Closed | TradeState::NotFound) => {
                self.record_now(no, OrderState::Closed);
                Some(Settlement::Closed)
            }
            Err(PaymentError::Mismatch(why)) => {
                error!(order = %no, why, "WeChat Pay's answer contradicts the order; marked disputed");
                self.record_now(no, OrderState::Disputed);
                let detail = format!("order {no}: {why}");
                if let Err(e) =
                    self.storage.journal().audit("booth", "payment disputed", &detail, self.wall_clock.now_s())
                {
                    error!(error = %e, "audit entry not recorded");
                }
                Some(Settlement::Disputed(why.clone()))
            }
            Ok(TradeState::NotPaid) | Err(_) => None,
        }
    }

    /// Closes an order nobody should pay any more and finds out what became of it: asked,
    /// closed (tried three times), asked once more.
    pub async fn settle(self: &Arc<Self>, order: &OpenOrder) -> Settlement {
        let no = &order.out_trade_no;
        let first = self.payment.query(no, order.amount_fen).await;
        if let Some(s) = self.on_answer(no, &first).await {
            return s;
        }
        let mut closed = Err(PaymentError::Unreachable("not tried".into()));
        for attempt in 0..3 {
            closed = self.payment.close(no).await;
            match &closed {
                Ok(()) => break,
                Err(e) if e.refusal() == Some("ORDERPAID") => break,
                Err(e) if e.is_transient() && attempt < 2 => tokio::time::sleep(self.retry_pause * (attempt + 1)).await,
                Err(_) => break,
            }
        }
        if let Err(e) = &closed {
            warn!(order = %no, error = %e, "closing the order failed");
        }
        let last = self.payment.query(no, order.amount_fen).await;
        match (self.on_answer(no, &last).await, &last, &closed) {
            (Some(s), ..) => s,
            // Closed (or refused as closed) and still not paid: done with it.
            (None, Ok(TradeState::NotPaid), Ok(())) => {
                self.record(no, OrderState::Closed).await;
                Settlement::Closed
            }
            (None, Ok(_), Err(e)) => Settlement::Unknown(e.to_string()),
            (None, Err(e), _) => {
                warn!(order = %no, error = %e, "order not settled; will ask again");
                Settlement::Unknown(e.to_string())
            }
            (None, Ok(s), Ok(())) => Settlement::Unknown(format!("still {s:?} after closing")),
        }
    }

    /// Settles an order by its number as the journal knows it (already settled: as it was).
    pub async fn settle_no(self: &Arc<Self>, out_trade_no: &str) -> Settlement {
        let no = out_trade_no.to_owned();
        let (state, open) = self
            .storage
            .blocking(move |s| {
                let j = s.journal();
                let state = j.order(&no);
                let open = j.unsettled_orders(None).map(|v| v.into_iter().find(|o| o.out_trade_no == no));
                (state, open)
            })
            .await;
        match (state, open) {
            (Ok(Some(OrderState::Paid)), _) => Settlement::Paid { transaction_id: String::new() },
            (Ok(Some(OrderState::Disputed)), _) => Settlement::Disputed("disputed earlier".into()),
            (_, Ok(Some(order))) => self.settle(&order).await,
            (Ok(_), Ok(None)) => Settlement::Closed,
            (Err(e), _) | (_, Err(e)) => Settlement::Unknown(e.to_string()),
        }
    }

    /// Settles every unsettled order except the one on screen (or only `ticket`'s): what became
    /// of each (`Unknown` ones are left for later).
    pub async fn settle_all(self: &Arc<Self>, ticket: Option<&str>) -> Result<Vec<(String, Settlement)>, StorageError> {
        let ticket = ticket.map(str::to_owned);
        let orders = self.storage.blocking(move |s| s.journal().unsettled_orders(ticket.as_deref())).await?;
        let mut done = Vec::new();
        for o in orders.iter().filter(|o| !self.is_live(&o.out_trade_no)) {
            let s = self.settle(o).await;
            info!(order = %o.out_trade_no, settlement = ?s, "open order settled");
            done.push((o.out_trade_no.clone(), s));
        }
        Ok(done)
    }

    /// Start-up and after: seals what was paid but not sealed, then settles the open orders,
    /// again every `period` while any is left. Runs until dropped.
    pub async fn run_settler(self: Arc<Self>, period: Duration) {
        match self.blocking(|c| c.storage.seal_pending(&*c.centre, &c.booth_id, c.wall_clock.now_s())).await {
            Ok(0) => {}
            Ok(n) => {
                info!(sealed = n, "paid photos sealed at start-up");
                self.uploads.notify_one();
            }
            Err(e) => error!(error = %e, "paid photos could not be sealed; will try again"),
        }
        loop {
            match self.settle_all(None).await {
                Ok(done) => {
                    let left = unknown(&done);
                    if left > 0 {
                        warn!(left, "orders still unsettled; will ask again");
                    }
                    // Photos kept while their orders could be paid may go now.
                    if !done.is_empty()
                        && let Err(e) = self.blocking(|c| c.storage.sweep(c.wall_clock.now_s())).await
                    {
                        error!(error = %e, "photos could not be swept; will try again");
                    }
                }
                Err(e) => error!(error = %e, "unsettled orders could not be read"),
            }
            tokio::time::sleep(period).await;
            if let Err(e) =
                self.blocking(|c| c.storage.seal_pending(&*c.centre, &c.booth_id, c.wall_clock.now_s())).await
            {
                error!(error = %e, "paid photos could not be sealed; will try again");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::payment::{Sandbox, WechatPay};

    #[test]
    fn a_slow_journal_holds_up_no_other_task_while_an_order_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(dir.path(), Duration::ZERO, 1).unwrap().0);
        let sandbox = Sandbox::start().unwrap();
        let client = WechatPay::new(sandbox.client_config("booth", Duration::from_secs(1))).unwrap();
        let checkout = Arc::new(Checkout {
            payment: Arc::new(client),
            storage: storage.clone(),
            centre: Arc::new(crate::upload::settings::TEST_CENTRE.parse().unwrap()),
            booth_id: "booth".into(),
            wall_clock: WallClock::System,
            uploads: Arc::default(),
            live: Mutex::new(None),
            retry_pause: Duration::from_millis(10),
        });
        // The journal is busy for 400 ms, as during a slow fsync on a worn SD card.
        let (locked, is_locked) = std::sync::mpsc::channel();
        let holder = {
            let storage = storage.clone();
            std::thread::spawn(move || {
                let _journal = storage.journal();
                locked.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(400));
            })
        };
        is_locked.recv().unwrap();
        // One runtime thread: a write done on it would stop every other task until it returns.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let ticks = Arc::new(AtomicU32::new(0));
        let during = rt.block_on(async {
            let counter = ticks.clone();
            let ticker = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
            checkout.record("booth_0001", OrderState::Closed).await;
            let during = ticks.load(Ordering::Relaxed);
            ticker.abort();
            during
        });
        holder.join().unwrap();
        assert!(during >= 5, "the other task ran {during} times while the journal was busy");
    }
}
