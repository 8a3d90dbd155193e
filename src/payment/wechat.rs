//! The WeChat Pay API v3 client (Native payment): every request signed with the merchant key,
//! every answer's signature verified with the WeChat Pay public key before it is read, every
//! call bounded by a timeout. reqwest with rustls; the booth's own clock is the system's
//! (signatures carry it: run NTP).
//!
//! Retrying is the caller's business (`runtime`'s payer asks again with back-off); the client
//! only sorts failures into `PaymentError`s: no answer, busy (429/5xx), refused, forged,
//! mismatched.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::{Method, StatusCode};
use tracing::debug;

use super::wechat_api::{self, Amount, NativeCreated, NativeOrder, SceneInfo, Settled, Transaction};
use super::wechat_sign::{SignError, SignedResponse, Signer, Verifier, nonce};
use super::{BoxFuture, OrderRequest, PaymentError, PaymentGateway, TradeState};

/// Answers larger than this are not read (a query answer is ~1 KB).
const MAX_ANSWER: usize = 64 * 1024;

/// Where and as whom the booth pays.
#[derive(Debug, Clone, PartialEq)]
pub struct WechatConfig {
    /// `https://api.mch.weixin.qq.com` (the sandbox: `http://127.0.0.1:…`).
    pub base_url: String,
    pub mchid: String,
    pub appid: String,
    /// The merchant API certificate's serial number (`serial_no` in requests).
    pub cert_serial: String,
    /// The merchant private key, PKCS#8 PEM (`apiclient_key.pem`).
    pub private_key_pem: String,
    /// The WeChat Pay public key, SubjectPublicKeyInfo PEM (`pub_key.pem`), and its id.
    pub public_key_pem: String,
    pub public_key_id: String,
    /// Required by the API; the booth asks rather than waits to be told.
    pub notify_url: String,
    /// `scene_info.device_id`: the booth's id.
    pub device_id: String,
    /// The longest one request may take.
    pub timeout: Duration,
    /// The sandbox: the screen says 模拟支付.
    pub sandbox: bool,
}

pub struct WechatPay {
    http: reqwest::Client,
    config: WechatConfig,
    signer: Signer,
    verifier: Verifier,
    /// The payment service's time in its last verified answer (`Wechatpay-Timestamp`: signed,
    /// so it cannot be forged on the way), for the diagnostics' clock check; 0 = none yet.
    server_time: std::sync::atomic::AtomicI64,
}

