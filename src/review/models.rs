//! The five MediaPipe networks, converted to ONNX at set-up (`scripts/models/fetch`) and run
//! with tract on the CPU. Each network takes one NHWC float image and returns named outputs;
//! this module knows nothing of faces, only shapes and names.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::prelude::*;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "face model {path} is missing: run scripts/setup (or scripts/models/fetch) to fetch and convert the models"
    )]
    Missing { path: PathBuf },
    #[error("face model {path} could not be loaded: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("face model {model} failed to run: {reason}")]
    Run { model: &'static str, reason: String },
    /// The booth's reviewer has no models loaded (see `BoothReviewer`).
    #[error("photo review unavailable: {reason}")]
    Unavailable { reason: String },
}

/// One network ready to run on a fixed input size.
pub struct Network {
    pub name: &'static str,
    pub side: usize,
    plan: Arc<TypedRunnableModel>,
    /// Output names in the order the plan returns them.
    outputs: Vec<String>,
}

impl Network {
    pub fn load(dir: &Path, name: &'static str, side: usize) -> Result<Self, ModelError> {
        let path = dir.join(format!("{name}.onnx"));
        if !path.is_file() {
            return Err(ModelError::Missing { path });
        }
        let load_err = |e: TractError| ModelError::Load { path: path.clone(), reason: format!("{e:#}") };
        let model = tract_onnx::onnx()
            .model_for_path(&path)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, side, side, 3]).into()))
            .map_err(load_err)?;
        let outputs = model
            .output_outlets()
            .map_err(load_err)?
            .iter()
            .map(|o| model.outlet_label(*o).map(str::to_owned).unwrap_or_else(|| model.node(o.node).name.clone()))
            .collect();
        let plan = model.into_optimized().and_then(|m| m.into_runnable()).map_err(load_err)?;
        Ok(Network { name, side, plan, outputs })
    }

    /// Runs on `input` (1 × side × side × 3, row-major) and returns each output flattened, by name.
    pub fn run(&self, input: Vec<f32>) -> Result<Outputs, ModelError> {
        let err = |e: TractError| ModelError::Run { model: self.name, reason: format!("{e:#}") };
        let tensor = Tensor::from_shape(&[1, self.side, self.side, 3], &input).map_err(err)?;
        let values = self.plan.run(tvec!(tensor.into())).map_err(err)?;
        let mut out = Vec::with_capacity(values.len());
        for (name, v) in self.outputs.iter().zip(values) {
            let data = v.to_plain_array_view::<f32>().map_err(err)?.iter().copied().collect();
            out.push((name.clone(), data));
        }
        Ok(Outputs(out))
    }
}

pub struct Outputs(Vec<(String, Vec<f32>)>);

impl Outputs {
    pub fn get(&self, name: &str) -> &[f32] {
        self.0.iter().find(|(n, _)| n == name).map(|(_, d)| d.as_slice()).unwrap_or(&[])
    }
}

/// Where the models are: `GRADBOOTH_MODELS`, else `models/` of the source tree (set-up puts them there).
pub fn default_dir() -> PathBuf {
    std::env::var_os("GRADBOOTH_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
}

/// The five networks the reviewer uses, and the reference face the head's pose is fitted to.
pub struct FaceModels {
    pub detector: Network,
    /// The full-range detector, for a face too small for `detector`.
    pub far: Network,
    pub mesh: Network,
    pub iris: Network,
    pub segmenter: Network,
    pub canonical: super::pose::Canonical,
}

pub const DETECTOR: (&str, usize) = ("face_detection_short_range", 128);
pub const FAR_DETECTOR: (&str, usize) = ("face_detection_full_range_sparse", 192);
pub const MESH: (&str, usize) = ("face_landmark", 192);
pub const IRIS: (&str, usize) = ("iris_landmark", 64);
pub const SEGMENTER: (&str, usize) = ("selfie_segmentation", 256);

impl FaceModels {
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        Ok(FaceModels {
            detector: Network::load(dir, DETECTOR.0, DETECTOR.1)?,
            far: Network::load(dir, FAR_DETECTOR.0, FAR_DETECTOR.1)?,
            mesh: Network::load(dir, MESH.0, MESH.1)?,
            iris: Network::load(dir, IRIS.0, IRIS.1)?,
            segmenter: Network::load(dir, SEGMENTER.0, SEGMENTER.1)?,
            canonical: super::pose::Canonical::load(dir)?,
        })
    }
}
