//! Reviewing a captured photo. `Reviewer` is the seam: this first version checks what an
//! image alone can tell (exposure, sharpness, a uniform background border); issue 4 puts the
//! face-model reviewer behind the same trait.

mod image_checks;

pub use image_checks::ImageReviewer;

use gradbooth_hal::RgbImage;

use crate::visit::{LightingMode, Verdict};

pub trait Reviewer: Send + Sync {
    fn review(&self, photo: &RgbImage, mode: LightingMode) -> Verdict;
}

/// A fixed outcome for `gradbooth demo --scripted-review`, so every path can be shown.
pub struct ScriptedReviewer {
    pub pass: bool,
}

impl Reviewer for ScriptedReviewer {
    fn review(&self, _photo: &RgbImage, _mode: LightingMode) -> Verdict {
        use crate::visit::{Finding, Severity};
        let findings = if self.pass {
            vec![]
        } else {
            vec![
                Finding { code: "head_tilted", severity: Severity::Blocks, measured: 9.0, limit: 8.0 },
                Finding { code: "uneven_lighting", severity: Severity::Blocks, measured: 0.55, limit: 0.7 },
            ]
        };
        Verdict { findings, scripted: true }
    }
}
