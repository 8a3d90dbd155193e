//! The head's pose in 3-D: MediaPipe's canonical face (a frontal reference mesh, set-up writes
//! it to `canonical_face.json`) fitted to the measured mesh by weighted orthogonal Procrustes
//! over the landmarks MediaPipe's own face-geometry pipeline fits with (rigid parts: eye
//! corners, nose, forehead, cheekbones — not the lips or the lids). The rotation that carries
//! the reference onto the face gives yaw and pitch: "frontal" is the reference's own, not a
//! constant fitted on one portrait.

use std::path::Path;

use super::face::Mesh;
use super::models::ModelError;

/// The reference face and the landmarks the fit weighs.
#[derive(Debug, Clone)]
pub struct Canonical {
    /// 468 vertices, cm: x to the face's left (image right), y up, z towards the camera.
    pub vertices: Vec<[f32; 3]>,
    pub weights: Vec<(usize, f32)>,
}

#[derive(serde::Deserialize)]
struct File {
    vertices: Vec<[f32; 3]>,
    procrustes: Vec<(usize, f32)>,
}

impl Canonical {
    pub const FILE: &'static str = "canonical_face.json";

    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join(Self::FILE);
        if !path.is_file() {
            return Err(ModelError::Missing { path });
        }
        let bad = |reason: String| ModelError::Load { path: path.clone(), reason };
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let f: File = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if f.vertices.len() != 468 {
            return Err(bad(format!("{} vertices, not 468", f.vertices.len())));
        }
        if f.procrustes.len() < 6 || f.procrustes.iter().any(|&(i, w)| i >= 468 || w.is_nan() || w < 0.0) {
            return Err(bad("the fitting landmarks are not 6 or more valid (index, weight) pairs".into()));
        }
        Ok(Canonical { vertices: f.vertices, weights: f.procrustes })
    }
}

/// Head pose, degrees: `yaw` + = the face turned towards the image's right, `pitch` + = the
/// head lowered (chin down), `roll` + = the head leaning towards the image's right shoulder… as
/// seen by the camera.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

type M3 = [[f32; 3]; 3];

/// The rotation that best carries the reference's landmarks onto the mesh's (weighted,
/// after removing position and scale), and the angles of the reference's forward direction.
pub fn fit(canon: &Canonical, mesh: &Mesh) -> Option<Pose> {
    // The mesh in the reference's axes: image x stays, y and z turn round.
    let q = |i: usize| {
        let p = mesh.points[i];
        [p[0], -p[1], -p[2]]
    };
    let total: f32 = canon.weights.iter().map(|w| w.1).sum();
    if total <= 0.0 {
        return None;
    }
    let mut pc = [0.0f32; 3];
    let mut qc = [0.0f32; 3];
    for &(i, w) in &canon.weights {
        let (p, qi) = (canon.vertices[i], q(i));
        for k in 0..3 {
            pc[k] += w * p[k] / total;
            qc[k] += w * qi[k] / total;
        }
    }
    // Cross-covariance H = Σ w (q - q̄)(p - p̄)ᵀ; the rotation is its orthogonal polar factor.
    let mut h: M3 = [[0.0; 3]; 3];
    for &(i, w) in &canon.weights {
        let (p, qi) = (canon.vertices[i], q(i));
        for r in 0..3 {
            for c in 0..3 {
                h[r][c] += w * (qi[r] - qc[r]) * (p[c] - pc[c]);
            }
        }
    }
    let r = polar(h)?;
    // The reference looks along +z: where that direction points now, and where its x axis went.
    let fwd = [r[0][2], r[1][2], r[2][2]];
    let side = [r[0][0], r[1][0], r[2][0]];
    Some(Pose {
        yaw: fwd[0].atan2(fwd[2]).to_degrees(),
        pitch: (-fwd[1]).atan2(fwd[2].hypot(fwd[0])).to_degrees(),
        roll: (-side[1]).atan2(side[0]).to_degrees(),
    })
}

fn det(m: &M3) -> f32 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// The inverse transpose (the cofactor matrix over the determinant).
fn inv_t(m: &M3) -> Option<M3> {
    let d = det(m);
    if d.abs() < 1e-12 {
        return None;
    }
    let c = |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    Some([
        [c(1, 2, 1, 2) / d, -c(1, 2, 0, 2) / d, c(1, 2, 0, 1) / d],
        [-c(0, 2, 1, 2) / d, c(0, 2, 0, 2) / d, -c(0, 2, 0, 1) / d],
        [c(0, 1, 1, 2) / d, -c(0, 1, 0, 2) / d, c(0, 1, 0, 1) / d],
    ])
}

