//! What each check measures, from the capture and the face analysis. Every value is scaled to
//! the face or the frame, so the same limits hold for a 1080p capture and a 512-pixel file.
//!
//! | measure | what it is |
//! |---|---|
//! | `faces` | faces the detector finds in the portrait region (score ≥ 0.5) |
//! | `face_width_ratio` | cheek-to-cheek width (mesh 234–454) over the portrait region's width |
//! | `centre_offset` | face centre's horizontal distance from the region's centre, over its width (signed, + = image right) |
//! | `eye_line` | eye line's height in the region, from its top, over its height |
//! | `roll` | angle of the outer eye corners' line, degrees |
//! | `yaw` | the head turned, degrees: MediaPipe's canonical face fitted to the 3-D mesh (`pose.rs`; + = towards image right) |
//! | `pitch` | the head lowered (+) or raised (−), degrees, from the same fit: frontal is the reference face's, not a constant |
//! | `eye_openness` | the less open eye: lid gap over eye width, from the iris network's eye contour (full review only), the width corrected for the head's turn (× cos yaw) |
//! | `eye_height` | with the lids lowered (`eye_openness` < `LIDS_LOWERED`) only: the irises' mean height above the line through their eye's corners, over the eye's width — near 0 or below when the look is cast down |
//! | `mouth_opening` | the look between the lips and the mesh's gap as one number, 1 at the limit (`mouth.rs`) |
//! | `face_brightness` | mean luma (0–255) of the face between brows and mouth |
//! | `face_chroma` | median CIELAB chroma of the same face pixels: about 0 for a black-and-white photo |
//! | `face_resolution` | cheek-to-cheek width in capture pixels over the standard photo's (240 px): below 1 the photo is enlarged |
//! | `lighting_symmetry` | histogram intersection (0–1) of the left and right face halves' luma (OFIQ) |
//! | `sharpness` | variance of the Laplacian of the upright face crop at 192 px, over its mean luma² (× 10⁴) |
//! | `background_spread` | colour standard deviation of the background (mask < 0.1) in the portrait region |
//! | `clothing_like_background` | share of the clothes (person below the neck, in the photo's frame) within CIELAB ΔE 25 of the background colour |
//! | `glasses_reflection` | share of near-white, colourless pixels over the lenses, catchlights excluded |
//! | `lens_brightness` | over the darker eye, a lens-sized box's median luma over its cheek's: sunglasses are far darker |
//! | `hair_over_eyes` | share of hair-dark pixels in the band from the eyes to above the brows |
//! | `shoulder_tilt` | angle of the line between the shoulder tops in the person mask, degrees |

use gradbooth_hal::RgbImage;

use super::checks::Measures;
use super::face::{FoundFace, Iris, Mask, Mesh};
use super::geometry::{Pt, inside, luma, portrait_region};
use super::pose::Canonical;

/// Face-mesh landmark indices (MediaPipe's 468-point topology).
pub mod lm {
    pub const CHEEK_R: usize = 234;
    pub const CHEEK_L: usize = 454;
    pub const FOREHEAD: usize = 10;
    pub const CHIN: usize = 152;
    pub const NOSE_BRIDGE: usize = 168;
    pub const EYE_R_OUT: usize = 33;
    pub const EYE_R_IN: usize = 133;
    pub const EYE_L_IN: usize = 362;
    pub const EYE_L_OUT: usize = 263;
    pub const LIP_IN_UP: usize = 13;
    pub const LIP_IN_LOW: usize = 14;
    pub const MOUTH_R: usize = 61;
    pub const MOUTH_L: usize = 291;
    pub const INNER_LIPS: [usize; 20] =
        [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95];
    /// The outer lip contour, from the right corner along the upper lip and back along the lower.
    pub const OUTER_LIPS: [usize; 20] =
        [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146];
    pub const BROW_R: [usize; 5] = [70, 63, 105, 66, 107];
    pub const BROW_L: [usize; 5] = [336, 296, 334, 293, 300];
    pub const OVAL: [usize; 36] = [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149,
        150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ];
}