impl WechatPay {
    pub fn new(config: WechatConfig) -> Result<Self, SignError> {
        let signer = Signer::from_pem(&config.private_key_pem, &config.mchid, &config.cert_serial)?;
        let verifier = Verifier::from_pem(&config.public_key_pem, &config.public_key_id)?;
        crate::net::init();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| SignError::Client(e.to_string()))?;
        Ok(WechatPay { http, config, signer, verifier, server_time: std::sync::atomic::AtomicI64::new(0) })
    }

    pub fn config(&self) -> &WechatConfig {
        &self.config
    }

    /// One signed request; the answer's status and body once its signature has been checked
    /// (429 and 5xx are `Busy` whatever they carry: they only ever mean "ask again").
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, String), PaymentError> {
        let body_text = body.as_deref().unwrap_or("");
        let ts = unix_now();
        let nonce = nonce();
        let auth = self
            .signer
            .authorization(method.as_str(), path_and_query, ts, &nonce, body_text)
            .map_err(|e| PaymentError::Unreachable(format!("signing: {e}")))?;
        let url = format!("{}{}", self.config.base_url.trim_end_matches('/'), path_and_query);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header(AUTHORIZATION, auth)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("gradbooth/", env!("CARGO_PKG_VERSION")));
        if let Some(b) = body {
            req = req.header(CONTENT_TYPE, "application/json").body(b);
        }
        let mut resp = req.send().await.map_err(|e| PaymentError::Unreachable(describe(&e)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| PaymentError::Unreachable(describe(&e)))? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(PaymentError::Forged(format!("an answer of more than {MAX_ANSWER} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        debug!(%method, path = path_and_query.split('?').next().unwrap_or(""), status = status.as_u16(), "WeChat Pay answered");
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(PaymentError::Busy { status: status.as_u16(), detail: error_code(&bytes) });
        }
        let text = String::from_utf8(bytes).map_err(|_| PaymentError::Forged("an answer that is not UTF-8".into()))?;
        let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        self.verifier
            .check_response(
                &SignedResponse {
                    timestamp: h("wechatpay-timestamp"),
                    nonce: h("wechatpay-nonce"),
                    signature: h("wechatpay-signature"),
                    serial: h("wechatpay-serial"),
                    body: &text,
                },
                unix_now(),
            )
            .map_err(|e| PaymentError::Forged(e.to_string()))?;
        if let Some(t) = h("wechatpay-timestamp").and_then(|t| t.parse::<i64>().ok()) {
            self.server_time.store(t, std::sync::atomic::Ordering::Relaxed);
        }
        Ok((status, text))
    }

    fn native_order(&self, o: &OrderRequest) -> NativeOrder {
        let expire = chrono::Utc::now() + chrono::Duration::from_std(o.valid_for).unwrap_or_default();
        let china = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
        NativeOrder {
            appid: self.config.appid.clone(),
            mchid: self.config.mchid.clone(),
            description: o.description.clone(),
            out_trade_no: o.out_trade_no.clone(),
            time_expire: expire.with_timezone(&china).format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            notify_url: self.config.notify_url.clone(),
            amount: Amount { total: o.amount_fen, currency: "CNY".into() },
            scene_info: SceneInfo { payer_client_ip: "127.0.0.1".into(), device_id: self.config.device_id.clone() },
        }
    }
}

/// The service's refusal of a request, from a verified 4xx answer.
fn refused(status: StatusCode, body: &str) -> PaymentError {
    #[derive(serde::Deserialize)]
    struct Problem {
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_str::<Problem>(body) {
        Ok(p) => PaymentError::Refused { code: p.code, message: p.message },
        Err(_) => PaymentError::Refused { code: format!("HTTP_{}", status.as_u16()), message: String::new() },
    }
}

fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// A network error in words for the log (reqwest's Display hides the cause).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut s = kind.to_owned();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl PaymentGateway for WechatPay {
    fn server_time(&self) -> Option<i64> {
        Some(self.server_time.load(std::sync::atomic::Ordering::Relaxed)).filter(|t| *t > 0)
    }

    fn simulated(&self) -> bool {
        self.config.sandbox
    }

    fn create<'a>(&'a self, order: &'a OrderRequest) -> BoxFuture<'a, Result<String, PaymentError>> {
        Box::pin(async move {
            let body = serde_json::to_string(&self.native_order(order)).expect("serialisable");
            let (status, text) = self.call(Method::POST, wechat_api::NATIVE_PATH, Some(body)).await?;
            if status != StatusCode::OK {
                return Err(refused(status, &text));
            }
            let created: NativeCreated =
                serde_json::from_str(&text).map_err(|e| PaymentError::Mismatch(format!("order answer: {e}")))?;
            if !created.code_url.starts_with("weixin://") {
                return Err(PaymentError::Mismatch("a code_url that is not a weixin:// link".into()));
            }
            Ok(created.code_url)
        })
    }

    fn query<'a>(&'a self, out_trade_no: &'a str, amount_fen: u32) -> BoxFuture<'a, Result<TradeState, PaymentError>> {
        Box::pin(async move {
            let path = wechat_api::query_path(out_trade_no, &self.config.mchid);
            let (status, text) = self.call(Method::GET, &path, None).await?;
            if status == StatusCode::NOT_FOUND {
                return match refused(status, &text) {
                    PaymentError::Refused { code, .. } if code == "ORDER_NOT_EXIST" => Ok(TradeState::NotFound),
                    other => Err(other),
                };
            }
            if status != StatusCode::OK {
                return Err(refused(status, &text));
            }
            let t: Transaction =
                serde_json::from_str(&text).map_err(|e| PaymentError::Mismatch(format!("query answer: {e}")))?;
            match wechat_api::settle(&t, &self.config.mchid, out_trade_no, amount_fen) {
                Ok(Settled::Paid { transaction_id }) => Ok(TradeState::Paid { transaction_id }),
                Ok(Settled::Waiting) => Ok(TradeState::NotPaid),
                Ok(Settled::Closed) => Ok(TradeState::Closed),
                Err(m) => Err(PaymentError::Mismatch(m.to_string())),
            }
        })
    }

    fn close<'a>(&'a self, out_trade_no: &'a str) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let body = serde_json::json!({ "mchid": self.config.mchid }).to_string();
            let (status, text) = self.call(Method::POST, &wechat_api::close_path(out_trade_no), Some(body)).await?;
            match status {
                StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
                _ => Err(refused(status, &text)),
            }
        })
    }
}