/// The orthogonal polar factor of `m` by Newton's iteration X ← (X + X⁻ᵀ)/2, which converges
/// quadratically from `m` scaled to unit size; `None` for a degenerate or mirrored `m` (no
/// rotation fits a mirrored face).
fn polar(m: M3) -> Option<M3> {
    if det(&m) <= 0.0 {
        return None;
    }
    let norm = m.iter().flatten().map(|v| v * v).sum::<f32>().sqrt();
    let mut x = m.map(|row| row.map(|v| v / norm));
    for _ in 0..30 {
        let it = inv_t(&x)?;
        let mut next = x;
        let mut change = 0.0f32;
        for r in 0..3 {
            for c in 0..3 {
                next[r][c] = 0.5 * (x[r][c] + it[r][c]);
                change = change.max((next[r][c] - x[r][c]).abs());
            }
        }
        x = next;
        if change < 1e-6 {
            break;
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::geometry::Roi;

    /// A reference of a few non-coplanar points, all weighted alike.
    fn reference() -> Canonical {
        let mut vertices = vec![[0.0f32; 3]; 468];
        let pts = [
            [-4.0, 2.5, 3.0],
            [4.0, 2.5, 3.0],
            [0.0, -1.0, 7.5],
            [0.0, 8.0, 4.5],
            [0.0, -9.0, 4.0],
            [-7.5, 0.5, -2.5],
            [7.5, 0.5, -2.5],
        ];
        let ids = [33, 263, 1, 10, 152, 234, 454];
        for (i, p) in ids.iter().zip(pts) {
            vertices[*i] = p;
        }
        Canonical { vertices, weights: ids.iter().map(|&i| (i, 1.0)).collect() }
    }

    /// The reference turned by yaw (about y), then pitch (about x), placed as a mesh would be:
    /// image axes (y down, z away from the camera), scaled and moved.
    fn mesh_of(c: &Canonical, yaw: f32, pitch: f32) -> Mesh {
        let (sy, cy) = yaw.to_radians().sin_cos();
        // Lowering the head turns the forward direction (+z) towards −y.
        let (sp, cp) = pitch.to_radians().sin_cos();
        let points = c
            .vertices
            .iter()
            .map(|v| {
                let (x, y, z) = (v[0] * cy + v[2] * sy, v[1], -v[0] * sy + v[2] * cy);
                let (y, z) = (y * cp - z * sp, y * sp + z * cp);
                [300.0 + 12.0 * x, 400.0 - 12.0 * y, -12.0 * z]
            })
            .collect();
        Mesh { points, presence: 1.0, roi: Roi::upright(Default::default(), 1.0) }
    }

    #[test]
    fn the_reference_itself_is_frontal_and_known_turns_are_found() {
        let c = reference();
        let p = fit(&c, &mesh_of(&c, 0.0, 0.0)).unwrap();
        assert!(p.yaw.abs() < 0.01 && p.pitch.abs() < 0.01 && p.roll.abs() < 0.01, "{p:?}");
        let p = fit(&c, &mesh_of(&c, 20.0, 0.0)).unwrap();
        assert!((p.yaw - 20.0).abs() < 0.05 && p.pitch.abs() < 0.05, "{p:?}");
        let p = fit(&c, &mesh_of(&c, 0.0, 15.0)).unwrap();
        assert!((p.pitch - 15.0).abs() < 0.05 && p.yaw.abs() < 0.05, "a lowered head reads +: {p:?}");
        let p = fit(&c, &mesh_of(&c, -10.0, -12.0)).unwrap();
        assert!((p.yaw + 10.0).abs() < 0.5 && (p.pitch + 12.0).abs() < 0.5, "{p:?}");
    }

    #[test]
    fn a_mirrored_or_flat_mesh_has_no_pose() {
        let c = reference();
        let mut m = mesh_of(&c, 0.0, 0.0);
        for p in &mut m.points {
            p[0] = 600.0 - p[0];
        }
        assert_eq!(fit(&c, &m), None, "no rotation makes a mirror image");
        for p in &mut m.points {
            *p = [1.0, 1.0, 1.0];
        }
        assert_eq!(fit(&c, &m), None);
    }
}
