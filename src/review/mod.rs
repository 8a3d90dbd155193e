//! Reviewing a captured photo, and guiding the graduate live before it is taken.
//!
//! `Reviewer` is the seam the runtime calls. `FaceReviewer` is the booth's: MediaPipe's face
//! detector, 468-point mesh, iris and person-segmentation networks (`models`, run by tract)
//! give faces, landmarks and a person mask (`face`); `measures` turns them into numbers;
//! `checks` holds every check (measure, limit, severity, code) and judges; `standard` makes
//! the 480 × 640 JPEG of a passing photo; `guidance` picks the one live hint.

pub mod cmd;

pub mod checks;
mod detect;
pub mod face;
pub mod geometry;
pub mod guidance;
pub mod job;
pub mod jpeg;
mod matte;
pub mod measures;
pub mod models;
pub mod mouth;
pub mod pose;
pub mod settings;
pub mod standard;

use std::path::Path;

use gradbooth_hal::RgbImage;

pub use checks::{Check, Measures};
pub use models::{FaceModels, ModelError};
pub use standard::{Jpeg, Placement, PlacementError, StandardSpec};

use crate::visit::{Finding, LightingMode, Severity, Verdict};

/// The reviewer's whole answer on one photo.
#[derive(Debug, Clone)]
pub struct Review {
    pub verdict: Verdict,
    pub measures: Measures,
    /// The standard photo, made when the verdict passes.
    pub standard: Option<StandardPhoto>,
}

#[derive(Debug, Clone)]
pub struct StandardPhoto {
    pub image: RgbImage,
    pub jpeg: Jpeg,
    pub placement: Placement,
}

pub trait Reviewer: Send + Sync {
    fn review(&self, photo: &RgbImage, mode: LightingMode) -> Result<Review, ModelError>;

    /// The one hint for a preview frame (`guidance::OK` when nothing needs changing).
    fn guide(&self, _frame: &RgbImage) -> Result<&'static str, ModelError> {
        Ok(guidance::OK)
    }

    /// Whether photos can be judged now. The booth treats the review as one of its parts:
    /// checked at start-up and, while it fails, again every 30 s; out of service (照片审核)
    /// until it answers `Ok`.
    fn check(&self) -> Result<(), ModelError> {
        Ok(())
    }
}

/// The booth's reviewer: face models, configured checks and the standard photo's spec.
pub struct FaceReviewer {
    models: FaceModels,
    checks: Vec<Check>,
    spec: StandardSpec,
}

impl FaceReviewer {
    pub fn load(dir: &Path, checks: Vec<Check>, spec: StandardSpec) -> Result<Self, ModelError> {
        Ok(FaceReviewer { models: FaceModels::load(dir)?, checks, spec })
    }

    /// The reviewer `[review]` describes: its models, checks and standard photo.
    pub fn from_settings(s: &settings::ReviewSettings) -> Result<Self, ModelError> {
        Self::load(&s.models, s.checks.clone(), s.standard.clone())
    }

    /// Detector and mesh only: what the live guidance and the first part of a review share.
    fn light(&self, img: &RgbImage, refine: bool) -> Result<(Measures, Option<face::Mesh>), ModelError> {
        let faces = self.models.detect(img, refine)?;
        let mut m = Measures::new();
        let mesh = match faces.first() {
            Some(f) => Some(self.models.mesh(img, f, refine)?).filter(|mesh| mesh.presence >= 0.5),
            None => None,
        };
        let found = if mesh.is_some() { &faces[..] } else { &[][..] };
        measures::light(img, found, mesh.as_ref(), &self.models.canonical, &mut m);
        if mesh.is_none() {
            // No face: say at least whether the picture is too dark or too bright to find one.
            m.insert("face_brightness", centre_brightness(img));
        }
        Ok((m, mesh))
    }
}

