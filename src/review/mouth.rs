//! Is the mouth closed? The mesh's inner-lip points alone cannot say: on full, closed lips they
//! often stand apart (a gap of 6–8 % of the mouth's width on the real set's closed mouths), and
//! on a smile with a line of teeth they can nearly meet. So the look between the lips decides
//! too, judged against the lips' own colour (so red lipstick, dark lips and a yellow cast are
//! all "lip"):
//!
//! - `teeth`: share of the inner-lip area that is bright and colourless (absolute: good light);
//! - `teeth_rel`: share that is lighter (L* + 10) and less red (a* − 6) than the lips;
//! - `lips_dark`: share that is much darker (L* × 0.6) than the lips: an open mouth's inside,
//!   or the crease of closed lips;
//! - `centre_gap`: down the mouth's middle, the longest run of teeth-or-dark, over the width;
//! - `mouth_gap`: the mesh's inner-lip gap (13–14) over the mouth's width.
//!
//! `mouth_opening` is their verdict as one number, 1.0 at the limit: the largest of
//! teeth_rel / 0.15, teeth / 0.3, centre_gap / 0.10, and — a gap the mesh sees only counts
//! with something other than lip inside it — min(mouth_gap / 0.0875, max(lips_dark / 0.1,
//! teeth_rel / 0.05)). Each divisor is the limit the real set put between its closed and open
//! mouths (tests/eval/README.md).

use gradbooth_hal::RgbImage;

use super::face::Mesh;
use super::geometry::{Pt, luma};
use super::measures::{for_each_in, lm, to_lab};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Mouth {
    pub mouth_gap: f32,
    pub teeth: f32,
    pub teeth_rel: f32,
    pub lips_dark: f32,
    pub centre_gap: f32,
}

impl Mouth {
    /// 1.0 at the limit; see the module's text.
    pub fn opening(&self) -> f32 {
        let seen_inside = (self.lips_dark / 0.1).max(self.teeth_rel / 0.05);
        (self.teeth_rel / 0.15)
            .max(self.teeth / 0.3)
            .max(self.centre_gap / 0.10)
            .max((self.mouth_gap / 0.0875).min(seen_inside))
    }
}

