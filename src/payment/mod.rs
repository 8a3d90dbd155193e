//! Taking the graduate's money: WeChat Pay API v3, Native payment (扫码支付).
//!
//! - `wechat_sign`: request signatures and response verification (ring).
//! - `wechat_api`: the order, query and close messages, and `settle` (a `SUCCESS` must match
//!   merchant, order and amount).
//! - `wechat`: the client (`WechatPay`, reqwest + rustls) behind the `PaymentGateway` seam.
//! - `sandbox`: a local server that speaks the same API with its own keys — verifies the
//!   booth's signatures, signs its answers, and lets a test, the demo or the debug panel pay,
//!   fail, expire, rate-limit, break or hang. The simulated booth talks to it through the real
//!   client, so development exercises the code a real booth runs.

pub mod sandbox;
pub mod wechat;
pub mod wechat_api;
pub mod wechat_sign;

pub use sandbox::Sandbox;
pub use wechat::{WechatConfig, WechatPay};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub out_trade_no: String,
    pub amount_fen: u32,
    pub description: String,
    pub valid_for: Duration,
}

/// What the payment service says of an order (after its answer was verified and checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderState {
    /// Not paid (yet).
    NotPaid,
    Paid {
        transaction_id: String,
    },
    /// Closed, revoked or failed: no money will come for it.
    Closed,
    /// The service has never heard of it (its creation never arrived).
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// No answer: refused, cut or timed out.
    #[error("payment service unreachable: {0}")]
    Unreachable(String),
    /// Rate-limited (429) or failing (5xx): ask again later, with the same order number.
    #[error("payment service busy (HTTP {status}): {detail}")]
    Busy { status: u16, detail: String },
    /// A genuine refusal (signed 4xx), e.g. `ORDERPAID` when closing a paid order.
    #[error("payment service refused: {code}: {message}")]
    Refused { code: String, message: String },
    /// An answer the booth must not believe: unsigned, signed by another key, stale, altered.
    #[error("payment answer not trusted: {0}")]
    Forged(String),
    /// A signed answer about another merchant, order or amount.
    #[error("payment answer does not match the order: {0}")]
    Mismatch(String),
}

impl PaymentError {
    /// Worth asking again later (the network or the service, not the request).
    pub fn is_transient(&self) -> bool {
        matches!(self, PaymentError::Unreachable(_) | PaymentError::Busy { .. })
    }

    /// The refusal code, when the service refused.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            PaymentError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

pub trait PaymentGateway: Send + Sync {
    /// True for the sandbox: the screen says 模拟支付.
    fn simulated(&self) -> bool;
    /// Creates a Native order; returns the `code_url` the graduate scans with WeChat. Asking
    /// again with the same order number and contents gives the same code.
    fn create<'a>(&'a self, order: &'a OrderRequest) -> BoxFuture<'a, Result<String, PaymentError>>;
    /// The order's state; a `SUCCESS` is believed only for this merchant, order and amount.
    fn query<'a>(&'a self, out_trade_no: &'a str, amount_fen: u32) -> BoxFuture<'a, Result<OrderState, PaymentError>>;
    /// Closes an unpaid order (`ORDERPAID` is refused: ask `query`).
    fn close<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<(), PaymentError>>;
}

/// `out_trade_no` from the booth, the ticket and the order's number within the visit, so the
/// same visit asks for the same order again after a retry. 6–32 chars of `[0-9A-Za-z_-]`.
pub fn out_trade_no(booth_id: &str, ticket_id: &str, seq: u32) -> String {
    let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>();
    let mut ticket = clean(ticket_id);
    let booth: String = clean(booth_id).chars().take(10).collect();
    let suffix = format!("-{seq}");
    let room = 32 - booth.len() - 1 - suffix.len();
    if ticket.len() > room {
        ticket = ticket[ticket.len() - room..].to_owned();
    }
    format!("{booth}-{ticket}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_trade_numbers_are_stable_and_within_the_spec() {
        let a = out_trade_no("fengxian-d108", "DEMO-0001", 1);
        assert_eq!(a, out_trade_no("fengxian-d108", "DEMO-0001", 1));
        assert_ne!(a, out_trade_no("fengxian-d108", "DEMO-0001", 2));
        let long = out_trade_no("fengxian-d108", &"X".repeat(80), 12);
        for s in [&a, &long] {
            assert!((6..=32).contains(&s.len()), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{s}");
        }
    }
}

#[cfg(test)]
mod client_tests;