impl Reviewer for FaceReviewer {
    fn review(&self, img: &RgbImage, mode: LightingMode) -> Result<Review, ModelError> {
        let (mut m, mesh) = self.light(img, true)?;
        let glasses = mode == LightingMode::Glasses;
        let Some(mesh) = mesh else {
            let findings = checks::judge(&self.checks, &m, glasses, false);
            return Ok(Review { verdict: Verdict { findings, scripted: false }, measures: m, standard: None });
        };
        let irises = self.models.irises(img, &mesh)?;
        let mask = self.models.segment(img)?;
        let placement = standard::placement_for(&self.spec, &mesh, &mask, img.width(), img.height());
        let frame = match &placement {
            Ok(p) => p.frame(),
            Err(_) => geometry::portrait_region(img.width(), img.height()),
        };
        let full = measures::Full {
            img,
            mesh: &mesh,
            irises: &irises,
            mask: &mask,
            frame,
            background: self.spec.background,
            face_width: self.spec.face_width_target,
        };
        measures::full(&full, &mut m);
        let mut findings = checks::judge(&self.checks, &m, glasses, false);
        if let Err(e) = placement {
            // The bands cannot all be met: say which way the graduate should change.
            let (code, measured) = match e {
                PlacementError::TooLow => ("head_too_low", m.get("eye_line").copied().unwrap_or(0.0)),
                PlacementError::HeadShape => ("face_too_large", m.get("face_width_ratio").copied().unwrap_or(0.0)),
                // Never padded: too close (sit back), too high, or off to one side.
                PlacementError::CutAtEdge { wider: true, .. } => {
                    ("face_too_large", m.get("face_width_ratio").copied().unwrap_or(0.0))
                }
                PlacementError::CutAtEdge { top: true, .. } => {
                    ("head_too_high", m.get("eye_line").copied().unwrap_or(0.0))
                }
                PlacementError::CutAtEdge { .. } => ("off_centre", m.get("centre_offset").copied().unwrap_or(0.0)),
            };
            if !findings.iter().any(|f| f.code == code) {
                let limit = checks::spec_of(code).map(|s| s.limit).unwrap_or(0.0);
                findings.push(Finding { code, severity: Severity::Blocks, measured, limit });
            }
        }
        let verdict = Verdict { findings, scripted: false };
        let standard = match placement {
            Ok(p) if verdict.passed() => {
                let image = standard::render(&self.spec, img, &mask, &p);
                let jpeg = standard::encode_in_range(&self.spec, &image);
                Some(StandardPhoto { image, jpeg, placement: p })
            }
            _ => None,
        };
        Ok(Review { verdict, measures: m, standard })
    }

    fn guide(&self, frame: &RgbImage) -> Result<&'static str, ModelError> {
        let (m, _) = self.light(frame, false)?;
        Ok(guidance::hint(&self.checks, &m))
    }
}

/// Mean luma of the middle of the frame (where a face would be).
fn centre_brightness(img: &RgbImage) -> f32 {
    let (w, h) = img.dimensions();
    let (mut sum, mut n) = (0.0, 0.0);
    for y in (h / 5..4 * h / 5).step_by(4) {
        for x in (w / 3..2 * w / 3).step_by(4) {
            sum += geometry::luma(img.get_pixel(x, y));
            n += 1.0;
        }
    }
    if n > 0.0 { sum / n } else { 0.0 }
}

/// A fixed outcome for `gradbooth demo --scripted-review`, so every path can be shown. A pass
/// still comes with a standard photo: the capture scaled into 480 × 640, labelled 模拟审核.
pub struct ScriptedReviewer {
    pub pass: bool,
}

impl Reviewer for ScriptedReviewer {
    fn review(&self, photo: &RgbImage, _mode: LightingMode) -> Result<Review, ModelError> {
        let findings = if self.pass {
            vec![]
        } else {
            vec![
                Finding { code: "head_tilted", severity: Severity::Blocks, measured: 9.0, limit: 8.0 },
                Finding { code: "uneven_lighting", severity: Severity::Blocks, measured: 0.35, limit: 0.55 },
            ]
        };
        let standard = self.pass.then(|| {
            let (x, y, w, h) = geometry::portrait_region(photo.width(), photo.height());
            let scale = standard::WIDTH as f32 / w;
            let image = image::imageops::resize(
                &image::imageops::crop_imm(photo, x as u32, y as u32, w as u32, h as u32).to_image(),
                standard::WIDTH,
                standard::HEIGHT,
                image::imageops::FilterType::Triangle,
            );
            let jpeg = standard::encode_in_range(&StandardSpec::default(), &image);
            let placement =
                Placement { scale, origin: geometry::Pt::new(x, y), eye_line: 0.0, hair_top: 0.0, face_width: 0.0 };
            StandardPhoto { image, jpeg, placement }
        });
        Ok(Review { verdict: Verdict { findings, scripted: true }, measures: Measures::new(), standard })
    }
}

