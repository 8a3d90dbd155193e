//! The standard photo: 480 × 640, the head placed inside the spec's bands, the background
//! replaced through the person mask, a baseline JPEG at 300 dpi whose size is found by
//! searching the quality. Only scaling and translation: no rotation, mirroring or retouching.

pub use super::jpeg::{Jpeg, encode, encode_in_range};
use gradbooth_hal::RgbImage;

use super::face::{Mask, Mesh, Tap};
use super::geometry::Pt;
use super::measures::{eye_centre, lm};

pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 640;

/// The spec's numbers (photo-spec.md), settable in `[review.standard]`.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardSpec {
    pub background: [u8; 3],
    /// Top of the hair from the top edge, pixels.
    pub hair_top: (f32, f32),
    /// Eye line from the top edge, pixels.
    pub eye_line: (f32, f32),
    /// Cheek-to-cheek width, pixels; `face_width_target` inside it.
    pub face_width: (f32, f32),
    pub face_width_target: f32,
    pub min_quality: u8,
    pub min_bytes: usize,
    pub max_bytes: usize,
}

impl Default for StandardSpec {
    fn default() -> Self {
        StandardSpec {
            background: [100, 197, 255],
            hair_top: (50.0, 110.0),
            eye_line: (200.0, 300.0),
            face_width: (180.0, 300.0),
            face_width_target: 240.0,
            min_quality: 60,
            min_bytes: 20 * 1024,
            max_bytes: 40 * 1024,
        }
    }
}

/// Where the standard photo comes from: output = (capture − origin) × scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale: f32,
    pub origin: Pt,
    /// Where the head lands in the output.
    pub eye_line: f32,
    pub hair_top: f32,
    pub face_width: f32,
}

