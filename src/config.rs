//! The booth's configuration: `config/booth.toml` parsed into typed structs and checked.
//! A bad value is refused with the key that holds it and what would be allowed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Weekday};
use gradbooth_hal::LightLevels;
pub use gradbooth_visit::{Closed, GlassesPolicy, Schedule};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config key `{key}` = {value}: {allowed}")]
    Invalid { key: String, value: String, allowed: String },
}

fn invalid(key: &str, value: impl std::fmt::Display, allowed: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), value: value.to_string(), allowed: allowed.into() }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub booth: BoothInfo,
    pub help: Help,
    pub service: ServiceFile,
    pub payment: PaymentFile,
    pub policy: PolicyFile,
    pub timeouts: TimeoutsFile,
    pub lights: LightsFile,
    pub review: ReviewFile,
    pub tickets: TicketsFile,
    pub storage: StorageFile,
    pub upload: UploadFile,
    pub ui: UiFile,
    pub hardware: Hardware,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoothInfo {
    pub id: String,
    pub location: String,
    pub location_en: String,
    pub photo_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Help {
    pub booth_phone: String,
    pub data_phone: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    period_start: String,
    period_end: String,
    days: Vec<String>,
    opens: String,
    closes: String,
    #[serde(default)]
    holidays: Vec<String>,
    utc_offset: String,
}

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

/// The collection centre and how paid photos reach it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadFile {
    /// The centre's age X25519 recipient (`age1…`).
    recipient: String,
    #[serde(default)]
    target: TargetKind,
    /// The local directory target; empty = `<data_dir>/uploaded`.
    #[serde(default)]
    dir: String,
    #[serde(default)]
    s3: Option<S3File>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    #[default]
    Dir,
    S3,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3File {
    endpoint: String,
    bucket: String,
    #[serde(default = "default_region")]
    region: String,
    access_key_id: String,
    /// A file holding the secret access key (kept out of the configuration).
    secret_access_key_file: String,
    #[serde(default)]
    prefix: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// The public key of `config/test-centre.key`, whose identity is in the repository: the
/// simulated booth may seal to it, a real booth must not.
pub const TEST_CENTRE: &str = "age1thff052nml9nmt87fkmwzzsfy269hl0acvkvnuwz2yx5f7xnlpsq7ndh8j";

/// How the booth is paid.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// The sandbox: at this URL, or started by the booth (`None`).
    Sandbox {
        url: Option<String>,
    },
    WechatPay(Box<crate::payment::WechatConfig>),
}

#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub gateway: Gateway,
    pub request_timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum UploadTarget {
    /// A local directory; `None`: `<data_dir>/uploaded`.
    Dir(Option<PathBuf>),
    S3(crate::upload::S3Settings),
}

#[derive(Debug, Clone)]
pub struct UploadSettings {
    pub centre: std::sync::Arc<crate::upload::seal::Centre>,
    pub target: UploadTarget,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    max_attempts: u32,
    glasses: GlassesPolicy,
    countdown_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsFile {
    scan: u32,
    confirm: u32,
    lighting: u32,
    rules: u32,
    seat: u32,
    attempt_shown: u32,
    review: u32,
    review_result: u32,
    payment: u32,
    done: u32,
    notice: u32,
    capture: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeLights {
    pub preview: LightLevels,
    pub capture: LightLevels,
    /// The camera's exposure and white balance in this mode (preview and capture); missing =
    /// automatic. The idle and scanning camera is always automatic.
    #[serde(default)]
    pub camera: gradbooth_hal::CameraControls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightsFile {
    pub channels: Vec<String>,
    pub idle: LightLevels,
    pub no_glasses: ModeLights,
    pub glasses: ModeLights,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageFile {
    /// Where the journal (and, later, photos waiting to leave) live; relative to the working
    /// directory unless absolute.
    data_dir: String,
    /// Minutes the standard photo of a visit that ended unpaid is kept (0: deleted when the
    /// visit ends, like every unchosen capture).
    #[serde(default)]
    unpaid_retention_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsFile {
    /// This booth's site, as tickets name it (a ticket for another site is refused).
    pub site: String,
    /// Trusted issuer public keys: key id → Ed25519 public key, 64 hex digits.
    #[serde(default)]
    issuers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFile {
    /// Directory of the ONNX face models; empty = `GRADBOOTH_MODELS` or the install's `models/`.
    #[serde(default)]
    models: String,
    /// Per check: `{ limit = …, severity = "blocks" | "warns" | "off" }`; unlisted checks keep
    /// their defaults (src/review/checks.rs).
    #[serde(default)]
    checks: std::collections::BTreeMap<String, CheckFile>,
    #[serde(default)]
    standard: StandardFile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    limit: Option<f32>,
    severity: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardFile {
    background: Option<[u8; 3]>,
    min_kb: Option<u32>,
    max_kb: Option<u32>,
    min_quality: Option<u8>,
    face_width: Option<u32>,
}

/// The reviewer's configuration, checked.
#[derive(Debug, Clone)]
pub struct ReviewSettings {
    pub models: PathBuf,
    pub checks: Vec<crate::review::Check>,
    pub standard: crate::review::StandardSpec,
}

impl ReviewFile {
    fn validate(&self) -> Result<ReviewSettings, ConfigError> {
        use crate::review::checks::{CHECKS, spec_of};
        use crate::visit::Severity;
        for (code, c) in &self.checks {
            let key = format!("review.checks.{code}");
            let spec = spec_of(code).ok_or_else(|| {
                let codes: Vec<_> = CHECKS.iter().map(|c| c.code).collect();
                invalid(&key, "{…}", format!("unknown check; checks are {}", codes.join(", ")))
            })?;
            if let Some(l) = c.limit
                && !(spec.range.0..=spec.range.1).contains(&l)
            {
                return Err(invalid(
                    &format!("{key}.limit"),
                    l,
                    format!("allowed range is {}..={}", spec.range.0, spec.range.1),
                ));
            }
            if let Some(s) = &c.severity
                && !matches!(s.as_str(), "blocks" | "warns" | "off")
            {
                return Err(invalid(&format!("{key}.severity"), format!("{s:?}"), "\"blocks\", \"warns\" or \"off\""));
            }
        }
        let checks = CHECKS
            .iter()
            .filter_map(|spec| {
                let c = self.checks.get(spec.code);
                let severity = match c.and_then(|c| c.severity.as_deref()) {
                    Some("off") => return None,
                    Some("warns") => Severity::Warns,
                    Some("blocks") => Severity::Blocks,
                    _ => spec.severity,
                };
                let limit = c.and_then(|c| c.limit).unwrap_or(spec.limit);
                Some(crate::review::Check { spec, limit, severity })
            })
            .collect();
        let st = &self.standard;
        let mut standard = crate::review::StandardSpec::default();
        if let Some(b) = st.background {
            standard.background = b;
        }
        if let Some(q) = st.min_quality {
            standard.min_quality = in_range("review.standard.min_quality", q as u32, 60, 100)? as u8;
        }
        let min_kb = in_range("review.standard.min_kb", st.min_kb.unwrap_or(20), 1, 4096)?;
        let max_kb = in_range("review.standard.max_kb", st.max_kb.unwrap_or(40), min_kb, 4096)?;
        standard.min_bytes = min_kb as usize * 1024;
        standard.max_bytes = max_kb as usize * 1024;
        if let Some(w) = st.face_width {
            standard.face_width_target = in_range("review.standard.face_width", w, 180, 300)? as f32;
        }
        let models = match self.models.trim() {
            "" => crate::review::models::default_dir(),
            m => PathBuf::from(m),
        };
        Ok(ReviewSettings { models, checks, standard })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiFile {
    pub language: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Simulated devices: development, CI, the demo.
    Simulated,
    /// The Raspberry Pi's devices: UVC camera, serial scanner (or the camera reads codes),
    /// chair and lights on GPIO.
    Pi,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    pub backend: Backend,
    pub camera: CameraFile,
    pub simulated: SimulatedFile,
    /// The serial QR scanner (the real booth; none = the camera-based reader).
    #[serde(default)]
    pub scanner: Option<gradbooth_hal::serial_scanner::SerialScannerConfig>,
    /// The chair motor's relays, the seat button and the limit switches (BCM GPIO numbers).
    #[serde(default)]
    pub chair: Option<gradbooth_hal::gpio_chair::ChairConfig>,
    /// The light channels' pins.
    #[serde(default)]
    pub lights: Option<gradbooth_hal::gpio_lights::LightsWiring>,
}

impl Hardware {
    /// Every GPIO the configuration wires: (BCM number, what it is), in config order.
    pub fn gpio_uses(&self) -> Vec<(u8, String)> {
        let mut uses = Vec::new();
        if let Some(c) = &self.chair {
            let out = if c.outputs_active_low { "output, on = low" } else { "output, on = high" };
            let inp =
                if c.inputs_active_low { "input, pull-up, closed = low" } else { "input, pull-down, closed = high" };
            uses.push((c.up_pin, format!("chair motor up (relay / H-bridge), {out}")));
            uses.push((c.down_pin, format!("chair motor down (relay / H-bridge), {out}")));
            uses.push((c.button_up_pin, format!("seat button up (lower right of the seat), {inp}")));
            uses.push((c.button_down_pin, format!("seat button down, {inp}")));
            uses.push((c.top_limit_pin, format!("chair top limit switch, {inp}")));
            uses.push((c.bottom_limit_pin, format!("chair bottom limit switch, {inp}")));
        }
        if let Some(l) = &self.lights {
            for (name, p) in &l.channels {
                let kind = if p.pwm { format!("PWM {} Hz", l.pwm_hz) } else { "relay".into() };
                let on = if p.active_low { "on = low" } else { "on = high" };
                uses.push((p.pin, format!("light {name}, {kind}, {on}")));
            }
        }
        uses
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraFile {
    /// The V4L2 device (the udev rules name the booth camera `/dev/gradbooth-camera`).
    #[serde(default = "default_camera_device")]
    pub device: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

fn default_camera_device() -> String {
    "/dev/gradbooth-camera".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedFile {
    #[serde(default)]
    clock_start: String,
    #[serde(default)]
    pub sitter_images: Vec<PathBuf>,
    #[serde(default)]
    scan_file: String,
}

/// The checked configuration the booth runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub file: Config,
    pub schedule: Schedule,
    pub price_fen: u32,
    pub policy: crate::visit::Policy,
    pub sim_clock_start: Option<DateTime<FixedOffset>>,
    pub scan_file: Option<PathBuf>,
    pub review: ReviewSettings,
    /// The issuer keys tickets are verified with.
    pub issuers: crate::ticket::Keyring,
    /// The journal's directory.
    pub data_dir: PathBuf,
    /// How long an unpaid standard photo may stay after its visit (`[storage] unpaid_retention_minutes`).
    pub unpaid_retention: Duration,
    pub payment: PaymentSettings,
    pub upload: UploadSettings,
}

impl Settings {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_on(path, None)
    }

    /// Loads `path`, running on `backend` instead of its `[hardware] backend` when given (the
    /// Pi's service runs the shared configuration on the real devices).
    pub fn load_on(path: &Path, backend: Option<Backend>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Self::parse_on(&text, backend).map_err(|e| match e {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax { path: path.into(), message },
            other => other,
        })
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_on(text, None)
    }

    pub fn parse_on(text: &str, backend: Option<Backend>) -> Result<Self, ConfigError> {
        let mut file: Config =
            toml::from_str(text).map_err(|e| ConfigError::Syntax { path: PathBuf::new(), message: e.to_string() })?;
        if let Some(b) = backend {
            file.hardware.backend = b;
        }
        file.validate()
    }
}

fn in_range(key: &str, value: u32, lo: u32, hi: u32) -> Result<u32, ConfigError> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(key, value, format!("allowed range is {lo}..={hi}")))
    }
}

fn date(key: &str, s: &str) -> Result<NaiveDate, ConfigError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| invalid(key, format!("{s:?}"), "expected a date YYYY-MM-DD"))
}

fn time_of_day(key: &str, s: &str) -> Result<NaiveTime, ConfigError> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| invalid(key, format!("{s:?}"), "expected a time HH:MM"))
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

fn levels(key: &str, lv: &LightLevels, channels: &[String]) -> Result<(), ConfigError> {
    for (ch, v) in &lv.0 {
        if !channels.contains(ch) {
            return Err(invalid(
                &format!("{key}.{ch}"),
                v,
                format!("unknown light channel; channels are {channels:?}"),
            ));
        }
        in_range(&format!("{key}.{ch}"), *v as u32, 0, 100)?;
    }
    Ok(())
}

impl Config {
    fn validate(self) -> Result<Settings, ConfigError> {
        if !crate::payment::valid_booth_id(&self.booth.id) {
            return Err(invalid(
                "booth.id",
                format!("{:?}", self.booth.id),
                "1 to 16 lower-case letters, digits and '-', unique among the merchant's booths (it starts every order number and upload key)",
            ));
        }
        let s = &self.service;
        let period_start = date("service.period_start", &s.period_start)?;
        let period_end = date("service.period_end", &s.period_end)?;
        if period_end < period_start {
            return Err(invalid("service.period_end", &s.period_end, "must not be before service.period_start"));
        }
        let mut days = Vec::new();
        for d in &s.days {
            days.push(
                d.parse::<Weekday>()
                    .map_err(|_| invalid("service.days", d, "expected mon, tue, wed, thu, fri, sat or sun"))?,
            );
        }
        let opens = time_of_day("service.opens", &s.opens)?;
        let closes = time_of_day("service.closes", &s.closes)?;
        if closes <= opens {
            return Err(invalid("service.closes", &s.closes, "must be later than service.opens"));
        }
        let holidays = s.holidays.iter().map(|h| date("service.holidays", h)).collect::<Result<_, _>>()?;
        let offset = DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{}", s.utc_offset))
            .map_err(|_| invalid("service.utc_offset", &s.utc_offset, "expected an offset like +08:00"))?
            .offset()
            .to_owned();
        let schedule = Schedule { period_start, period_end, days, opens, closes, holidays, offset };

        let price_fen = parse_price_fen(&self.payment.price_yuan).ok_or_else(|| {
            invalid(
                "payment.price_yuan",
                &self.payment.price_yuan,
                "a price in yuan from 0.01 to 1000.00, like \"30.00\"",
            )
        })?;

        let p = &self.policy;
        let t = &self.timeouts;
        let secs = |key: &str, v: u32, lo: u32, hi: u32| {
            in_range(&format!("timeouts.{key}"), v, lo, hi).map(|v| Duration::from_secs(v as u64))
        };
        let policy = crate::visit::Policy {
            max_attempts: in_range("policy.max_attempts", p.max_attempts, 1, 3)? as u8,
            glasses: p.glasses,
            countdown: Duration::from_secs(in_range("policy.countdown_seconds", p.countdown_seconds, 1, 10)? as u64),
            timeouts: crate::visit::Timeouts {
                scan: secs("scan", t.scan, 10, 600)?,
                confirm: secs("confirm", t.confirm, 10, 600)?,
                lighting: secs("lighting", t.lighting, 10, 600)?,
                rules: secs("rules", t.rules, 10, 600)?,
                seat: secs("seat", t.seat, 10, 900)?,
                attempt_shown: secs("attempt_shown", t.attempt_shown, 10, 600)?,
                review: secs("review", t.review, 2, 120)?,
                review_result: secs("review_result", t.review_result, 10, 600)?,
                payment: secs("payment", t.payment, 60, 1800)?,
                done: secs("done", t.done, 3, 120)?,
                notice: secs("notice", t.notice, 3, 120)?,
                capture: secs("capture", t.capture, 2, 60)?,
            },
            price_fen,
        };

        let l = &self.lights;
        if l.channels.is_empty() {
            return Err(invalid("lights.channels", "[]", "name at least one light channel"));
        }
        levels("lights.idle", &l.idle, &l.channels)?;
        for (name, m) in [("no_glasses", &l.no_glasses), ("glasses", &l.glasses)] {
            levels(&format!("lights.{name}.preview"), &m.preview, &l.channels)?;
            levels(&format!("lights.{name}.capture"), &m.capture, &l.channels)?;
            if let Some(e) = m.camera.exposure_100us {
                in_range(&format!("lights.{name}.camera.exposure_100us"), e, 1, 10_000)?;
            }
            if let Some(k) = m.camera.white_balance_k {
                in_range(&format!("lights.{name}.camera.white_balance_k"), k, 2_000, 10_000)?;
            }
        }

        let review = self.review.validate()?;
        let data_dir = match self.storage.data_dir.trim() {
            "" => {
                return Err(invalid("storage.data_dir", "\"\"", "a directory for the journal, like \"var/gradbooth\""));
            }
            d => PathBuf::from(d),
        };
        let unpaid_retention = Duration::from_secs(
            60 * in_range("storage.unpaid_retention_minutes", self.storage.unpaid_retention_minutes, 0, 24 * 60)?
                as u64,
        );
        let t = &self.tickets;
        if t.site.trim().is_empty() || t.site.len() > crate::ticket::MAX_FIELD {
            return Err(invalid("tickets.site", format!("{:?}", t.site), "a site name of 1 to 64 bytes"));
        }
        let issuers = crate::ticket::Keyring::from_hex(&t.issuers).map_err(|e| {
            invalid("tickets.issuers", e, "each issuer: key id = \"64 hex digits\" (an Ed25519 public key)")
        })?;
        if issuers.is_empty() && self.hardware.backend != Backend::Simulated {
            return Err(invalid(
                "tickets.issuers",
                "{}",
                "the real booth needs at least one issuer key (gradbooth ticket keygen prints one)",
            ));
        }
        if !matches!(self.ui.language.as_str(), "zh" | "en") {
            return Err(invalid("ui.language", &self.ui.language, "\"zh\" or \"en\""));
        }
        let mut seen = std::collections::BTreeMap::new();
        for (pin, what) in self.hardware.gpio_uses() {
            if pin > 27 {
                return Err(invalid("hardware (GPIO)", format!("{pin} for {what}"), "BCM GPIO 0 to 27"));
            }
            if let Some(other) = seen.insert(pin, what.clone()) {
                return Err(invalid("hardware (GPIO)", format!("{pin}"), format!("one use per pin: {other} / {what}")));
            }
        }
        if let Some(w) = &self.hardware.lights {
            let wired: Vec<&String> = w.channels.keys().collect();
            let mut named: Vec<&String> = self.lights.channels.iter().collect();
            named.sort();
            if wired != named {
                return Err(invalid(
                    "hardware.lights.channels",
                    format!("{wired:?}"),
                    format!("exactly the channels of [lights]: {named:?}"),
                ));
            }
            in_range("hardware.lights.pwm_hz", w.pwm_hz.round() as u32, 50, 20_000)?;
        }
        if let Some(c) = &self.hardware.chair {
            in_range("hardware.chair.debounce_ms", c.debounce_ms.min(u64::from(u32::MAX)) as u32, 5, 500)?;
            in_range("hardware.chair.dead_time_ms", c.dead_time_ms.min(u64::from(u32::MAX)) as u32, 50, 5_000)?;
            in_range("hardware.chair.max_run_ms", c.max_run_ms.min(u64::from(u32::MAX)) as u32, 1_000, 120_000)?;
        }
        if let Some(sc) = &self.hardware.scanner {
            if !gradbooth_hal::serial_scanner::STANDARD_BAUDS.contains(&sc.baud) {
                return Err(invalid(
                    "hardware.scanner.baud",
                    sc.baud,
                    format!("a standard rate: {:?}", gradbooth_hal::serial_scanner::STANDARD_BAUDS),
                ));
            }
            in_range("hardware.scanner.max_line", sc.max_line.min(u32::MAX as usize) as u32, 64, 65_536)?;
        }
        if self.hardware.backend == Backend::Pi {
            let h = &self.hardware;
            if h.chair.is_none() || h.lights.is_none() {
                return Err(invalid(
                    "hardware",
                    "backend = \"pi\"",
                    "the Pi's pins: [hardware.chair] and [hardware.lights] (see the README's wiring table)",
                ));
            }
            if h.camera.device.trim().is_empty() {
                return Err(invalid("hardware.camera.device", "\"\"", "a V4L2 device like \"/dev/gradbooth-camera\""));
            }
        }
        let c = &self.hardware.camera;
        in_range("hardware.camera.width", c.width, 320, 7680)?;
        in_range("hardware.camera.height", c.height, 240, 4320)?;
        in_range("hardware.camera.fps", c.fps, 1, 120)?;
        let sim = &self.hardware.simulated;
        let sim_clock_start = match sim.clock_start.trim() {
            "" => None,
            s => Some(DateTime::parse_from_rfc3339(s).map_err(|_| {
                invalid(
                    "hardware.simulated.clock_start",
                    format!("{s:?}"),
                    "an RFC 3339 time like 2025-06-03T10:00:00+08:00, or empty",
                )
            })?),
        };
        let scan_file = Some(PathBuf::from(sim.scan_file.trim())).filter(|p| !p.as_os_str().is_empty());
        let real = self.hardware.backend != Backend::Simulated;
        let payment = self.payment.validate(&self.booth.id, real)?;
        let upload = self.upload.validate(real)?;
        Ok(Settings {
            payment,
            upload,
            schedule,
            price_fen,
            policy,
            sim_clock_start,
            scan_file,
            review,
            issuers,
            data_dir,
            unpaid_retention,
            file: self,
        })
    }
}

fn read_key_file(key: &str, path: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path.trim()).map_err(|e| invalid(key, format!("{path:?}"), format!("cannot read it: {e}")))
}

impl PaymentFile {
    fn validate(&self, booth_id: &str, real: bool) -> Result<PaymentSettings, ConfigError> {
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
                let config = crate::payment::WechatConfig {
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
                crate::payment::WechatPay::new(config.clone())
                    .map_err(|e| invalid("payment.wechat", "(keys)", e.to_string()))?;
                Gateway::WechatPay(Box::new(config))
            }
        };
        Ok(PaymentSettings { gateway, request_timeout: timeout })
    }
}

impl UploadFile {
    fn validate(&self, real: bool) -> Result<UploadSettings, ConfigError> {
        let centre: crate::upload::seal::Centre =
            self.recipient.parse().map_err(|e: crate::upload::seal::SealError| {
                invalid("upload.recipient", format!("{:?}", self.recipient), e.to_string())
            })?;
        if real && self.recipient.trim() == TEST_CENTRE {
            return Err(invalid(
                "upload.recipient",
                TEST_CENTRE,
                "the test centre's identity is public (config/test-centre.key): the collection centre's own age1… key",
            ));
        }
        let target = match (self.target, &self.s3) {
            (TargetKind::Dir, _) => {
                UploadTarget::Dir(Some(PathBuf::from(self.dir.trim())).filter(|d| !d.as_os_str().is_empty()))
            }
            (TargetKind::S3, None) => return Err(invalid("upload.target", "\"s3\"", "the store in [upload.s3]")),
            (TargetKind::S3, Some(s)) => {
                let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
                if !s.endpoint.starts_with("https://") && !loopback.iter().any(|l| s.endpoint.starts_with(l)) {
                    return Err(invalid(
                        "upload.s3.endpoint",
                        format!("{:?}", s.endpoint),
                        "an https:// URL (plain http only on this machine's loopback)",
                    ));
                }
                if s.bucket.trim().is_empty() || s.access_key_id.trim().is_empty() {
                    return Err(invalid("upload.s3", "bucket / access_key_id", "both set"));
                }
                if !(s.prefix.is_empty() || s.prefix.ends_with('/')) {
                    return Err(invalid("upload.s3.prefix", format!("{:?}", s.prefix), "empty or ending in \"/\""));
                }
                let secret = read_key_file("upload.s3.secret_access_key_file", &s.secret_access_key_file)?;
                UploadTarget::S3(crate::upload::S3Settings {
                    endpoint: s.endpoint.clone(),
                    bucket: s.bucket.clone(),
                    region: s.region.clone(),
                    access_key_id: s.access_key_id.clone(),
                    secret_access_key: secret.trim().to_owned(),
                    prefix: s.prefix.clone(),
                    timeout: Duration::from_secs(30),
                })
            }
        };
        Ok(UploadSettings { centre: std::sync::Arc::new(centre), target })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../config/booth.toml");

    fn with(key_line: &str, replacement: &str) -> String {
        assert!(DEFAULT.contains(key_line), "test edits a line that exists: {key_line}");
        DEFAULT.replacen(key_line, replacement, 1)
    }

    fn refusal(text: &str) -> String {
        Settings::parse(text).expect_err("should be refused").to_string()
    }

    #[test]
    fn the_shipped_config_is_valid_and_holds_the_fengxian_values() {
        let s = Settings::parse(DEFAULT).unwrap();
        assert_eq!(s.price_fen, 3000);
        assert_eq!(s.policy.max_attempts, 3);
        assert_eq!(s.schedule.hours_text(), "09:00–16:30");
        assert_eq!(s.file.help.data_phone, "56629328");
        assert_eq!(s.file.hardware.backend, Backend::Simulated);
    }

    #[test]
    fn the_pi_runs_the_shared_file_once_it_trusts_an_issuer_and_has_its_pins() {
        let pi = Some(Backend::Pi);
        // The shipped file has no issuer key yet: the real booth says which key is missing.
        let msg = Settings::parse_on(DEFAULT, pi).expect_err("no issuer").to_string();
        assert!(msg.contains("tickets.issuers") && msg.contains("keygen"), "{msg}");
        let public = crate::ticket::generate_key().verifying_key();
        let key =
            format!("[tickets.issuers]\nfengxian-2025 = \"{}\"", data_encoding::HEXLOWER.encode(public.as_bytes()));
        let keyed = with("[tickets.issuers]", &key);
        // The sandbox takes no real money: a real booth refuses it and names the section.
        let msg = Settings::parse_on(&keyed, pi).expect_err("sandbox").to_string();
        assert!(msg.contains("payment.gateway") && msg.contains("[payment.wechat]"), "{msg}");
        let keys = tempfile::tempdir().unwrap();
        let keyed = with_wechat(&keyed, keys.path());
        // Nor does it seal photos to the test centre, whose identity is public.
        let msg = Settings::parse_on(&keyed, pi).expect_err("test centre").to_string();
        assert!(msg.contains("upload.recipient") && msg.contains("test-centre.key"), "{msg}");
        let centre = age::x25519::Identity::generate().to_public().to_string();
        let keyed = keyed.replace(TEST_CENTRE, &centre);
        let s = Settings::parse_on(&keyed, pi).unwrap();
        assert_eq!(s.file.hardware.backend, Backend::Pi);
        assert!(matches!(&s.payment.gateway, Gateway::WechatPay(c) if c.mchid == "1900000109" && !c.sandbox));
        // Without the chair's pins there is nothing to drive.
        let start = keyed.find("[hardware.chair]").unwrap();
        let end = start + keyed[start..].find("\n\n").unwrap();
        let no_chair = format!("{}{}", &keyed[..start], &keyed[end..]);
        let msg = Settings::parse_on(&no_chair, pi).expect_err("no chair").to_string();
        assert!(msg.contains("[hardware.chair]"), "{msg}");
        assert!(Settings::parse_on(&no_chair, None).is_ok(), "the simulated booth needs no pins");
    }

    /// `text` paying with WeChat Pay: the sandbox's test keys written into `dir`.
    fn with_wechat(text: &str, dir: &Path) -> String {
        let cfg = crate::payment::sandbox::client_config("http://x", "b", Duration::from_secs(1));
        std::fs::write(dir.join("apiclient_key.pem"), &cfg.private_key_pem).unwrap();
        std::fs::write(dir.join("pub_key.pem"), &cfg.public_key_pem).unwrap();
        let section = format!(
            "[payment.wechat]\nmchid = \"{}\"\nappid = \"{}\"\ncert_serial = \"{}\"\n\
             private_key = \"{}\"\npublic_key = \"{}\"\npublic_key_id = \"{}\"\nnotify_url = \"https://booth.example/notify\"\n",
            cfg.mchid,
            cfg.appid,
            cfg.cert_serial,
            dir.join("apiclient_key.pem").display(),
            dir.join("pub_key.pem").display(),
            cfg.public_key_id
        );
        text.replace("gateway = \"sandbox\"\n", "gateway = \"wechat\"\n")
            .replace("\n[upload]\n", &format!("\n{section}\n[upload]\n"))
    }

    #[test]
    fn wechat_pay_settings_are_checked_when_loaded_and_name_what_is_wrong() {
        let keys = tempfile::tempdir().unwrap();
        let wechat = with_wechat(DEFAULT, keys.path());
        assert!(matches!(Settings::parse(&wechat).unwrap().payment.gateway, Gateway::WechatPay(_)));
        let missing = wechat.replace("apiclient_key.pem", "nothing-here.pem");
        let msg = refusal(&missing);
        assert!(msg.contains("payment.wechat.private_key") && msg.contains("cannot read"), "{msg}");
        std::fs::write(keys.path().join("pub_key.pem"), "not a key").unwrap();
        assert!(refusal(&wechat).contains("payment.wechat"), "a key that is not one is named at start-up");
        let msg = refusal(&DEFAULT.replace("gateway = \"sandbox\"", "gateway = \"wechat\""));
        assert!(msg.contains("[payment.wechat]"), "{msg}");
        let msg = refusal(&DEFAULT.replace("sandbox_url = \"\"", "sandbox_url = \"ftp://x\""));
        assert!(msg.contains("payment.sandbox_url"), "{msg}");
    }

    #[test]
    fn upload_settings_name_what_is_wrong() {
        let msg = refusal(&DEFAULT.replace(TEST_CENTRE, "age1notakey"));
        assert!(msg.contains("upload.recipient"), "{msg}");
        let s3 = |endpoint: &str| {
            DEFAULT.replace(
                "target = \"dir\"",
                &format!(
                    "target = \"s3\"\ns3 = {{ endpoint = \"{endpoint}\", bucket = \"b\", access_key_id = \"k\", secret_access_key_file = \"/nonexistent\" }}"
                ),
            )
        };
        let msg = refusal(&s3("http://oss.example.com"));
        assert!(msg.contains("upload.s3.endpoint") && msg.contains("https"), "{msg}");
        let msg = refusal(&s3("http://127.0.0.1:9000"));
        assert!(msg.contains("upload.s3.secret_access_key_file"), "{msg}");
        let msg = refusal(&DEFAULT.replace("target = \"dir\"", "target = \"s3\""));
        assert!(msg.contains("[upload.s3]"), "{msg}");
        assert!(matches!(Settings::parse(DEFAULT).unwrap().upload.target, UploadTarget::Dir(None)));
    }

    #[test]
    fn camera_controls_out_of_range_are_refused_with_their_key() {
        let msg = refusal(&with("camera = { exposure_100us = 170,", "camera = { exposure_100us = 0,"));
        assert!(msg.contains("lights.glasses.camera.exposure_100us"), "{msg}");
        let msg = refusal(&with("white_balance_k = 5200 }\n\n", "white_balance_k = 52000 }\n\n"));
        assert!(msg.contains("white_balance_k"), "{msg}");
    }

    #[test]
    fn a_fourth_attempt_is_refused_with_key_and_range() {
        let msg = refusal(&with("max_attempts = 3", "max_attempts = 4"));
        assert!(msg.contains("policy.max_attempts") && msg.contains("1..=3"), "{msg}");
    }

    #[test]
    fn bad_price_time_and_timeout_name_their_keys() {
        assert!(refusal(&with("price_yuan = \"30.00\"", "price_yuan = \"30.001\"")).contains("payment.price_yuan"));
        assert!(refusal(&with("closes = \"16:30\"", "closes = \"08:00\"")).contains("service.closes"));
        assert!(refusal(&with("rules = 120", "rules = 1")).contains("timeouts.rules"));
        assert!(refusal(&with("days = [\"mon\",", "days = [\"moon\",")).contains("service.days"));
        assert!(refusal(&with("fill = 60,", "fill = 160,")).contains("lights.no_glasses.capture.fill"));
    }

    #[test]
    fn a_scanner_baud_rate_termios_does_not_know_is_refused_with_the_rates_it_does() {
        let msg = refusal(&with("baud = 9600", "baud = 10000"));
        assert!(msg.contains("hardware.scanner.baud") && msg.contains("115200"), "{msg}");
        assert!(Settings::parse(&with("baud = 9600", "baud = 115200")).is_ok());
    }

    #[test]
    fn a_booth_id_that_cannot_start_order_numbers_is_refused() {
        for bad in ["id = \"Fengxian_D108\"", "id = \"fengxian-d108-lobby-east\"", "id = \"\""] {
            let msg = refusal(&with("id = \"fengxian-d108\"", bad));
            assert!(msg.contains("booth.id") && msg.contains("unique"), "{msg}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_rather_than_ignored() {
        let msg = refusal(&with("[policy]", "[policy]\nmax_atempts = 2"));
        assert!(msg.contains("max_atempts"), "{msg}");
    }

    #[test]
    fn a_pin_used_twice_or_outside_the_header_and_unwired_lights_are_refused() {
        let msg = refusal(&with("down_pin = 27", "down_pin = 17"));
        assert!(msg.contains("one use per pin") && msg.contains("chair motor up"), "{msg}");
        let msg = refusal(&with("top_limit_pin = 23", "top_limit_pin = 40"));
        assert!(msg.contains("BCM GPIO 0 to 27"), "{msg}");
        let msg = refusal(&with("channels.fill = { pin = 18, pwm = true }\n", ""));
        assert!(msg.contains("hardware.lights.channels") && msg.contains("fill"), "{msg}");
        let msg = refusal(&with("max_run_ms = 15000", "max_run_ms = 500"));
        assert!(msg.contains("hardware.chair.max_run_ms"), "{msg}");
    }

    #[test]
    fn prices_parse_to_fen() {
        assert_eq!(parse_price_fen("30.00"), Some(3000));
        assert_eq!(parse_price_fen("30"), Some(3000));
        assert_eq!(parse_price_fen("0.5"), Some(50));
        for bad in ["", "-1", "1.234", "abc", ".5", "0", "100000"] {
            assert_eq!(parse_price_fen(bad), None, "{bad}");
        }
    }

    #[test]
    fn schedule_follows_period_days_hours_and_holidays() {
        let s = Settings::parse(DEFAULT).unwrap().schedule;
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap();
        assert_eq!(s.check(at("2025-06-03T10:00:00+08:00")), Ok(()));
        assert_eq!(s.check(at("2025-06-03T08:59:00+08:00")), Err(Closed::OutsideHours));
        assert_eq!(s.check(at("2025-06-03T16:30:00+08:00")), Err(Closed::OutsideHours));
        // 02:00 UTC is 10:00 in Shanghai: the offset is the booth's, not the server's.
        assert_eq!(s.check(at("2025-06-03T02:00:00+00:00")), Ok(()));
        assert_eq!(s.check(at("2025-06-08T10:00:00+08:00")), Err(Closed::ClosedDay), "a Sunday");
        assert_eq!(s.check(at("2025-06-02T10:00:00+08:00")), Err(Closed::Holiday));
        assert_eq!(s.check(at("2025-05-29T10:00:00+08:00")), Err(Closed::BeforePeriod));
        assert_eq!(s.check(at("2025-07-01T10:00:00+08:00")), Err(Closed::AfterPeriod));
    }
}