/// The booth's reviewer as a part of the booth: the face models, loaded at start-up and again
/// on `check` while they cannot be (a technician copies them in: the booth comes back by
/// itself). A review that fails drops the loaded models, so the next check loads them afresh.
/// Without models every call fails with the reason — never a verdict, never a live "OK".
pub struct BoothReviewer {
    models: std::path::PathBuf,
    checks: Vec<Check>,
    spec: StandardSpec,
    loaded: std::sync::RwLock<Option<std::sync::Arc<FaceReviewer>>>,
}

impl BoothReviewer {
    /// Loads the models now; when they cannot be, the reason is logged and `check` says so.
    pub fn new(s: &settings::ReviewSettings) -> Self {
        let r = BoothReviewer {
            models: s.models.clone(),
            checks: s.checks.clone(),
            spec: s.standard.clone(),
            loaded: std::sync::RwLock::new(None),
        };
        if let Err(e) = r.load() {
            tracing::error!(error = %e, "photo review unavailable: the booth stays out of service until it loads");
        }
        r
    }

    fn load(&self) -> Result<std::sync::Arc<FaceReviewer>, ModelError> {
        let face = std::sync::Arc::new(FaceReviewer::load(&self.models, self.checks.clone(), self.spec.clone())?);
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(face.clone());
        Ok(face)
    }

    fn current(&self) -> Result<std::sync::Arc<FaceReviewer>, ModelError> {
        let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner()).clone();
        loaded.ok_or_else(|| ModelError::Unavailable {
            reason: format!("the face models in {} are not loaded", self.models.display()),
        })
    }

    /// A failed run: the models are loaded afresh by the next check.
    fn forget(&self) {
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Reviewer for BoothReviewer {
    fn review(&self, photo: &RgbImage, mode: LightingMode) -> Result<Review, ModelError> {
        let result = self.current()?.review(photo, mode);
        if result.is_err() {
            self.forget();
        }
        result
    }

    fn guide(&self, frame: &RgbImage) -> Result<&'static str, ModelError> {
        self.current()?.guide(frame)
    }

    fn check(&self) -> Result<(), ModelError> {
        let face = match self.current() {
            Ok(face) => face,
            Err(_) => self.load()?,
        };
        // The networks must also run: the detector and the mesh on a plain frame.
        face.light(&RgbImage::from_pixel(240, 320, image::Rgb([128, 128, 128])), false).map(|_| ()).inspect_err(|_| {
            self.forget();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_booths_reviewer_without_models_judges_nothing_and_comes_back_once_they_are_copied_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::config::Settings::parse(include_str!("../../config/booth.toml")).unwrap().review;
        settings.models = dir.path().to_owned();
        let r = BoothReviewer::new(&settings);
        let frame = RgbImage::from_pixel(640, 480, image::Rgb([120, 130, 140]));
        assert!(matches!(r.check(), Err(ModelError::Missing { .. })), "the check names the missing model");
        assert!(matches!(r.review(&frame, LightingMode::NoGlasses), Err(ModelError::Unavailable { .. })));
        assert!(r.guide(&frame).is_err(), "no live 很好 from a reviewer that cannot see");
        // A technician copies the models in: the next check loads them.
        for entry in std::fs::read_dir(models::default_dir()).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "onnx") || entry.file_name() == pose::Canonical::FILE {
                std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
        }
        r.check().expect("loaded and answering");
        let review = r.review(&frame, LightingMode::NoGlasses).expect("a verdict now");
        assert!(!review.verdict.passed(), "a grey frame has no face");
    }
}
