//! Paying for a photo: `Orders` carries out the machine's order commands (a new order
//! journaled before its code exists, closing the one that left the screen, giving up the
//! live one when a visit ends) and `Payer` is the task behind one order on screen: it settles
//! the ticket's earlier orders first, creates the order (three tries, the same number), shows
//! its code, and asks until it is paid, closed or disputed.

use std::sync::Arc;
use std::time::Duration;

use tracing::{error, info, warn};

use crate::bus::Events;
use crate::clock::{Backoff, Clock};
use crate::journal::storage::Storage;
use crate::journal::{NewOrder, OrderState};
use crate::payment::checkout::{self, Checkout, Settlement};
use crate::payment::{OrderRequest, PaymentError, out_trade_no};
use crate::visit::{Event, NoCode, PaymentOrder, PaymentUpdate};

/// Creating an order is tried three times, this far apart (and further), with the same number.
pub const CREATE_RETRY: Duration = Duration::from_secs(1);
/// WeChat Pay's `time_expire` is this much later than the code leaves the screen: a graduate
/// who scanned at the last second can still finish paying on the phone. The booth closes the
/// order when the code leaves the screen, which stops any later payment, then asks once more.
const PAY_GRACE: Duration = Duration::from_secs(60);

/// The booth's payment orders: at most one on screen, with its payer task.
pub struct Orders {
    pub checkout: Arc<Checkout>,
    pub clock: Clock,
    pub events: Events,
    pub poll: Backoff,
    /// The order's description on the graduate's phone (`[booth] photo_type`).
    pub description: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Orders {
    pub fn new(checkout: Arc<Checkout>, clock: Clock, events: Events, poll: Backoff, description: String) -> Self {
        Orders { checkout, clock, events, poll, description, task: None }
    }

    fn storage(&self) -> &Storage {
        &self.checkout.storage
    }

    /// A new order for the photo in `file` (journaled first: no code the journal could not
    /// account for is ever shown), and its payer started; `shown_for`: how long its code stays
    /// on screen.
    pub fn create(&mut self, ticket_id: String, file: Option<String>, amount_fen: u32, shown_for: Duration) {
        self.stop();
        let now = self.checkout.wall_clock.now_s();
        let recorded = {
            let journal = self.storage().journal();
            journal.next_order(now).and_then(|seq| {
                let no = out_trade_no(&self.checkout.booth_id, seq);
                // On screen from now: the background settling leaves it to its payer.
                self.checkout.set_live(Some(no.clone()));
                let order = NewOrder { out_trade_no: &no, ticket_id: &ticket_id, photo: file.as_deref(), amount_fen };
                journal.order_created(&order, now).map(|()| no)
            })
        };
        let no = match recorded {
            Ok(no) => no,
            Err(e) => {
                error!(ticket = %ticket_id, error = %e, "order not recorded; no payment code");
                self.checkout.set_live(None);
                let _ = self.events.send(Event::Payment(PaymentUpdate::NoCode(NoCode::NotRecorded)));
                return;
            }
        };
        let request = OrderRequest {
            out_trade_no: no,
            amount_fen,
            description: self.description.clone(),
            valid_for: shown_for + PAY_GRACE,
        };
        let payer =
            Payer { checkout: self.checkout.clone(), clock: self.clock, events: self.events.clone(), poll: self.poll };
        self.task = Some(tokio::spawn(payer.pay(request, ticket_id, shown_for)));
    }

    /// The code left the screen: its order is closed (unless paid meanwhile) and the machine
    /// told what became of it; the photo kept for it may go then.
    pub fn close(&mut self, out_trade_no: String) {
        self.stop();
        let (checkout, events) = (self.checkout.clone(), self.events.clone());
        tokio::spawn(async move {
            let update = match checkout.settle_no(&out_trade_no).await {
                Settlement::Paid { .. } => PaymentUpdate::Paid { out_trade_no },
                Settlement::Closed => PaymentUpdate::Closed { out_trade_no },
                Settlement::Unknown(_) | Settlement::Disputed(_) => PaymentUpdate::Unconfirmed { out_trade_no },
            };
            let _ = events.send(Event::Payment(update));
            let now = checkout.wall_clock.now_s();
            // The photo kept while its order could still be paid may go now.
            if let Err(e) = checkout.storage.blocking(move |s| s.sweep(now)).await {
                error!(error = %e, "photos could not be swept; will try again");
            }
        });
    }

    /// No order is on screen any more (the visit ended, the booth stops): its payer stops and
    /// the background settling takes the order over.
    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        self.checkout.set_live(None);
    }
}

