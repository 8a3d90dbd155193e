//! From a capture to faces, the 468-point mesh, the irises and the person mask, in capture
//! pixels. The detector looks only at the portrait (3:4) region the camera frames, so a face
//! stays large in its 128-pixel input; the mesh is cropped, turned upright by the eye line and
//! refined once from its own landmarks, as MediaPipe's tracking does (unless the detector's square
//! already is the landmarks' own).

use gradbooth_hal::RgbImage;

use super::detect::{self, Detection, Range};
use super::geometry::{Pt, Roi, portrait_region};
use super::models::{FaceModels, ModelError};

/// Detector score needed to count as a face.
pub const MIN_FACE_SCORE: f32 = 0.5;

/// A face the detector found, in capture pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundFace {
    pub score: f32,
    pub centre: Pt,
    pub width: f32,
    pub height: f32,
    pub keypoints: [Pt; 6],
}

#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Iris {
    pub centre: Pt,
    pub radius: f32,
    /// The lids' opening from the iris network's own eye contour: the mean gap of the three
    /// middle upper/lower contour pairs over the corner-to-corner width (0 when not found).
    pub openness: f32,
    /// The iris centre's height above the line through the contour's corners, over the
    /// corner-to-corner width (+ = above; 0 when not found). Looking down, the iris sinks
    /// towards that line and the upper lid follows it down.
    pub height: f32,
}

/// The iris network's 16-point eye contour: 0 and 8 the corners, 1–7 the lower lid, 9–15 the
/// upper lid, each running from the outer corner (MediaPipe's eye-to-mesh map: 33, 7, 163, 144,
/// 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173). The pairs facing each other
/// across the eye, as the mesh's lid pairs 160–144, 159–145, 158–153.
const LID_PAIRS: [(usize, usize); 3] = [(11, 3), (12, 4), (13, 5)];

/// The mesh of one face, in capture pixels (z in the same scale, towards the camera negative).
#[derive(Debug, Clone)]
pub struct Mesh {
    pub points: Vec<[f32; 3]>,
    /// The network's own confidence that a face is there (0..1).
    pub presence: f32,
    /// The upright square the mesh was read from; its grey pixels serve the sharpness check.
    pub roi: Roi,
}

impl Mesh {
    pub fn pt(&self, i: usize) -> Pt {
        let p = self.points[i];
        Pt::new(p[0], p[1])
    }
}

/// The person (foreground) probability over the portrait region, 256 × 256.
#[derive(Debug, Clone)]
pub struct Mask {
    pub region: (f32, f32, f32, f32),
    pub side: usize,
    pub data: Vec<f32>,
}

/// Where one coordinate falls between two samples: the lower one, the upper one and the weight
/// of the upper.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tap {
    pub lo: usize,
    pub hi: usize,
    pub frac: f32,
}

impl Tap {
    /// `u` in sample units (sample k's centre at k), clamped to the `n` samples.
    pub fn at(u: f32, n: usize) -> Tap {
        let u = u.clamp(0.0, (n - 1) as f32);
        let lo = u.floor() as usize;
        Tap { lo, hi: (lo + 1).min(n - 1), frac: u - lo as f32 }
    }

    /// Bilinear in a row-major grid `stride` samples wide, between the four samples the taps
    /// name.
    pub fn bilinear(data: &[f32], stride: usize, tx: Tap, ty: Tap) -> f32 {
        let g = |x: usize, y: usize| data[y * stride + x];
        let top = g(tx.lo, ty.lo) * (1.0 - tx.frac) + g(tx.hi, ty.lo) * tx.frac;
        let bottom = g(tx.lo, ty.hi) * (1.0 - tx.frac) + g(tx.hi, ty.hi) * tx.frac;
        top * (1.0 - ty.frac) + bottom * ty.frac
    }
}

impl Mask {
    /// Person probability at a capture point; outside the region counts as background.
    pub fn at(&self, p: Pt) -> f32 {
        match (self.tap_x(p.x), self.tap_y(p.y)) {
            (Some(tx), Some(ty)) => self.between(tx, ty),
            _ => 0.0,
        }
    }

    /// The mask's columns either side of capture x; `None` outside the region.
    pub fn tap_x(&self, x: f32) -> Option<Tap> {
        let (rx, _, rw, _) = self.region;
        self.tap((x - rx) / rw)
    }

    /// The mask's rows either side of capture y; `None` outside the region.
    pub fn tap_y(&self, y: f32) -> Option<Tap> {
        let (_, ry, _, rh) = self.region;
        self.tap((y - ry) / rh)
    }