pub fn deg(r: f32) -> f32 {
    r.to_degrees()
}

/// The light measures: what the live guidance needs from the detector and the mesh.
pub fn light(img: &RgbImage, faces: &[FoundFace], mesh: Option<&Mesh>, canon: &Canonical, m: &mut Measures) {
    m.insert("faces", faces.len() as f32);
    let Some(mesh) = mesh else { return };
    let (rx, ry, rw, rh) = portrait_region(img.width(), img.height());
    let (cr, cl) = (mesh.pt(lm::CHEEK_R), mesh.pt(lm::CHEEK_L));
    m.insert("face_width_ratio", cr.dist(cl) / rw);
    m.insert("centre_offset", (cr.mid(cl).x - (rx + rw / 2.0)) / rw);
    let eyes = eye_centre(mesh, true).mid(eye_centre(mesh, false));
    m.insert("eye_line", (eyes.y - ry) / rh);
    m.insert("roll", deg(mesh.pt(lm::EYE_R_OUT).angle_to(mesh.pt(lm::EYE_L_OUT))));
    if let Some(p) = super::pose::fit(canon, mesh) {
        m.insert("yaw", p.yaw);
        m.insert("pitch", p.pitch);
    }
    // No eyes here: the mesh's lids read closed eyes 0.20–0.32 and open ones from 0.18 on the
    // real set, so only the full review's iris network judges the eyes (`full`).
}

/// Lids this close (`eye_openness`) are lowered: closed, or following a look cast down. Fixed
/// in the method (an operator's eyes-closed limit does not move it); the same gap on the real
/// set gives both figures: shut or downcast eyes 0.062–0.182, open ones 0.229 and up.
pub const LIDS_LOWERED: f32 = 0.20;

/// How much a turned head narrows what the camera sees of an eye's width: cos(yaw), 1 unmeasured.
fn turned(m: &Measures) -> f32 {
    m.get("yaw").map_or(1.0, |y| y.to_radians().cos())
}

/// Centre of one eye: the graduate's right (image left) or left.
pub fn eye_centre(mesh: &Mesh, right: bool) -> Pt {
    if right {
        mesh.pt(lm::EYE_R_OUT).mid(mesh.pt(lm::EYE_R_IN))
    } else {
        mesh.pt(lm::EYE_L_IN).mid(mesh.pt(lm::EYE_L_OUT))
    }
}

/// Everything else, from the full analysis. `frame` is the standard photo's source rectangle
/// (x, y, w, h) when it could be placed; `background` the colour the photo's background becomes.
pub struct Full<'a> {
    pub img: &'a RgbImage,
    pub mesh: &'a Mesh,
    pub irises: &'a [Iris; 2],
    pub mask: &'a Mask,
    pub frame: (f32, f32, f32, f32),
    pub background: [u8; 3],
    /// The standard photo's cheek-to-cheek width, pixels.
    pub face_width: f32,
}

