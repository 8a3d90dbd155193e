//! A gateway that lives in memory. Orders are paid by `pay_open_orders` — the keyboard
//! shortcut, the debug panel or the scripted graduate standing in for a phone.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{BoxFuture, OrderRequest, OrderState, PaymentError, PaymentGateway};

#[derive(Default)]
pub struct SimulatedGateway {
    orders: Mutex<BTreeMap<String, OrderState>>,
}

impl SimulatedGateway {
    pub fn new() -> Self {
        Self::default()
    }

    /// The graduate scans the code and pays: every open order is paid. Returns how many.
    pub fn pay_open_orders(&self) -> usize {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = 0;
        for (no, state) in orders.iter_mut() {
            if *state == OrderState::NotPaid {
                *state = OrderState::Paid { transaction_id: format!("SIM{no}") };
                n += 1;
            }
        }
        n
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, OrderState>) -> T) -> T {
        f(&mut self.orders.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl PaymentGateway for SimulatedGateway {
    fn simulated(&self) -> bool {
        true
    }

    fn create(&self, order: &OrderRequest) -> BoxFuture<'_, Result<String, PaymentError>> {
        let no = order.out_trade_no.clone();
        Box::pin(async move {
            self.with(|o| {
                let state = o.entry(no.clone()).or_insert(OrderState::NotPaid);
                if *state == OrderState::Closed {
                    // As WeChat Pay does: a closed out_trade_no cannot be reused.
                    return Err(PaymentError::Refused(format!("order {no} is closed")));
                }
                Ok(format!("weixin://wxpay/bizpayurl?pr=SIM-{no}"))
            })
        })
    }

    fn query<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<OrderState, PaymentError>> {
        Box::pin(async move {
            self.with(|o| o.get(out_trade_no).cloned())
                .ok_or_else(|| PaymentError::Refused(format!("no order {out_trade_no}")))
        })
    }

    fn close<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            self.with(|o| match o.get_mut(out_trade_no) {
                Some(state @ OrderState::NotPaid) => {
                    *state = OrderState::Closed;
                    Ok(())
                }
                Some(OrderState::Paid { .. }) => Err(PaymentError::Refused("order already paid".into())),
                _ => Ok(()),
            })
        })
    }
}