    fn tap(&self, t: f32) -> Option<Tap> {
        let n = self.side as f32;
        let u = t * n - 0.5;
        (u >= -0.5 && u <= n - 0.5).then(|| Tap::at(u, self.side))
    }

    /// Bilinear between the four samples the taps name (`at` for a point found once per row
    /// and column, as the standard photo's renderer does).
    pub fn between(&self, tx: Tap, ty: Tap) -> f32 {
        Tap::bilinear(&self.data, self.side, tx, ty)
    }
}

/// The square the detector sees: the portrait region, padded left and right.
fn detector_roi(img: &RgbImage) -> Roi {
    let (x, y, w, h) = portrait_region(img.width(), img.height());
    Roi::upright(Pt::new(x + w / 2.0, y + h / 2.0), w.max(h))
}

impl FaceModels {
    /// Every face in the portrait region, best first. When none is found at once, the region
    /// is searched again in nine overlapping half-size squares: a graduate sitting far back
    /// has a face too small for the detector's 128-pixel view of the whole region, and should
    /// hear "come closer", not "no face". With `far`, when even those find nothing, the same
    /// squares go through the full-range detector (192 pixels, trained for faces far from the
    /// camera): faces down to about 3 % of the region's width. The live guidance leaves it out:
    /// an empty booth's preview frames would pay for it on every frame.
    pub fn detect(&self, img: &RgbImage, far: bool) -> Result<Vec<FoundFace>, ModelError> {
        let mut faces = self.detect_in(img, detector_roi(img), Range::Short)?;
        let ranges: &[Range] = if far { &[Range::Short, Range::Full] } else { &[Range::Short] };
        for &range in ranges {
            if !faces.is_empty() {
                break;
            }
            let (x, y, w, h) = portrait_region(img.width(), img.height());
            let side = h / 2.0;
            for j in 0..3 {
                for i in 0..3 {
                    let cx = x + side / 2.0 + (w - side).max(0.0) * i as f32 / 2.0;
                    let cy = y + side / 2.0 + (h - side) * j as f32 / 2.0;
                    for f in self.detect_in(img, Roi::upright(Pt::new(cx, cy), side), range)? {
                        // The same face seen from two squares: keep the better view.
                        if let Some(seen) =
                            faces.iter_mut().find(|g: &&mut FoundFace| g.centre.dist(f.centre) < g.width / 2.0)
                        {
                            if f.score > seen.score {
                                *seen = f;
                            }
                        } else {
                            faces.push(f);
                        }
                    }
                }
            }
        }
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(faces)
    }

    fn detect_in(&self, img: &RgbImage, roi: Roi, range: Range) -> Result<Vec<FoundFace>, ModelError> {
        let (net, boxes, scores) = match range {
            Range::Short => (&self.detector, "regressors", "classificators"),
            Range::Full => (&self.far, "Identity", "Identity_1"),
        };
        let n = net.side;
        let out = net.run(roi.sample(img, n, -1.0, 1.0, 0.0))?;
        let scale = roi.size / n as f32;
        Ok(detect::decode(range, out.get(boxes), out.get(scores), MIN_FACE_SCORE)
            .into_iter()
            .map(|d: Detection| FoundFace {
                score: d.score,
                centre: roi.to_image(d.centre.x, d.centre.y, n),
                width: d.width * scale,
                height: d.height * scale,
                keypoints: d.keypoints.map(|k| roi.to_image(k.x, k.y, n)),
            })
            .collect())
    }

    fn mesh_at(&self, img: &RgbImage, roi: Roi) -> Result<Mesh, ModelError> {
        let n = self.mesh.side;
        let out = self.mesh.run(roi.sample(img, n, 0.0, 1.0, 0.0))?;
        let raw = out.get("conv2d_21");
        let scale = roi.size / n as f32;
        let points = raw
            .chunks_exact(3)
            .map(|p| {
                let q = roi.to_image(p[0], p[1], n);
                [q.x, q.y, p[2] * scale]
            })
            .collect::<Vec<_>>();
        if points.len() != 468 {
            return Err(ModelError::Run { model: self.mesh.name, reason: format!("{} landmarks", points.len()) });
        }
        let presence = out.get("conv2d_31").first().map(|&s| 1.0 / (1.0 + (-s).exp())).unwrap_or(0.0);
        Ok(Mesh { points, presence, roi })
    }