pub fn look(img: &RgbImage, mesh: &Mesh) -> Mouth {
    let (mr, ml) = (mesh.pt(lm::MOUTH_R), mesh.pt(lm::MOUTH_L));
    let width = mr.dist(ml).max(1.0);
    let inner: Vec<Pt> = lm::INNER_LIPS.iter().map(|&i| mesh.pt(i)).collect();
    let mut m = Mouth {
        mouth_gap: mesh.pt(lm::LIP_IN_UP).dist(mesh.pt(lm::LIP_IN_LOW)) / width,
        teeth: teeth_share(img, &inner),
        ..Mouth::default()
    };
    let Some(lip) = lip_colour(img, mesh, &inner) else { return m };
    let teeth_like = |p: [f32; 3]| p[0] > lip[0] + 10.0 && p[1] < lip[1] - 6.0;
    let dark = |p: [f32; 3]| p[0] < lip[0] * 0.6;

    let (mut t, mut d, mut all) = (0.0, 0.0, 0.0);
    for_each_in(img, &inner, 1.0, |_, px| {
        let p = to_lab(px.0);
        all += 1.0;
        t += teeth_like(p) as u8 as f32;
        d += dark(p) as u8 as f32;
    });
    // A closed mouth has (almost) no inner-lip area: nothing to see.
    if all >= 12.0 {
        m.teeth_rel = t / all;
        m.lips_dark = d / all;
    }

    // Down the middle, from the top of the upper lip (mesh 0) to the bottom of the lower (17),
    // each step the mean of a short row across the mouth (a tenth of its width).
    let (top, bottom) = (mesh.pt(0), mesh.pt(17));
    let across = Pt::new((ml.x - mr.x) / width, (ml.y - mr.y) / width);
    let length = top.dist(bottom);
    let steps = (length * 2.0).ceil().max(1.0) as usize;
    let (mut run, mut longest) = (0usize, 0usize);
    for k in 0..=steps {
        let f = k as f32 / steps as f32;
        let c = Pt::new(top.x + (bottom.x - top.x) * f, top.y + (bottom.y - top.y) * f);
        let (mut sum, mut n) = ([0.0f32; 3], 0.0f32);
        let mut o = -width * 0.05;
        while o <= width * 0.05 {
            if let Some(px) = pixel(img, Pt::new(c.x + across.x * o, c.y + across.y * o)) {
                let v = to_lab(px);
                (0..3).for_each(|i| sum[i] += v[i]);
                n += 1.0;
            }
            o += 1.0;
        }
        let p = sum.map(|v| v / n.max(1.0));
        run = if n > 0.0 && (dark(p) || teeth_like(p)) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    m.centre_gap = longest as f32 * length / steps as f32 / width;
    m
}

fn pixel(img: &RgbImage, p: Pt) -> Option<[u8; 3]> {
    (p.x >= 0.0 && p.y >= 0.0 && (p.x as u32) < img.width() && (p.y as u32) < img.height())
        .then(|| img.get_pixel(p.x as u32, p.y as u32).0)
}

/// The lips' own colour (CIELAB): the median of samples across each lip, a quarter and two
/// fifths of the way from each outer contour point to the nearest inner one.
fn lip_colour(img: &RgbImage, mesh: &Mesh, inner: &[Pt]) -> Option<[f32; 3]> {
    let mut lips = Vec::new();
    for o in lm::OUTER_LIPS.iter().map(|&i| mesh.pt(i)) {
        let near = inner.iter().min_by(|a, b| a.dist(o).total_cmp(&b.dist(o))).copied()?;
        for t in [0.25f32, 0.4] {
            if let Some(px) = pixel(img, Pt::new(o.x + (near.x - o.x) * t, o.y + (near.y - o.y) * t)) {
                lips.push(to_lab(px));
            }
        }
    }
    if lips.len() < 10 {
        return None;
    }
    let mut lip = [0.0f32; 3];
    for (i, c) in lip.iter_mut().enumerate() {
        lips.sort_by(|a, b| a[i].total_cmp(&b[i]));
        *c = lips[lips.len() / 2][i];
    }
    Some(lip)
}

/// Share of the inner-lip area that is bright and colourless: teeth in good light.
fn teeth_share(img: &RgbImage, lips: &[Pt]) -> f32 {
    let (mut teeth, mut all) = (0.0, 0.0);
    for_each_in(img, lips, 1.0, |_, px| {
        all += 1.0;
        let (mx, mn) = (px.0.iter().max().copied().unwrap_or(0), px.0.iter().min().copied().unwrap_or(0));
        let sat = if mx > 0 { (mx - mn) as f32 / mx as f32 } else { 0.0 };
        if luma(px) > 110.0 && sat < 0.35 {
            teeth += 1.0;
        }
    });
    if all < 12.0 { 0.0 } else { teeth / all }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_the_mesh_sees_counts_only_with_teeth_or_dark_inside() {
        let lip_only = Mouth { mouth_gap: 0.12, ..Mouth::default() };
        assert!(lip_only.opening() < 1.0, "full closed lips: the mesh's gap holds only lip");
        let dark_inside = Mouth { mouth_gap: 0.12, lips_dark: 0.3, ..Mouth::default() };
        assert!(dark_inside.opening() > 1.0);
        let small_gap = Mouth { mouth_gap: 0.05, lips_dark: 0.9, ..Mouth::default() };
        assert!(small_gap.opening() < 1.0, "the crease of closed lips is dark but the lips meet");
        for teeth in [Mouth { teeth_rel: 0.2, ..Mouth::default() }, Mouth { teeth: 0.35, ..Mouth::default() }] {
            assert!(teeth.opening() > 1.0, "teeth showing are an open mouth: {teeth:?}");
        }
        assert!(Mouth { centre_gap: 0.11, ..Mouth::default() }.opening() > 1.0);
        assert_eq!(Mouth::default().opening(), 0.0);
    }
}
