//! The WeChat Pay sandbox: a local HTTP server that speaks the part of API v3 the booth uses
//! (Native order, query by `out_trade_no`, close) with keys of its own, so development, the
//! demo, `cargo run` and the tests exercise the real client (`WechatPay`) end to end.
//!
//! Like WeChat Pay it checks every request's `WECHATPAY2-SHA256-RSA2048` signature against the
//! merchant's public key (401 `SIGN_ERROR` otherwise), signs every answer with its platform key
//! (`Wechatpay-Signature`, `-Timestamp`, `-Nonce`, `-Serial`), keeps orders with their
//! `time_expire`, and refuses to pay a code after it. What a phone does — scanning the code
//! and paying — is `pay_code` (or `POST /sandbox/pay` with the `code_url` as body, from
//! another process). `Faults` makes it answer 429 or 500, hang, sign wrongly, report another
//! amount, or be paid at the very moment the booth closes the order.
//!
//! The keys are throw-away test keys kept in `sandbox/` (labelled TESTING KEY): they protect
//! nothing and must never be a real booth's.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use tracing::{debug, info, warn};

mod api;

use self::api::{Server, serve};
use super::wechat::{WechatConfig, unix_now};
use super::wechat_api::{self, NativeOrder};
use super::wechat_sign::{MAX_SKEW_S, Signer, Verifier, request_message};

pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd930ea5d5a258f4f";
/// The serial of the sandbox merchant's "API certificate".
pub const CERT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// The id of the sandbox's platform public key.
pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0119000001092025SANDBOX0000000001";

const MERCHANT_KEY: &str = include_str!("sandbox-merchant.key.pem");
const MERCHANT_PUB: &str = include_str!("sandbox-merchant.pub.pem");
const PLATFORM_KEY: &str = include_str!("sandbox-wechatpay.key.pem");
const PLATFORM_PUB: &str = include_str!("sandbox-wechatpay.pub.pem");
const MAX_REQUEST: usize = 64 * 1024;

fn testing_key(pem: &str) -> String {
    pem.replace("TESTING KEY", "PRIVATE KEY")
}

/// The booth's client settings for a sandbox at `base_url`.
pub fn client_config(base_url: &str, device_id: &str, timeout: Duration) -> WechatConfig {
    WechatConfig {
        base_url: base_url.trim_end_matches('/').to_owned(),
        mchid: MCHID.into(),
        appid: APPID.into(),
        cert_serial: CERT_SERIAL.into(),
        private_key_pem: testing_key(MERCHANT_KEY),
        public_key_pem: PLATFORM_PUB.into(),
        public_key_id: PUBLIC_KEY_ID.into(),
        notify_url: "https://booth.invalid/wechatpay/notify".into(),
        device_id: device_id.into(),
        timeout,
        sandbox: true,
    }
}

/// Ways the sandbox misbehaves, as WeChat Pay or the network between can.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// The next n requests are answered 429 `RATELIMIT_EXCEEDED`.
    pub rate_limited: u32,
    /// The next n requests are answered 500 `SYSTEM_ERROR`.
    pub server_errors: u32,
    /// Every answer waits this long (longer than the client's timeout: a hang).
    pub delay: Duration,
    /// The next n answers carry a signature that does not verify.
    pub bad_signatures: u32,
    /// Query answers of paid orders report this amount instead of the order's.
    pub paid_amount: Option<u32>,
    /// The graduate pays at the last second: closing an unpaid order pays it instead and
    /// answers `ORDERPAID`.
    pub pay_on_close: bool,
}

/// An order as the sandbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxOrder {
    pub out_trade_no: String,
    pub amount_fen: u32,
    pub description: String,
    pub device_id: String,
    pub code_url: String,
    /// `NOTPAY`, `SUCCESS`, `CLOSED` or `PAYERROR`.
    pub trade_state: String,
    pub transaction_id: Option<String>,
    pub time_expire: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub success_time: Option<String>,
    /// How many create requests named it (a retry asks again for the same order).
    pub creates: u32,
}

/// Why the phone could not pay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayRefused {
    #[error("no order has this code")]
    UnknownCode,
    #[error("the code has expired")]
    Expired,
    #[error("the order is {0}")]
    NotPayable(String),
}

