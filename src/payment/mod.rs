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

pub mod checkout;
pub mod payer;
pub mod sandbox;
pub mod settings;
pub mod wechat;
pub mod wechat_api;
pub mod wechat_sign;

pub use sandbox::Sandbox;
pub use wechat::{WechatConfig, WechatPay};

use std::time::Duration;

pub use crate::net::BoxFuture;

#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub out_trade_no: String,
    pub amount_fen: u32,
    pub description: String,
    pub valid_for: Duration,
}

/// What the payment service says of an order (after its answer was verified and checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
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
    fn query<'a>(&'a self, out_trade_no: &'a str, amount_fen: u32) -> BoxFuture<'a, Result<TradeState, PaymentError>>;
    /// Closes an unpaid order (`ORDERPAID` is refused: ask `query`).
    fn close<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<(), PaymentError>>;
    /// The service's own time (unix seconds) in its last verified answer, if any.
    fn server_time(&self) -> Option<i64> {
        None
    }
}

/// The longest booth id: it starts every order number (16 + `_` + at least 4 digits, ≤ 32).
pub const MAX_BOOTH_ID: usize = 16;

/// Whether `id` may name a booth: 1–16 of `[a-z0-9-]`, starting with a letter or digit. It is
/// the booth's name at WeChat Pay (order numbers, `device_id`) and at the collection centre
/// (object keys), so it must be unique among the merchant's booths.
pub fn valid_booth_id(id: &str) -> bool {
    (1..=MAX_BOOTH_ID).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `out_trade_no`: the booth's id and the booth's own order counter (`Journal::next_order`),
/// e.g. `fengxian-d108_1748916000`. Unique across the merchant's booths — booth ids are unique
/// and hold no `_` — and never reused by one booth (the counter only grows); it says nothing
/// about the graduate. A retry of an order uses the number journaled for it. Within WeChat's
/// 6–32 characters of `[0-9A-Za-z_-|*]` for a valid booth id and `seq` below 10¹⁵.
pub fn out_trade_no(booth_id: &str, seq: u64) -> String {
    debug_assert!(valid_booth_id(booth_id) && seq < 1_000_000_000_000_000, "{booth_id} {seq}");
    format!("{booth_id}_{seq:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// WeChat Pay's rule for `out_trade_no`.
    fn within_the_spec(no: &str) -> bool {
        (6..=32).contains(&no.len()) && no.chars().all(|c| c.is_ascii_alphanumeric() || "_-|*".contains(c))
    }

    #[test]
    fn booth_ids_that_could_not_start_an_order_number_are_refused() {
        for ok in ["fengxian-d108", "a", "0123456789abcdef", "d-1"] {
            assert!(valid_booth_id(ok), "{ok}");
        }
        for bad in ["", "-d108", "Fengxian", "fengxian_d108", "fengxian d108", "0123456789abcdefg", "北校区"] {
            assert!(!valid_booth_id(bad), "{bad}");
        }
    }

    #[test]
    fn neighbouring_booths_get_different_order_numbers() {
        // The old scheme kept the booth id's first 10 alphanumerics: both were "fengxiand1".
        assert_ne!(out_trade_no("fengxian-d108", 1), out_trade_no("fengxian-d109", 1));
        assert_ne!(out_trade_no("d1", 11), out_trade_no("d11", 1));
        assert_eq!(out_trade_no("fengxian-d108", 1_748_916_000), "fengxian-d108_1748916000");
        assert_eq!(out_trade_no("a", 1), "a_0001", "never shorter than WeChat's six characters");
    }

    proptest! {
        /// Two booths, or two counter values, never share a number; every number is WeChat-valid.
        #[test]
        fn order_numbers_are_unique_across_booths_and_counters(
            a in "[a-z0-9][a-z0-9-]{0,15}",
            b in "[a-z0-9][a-z0-9-]{0,15}",
            sa in 0u64..1_000_000_000_000_000,
            sb in prop_oneof![0u64..1_000_000_000_000_000, 0u64..20_000],
        ) {
            let (na, nb) = (out_trade_no(&a, sa), out_trade_no(&b, sb));
            prop_assert!(within_the_spec(&na), "{}", na);
            prop_assert!(within_the_spec(&nb), "{}", nb);
            prop_assert_eq!(na == nb, a == b && sa == sb, "{} / {}", na, nb);
        }
    }
}

/// The sandbox a simulated booth pays through: its own, or one running elsewhere.
#[derive(Clone)]
pub enum SandboxLink {
    Local(std::sync::Arc<Sandbox>),
    Remote(String),
}

impl SandboxLink {
    /// The graduate's phone: scans `code_url` and pays.
    pub async fn pay(&self, code_url: &str) -> Result<String, String> {
        match self {
            SandboxLink::Local(s) => s.pay_code(code_url).map_err(|e| e.to_string()),
            SandboxLink::Remote(url) => {
                crate::net::init();
                let http =
                    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(|e| e.to_string())?;
                sandbox::pay_remote(&http, url, code_url).await
            }
        }
    }
}

/// The WeChat Pay client the booth pays with, and the sandbox behind it when it is one (the
/// booth's own, started here, or one at `payment.sandbox_url`).
pub fn connect(
    settings: &settings::PaymentSettings,
    booth_id: &str,
) -> Result<(std::sync::Arc<dyn PaymentGateway>, Option<SandboxLink>), String> {
    use std::sync::Arc;
    let timeout = settings.request_timeout;
    let bad = |e: wechat_sign::SignError| e.to_string();
    Ok(match &settings.gateway {
        settings::Gateway::Sandbox { url: None } => {
            let sb = Arc::new(Sandbox::start().map_err(|e| format!("starting the sandbox: {e}"))?);
            let client = WechatPay::new(sb.client_config(booth_id, timeout)).map_err(bad)?;
            (Arc::new(client), Some(SandboxLink::Local(sb)))
        }
        settings::Gateway::Sandbox { url: Some(url) } => {
            let client = WechatPay::new(sandbox::client_config(url, booth_id, timeout)).map_err(bad)?;
            (Arc::new(client), Some(SandboxLink::Remote(url.clone())))
        }
        settings::Gateway::WechatPay(config) => (Arc::new(WechatPay::new((**config).clone()).map_err(bad)?), None),
    })
}
