//! Taking the graduate's money. `PaymentGateway` is the seam: this first version has a
//! simulated gateway that "pays" when the simulated graduate scans (模拟支付); issue 7 puts
//! the real WeChat Pay v3 client behind the same trait.

mod simulated;
pub mod wechat_api;
pub mod wechat_sign;

pub use simulated::SimulatedGateway;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderState {
    NotPaid,
    Paid { transaction_id: String },
    Closed,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PaymentError {
    #[error("payment service unreachable: {0}")]
    Unreachable(String),
    #[error("payment service refused: {0}")]
    Refused(String),
}

pub trait PaymentGateway: Send + Sync {
    /// True for the simulated gateway: the screen says 模拟支付.
    fn simulated(&self) -> bool;
    /// Create a Native order; returns the `code_url` the graduate scans with WeChat.
    fn create(&self, order: &OrderRequest) -> BoxFuture<'_, Result<String, PaymentError>>;
    fn query<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<OrderState, PaymentError>>;
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
