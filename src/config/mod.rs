//! The booth's configuration file: `config/booth.toml` read and parsed, each section handed
//! to the capability that owns it to be checked (`<capability>/settings.rs`), and the checked
//! whole returned as `Settings`. Nothing here knows what a value means; no capability imports
//! this module.

pub mod bundle;
pub mod generations;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use crate::devices::settings::{Backend, CameraFile, Hardware, LightsFile, ModeLights, SimSettings, SimulatedFile};
pub use crate::diagnostics::settings::{DiagnosticsFile, DiagnosticsSettings};
use crate::journal::settings::StorageFile;
pub use crate::payment::settings::{Gateway, PaymentFile, PaymentSettings, parse_price_fen};
pub use crate::review::settings::{ReviewFile, ReviewSettings};
use crate::ticket::settings::TicketsFile;
pub use crate::upload::settings::{TEST_CENTRE, UploadFile, UploadSettings, UploadTarget};
use crate::validate::{Invalid, invalid};
use crate::visit::settings::{PolicyFile, ServiceFile, TimeoutsFile};
pub use crate::visit::{Closed, GlassesPolicy, Schedule};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error(transparent)]
    Invalid(#[from] Invalid),
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
    /// Technicians' service codes (none: no code opens the diagnostics mode).
    #[serde(default)]
    pub diagnostics: DiagnosticsFile,
    /// The operators whose signed bundles may change this booth (none: no bundle applies).
    #[serde(default)]
    pub operators: bundle::OperatorsFile,
    /// The staffed studios graduates can go to instead.
    #[serde(default)]
    pub studios: Vec<crate::screen::studios::StudioFile>,
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
pub struct UiFile {
    pub language: String,
}

/// The checked configuration the booth runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub file: Config,
    pub schedule: Schedule,
    pub price_fen: u32,
    pub policy: crate::visit::Policy,
    /// The simulated booth's clock and scan file.
    pub sim: SimSettings,
    pub review: ReviewSettings,
    /// The issuer keys tickets are verified with.
    pub issuers: crate::ticket::Keyring,
    /// The journal's directory.
    pub data_dir: PathBuf,
    /// How long an unpaid standard photo may stay after its visit (`[storage] unpaid_retention_minutes`).
    pub unpaid_retention: Duration,
    pub payment: PaymentSettings,
    pub upload: UploadSettings,
    pub diagnostics: DiagnosticsSettings,
    /// SHA-256 of the text the settings were read from (the status page, the audit log).
    pub source_sha256: String,
    /// That text: what an operator's bundle is merged onto.
    pub source_text: String,
    /// `[operators]`: the keys bundles are verified with, the everyday price bounds.
    pub operators: bundle::Operators,
    /// What loading found that the audit log must hear (a configuration rolled back).
    pub config_notes: Vec<generations::Note>,
    /// `[[studios]]`, checked.
    pub studios: Vec<crate::screen::studios::Studio>,
}

impl Settings {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_on(path, None)
    }

    /// Loads `path`, running on `backend` instead of its `[hardware] backend` when given (the
    /// Pi's service runs the shared configuration on the real devices).
    pub fn load_on(path: &Path, backend: Option<Backend>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Self::parse_from(path, &text, backend)
    }

    /// `text`, read from `path` (which a syntax error names).
    pub fn parse_from(path: &Path, text: &str, backend: Option<Backend>) -> Result<Self, ConfigError> {
        Self::parse_on(text, backend).map_err(|e| match e {
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
        let mut settings = file.validate()?;
        settings.source_sha256 = crate::journal::storage::sha256_hex(text.as_bytes());
        settings.source_text = text.to_owned();
        Ok(settings)
    }
}

impl Settings {
    /// What the diagnostics' bench needs of the settings.
    pub fn bench_config(&self) -> crate::diagnostics::bench::BenchConfig {
        crate::diagnostics::bench::BenchConfig {
            booth_id: self.file.booth.id.clone(),
            site: self.file.tickets.site.clone(),
            config_sha256: self.source_sha256.clone(),
            ticket_keys: self.issuers.clone(),
            diagnostics: self.diagnostics.clone(),
            lights: self.file.lights.clone(),
            checks: self.review.checks.clone(),
            chair_max_run: self.file.hardware.chair.as_ref().map_or(Duration::from_secs(15), |c| c.timing().max_run),
            models_dir: self.review.models.clone(),
            data_dir: self.data_dir.clone(),
            clock_slack: Duration::from_secs(60),
        }
    }

    /// What every screen may show.
    pub fn facts(&self) -> crate::screen::Facts {
        let f = &self.file;
        crate::screen::Facts {
            photo_type: f.booth.photo_type.clone(),
            location: f.booth.location.clone(),
            location_en: f.booth.location_en.clone(),
            hours: self.schedule.hours_text(),
            period: self.schedule.period_text(),
            help_phone: f.help.booth_phone.clone(),
            data_phone: f.help.data_phone.clone(),
            price_fen: self.price_fen,
            attempts_max: self.policy.max_attempts,
            kept_minutes: (self.unpaid_retention.as_secs() / 60) as u32,
            codes_by_camera: f.hardware.scanner.is_none(),
            glasses: self.policy.glasses,
        }
    }
}

impl Config {
    fn validate(self) -> Result<Settings, ConfigError> {
        if !crate::payment::valid_booth_id(&self.booth.id) {
            return Err(invalid(
                "booth.id",
                format!("{:?}", self.booth.id),
                "1 to 16 lower-case letters, digits and '-', unique among the merchant's booths (it starts every order number and upload key)",
            )
            .into());
        }
        let schedule = self.service.validate()?;
        let price_fen = self.payment.price_fen()?;
        let policy = self.policy.validate(&self.timeouts, price_fen)?;
        self.lights.validate()?;
        let review = self.review.validate()?;
        let storage = self.storage.validate()?;
        let real = self.hardware.backend != Backend::Simulated;
        let issuers = self.tickets.validate(real)?;
        if !matches!(self.ui.language.as_str(), "zh" | "en") {
            return Err(invalid("ui.language", &self.ui.language, "\"zh\" or \"en\"").into());
        }
        let sim = self.hardware.validate(&self.lights)?;
        let payment = self.payment.validate(&self.booth.id, real)?;
        let upload = self.upload.validate(real)?;
        let diagnostics = self.diagnostics.validate(&issuers)?;
        let operators = self.operators.validate()?;
        let studios = crate::screen::studios::validate(&self.studios)?;
        Ok(Settings {
            studios,
            operators,
            diagnostics,
            payment,
            upload,
            schedule,
            price_fen,
            policy,
            sim,
            review,
            issuers,
            data_dir: storage.data_dir,
            unpaid_retention: storage.unpaid_retention,
            file: self,
            source_sha256: String::new(),
            source_text: String::new(),
            config_notes: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests;