pub fn full(a: &Full, m: &mut Measures) {
    let (img, mesh) = (a.img, a.mesh);
    let face_w = mesh.pt(lm::CHEEK_R).dist(mesh.pt(lm::CHEEK_L)).max(1.0);
    // Mouth: lips apart, or teeth between them (mouth.rs).
    let lips: Vec<Pt> = lm::INNER_LIPS.iter().map(|&i| mesh.pt(i)).collect();
    let mouth = super::mouth::look(img, mesh);
    m.insert("mouth_opening", mouth.opening());
    m.insert("mouth_gap", mouth.mouth_gap);
    m.insert("teeth", mouth.teeth);
    m.insert("teeth_rel", mouth.teeth_rel);
    m.insert("lips_dark", mouth.lips_dark);
    m.insert("centre_gap", mouth.centre_gap);

    // Face between brows and mouth, split at the midline (nose bridge to chin).
    let oval: Vec<Pt> = lm::OVAL.iter().map(|&i| mesh.pt(i)).collect();
    let top = lm::BROW_R.iter().chain(&lm::BROW_L).map(|&i| mesh.pt(i).y).fold(f32::MAX, f32::min);
    let bottom = mesh.pt(lm::LIP_IN_LOW).y.max(mesh.pt(lm::MOUTH_R).y);
    let (mid_a, mid_b) = (mesh.pt(lm::NOSE_BRIDGE), mesh.pt(lm::CHIN));
    let step = (face_w / 90.0).max(1.0);
    let (mut left, mut right) = ([0f32; 32], [0f32; 32]);
    let (mut sum, mut n) = (0.0, 0.0);
    let mut chroma = Vec::new();
    for_each_in(img, &oval, step, |p, px| {
        if p.y < top || p.y > bottom || inside(&lips, p) {
            return;
        }
        let y = luma(px);
        sum += y;
        n += 1.0;
        let [_, a, b] = to_lab(px.0);
        chroma.push(a.hypot(b));
        // Side of the midline: sign of the cross product.
        let side = (mid_b.x - mid_a.x) * (p.y - mid_a.y) - (mid_b.y - mid_a.y) * (p.x - mid_a.x);
        let bin = ((y / 8.0) as usize).min(31);
        if side > 0.0 { left[bin] += 1.0 } else { right[bin] += 1.0 }
    });
    if n > 0.0 {
        m.insert("face_brightness", sum / n);
        let (tl, tr) = (left.iter().sum::<f32>().max(1.0), right.iter().sum::<f32>().max(1.0));
        m.insert("lighting_symmetry", left.iter().zip(&right).map(|(l, r)| (l / tl).min(r / tr)).sum());
        chroma.sort_by(f32::total_cmp);
        m.insert("face_chroma", chroma[chroma.len() / 2]);
    }
    m.insert("face_resolution", face_w / a.face_width);

    // The iris network sees the eye at 64 px and follows the lids more closely than the mesh.
    // A turned head narrows the eyes' width by cos(yaw), not the lids' gap: undo it.
    if a.irises.iter().all(|i| i.openness > 0.0) {
        let open = a.irises[0].openness.min(a.irises[1].openness) * turned(m);
        m.insert("eye_openness", open);
        // Lids lowered over irises sunk to the corners' line: the look is cast down. With the
        // lids open the irises' height varies with the eye's shape, so it is not read.
        if open < LIDS_LOWERED {
            m.insert("eye_height", (a.irises[0].height + a.irises[1].height) / 2.0);
        }
    }
    m.insert("sharpness", sharpness(img, mesh));
    // The background the camera frames behind the graduate, not only what the photo keeps:
    // a person or object beside them is a problem even when the crop would cut it off.
    if let Some(s) = background_spread(img, a.mask, portrait_region(img.width(), img.height())) {
        m.insert("background_spread", s);
    }
    if let Some(c) = clothing_like_background(img, a.mask, mesh, a.frame, a.background) {
        m.insert("clothing_like_background", c);
    }
    m.insert("glasses_reflection", reflections(img, mesh, a.irises));
    if let Some(h) = hair_over_eyes(img, mesh) {
        m.insert("hair_over_eyes", h);
    }
    if let Some(l) = lens_brightness(img, mesh) {
        m.insert("lens_brightness", l);
    }
    if let Some(t) = shoulder_tilt(a.mask, mesh) {
        m.insert("shoulder_tilt", t);
    }
}

/// Calls `f` for capture pixels inside `poly`, on a grid of `step` pixels.
pub(super) fn for_each_in(img: &RgbImage, poly: &[Pt], step: f32, mut f: impl FnMut(Pt, &image::Rgb<u8>)) {
    let (x0, x1) = poly.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.x), b.max(p.x)));
    let (y0, y1) = poly.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.y), b.max(p.y)));
    let (w, h) = (img.width() as f32, img.height() as f32);
    let mut y = y0.max(0.0);
    while y < y1.min(h) {
        let mut x = x0.max(0.0);
        while x < x1.min(w) {
            let p = Pt::new(x, y);
            if inside(poly, p) {
                f(p, img.get_pixel(x as u32, y as u32));
            }
            x += step;
        }
        y += step;
    }
}

