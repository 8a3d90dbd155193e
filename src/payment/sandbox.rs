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

use super::wechat::{WechatConfig, unix_now};
use super::wechat_api::{self, NativeOrder};
use super::wechat_sign::{MAX_SKEW_S, Signer, Verifier, request_message};

pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd930ea5d5a258f4f";
/// The serial of the sandbox merchant's "API certificate".
pub const CERT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// The id of the sandbox's platform public key.
pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0119000001092025SANDBOX0000000001";

const MERCHANT_KEY: &str = include_str!("sandbox/sandbox-merchant.key.pem");
const MERCHANT_PUB: &str = include_str!("sandbox/sandbox-merchant.pub.pem");
const PLATFORM_KEY: &str = include_str!("sandbox/sandbox-wechatpay.key.pem");
const PLATFORM_PUB: &str = include_str!("sandbox/sandbox-wechatpay.pub.pem");
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

    /// Pays one order by its number (what `pay_code` does once the code is found).
    pub fn pay_order(&self, out_trade_no: &str) -> Result<(), PayRefused> {
        self.state().pay(out_trade_no, unix_now())
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

struct Server {
    state: Arc<Mutex<State>>,
    merchant: Verifier,
    platform: Arc<Signer>,
}

async fn serve(listener: std::net::TcpListener, server: Arc<Server>, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            warn!(error = %e, "sandbox cannot listen");
            return;
        }
    };
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "sandbox accept failed");
                    continue;
                }
            },
        };
        let server = server.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(server.handle(req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

/// An answer before it is signed.
struct Answer {
    status: StatusCode,
    body: String,
}

fn json(status: StatusCode, body: serde_json::Value) -> Answer {
    Answer { status, body: body.to_string() }
}

fn problem(status: StatusCode, code: &str, message: &str) -> Answer {
    json(status, serde_json::json!({ "code": code, "message": message }))
}

impl Server {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = req.method().clone();
        let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = match Limited::new(req.into_body(), MAX_REQUEST).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request too large"),
        };
        let body = String::from_utf8_lossy(&body).into_owned();
        // The phone and the test's eyes: not part of WeChat Pay's API, not signed.
        if let Some(rest) = path_and_query.strip_prefix("/sandbox/") {
            return self.control(&method, rest, &body);
        }
        let (delay, answer, bad_signature) = {
            let mut s = self.state();
            s.requests += 1;
            let f = &mut s.faults;
            let delay = f.delay;
            let early = if f.rate_limited > 0 {
                f.rate_limited -= 1;
                Some(problem(StatusCode::TOO_MANY_REQUESTS, "RATELIMIT_EXCEEDED", "达到调用速率限制"))
            } else if f.server_errors > 0 {
                f.server_errors -= 1;
                Some(problem(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", "系统异常，请稍后重试"))
            } else {
                None
            };
            let bad_signature = early.is_none() && f.bad_signatures > 0;
            if bad_signature {
                f.bad_signatures -= 1;
            }
            let answer = match early {
                Some(a) => a,
                None => match self.authenticate(&method, &path_and_query, auth.as_deref(), &body) {
                    Err(why) => {
                        s.refused_signatures += 1;
                        warn!(why, "sandbox: request signature refused");
                        problem(StatusCode::UNAUTHORIZED, "SIGN_ERROR", why)
                    }
                    Ok(()) => api(&mut s, &method, &path_and_query, &body),
                },
            };
            (delay, answer, bad_signature)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        debug!(%method, path = %path_and_query, status = answer.status.as_u16(), "sandbox answered");
        self.signed(answer, bad_signature)
    }

    /// Checks the `Authorization` header as WeChat Pay does.
    fn authenticate(
        &self,
        method: &Method,
        path_and_query: &str,
        auth: Option<&str>,
        body: &str,
    ) -> Result<(), &'static str> {
        let params = auth
            .and_then(|a| a.strip_prefix("WECHATPAY2-SHA256-RSA2048 "))
            .ok_or("missing or unknown Authorization scheme")?;
        let mut fields = BTreeMap::new();
        for part in params.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or("malformed Authorization")?;
            fields.insert(k, v.trim_matches('"'));
        }
        let get = |k: &str| fields.get(k).copied().ok_or("Authorization lacks a field");
        if get("mchid")? != MCHID {
            return Err("unknown merchant");
        }
        if get("serial_no")? != CERT_SERIAL {
            return Err("unknown merchant certificate serial");
        }
        let ts: i64 = get("timestamp")?.parse().map_err(|_| "bad timestamp")?;
        if (ts - unix_now()).abs() > MAX_SKEW_S {
            return Err("timestamp too far from the server's clock");
        }
        let message = request_message(method.as_str(), path_and_query, ts, get("nonce_str")?, body);
        if self.merchant.verify(message.as_bytes(), get("signature")?) {
            Ok(())
        } else {
            Err("signature does not verify")
        }
    }

    fn signed(&self, a: Answer, bad_signature: bool) -> Response<Full<Bytes>> {
        let ts = unix_now().to_string();
        let nonce = super::wechat_sign::nonce();
        let signed_body = if bad_signature { format!("{} ", a.body) } else { a.body.clone() };
        let signature = self.platform.sign(format!("{ts}\n{nonce}\n{signed_body}\n").as_bytes()).unwrap_or_default();
        let mut r = Response::builder()
            .status(a.status)
            .header("Wechatpay-Timestamp", ts)
            .header("Wechatpay-Nonce", nonce)
            .header("Wechatpay-Signature", signature)
            .header("Wechatpay-Serial", PUBLIC_KEY_ID)
            .header("Request-ID", format!("sandbox-{}", super::wechat_sign::nonce()));
        if !a.body.is_empty() {
            r = r.header("Content-Type", "application/json");
        }
        r.body(Full::new(Bytes::from(a.body))).expect("a valid response")
    }

    fn control(&self, method: &Method, rest: &str, body: &str) -> Response<Full<Bytes>> {
        let mut s = self.state();
        match (method, rest) {
            (&Method::POST, "pay") => match pay_code(&mut s, body) {
                Ok(no) => plain(StatusCode::OK, &no),
                Err(e @ PayRefused::UnknownCode) => plain(StatusCode::NOT_FOUND, &e.to_string()),
                Err(e) => plain(StatusCode::CONFLICT, &e.to_string()),
            },
            (&Method::GET, "orders") => {
                let orders: Vec<_> = s.orders.values().cloned().collect();
                Response::builder()
                    .header("Content-Type", "application/json")
                    .body(Full::new(Bytes::from(serde_json::to_string(&orders).unwrap_or_default())))
                    .expect("a valid response")
            }
            _ => plain(StatusCode::NOT_FOUND, "unknown sandbox control"),
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    Response::builder().status(status).body(Full::new(Bytes::from(text.to_owned()))).expect("a valid response")
}

const ORDER_PREFIX: &str = "/v3/pay/transactions/out-trade-no/";

/// The API itself, on an authenticated request.
fn api(s: &mut State, method: &Method, path_and_query: &str, body: &str) -> Answer {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    if method == Method::POST && path == wechat_api::NATIVE_PATH {
        return create(s, body);
    }
    if let Some(rest) = path.strip_prefix(ORDER_PREFIX) {
        if method == Method::GET && !rest.contains('/') {
            if query != format!("mchid={MCHID}") {
                return problem(StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 参数错误");
            }
            return query_order(s, rest);
        }
        if let (true, Some(no)) = (method == Method::POST, rest.strip_suffix("/close")) {
            let mchid = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["mchid"].as_str().map(str::to_owned));
            if mchid.as_deref() != Some(MCHID) {
                return problem(StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 参数错误");
            }
            return close(s, no);
        }
    }
    problem(StatusCode::NOT_FOUND, "NOT_FOUND", "unknown path")
}

fn valid_out_trade_no(no: &str) -> bool {
    (6..=32).contains(&no.len()) && no.chars().all(|c| c.is_ascii_alphanumeric() || "_-|*".contains(c))
}

fn create(s: &mut State, body: &str) -> Answer {
    let o: NativeOrder = match serde_json::from_str(body) {
        Ok(o) => o,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "PARAM_ERROR", &format!("请求体错误: {e}")),
    };
    if o.mchid != MCHID || o.appid != APPID {
        return problem(StatusCode::BAD_REQUEST, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配");
    }
    if !valid_out_trade_no(&o.out_trade_no) || o.amount.total == 0 || o.amount.currency != "CNY" {
        return problem(StatusCode::BAD_REQUEST, "PARAM_ERROR", "参数错误");
    }
    if o.description.is_empty() || o.description.len() > 127 {
        return problem(StatusCode::BAD_REQUEST, "PARAM_ERROR", "description 长度错误");
    }
    let Ok(expires) = chrono::DateTime::parse_from_rfc3339(&o.time_expire) else {
        return problem(StatusCode::BAD_REQUEST, "PARAM_ERROR", "time_expire 格式错误");
    };
    if let Some(existing) = s.orders.get_mut(&o.out_trade_no) {
        return match existing.trade_state.as_str() {
            "SUCCESS" => problem(StatusCode::BAD_REQUEST, "ORDERPAID", "该订单已支付"),
            "NOTPAY" if existing.amount_fen == o.amount.total && existing.description == o.description => {
                existing.creates += 1;
                json(StatusCode::OK, serde_json::json!({ "code_url": existing.code_url }))
            }
            "NOTPAY" => problem(StatusCode::BAD_REQUEST, "OUT_TRADE_NO_USED", "商户订单号重复"),
            _ => problem(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "订单已关闭"),
        };
    }
    let code_url = format!("weixin://wxpay/bizpayurl?pr=SBX{}", &super::wechat_sign::nonce()[..12]);
    s.orders.insert(
        o.out_trade_no.clone(),
        SandboxOrder {
            out_trade_no: o.out_trade_no.clone(),
            amount_fen: o.amount.total,
            description: o.description,
            device_id: o.scene_info.device_id,
            code_url: code_url.clone(),
            trade_state: "NOTPAY".into(),
            transaction_id: None,
            time_expire: o.time_expire,
            expires_at: expires.timestamp(),
            success_time: None,
            creates: 1,
        },
    );
    json(StatusCode::OK, serde_json::json!({ "code_url": code_url }))
}

fn query_order(s: &mut State, no: &str) -> Answer {
    let Some(o) = s.orders.get(no) else {
        return problem(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在");
    };
    let desc = match o.trade_state.as_str() {
        "SUCCESS" => "支付成功",
        "NOTPAY" => "订单未支付",
        "CLOSED" => "订单已关闭",
        _ => "支付失败，请重新下单支付",
    };
    let mut t = serde_json::json!({
        "appid": APPID,
        "mchid": MCHID,
        "out_trade_no": o.out_trade_no,
        "trade_type": "NATIVE",
        "trade_state": o.trade_state,
        "trade_state_desc": desc,
        "amount": { "total": o.amount_fen, "currency": "CNY" },
    });
    if o.trade_state == "SUCCESS" {
        let paid = s.faults.paid_amount.unwrap_or(o.amount_fen);
        t["transaction_id"] = o.transaction_id.clone().into();
        t["success_time"] = o.success_time.clone().into();
        t["bank_type"] = "OTHERS".into();
        t["payer"] = serde_json::json!({ "openid": "oSandbox0000000000000000000" });
        t["amount"] =
            serde_json::json!({ "total": paid, "payer_total": paid, "currency": "CNY", "payer_currency": "CNY" });
    }
    json(StatusCode::OK, t)
}

fn close(s: &mut State, no: &str) -> Answer {
    let now = unix_now();
    let pay_on_close = s.faults.pay_on_close;
    let Some(state) = s.orders.get(no).map(|o| o.trade_state.clone()) else {
        return problem(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在");
    };
    if state == "NOTPAY" && pay_on_close && s.pay(no, now).is_ok() {
        info!(order = %no, "sandbox: paid at the last second, as the booth closes it");
        return problem(StatusCode::BAD_REQUEST, "ORDERPAID", "该订单已支付");
    }
    match state.as_str() {
        "SUCCESS" => problem(StatusCode::BAD_REQUEST, "ORDERPAID", "该订单已支付"),
        _ => {
            if let Some(o) = s.orders.get_mut(no) {
                o.trade_state = "CLOSED".into();
            }
            Answer { status: StatusCode::NO_CONTENT, body: String::new() }
        }
    }
}