    /// The mesh of a detected face. `refine` runs the network a second time on the square
    /// its first landmarks give (more exact; the live guidance skips it), unless that square is
    /// already the detector's: then the second run would see the same pixels (`SAME_SQUARE`).
    pub fn mesh(&self, img: &RgbImage, face: &FoundFace, refine: bool) -> Result<Mesh, ModelError> {
        let roi = Roi {
            centre: face.centre,
            size: face.width.max(face.height) * 1.5,
            angle: face.keypoints[0].angle_to(face.keypoints[1]),
            mirror: false,
        };
        let mesh = self.mesh_at(img, roi)?;
        if !refine {
            return Ok(mesh);
        }
        let better = roi_of_landmarks(&mesh);
        if same_square(&roi, &better) {
            return Ok(mesh);
        }
        self.mesh_at(img, better)
    }

    /// The two irises: [the graduate's right eye (image left), left eye (image right)].
    pub fn irises(&self, img: &RgbImage, mesh: &Mesh) -> Result<[Iris; 2], ModelError> {
        let n = self.iris.side;
        let mut out = [Iris::default(); 2];
        for (k, (a, b, mirror)) in [(33, 133, false), (362, 263, true)].into_iter().enumerate() {
            let (pa, pb) = (mesh.pt(a), mesh.pt(b));
            let roi = Roi { centre: pa.mid(pb), size: pa.dist(pb) * 2.3, angle: pa.angle_to(pb), mirror };
            let res = self.iris.run(roi.sample(img, n, 0.0, 1.0, 0.0))?;
            let pts: Vec<Pt> = res.get("output_iris").chunks_exact(3).map(|p| roi.to_image(p[0], p[1], n)).collect();
            let contour: Vec<Pt> = res
                .get("output_eyes_contours_and_brows")
                .chunks_exact(3)
                .take(16)
                .map(|p| roi.to_image(p[0], p[1], n))
                .collect();
            if pts.len() == 5 {
                let radius = pts[1..].iter().map(|p| p.dist(pts[0])).sum::<f32>() / 4.0;
                let (openness, height) = if contour.len() == 16 {
                    // Contour 0 is the outer corner: image-left on the right eye, image-right
                    // on the (mirrored) left eye.
                    let (image_left, image_right) =
                        if mirror { (contour[8], contour[0]) } else { (contour[0], contour[8]) };
                    let gap = LID_PAIRS.iter().map(|&(u, l)| contour[u].dist(contour[l])).sum::<f32>() / 3.0;
                    (gap / contour[0].dist(contour[8]).max(1.0), height_above(image_left, image_right, pts[0]))
                } else {
                    (0.0, 0.0)
                };
                out[k] = Iris { centre: pts[0], radius, openness, height };
            }
        }
        Ok(out)
    }

    /// The person mask over the portrait region.
    pub fn segment(&self, img: &RgbImage) -> Result<Mask, ModelError> {
        let n = self.segmenter.side;
        let region = portrait_region(img.width(), img.height());
        // The region squeezed into the square input, as MediaPipe feeds it (no letterbox).
        let input = squeeze(img, region, n);
        let out = self.segmenter.run(input)?;
        let data = out.get("activation_10").to_vec();
        Ok(Mask { region, side: n, data })
    }
}

/// Bilinear resampling of a capture rectangle into an `n × n × 3` input in 0..1.
fn squeeze(img: &RgbImage, (rx, ry, rw, rh): (f32, f32, f32, f32), n: usize) -> Vec<f32> {
    let raw = img.as_raw();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = Vec::with_capacity(n * n * 3);
    for j in 0..n {
        let sy = (ry + (j as f32 + 0.5) / n as f32 * rh - 0.5).clamp(0.0, (h - 1) as f32);
        let y0 = sy.floor() as usize;
        let y1 = (y0 + 1).min(h - 1);
        let fy = sy - y0 as f32;
        for i in 0..n {
            let sx = (rx + (i as f32 + 0.5) / n as f32 * rw - 0.5).clamp(0.0, (w - 1) as f32);
            let x0 = sx.floor() as usize;
            let x1 = (x0 + 1).min(w - 1);
            let fx = sx - x0 as f32;
            for c in 0..3 {
                let g = |x: usize, y: usize| raw[(y * w + x) * 3 + c] as f32;
                let v = (g(x0, y0) * (1.0 - fx) + g(x1, y0) * fx) * (1.0 - fy)
                    + (g(x0, y1) * (1.0 - fx) + g(x1, y1) * fx) * fy;
                out.push(v / 255.0);
            }
        }
    }
    out
}