impl Placement {
    /// The capture rectangle (x, y, w, h) the photo covers.
    pub fn frame(&self) -> (f32, f32, f32, f32) {
        (self.origin.x, self.origin.y, WIDTH as f32 / self.scale, HEIGHT as f32 / self.scale)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlacementError {
    /// Hair too tall for the bands at any allowed face size.
    HeadShape,
    /// The photo would need more capture below the face than there is.
    TooLow,
    /// The photo would reach past a side (or the top) of the capture where the person goes on
    /// to that edge: a shoulder would end in a straight cut against the background. Never
    /// padded: the graduate sits back (`wider`: the photo is wider than the whole capture) or
    /// moves to the middle.
    CutAtEdge { wider: bool, top: bool },
}

/// A face in the capture, as the placement needs it: the eyes' centre, the face's horizontal
/// centre and width (cheek to cheek), the top of the hair.
#[derive(Debug, Clone, Copy)]
struct Head {
    eyes: Pt,
    centre_x: f32,
    width: f32,
    hair_y: f32,
}

/// Solves the bands: face width, eye line and hair top, with the face centred horizontally.
/// `hair_y` is the top of the hair in the capture.
pub fn place(
    spec: &StandardSpec,
    eyes: Pt,
    face_centre_x: f32,
    face_w: f32,
    hair_y: f32,
    img_h: f32,
) -> Result<Placement, PlacementError> {
    place_at_least(spec, Head { eyes, centre_x: face_centre_x, width: face_w, hair_y }, img_h, 0.0)
}

/// `place`, with the photo's scale at least `min_scale` (a larger face in the photo, so that
/// the photo's width stays inside the capture).
fn place_at_least(spec: &StandardSpec, head: Head, img_h: f32, min_scale: f32) -> Result<Placement, PlacementError> {
    // Aim a few pixels inside each band, so the photo still passes a reader who measures a
    // little differently; fall back to the bands themselves when that is too tight.
    let within = |margin| place_within(spec, margin, head, img_h, min_scale);
    within(6.0).or_else(|_| within(0.0))
}

fn place_within(
    spec: &StandardSpec,
    margin: f32,
    head: Head,
    img_h: f32,
    min_scale: f32,
) -> Result<Placement, PlacementError> {
    let Head { eyes, centre_x: face_centre_x, width: face_w, hair_y } = head;
    let shrink = |(a, b): (f32, f32)| (a + margin, b - margin);
    let (hair_band, eye_band, width_band) = (shrink(spec.hair_top), shrink(spec.eye_line), shrink(spec.face_width));
    let d = (eyes.y - hair_y).max(1.0);
    // Scale bounds: the face width band, and the eye-to-hair distance that both bands allow.
    let lo = (width_band.0 / face_w).max((eye_band.0 - hair_band.1) / d).max(min_scale);
    let hi = (width_band.1 / face_w).min((eye_band.1 - hair_band.0) / d);
    if lo > hi {
        return Err(PlacementError::HeadShape);
    }
    let below = img_h - eyes.y;
    let mid = |(a, b): (f32, f32)| (a + b) / 2.0;
    // Eye line band at scale s: the spec's, intersected with the hair band's shift.
    let band = |s: f32| (eye_band.0.max(hair_band.0 + d * s), eye_band.1.min(hair_band.1 + d * s));
    let fits = |s: f32, e: f32| (HEIGHT as f32 - e) / s <= below + 0.5;
    // Halfway between the size that gives the target face width and the one that puts eyes and
    // hair both mid-band: neither lands on an edge.
    let by_width = spec.face_width_target / face_w;
    let by_head = (mid(spec.eye_line) - mid(spec.hair_top)) / d;
    let target = ((by_width + by_head) / 2.0).clamp(lo, hi);
    // Prefer the target size and a centred eye line; move the eye line down, then enlarge the
    // face, until the bottom edge stays inside the capture.
    let mut candidates: Vec<f32> = vec![target];
    candidates.extend((1..=20).map(|k| target + (hi - target) * k as f32 / 20.0));
    for s in candidates {
        let (e0, e1) = band(s);
        let ideal = mid(spec.eye_line).clamp(e0, e1);
        // Lowest eye line (largest e) that still fits if the ideal does not.
        let e = if fits(s, ideal) { ideal } else { (HEIGHT as f32 - s * below).clamp(e0, e1) };
        if fits(s, e) {
            let origin = Pt::new(face_centre_x - WIDTH as f32 / 2.0 / s, eyes.y - e / s);
            return Ok(Placement { scale: s, origin, eye_line: e, hair_top: e - d * s, face_width: face_w * s });
        }
    }
    Err(PlacementError::TooLow)
}

/// Where the standard photo would come from, for this face: the hair top from the mask, and
/// never a photo that needs pixels the capture does not have where the person is.
pub fn placement_for(
    spec: &StandardSpec,
    mesh: &Mesh,
    mask: &Mask,
    img_w: u32,
    img_h: u32,
) -> Result<Placement, PlacementError> {
    let eyes = eye_centre(mesh, true).mid(eye_centre(mesh, false));
    let (cr, cl) = (mesh.pt(lm::CHEEK_R), mesh.pt(lm::CHEEK_L));
    let hair = hair_top(mask, mesh);
    let head = Head { eyes, centre_x: cr.mid(cl).x, width: cr.dist(cl), hair_y: hair };
    let (iw, ih) = (img_w as f32, img_h as f32);
    let p = place_at_least(spec, head, ih, 0.0)?;
    let person = |pt| mask.at(pt);
    match inside_capture(&p, person, iw, ih) {
        Ok(()) => Ok(p),
        // The person reaches a side: a larger face (still in its band) may keep the photo
        // inside the capture; otherwise the capture is refused.
        Err(cut @ PlacementError::CutAtEdge { top: false, .. }) => {
            let half = head.centre_x.min(iw - head.centre_x);
            let zoomed = (half > 0.0)
                .then(|| place_at_least(spec, head, ih, WIDTH as f32 / (2.0 * half)).ok())
                .flatten()
                .filter(|z| inside_capture(z, person, iw, ih).is_ok());
            zoomed.ok_or(cut)
        }
        Err(e) => Err(e),
    }
}

/// A photo window reaching past the capture is fine over background (it is filled with the
/// background colour) but not where the person touches that edge of the capture.
pub fn inside_capture(p: &Placement, person: impl Fn(Pt) -> f32, img_w: f32, img_h: f32) -> Result<(), PlacementError> {
    let (x, y, w, h) = p.frame();
    let (y0, y1) = (y.max(0.0), (y + h).min(img_h));
    let (x0, x1) = (x.max(0.0), (x + w).min(img_w));
    // The person on the capture's column `cx` (or row `cy`) within the photo's span.
    let steps = 64;
    let on_column = |cx: f32| (0..=steps).any(|k| person(Pt::new(cx, y0 + (y1 - y0) * k as f32 / steps as f32)) > 0.5);
    let on_row = |cy: f32| (0..=steps).any(|k| person(Pt::new(x0 + (x1 - x0) * k as f32 / steps as f32, cy)) > 0.5);
    let past_left = x < -0.5 && on_column(0.5);
    let past_right = x + w > img_w + 0.5 && on_column(img_w - 0.5);
    let past_top = y < -0.5 && on_row(0.5);
    if past_left || past_right || past_top {
        return Err(PlacementError::CutAtEdge { wider: w > img_w, top: past_top && !(past_left || past_right) });
    }
    Ok(())
}

/// The top of the head: the highest person pixel over the middle of the face, never below the
/// mesh's forehead point.
pub fn hair_top(mask: &Mask, mesh: &Mesh) -> f32 {
    let (cr, cl) = (mesh.pt(lm::CHEEK_R), mesh.pt(lm::CHEEK_L));
    let forehead = mesh.pt(lm::FOREHEAD).y;
    let (_, ry, _, rh) = mask.region;
    let step = (rh / 512.0).max(0.5);
    let mut top = forehead;
    for k in 0..=6 {
        let x = cr.x + (cl.x - cr.x) * (0.2 + 0.1 * k as f32);
        let mut y = ry;
        while y < forehead {
            if mask.at(Pt::new(x, y)) > 0.5 {
                top = top.min(y);
                break;
            }
            y += step;
        }
    }
    top
}

/// The photo's pixels: each output pixel read from the capture (bilinear), mixed with the
/// background colour by an edge-aware matte (the mask refined by a guided filter).
pub fn render(spec: &StandardSpec, img: &RgbImage, mask: &Mask, p: &Placement) -> RgbImage {
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let (iw, ih) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    // The photo's grid is the capture's scaled and moved: where each column and each row
    // falls in the capture and in the mask is found once, not once per pixel.
    let axis = |n: usize, origin: f32, size: usize| -> Vec<Option<Tap>> {
        (0..n)
            .map(|i| {
                let s = origin + (i as f32 + 0.5) / p.scale;
                (s >= 0.0 && s < size as f32).then(|| Tap::at(s - 0.5, size))
            })
            .collect()
    };
    let (cols, rows) = (axis(w, p.origin.x, iw), axis(h, p.origin.y, ih));
    let mask_cols: Vec<Option<Tap>> = (0..w).map(|i| mask.tap_x(p.origin.x + (i as f32 + 0.5) / p.scale)).collect();
    let mask_rows: Vec<Option<Tap>> = (0..h).map(|j| mask.tap_y(p.origin.y + (j as f32 + 0.5) / p.scale)).collect();
    let mut photo = RgbImage::from_pixel(WIDTH, HEIGHT, image::Rgb(spec.background));
    let luma = |v: [f32; 3]| (0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]) / 255.0;
    // Outside the capture: the background colour, as a guide too.
    let mut guide = vec![luma(spec.background.map(|c| c as f32)); w * h];
    let mut alpha = vec![0f32; w * h];
    // Non-negative values to bytes, rounded (`round` is a library call on x86-64).
    let byte = |v: f32| (v.clamp(0.0, 255.0) + 0.5) as u8;
    for (j, row) in photo.as_mut().chunks_exact_mut(w * 3).enumerate() {
        let Some(ty) = rows[j] else { continue };
        let line = |y: usize| &raw[y * iw * 3..(y + 1) * iw * 3];
        let (above, below) = (line(ty.lo), line(ty.hi));
        for (i, px) in row.chunks_exact_mut(3).enumerate() {
            let Some(tx) = cols[i] else { continue };
            let (a, b) = (tx.lo * 3, tx.hi * 3);
            let v: [f32; 3] = std::array::from_fn(|ch| {
                let mix = |l: &[u8]| l[a + ch] as f32 * (1.0 - tx.frac) + l[b + ch] as f32 * tx.frac;
                mix(above) * (1.0 - ty.frac) + mix(below) * ty.frac
            });
            px.iter_mut().zip(v).for_each(|(p, v)| *p = byte(v));
            let k = j * w + i;
            guide[k] = luma(v);
            if let (Some(mx), Some(my)) = (mask_cols[i], mask_rows[j]) {
                alpha[k] = mask.between(mx, my);
            }
        }
    }
    let alpha = super::matte::guided_filter(&guide, &alpha, w, h, 6, 1e-3, 2);
    let bg = spec.background.map(|c| c as f32);
    for (px, &a) in photo.as_mut().chunks_exact_mut(3).zip(&alpha) {
        // Sharpen the matte's ramp a little: mask probabilities near 0/1 become 0/1.
        let a = ((a - 0.15) / 0.7).clamp(0.0, 1.0);
        px.iter_mut().zip(bg).for_each(|(p, bg)| *p = byte(*p as f32 * a + bg * (1.0 - a)));
    }
    photo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_booth_face_lands_inside_every_band() {
        let spec = StandardSpec::default();
        // 1080p capture: eyes at y 430, face 300 px wide, hair 230 px above the eyes.
        let p = place(&spec, Pt::new(960.0, 430.0), 960.0, 300.0, 200.0, 1080.0).unwrap();
        assert!((spec.face_width.0..=spec.face_width.1).contains(&p.face_width), "{p:?}");
        assert!((spec.eye_line.0..=spec.eye_line.1).contains(&p.eye_line), "{p:?}");
        assert!((spec.hair_top.0..=spec.hair_top.1).contains(&p.hair_top), "{p:?}");
        // Not on an edge of any band.
        assert!(p.hair_top >= spec.hair_top.0 + 5.0 && p.hair_top <= spec.hair_top.1 - 5.0, "{p:?}");
        assert!(p.face_width >= spec.face_width.0 + 5.0 && p.face_width <= spec.face_width.1 - 5.0, "{p:?}");
        // Horizontally centred: the face centre maps to x = 240.
        assert!(((960.0 - p.origin.x) * p.scale - 240.0).abs() < 1e-3);
        let (_, y, _, h) = p.frame();
        assert!(y + h <= 1080.5);
    }

    #[test]
    fn tall_hair_shrinks_the_face_within_its_band() {
        let spec = StandardSpec::default();
        // Hair 400 px above the eyes of a 300 px face: at 240 px width it would start above the frame.
        let p = place(&spec, Pt::new(500.0, 600.0), 500.0, 300.0, 200.0, 2000.0).unwrap();
        assert!(p.hair_top >= spec.hair_top.0 - 1e-3 && p.hair_top <= spec.hair_top.1 + 1e-3, "{p:?}");
        assert!(p.face_width < 240.0 && p.face_width >= 180.0, "{p:?}");
        // Impossible: hair 900 px above the eyes of a 300 px face.
        assert_eq!(place(&spec, Pt::new(500.0, 1000.0), 500.0, 300.0, 100.0, 3000.0), Err(PlacementError::HeadShape));
    }

    #[test]
    fn a_face_at_the_bottom_of_the_capture_cannot_be_framed() {
        let spec = StandardSpec::default();
        assert_eq!(place(&spec, Pt::new(500.0, 1000.0), 500.0, 300.0, 800.0, 1080.0), Err(PlacementError::TooLow));
    }

    #[test]
    fn a_photo_past_the_capture_is_refused_where_the_person_reaches_that_edge_never_padded() {
        let spec = StandardSpec::default();
        // A face near the left of a 1920×1080 capture: the photo reaches past x = 0.
        let p = place(&spec, Pt::new(150.0, 430.0), 150.0, 300.0, 200.0, 1080.0).unwrap();
        assert!(p.frame().0 < 0.0, "{:?}", p.frame());
        // The shoulder runs off the capture's left edge: refused, and which way to move.
        let shoulder = |pt: Pt| if pt.y > 700.0 && pt.x < 400.0 { 1.0 } else { 0.0 };
        assert_eq!(
            inside_capture(&p, shoulder, 1920.0, 1080.0),
            Err(PlacementError::CutAtEdge { wider: false, top: false })
        );
        // Background at that edge: the photo is made (the outside is the background colour).
        let narrow = |pt: Pt| if pt.y > 700.0 && (60.0..240.0).contains(&pt.x) { 1.0 } else { 0.0 };
        assert_eq!(inside_capture(&p, narrow, 1920.0, 1080.0), Ok(()));
        // A centred face well inside: nothing past any edge, whatever the person is.
        let centred = place(&spec, Pt::new(960.0, 430.0), 960.0, 300.0, 200.0, 1080.0).unwrap();
        assert_eq!(inside_capture(&centred, |_| 1.0, 1920.0, 1080.0), Ok(()));
        // A face so close that the photo is wider than the capture: sit back.
        let close = place(&spec, Pt::new(320.0, 300.0), 320.0, 560.0, 60.0, 1080.0).unwrap();
        assert!(close.frame().2 > 640.0, "{:?}", close.frame());
        assert_eq!(
            inside_capture(&close, |_| 1.0, 640.0, 1080.0),
            Err(PlacementError::CutAtEdge { wider: true, top: false })
        );
    }
}