/// Variance of the 4-neighbour Laplacian over the middle of the upright face crop (192 px), so
/// it does not depend on the capture's resolution.
fn sharpness(img: &RgbImage, mesh: &Mesh) -> f32 {
    const N: usize = 192;
    let t = mesh.roi.sample(img, N, 0.0, 255.0, 0.0);
    let g = |x: usize, y: usize| {
        let i = (y * N + x) * 3;
        0.299 * t[i] + 0.587 * t[i + 1] + 0.114 * t[i + 2]
    };
    let mut lap = Vec::with_capacity(N * N / 4);
    let mut sum = 0.0;
    for y in N * 3 / 10..N * 7 / 10 {
        for x in N * 3 / 10..N * 7 / 10 {
            let c = g(x, y);
            sum += c;
            lap.push(g(x - 1, y) + g(x + 1, y) + g(x, y - 1) + g(x, y + 1) - 4.0 * c);
        }
    }
    // Relative to the crop's brightness, so a dark photo is not also called blurry.
    let mean = sum / lap.len().max(1) as f32;
    variance(&lap) / mean.max(1.0).powi(2) * 1e4
}

pub fn variance(v: &[f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let n = v.len() as f32;
    let mean = v.iter().sum::<f32>() / n;
    v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n
}

/// Pixels of the photo's frame on a grid of about 100 × 130, with their person probability.
fn frame_samples(
    img: &RgbImage,
    mask: &Mask,
    frame: (f32, f32, f32, f32),
    mut f: impl FnMut(Pt, f32, &image::Rgb<u8>),
) {
    let (fx, fy, fw, fh) = frame;
    let step = (fw / 100.0).max(1.0);
    let (w, h) = (img.width() as f32, img.height() as f32);
    let mut y = fy.max(0.0);
    while y < (fy + fh).min(h) {
        let mut x = fx.max(0.0);
        while x < (fx + fw).min(w) {
            let p = Pt::new(x, y);
            f(p, mask.at(p), img.get_pixel(x as u32, y as u32));
            x += step;
        }
        y += step;
    }
}

fn background_spread(img: &RgbImage, mask: &Mask, frame: (f32, f32, f32, f32)) -> Option<f32> {
    let mut ch: [Vec<f32>; 3] = Default::default();
    frame_samples(img, mask, frame, |_, m, px| {
        if m < 0.1 {
            for c in 0..3 {
                ch[c].push(px[c] as f32);
            }
        }
    });
    // Too little background to judge (a face filling the frame is judged by its size).
    if ch[0].len() < 200 {
        return None;
    }
    Some((ch.iter().map(|c| variance(c)).sum::<f32>() / 3.0).sqrt())
}

fn clothing_like_background(
    img: &RgbImage,
    mask: &Mask,
    mesh: &Mesh,
    frame: (f32, f32, f32, f32),
    bg: [u8; 3],
) -> Option<f32> {
    let chin = mesh.pt(lm::CHIN);
    // The chest and shoulders: below the neck.
    let below = chin.y + 0.35 * mesh.pt(lm::FOREHEAD).dist(chin);
    let b = to_lab(bg);
    let (mut close, mut n) = (0.0, 0.0);
    frame_samples(img, mask, frame, |p, m, px| {
        if p.y > below && m > 0.8 {
            let l = to_lab(px.0);
            n += 1.0;
            if ((l[0] - b[0]).powi(2) + (l[1] - b[1]).powi(2) + (l[2] - b[2]).powi(2)).sqrt() < CLOTHING_DELTA_E {
                close += 1.0;
            }
        }
    });
    (n >= 50.0).then(|| close / n)
}

/// Clothes closer than this (CIELAB ΔE) to the background colour would melt into it.
pub const CLOTHING_DELTA_E: f32 = 25.0;

/// sRGB (D65) to CIELAB.
pub fn to_lab(rgb: [u8; 3]) -> [f32; 3] {
    // The sRGB curve for each of the 256 levels, computed once (a power per channel per pixel
    // was a third of the measures' time).
    static LINEAR: std::sync::LazyLock<[f32; 256]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|c| {
            let c = c as f32 / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        })
    });
    let lin = |c: u8| LINEAR[c as usize];
    let (r, g, b) = (lin(rgb[0]), lin(rgb[1]), lin(rgb[2]));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f32| if t > 0.008856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Over each lens (a box around the eye), the share of near-white, colourless pixels, leaving
