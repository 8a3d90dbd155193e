//! The sandbox's HTTP side: the part of WeChat Pay API v3 the booth uses (Native order, query
//! by `out_trade_no`, close), every request's signature checked and every answer signed, and
//! `POST /sandbox/pay` for a phone in another process.

use super::*;

pub(super) struct Server {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) merchant: Verifier,
    pub(super) platform: Arc<Signer>,
}

pub(super) async fn serve(
    listener: std::net::TcpListener,
    server: Arc<Server>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
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
        let nonce = crate::payment::wechat_sign::nonce();
        let signed_body = if bad_signature { format!("{} ", a.body) } else { a.body.clone() };
        let signature = self.platform.sign(format!("{ts}\n{nonce}\n{signed_body}\n").as_bytes()).unwrap_or_default();
        let mut r = Response::builder()
            .status(a.status)
            .header("Wechatpay-Timestamp", ts)
            .header("Wechatpay-Nonce", nonce)
            .header("Wechatpay-Signature", signature)
            .header("Wechatpay-Serial", PUBLIC_KEY_ID)
            .header("Request-ID", format!("sandbox-{}", crate::payment::wechat_sign::nonce()));
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
    let code_url = format!("weixin://wxpay/bizpayurl?pr=SBX{}", &crate::payment::wechat_sign::nonce()[..12]);
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
