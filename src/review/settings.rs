//! `[review]`: where the face models are, each check's limit and severity (unlisted checks
//! keep their defaults, `checks::CHECKS`), and the standard photo's background, size and
//! face width.

use std::path::PathBuf;

use serde::Deserialize;

use crate::validate::{Invalid, in_range, invalid};

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
    pub checks: Vec<super::Check>,
    pub standard: super::StandardSpec,
}

impl ReviewFile {
    pub fn validate(&self) -> Result<ReviewSettings, Invalid> {
        use super::checks::{CHECKS, spec_of};
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
                Some(super::Check { spec, limit, severity })
            })
            .collect();
        let st = &self.standard;
        let mut standard = super::StandardSpec::default();
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
            "" => super::models::default_dir(),
            m => PathBuf::from(m),
        };
        Ok(ReviewSettings { models, checks, standard })
    }
}