/// How far two squares may differ and still count as one: centre offset and size change as
/// shares of the size, turn in degrees. On the real evaluation set the second run's landmarks
/// moved 0.3–1 % of the face width where the squares were this close; running the mesh only once
/// everywhere lost a case of an open mouth (a square 7.5 % too small).
pub const SAME_SQUARE: (f32, f32, f32) = (0.03, 0.05, 3.0);

/// How far `p` lies above the line from an eye's image-left corner `left` to its image-right
/// corner `right`, over the line's length: towards the brows, whatever the head's roll.
fn height_above(left: Pt, right: Pt, p: Pt) -> f32 {
    let (dx, dy) = (right.x - left.x, right.y - left.y);
    let cross = dx * (p.y - left.y) - dy * (p.x - left.x);
    -cross / (dx * dx + dy * dy).max(1.0)
}

fn same_square(a: &Roi, b: &Roi) -> bool {
    let (centre, size, turn) = SAME_SQUARE;
    let d = (a.angle - b.angle + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU) - std::f32::consts::PI;
    a.centre.dist(b.centre) < centre * b.size && (a.size / b.size - 1.0).abs() < size && d.abs().to_degrees() < turn
}

/// The square MediaPipe tracks a face with: upright along the outer eye corners, 1.5 × the
/// landmarks' extent.
pub fn roi_of_landmarks(mesh: &Mesh) -> Roi {
    let angle = mesh.pt(33).angle_to(mesh.pt(263));
    let probe = Roi { centre: Pt::default(), size: 1.0, angle, mirror: false };
    // Extent in the turned frame (to_input with n = 1 and size 1 gives turned offsets + 0.5).
    let (mut lo, mut hi) = (Pt::new(f32::MAX, f32::MAX), Pt::new(f32::MIN, f32::MIN));
    for i in 0..mesh.points.len() {
        let q = probe.to_input(mesh.pt(i), 1);
        lo = Pt::new(lo.x.min(q.x), lo.y.min(q.y));
        hi = Pt::new(hi.x.max(q.x), hi.y.max(q.y));
    }
    let centre = probe.to_image((lo.x + hi.x) / 2.0, (lo.y + hi.y) / 2.0, 1);
    Roi { centre, size: (hi.x - lo.x).max(hi.y - lo.y) * 1.5, angle, mirror: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_is_the_same_only_when_close_in_place_size_and_turn() {
        let a = Roi { centre: Pt::new(500.0, 400.0), size: 300.0, angle: 0.0, mirror: false };
        let like = |dx: f32, size: f32, deg: f32| Roi {
            centre: Pt::new(500.0 + dx, 400.0),
            size,
            angle: deg.to_radians(),
            ..a
        };
        assert!(same_square(&a, &a));
        assert!(same_square(&a, &like(8.0, 310.0, 2.0)));
        assert!(!same_square(&a, &like(10.0, 300.0, 0.0)), "moved by 3.3 % of the size");
        assert!(!same_square(&a, &like(0.0, 320.0, 0.0)), "6 % smaller");
        assert!(!same_square(&a, &like(0.0, 300.0, 4.0)), "turned 4°");
        // Turns compare across ±180°.
        let (p, q) = (like(0.0, 300.0, 179.0), like(0.0, 300.0, -179.0));
        assert!(same_square(&p, &q));
    }

    #[test]
    fn an_iris_height_is_towards_the_brows_for_either_eye_and_any_roll() {
        // Corners given image-left first, as `irises` orders either eye's. An iris 3 px above a
        // 30-px eye's line is 0.1 high.
        let right = |p: Pt| height_above(Pt::new(100.0, 200.0), Pt::new(130.0, 200.0), p);
        let left = |p: Pt| height_above(Pt::new(200.0, 200.0), Pt::new(230.0, 200.0), p);
        assert!((right(Pt::new(115.0, 197.0)) - 0.1).abs() < 1e-6);
        assert!((left(Pt::new(215.0, 197.0)) - 0.1).abs() < 1e-6);
        assert!((right(Pt::new(115.0, 203.0)) + 0.1).abs() < 1e-6, "below the line: negative");
        // Along the line, anywhere: zero.
        assert!(right(Pt::new(140.0, 200.0)).abs() < 1e-6);
        // The head rolled 90° (the eye's line vertical, its first corner at the top): "above"
        // is the image's right, whatever the image's own up.
        let rolled = |p: Pt| height_above(Pt::new(100.0, 100.0), Pt::new(100.0, 130.0), p);
        assert!((rolled(Pt::new(103.0, 115.0)) - 0.1).abs() < 1e-6);
    }
}
