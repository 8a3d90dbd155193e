//! `[payment]`: the price, and how the booth is paid — the sandbox (its own, or one at
//! `sandbox_url`) or WeChat Pay with the merchant's keys, which are checked when the file is
//! loaded, not at the first graduate's payment.

use std::time::Duration;

use serde::Deserialize;

use crate::validate::{Invalid, in_range, invalid, read_key_file};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentFile {
    price_yuan: String,
    /// `"sandbox"` (the booth's own WeChat Pay sandbox; the screen says 模拟支付) or `"wechat"`.
    #[serde(default)]
    gateway: GatewayKind,
    /// A sandbox already running elsewhere (`gradbooth sandbox`); empty = the booth starts one.
    #[serde(default)]
    sandbox_url: String,
    /// Seconds one request to WeChat Pay may take.
    #[serde(default = "default_request_timeout")]
    request_timeout_s: u32,
    #[serde(default)]
    wechat: Option<WechatFile>,
}

fn default_request_timeout() -> u32 {
    10
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    #[default]
    Sandbox,
    Wechat,
}

/// The merchant's WeChat Pay credentials (from the merchant platform, 商户平台).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatFile {
    #[serde(default = "default_wechat_url")]
    base_url: String,
    mchid: String,
    appid: String,
    /// The merchant API certificate's serial number.
    cert_serial: String,
    /// `apiclient_key.pem`, PKCS#8.
    private_key: String,
    /// The WeChat Pay public key (`pub_key.pem`) and its id `PUB_KEY_ID_…`.
    public_key: String,
    public_key_id: String,
    notify_url: String,
}

fn default_wechat_url() -> String {
    "https://api.mch.weixin.qq.com".into()
}

/// How the booth is paid.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// The sandbox: at this URL, or started by the booth (`None`).
    Sandbox {
        url: Option<String>,
    },
    WechatPay(Box<super::WechatConfig>),
}

#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub gateway: Gateway,
    pub request_timeout: Duration,
}

/// "30.00" → 3000 fen; at most two decimals, 0.01 to 1000 yuan.
pub fn parse_price_fen(s: &str) -> Option<u32> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fen = whole.parse::<u32>().ok()?.checked_mul(100)? + format!("{frac:0<2}").parse::<u32>().ok()?;
    (1..=100_000).contains(&fen).then_some(fen)
}

impl PaymentFile {
    /// The price, in fen.
    pub fn price_fen(&self) -> Result<u32, Invalid> {
        parse_price_fen(&self.price_yuan).ok_or_else(|| {
            invalid("payment.price_yuan", &self.price_yuan, "a price in yuan from 0.01 to 1000.00, like \"30.00\"")
        })
    }

    /// `real`: the booth takes real money (it refuses the sandbox).
    pub fn validate(&self, booth_id: &str, real: bool) -> Result<PaymentSettings, Invalid> {
        let timeout = Duration::from_secs(in_range("payment.request_timeout_s", self.request_timeout_s, 1, 60)? as u64);
        let gateway = match (self.gateway, &self.wechat) {
            (GatewayKind::Sandbox, _) if real => {
                return Err(invalid(
                    "payment.gateway",
                    "\"sandbox\"",
                    "the real booth takes real payments: \"wechat\" with [payment.wechat]",
                ));
            }
            (GatewayKind::Sandbox, _) => {
                let url = self.sandbox_url.trim();
                if !url.is_empty() && !url.starts_with("http://") {
                    return Err(invalid("payment.sandbox_url", format!("{url:?}"), "an http:// URL, or empty"));
                }
                Gateway::Sandbox { url: Some(url.to_owned()).filter(|u| !u.is_empty()) }
            }
            (GatewayKind::Wechat, None) => {
                return Err(invalid("payment.gateway", "\"wechat\"", "the merchant's keys in [payment.wechat]"));
            }
            (GatewayKind::Wechat, Some(w)) => {
                if !w.base_url.starts_with("https://") {
                    return Err(invalid("payment.wechat.base_url", format!("{:?}", w.base_url), "an https:// URL"));
                }
                for (key, v) in [
                    ("mchid", &w.mchid),
                    ("appid", &w.appid),
                    ("cert_serial", &w.cert_serial),
                    ("public_key_id", &w.public_key_id),
                ] {
                    if v.trim().is_empty() {
                        return Err(invalid(
                            &format!("payment.wechat.{key}"),
                            "\"\"",
                            "the value from the merchant platform",
                        ));
                    }
                }
                if !w.notify_url.starts_with("https://") {
                    return Err(invalid("payment.wechat.notify_url", format!("{:?}", w.notify_url), "an https:// URL"));
                }
                let config = super::WechatConfig {
                    base_url: w.base_url.trim_end_matches('/').to_owned(),
                    mchid: w.mchid.clone(),
                    appid: w.appid.clone(),
                    cert_serial: w.cert_serial.clone(),
                    private_key_pem: read_key_file("payment.wechat.private_key", &w.private_key)?,
                    public_key_pem: read_key_file("payment.wechat.public_key", &w.public_key)?,
                    public_key_id: w.public_key_id.clone(),
                    notify_url: w.notify_url.clone(),
                    device_id: booth_id.into(),
                    timeout,
                    sandbox: false,
                };
                // The keys are checked now, not at the first graduate's payment.
                super::WechatPay::new(config.clone())
                    .map_err(|e| invalid("payment.wechat", "(keys)", e.to_string()))?;
                Gateway::WechatPay(Box::new(config))
            }
        };
        Ok(PaymentSettings { gateway, request_timeout: timeout })
    }
}