/// out the iris (where a catchlight belongs).
fn reflections(img: &RgbImage, mesh: &Mesh, irises: &[Iris; 2]) -> f32 {
    let (mut spec, mut all) = (0.0, 0.0);
    for (k, right) in [true, false].into_iter().enumerate() {
        let c = eye_centre(mesh, right);
        let ew = if right {
            mesh.pt(lm::EYE_R_OUT).dist(mesh.pt(lm::EYE_R_IN))
        } else {
            mesh.pt(lm::EYE_L_IN).dist(mesh.pt(lm::EYE_L_OUT))
        };
        let (hw, hh) = (ew * 0.9, ew * 0.6);
        let iris = irises[k];
        let box_ = [
            Pt::new(c.x - hw, c.y - hh),
            Pt::new(c.x + hw, c.y - hh),
            Pt::new(c.x + hw, c.y + hh),
            Pt::new(c.x - hw, c.y + hh),
        ];
        let step = (ew / 30.0).max(1.0);
        for_each_in(img, &box_, step, |p, px| {
            if iris.radius > 0.0 && p.dist(iris.centre) < iris.radius * 1.1 {
                return;
            }
            all += 1.0;
            let (mx, mn) = (px.0.iter().max().copied().unwrap_or(0), px.0.iter().min().copied().unwrap_or(0));
            if mn >= 235 && mx - mn < 30 {
                spec += 1.0;
            }
        });
    }
    if all > 0.0 { spec / all } else { 0.0 }
}

/// The median luma of one side's cheek: below the eye, halfway to the mouth corner (each side
/// has its own light, so one-sided lighting is not taken for hair or a dark lens).
fn cheek_luma(img: &RgbImage, mesh: &Mesh, right: bool) -> Option<f32> {
    let iod = eye_centre(mesh, true).dist(eye_centre(mesh, false)).max(1.0);
    let eye = eye_centre(mesh, right);
    let mouth = mesh.pt(if right { lm::MOUTH_R } else { lm::MOUTH_L });
    let c = Pt::new(eye.x, (eye.y + mouth.y) / 2.0);
    let r = (iod * 0.08).max(1.0);
    let square =
        [Pt::new(c.x - r, c.y - r), Pt::new(c.x + r, c.y - r), Pt::new(c.x + r, c.y + r), Pt::new(c.x - r, c.y + r)];
    median_luma(img, &square, 1.0)
}

/// The median luma of the pixels inside `poly`, on a grid of `step`.
fn median_luma(img: &RgbImage, poly: &[Pt], step: f32) -> Option<f32> {
    let mut v = Vec::new();
    for_each_in(img, poly, step, |_, px| v.push(luma(px)));
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

/// In the band from the upper lids to a little above the brows, the share of pixels much
/// darker than the cheeks: hair (brows are thin and lie mostly outside the band's middle).
fn hair_over_eyes(img: &RgbImage, mesh: &Mesh) -> Option<f32> {
    let iod = eye_centre(mesh, true).dist(eye_centre(mesh, false)).max(1.0);
    let (mut dark, mut all) = (0.0, 0.0);
    for (brow, right) in [(&lm::BROW_R, true), (&lm::BROW_L, false)] {
        let eye = eye_centre(mesh, right);
        let skin = cheek_luma(img, mesh, right)?;
        let pts: Vec<Pt> = brow.iter().map(|&i| mesh.pt(i)).collect();
        let (x0, x1) = pts.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.x), b.max(p.x)));
        let top = pts.iter().map(|p| p.y).fold(f32::MAX, f32::min) - 0.2 * iod;
        // From above the brows down to the lids' top (the eye itself is dark anyway).
        let lid = eye.y - 0.08 * iod;
        let band = [Pt::new(x0, top), Pt::new(x1, top), Pt::new(x1, lid), Pt::new(x0, lid)];
        for_each_in(img, &band, (iod / 60.0).max(1.0), |_, px| {
            all += 1.0;
            if luma(px) < skin * 0.5 {
                dark += 1.0;
            }
        });
    }
    (all > 0.0).then(|| dark / all)
}