#[derive(Default)]
struct State {
    orders: BTreeMap<String, SandboxOrder>,
    faults: Faults,
    next_transaction: u64,
    /// Requests whose signature the sandbox refused.
    refused_signatures: u64,
    requests: u64,
}

impl State {
    fn pay(&mut self, no: &str, now: i64) -> Result<(), PayRefused> {
        let next = self.next_transaction + 1;
        let o = self.orders.get_mut(no).ok_or(PayRefused::UnknownCode)?;
        if o.trade_state != "NOTPAY" {
            return Err(PayRefused::NotPayable(o.trade_state.clone()));
        }
        if now >= o.expires_at {
            return Err(PayRefused::Expired);
        }
        self.next_transaction = next;
        o.trade_state = "SUCCESS".into();
        o.transaction_id = Some(format!("42000{next:023}"));
        o.success_time = Some(rfc3339(now));
        Ok(())
    }
}

fn rfc3339(unix: i64) -> String {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .with_timezone(&china)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A running sandbox; stops when dropped.
pub struct Sandbox {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// A sandbox on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().expect("address"))
    }

    pub fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let state: Arc<Mutex<State>> = Arc::default();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let server = Server {
            state: state.clone(),
            merchant: Verifier::from_pem(MERCHANT_PUB, "merchant").expect("the sandbox merchant key"),
            platform: Arc::new(
                Signer::from_pem(&testing_key(PLATFORM_KEY), MCHID, PUBLIC_KEY_ID).expect("the sandbox platform key"),
            ),
        };
        let thread = std::thread::Builder::new().name("wechatpay-sandbox".into()).spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("sandbox runtime");
            rt.block_on(serve(listener, Arc::new(server), stopped));
        })?;
        info!(%url, "WeChat Pay sandbox listening");
        Ok(Sandbox { url, state, stop: Some(stop), thread: Some(thread) })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The booth's client settings for this sandbox.
    pub fn client_config(&self, device_id: &str, timeout: Duration) -> WechatConfig {
        client_config(&self.url, device_id, timeout)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state().faults = faults;
    }

    /// Every order, in order-number order.
    pub fn orders(&self) -> Vec<SandboxOrder> {
        self.state().orders.values().cloned().collect()
    }

    pub fn order(&self, out_trade_no: &str) -> Option<SandboxOrder> {
        self.state().orders.get(out_trade_no).cloned()
    }

    /// Requests answered so far, and how many of them were refused for their signature.
    pub fn requests(&self) -> (u64, u64) {
        let s = self.state();
        (s.requests, s.refused_signatures)
    }

    /// A graduate scans `code_url` with WeChat and pays; returns the order paid.
    pub fn pay_code(&self, code_url: &str) -> Result<String, PayRefused> {
        pay_code(&mut self.state(), code_url)
    }

    /// The payment fails on the phone (`PAYERROR`).
    pub fn fail_order(&self, out_trade_no: &str) -> Result<(), PayRefused> {
        let mut s = self.state();
        let o = s.orders.get_mut(out_trade_no).ok_or(PayRefused::UnknownCode)?;
        o.trade_state = "PAYERROR".into();
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pay_code(s: &mut State, code_url: &str) -> Result<String, PayRefused> {
    let no = s
        .orders
        .values()
        .find(|o| o.code_url == code_url.trim())
        .map(|o| o.out_trade_no.clone())
        .ok_or(PayRefused::UnknownCode)?;
    s.pay(&no, unix_now())?;
    info!(order = %no, "sandbox: paid");
    Ok(no)
}

/// Pays the code in `code_url` at the sandbox at `base_url` (from another process: the crash
/// test's booth, the debug panel's "pay" when the sandbox runs elsewhere).
pub async fn pay_remote(http: &reqwest::Client, base_url: &str, code_url: &str) -> Result<String, String> {
    let resp = http
        .post(format!("{}/sandbox/pay", base_url.trim_end_matches('/')))
        .body(code_url.to_owned())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if status.is_success() { Ok(text) } else { Err(format!("{status}: {text}")) }
}
