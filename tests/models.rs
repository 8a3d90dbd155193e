//! Our ONNX conversion, run by tract, against Google's own runtime (LiteRT) on the same fixed
//! input: `scripts/models/fetch` wrote LiteRT's outputs into models/reference/.

use std::path::Path;

use gradbooth::review::models::{self, Network};

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup)", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn check(name: &'static str, side: usize, outputs: &[&str]) {
    let dir = models::default_dir();
    let net = Network::load(&dir, name, side).expect("model loads");
    let input = read_f32(&dir.join(format!("reference/{name}.input.f32")));
    assert_eq!(input.len(), side * side * 3);
    let got = net.run(input).expect("model runs");
    for out in outputs {
        let want = read_f32(&dir.join(format!("reference/{name}.{out}.f32")));
        let ours = got.get(out);
        assert_eq!(ours.len(), want.len(), "{name}.{out}: length");
        let worst = ours.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 2e-4, "{name}.{out}: largest difference from LiteRT {worst:e}");
        // Not all zeros: the reference is a real face.
        assert!(want.iter().any(|v| v.abs() > 1e-3), "{name}.{out}: reference is empty");
    }
}

#[test]
fn detector_matches_litert() {
    check(models::DETECTOR.0, models::DETECTOR.1, &["regressors", "classificators"]);
}

#[test]
fn far_detector_matches_litert() {
    check(models::FAR_DETECTOR.0, models::FAR_DETECTOR.1, &["Identity", "Identity_1"]);
}

#[test]
fn face_mesh_matches_litert() {
    check(models::MESH.0, models::MESH.1, &["conv2d_21", "conv2d_31"]);
}

#[test]
fn iris_matches_litert() {
    check(models::IRIS.0, models::IRIS.1, &["output_eyes_contours_and_brows", "output_iris"]);
}

#[test]
fn segmentation_matches_litert() {
    check(models::SEGMENTER.0, models::SEGMENTER.1, &["activation_10"]);
}

#[test]
fn a_missing_model_says_how_to_get_it() {
    let err = Network::load(Path::new("/nonexistent"), "face_landmark", 192).err().expect("fails");
    assert!(err.to_string().contains("scripts/setup"), "{err}");
}