/// Tinted lenses: over each eye, a box as wide as a lens (1.8 eye widths) and half as high,
/// its median luma over the same side's cheek; the darker eye counts. A bare eye keeps lids
/// and white in the box, near the cheek's brightness; a sunglass lens is far darker.
fn lens_brightness(img: &RgbImage, mesh: &Mesh) -> Option<f32> {
    let mut darkest = f32::MAX;
    for right in [true, false] {
        let c = eye_centre(mesh, right);
        let (a, b) = if right { (lm::EYE_R_OUT, lm::EYE_R_IN) } else { (lm::EYE_L_IN, lm::EYE_L_OUT) };
        let ew = mesh.pt(a).dist(mesh.pt(b)).max(1.0);
        let (hw, hh) = (ew * 0.9, ew * 0.45);
        let lens = [
            Pt::new(c.x - hw, c.y - hh),
            Pt::new(c.x + hw, c.y - hh),
            Pt::new(c.x + hw, c.y + hh),
            Pt::new(c.x - hw, c.y + hh),
        ];
        let eye = median_luma(img, &lens, (ew / 30.0).max(1.0))?;
        let skin = cheek_luma(img, mesh, right)?.max(1.0);
        darkest = darkest.min(eye / skin);
    }
    Some(darkest)
}

/// Angle between the tops of the two shoulders in the person mask, about 1.1 face widths
/// either side of the face centre; `None` when a shoulder is out of the frame.
fn shoulder_tilt(mask: &Mask, mesh: &Mesh) -> Option<f32> {
    let (cr, cl) = (mesh.pt(lm::CHEEK_R), mesh.pt(lm::CHEEK_L));
    let w = cr.dist(cl);
    let c = cr.mid(cl);
    let chin = mesh.pt(lm::CHIN).y;
    let (_, ry, _, rh) = mask.region;
    let top_at = |x: f32| {
        let mut y = chin;
        while y < ry + rh {
            if mask.at(Pt::new(x, y)) > 0.5 {
                return Some(y);
            }
            y += 1.0;
        }
        None
    };
    let (xr, xl) = (c.x - 1.1 * w, c.x + 1.1 * w);
    let (yr, yl) = (top_at(xr)?, top_at(xl)?);
    // A shoulder top at the chin means the mask is the face or hair there: not a shoulder.
    if (yr - chin).abs() < 1.0 || (yl - chin).abs() < 1.0 {
        return None;
    }
    Some(deg((yl - yr).atan2(xl - xr)))
}

#[cfg(test)]
mod tests {
    use super::to_lab;

    #[test]
    fn cielab_of_known_colours() {
        // Published sRGB (D65) → CIELAB values.
        for (rgb, lab) in [
            ([255, 255, 255], [100.0, 0.0, 0.0]),
            ([0, 0, 0], [0.0, 0.0, 0.0]),
            ([255, 0, 0], [53.24, 80.09, 67.20]),
            ([0, 0, 255], [32.30, 79.19, -107.86]),
            ([128, 128, 128], [53.59, 0.0, 0.0]),
            ([10, 10, 10], [2.74, 0.0, 0.0]),
        ] {
            let got = to_lab(rgb);
            for k in 0..3 {
                assert!((got[k] - lab[k]).abs() < 0.1, "{rgb:?}: {got:?}, not {lab:?}");
            }
        }
    }
}