/// Makes an order, shows its code, then asks until it is paid (or the task is aborted: the
/// code expired, the graduate left). Every change of the order's state is journaled first.
pub struct Payer {
    checkout: Arc<Checkout>,
    clock: Clock,
    events: Events,
    /// How often the order is asked about, and how far that backs off when the service is
    /// busy or out of reach.
    poll: Backoff,
}

impl Payer {
    fn send(&self, u: PaymentUpdate) {
        let _ = self.events.send(Event::Payment(u));
    }

    /// No code for this order, and why (nothing was paid: it was never created).
    async fn no_code(&self, no: &str, why: NoCode) {
        self.checkout.record(no, OrderState::Unreachable).await;
        self.send(PaymentUpdate::NoCode(why));
    }

    /// `shown_for`: how long the code is on screen (WeChat's own expiry is `PAY_GRACE` later).
    async fn pay(self, request: OrderRequest, ticket_id: String, shown_for: Duration) {
        let no = &request.out_trade_no;
        let payment = self.checkout.payment.clone();
        // At most one order of a ticket is ever payable: one left open by a restart or a cut
        // network is settled first — and if it was paid, this visit is paid.
        match self.checkout.settle_all(Some(&ticket_id)).await {
            Ok(settled) => {
                if let Some((paid, _)) = settled.iter().find(|(_, s)| matches!(s, Settlement::Paid { .. })) {
                    info!(order = %paid, "an earlier order of this ticket was paid");
                    self.checkout.record(no, OrderState::Closed).await;
                    self.send(PaymentUpdate::Paid { out_trade_no: paid.clone() });
                    return;
                }
                let left = checkout::unknown(&settled);
                if left > 0 {
                    warn!(ticket = %ticket_id, left, "an earlier order cannot be settled; no new one");
                    return self.no_code(no, NoCode::EarlierUnsettled).await;
                }
            }
            Err(e) => {
                error!(error = %e, "earlier orders could not be read");
                return self.no_code(no, NoCode::NotRecorded).await;
            }
        }
        let mut tries = 0;
        let code_url = loop {
            match payment.create(&request).await {
                Ok(url) => break url,
                Err(e) if e.is_transient() && tries < 2 => {
                    tries += 1;
                    warn!(order = %no, error = %e, "creating the order failed; trying again");
                    tokio::time::sleep(CREATE_RETRY * tries).await;
                }
                Err(e) => {
                    warn!(order = %no, error = %e, "could not create payment order");
                    // Out of reach or busy: try again soon. Refused or untrustworthy: the booth's
                    // keys or settings, which trying again does not mend.
                    let why = if e.is_transient() { NoCode::Unreachable } else { NoCode::Refused };
                    return self.no_code(no, why).await;
                }
            }
        };
        info!(order = %no, amount_fen = request.amount_fen, "payment order created");
        self.checkout.record(no, OrderState::Open).await;
        self.send(PaymentUpdate::Created(PaymentOrder {
            out_trade_no: no.clone(),
            code_url,
            amount_fen: request.amount_fen,
            expires_at: self.clock.now().after(shown_for),
            simulated: payment.simulated(),
        }));
        let payment_poll = self.poll.first;
        let mut pause = payment_poll;
        loop {
            tokio::time::sleep(pause).await;
            let answer = payment.query(no, request.amount_fen).await;
            match self.checkout.on_answer(no, &answer).await {
                Some(Settlement::Paid { .. }) => {
                    self.send(PaymentUpdate::Paid { out_trade_no: no.clone() });
                    return;
                }
                // Failed on the phone or closed: this code is done with.
                Some(Settlement::Closed) => {
                    self.send(PaymentUpdate::Closed { out_trade_no: no.clone() });
                    return;
                }
                Some(Settlement::Disputed(_)) => {
                    self.send(PaymentUpdate::Unconfirmed { out_trade_no: no.clone() });
                    return;
                }
                Some(Settlement::Unknown(_)) => pause = payment_poll,
                None => match answer {
                    Ok(_) => pause = payment_poll,
                    Err(e @ PaymentError::Forged(_)) => {
                        error!(order = %no, error = %e, "a payment answer was refused");
                        pause = payment_poll;
                    }
                    Err(e) => {
                        pause = self.poll.after(Some(pause));
                        warn!(order = %no, error = %e, retry_in_s = pause.as_secs(), "payment query failed; will ask again");
                    }
                },
            }
        }
    }
}
