//! Points, rotated square regions and bilinear sampling: how pixels of a capture become a
//! network's input, and how the network's coordinates come back to the capture.

use gradbooth_hal::RgbImage;

#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Pt {
    pub x: f32,
    pub y: f32,
}

impl Pt {
    pub fn new(x: f32, y: f32) -> Self {
        Pt { x, y }
    }
    pub fn dist(self, o: Pt) -> f32 {
        (self.x - o.x).hypot(self.y - o.y)
    }
    pub fn mid(self, o: Pt) -> Pt {
        Pt::new((self.x + o.x) / 2.0, (self.y + o.y) / 2.0)
    }
    /// Angle of the line from `self` to `o`, in radians, in image coordinates (y down).
    pub fn angle_to(self, o: Pt) -> f32 {
        (o.y - self.y).atan2(o.x - self.x)
    }
}

/// A square of the capture, `size` pixels on a side, centred on `centre` and turned by `angle`
/// (radians; its x axis points along `angle`). Sampled into an `n × n` network input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    pub centre: Pt,
    pub size: f32,
    pub angle: f32,
    /// Mirror left–right (the iris network sees one eye mirrored).
    pub mirror: bool,
}

impl Roi {
    pub fn upright(centre: Pt, size: f32) -> Self {
        Roi { centre, size, angle: 0.0, mirror: false }
    }

    /// The capture point under `(u, v)` of an `n`-pixel input (pixel units, 0..n).
    pub fn to_image(&self, u: f32, v: f32, n: usize) -> Pt {
        let mut du = (u / n as f32 - 0.5) * self.size;
        let dv = (v / n as f32 - 0.5) * self.size;
        if self.mirror {
            du = -du;
        }
        let (s, c) = self.angle.sin_cos();
        Pt::new(self.centre.x + du * c - dv * s, self.centre.y + du * s + dv * c)
    }

    /// Input coordinates of a capture point (inverse of `to_image`).
    pub fn to_input(&self, p: Pt, n: usize) -> Pt {
        let (dx, dy) = (p.x - self.centre.x, p.y - self.centre.y);
        let (s, c) = self.angle.sin_cos();
        let mut du = dx * c + dy * s;
        let dv = -dx * s + dy * c;
        if self.mirror {
            du = -du;
        }
        Pt::new((du / self.size + 0.5) * n as f32, (dv / self.size + 0.5) * n as f32)
    }

    /// Samples the region into an `n × n × 3` input, each channel mapped from 0..255 to `lo..hi`.
    /// Pixels outside the capture read as `pad` (in input units).
    pub fn sample(&self, img: &RgbImage, n: usize, lo: f32, hi: f32, pad: f32) -> Vec<f32> {
        let mut out = Vec::with_capacity(n * n * 3);
        let k = (hi - lo) / 255.0;
        let (w, h) = (img.width() as i64, img.height() as i64);
        let raw = img.as_raw();
        let px = |x: i64, y: i64, c: usize| -> Option<f32> {
            (x >= 0 && y >= 0 && x < w && y < h).then(|| raw[((y * w + x) * 3) as usize + c] as f32)
        };
        // Step vectors: one input pixel to the right / down, in capture pixels.
        let o = self.to_image(0.5, 0.5, n);
        let r = self.to_image(1.5, 0.5, n);
        let d = self.to_image(0.5, 1.5, n);
        let (ux, uy) = (r.x - o.x, r.y - o.y);
        let (vx, vy) = (d.x - o.x, d.y - o.y);
        for j in 0..n {
            for i in 0..n {
                // Sample at pixel centres; -0.5 moves to the image's integer grid.
                let sx = o.x + ux * i as f32 + vx * j as f32 - 0.5;
                let sy = o.y + uy * i as f32 + vy * j as f32 - 0.5;
                let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
                    // All four neighbours inside the capture (nearly every sample).
                    let a = ((y0 * w + x0) * 3) as usize;
                    let b = a + (w * 3) as usize;
                    for c in 0..3 {
                        let top = raw[a + c] as f32 * (1.0 - fx) + raw[a + 3 + c] as f32 * fx;
                        let bottom = raw[b + c] as f32 * (1.0 - fx) + raw[b + 3 + c] as f32 * fx;
                        out.push(lo + (top * (1.0 - fy) + bottom * fy) * k);
                    }
                    continue;
                }
                for c in 0..3 {
                    let corners = [px(x0, y0, c), px(x0 + 1, y0, c), px(x0, y0 + 1, c), px(x0 + 1, y0 + 1, c)];
                    let v = if corners.iter().all(Option::is_none) {
                        pad
                    } else {
                        let g = |p: Option<f32>| p.map(|v| lo + v * k).unwrap_or(pad);
                        let top = g(corners[0]) * (1.0 - fx) + g(corners[1]) * fx;
                        let bottom = g(corners[2]) * (1.0 - fx) + g(corners[3]) * fx;
                        top * (1.0 - fy) + bottom * fy
                    };
                    out.push(v);
                }
            }
        }
        out
    }
}

/// The largest centred 3:4 (portrait) rectangle of a `w × h` capture, in whole pixels: where
/// the booth's camera frames the graduate, what the preview shows and the detector searches.
/// Returns (x, y, width, height).
pub fn portrait_region_px(width: u32, height: u32) -> (u32, u32, u32, u32) {
    let w = (height * 3 / 4).min(width);
    let h = (w * 4 / 3).min(height);
    ((width - w) / 2, (height - h) / 2, w, h)
}

/// `portrait_region_px` as floats.
pub fn portrait_region(w: u32, h: u32) -> (f32, f32, f32, f32) {
    let (x, y, w, h) = portrait_region_px(w, h);
    (x as f32, y as f32, w as f32, h as f32)
}

/// Luma (BT.601) of one pixel, 0..255.
pub fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// Whether `p` lies inside the polygon (even–odd rule).
pub fn inside(poly: &[Pt], p: Pt) -> bool {
    let mut inside = false;
    let mut j = poly.len().wrapping_sub(1);
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roi_round_trips_points_at_any_angle_and_mirror() {
        for &(angle, mirror) in &[(0.0, false), (0.4, false), (-1.2, true), (3.0, true)] {
            let roi = Roi { centre: Pt::new(300.0, 200.0), size: 150.0, angle, mirror };
            let p = Pt::new(250.0, 260.0);
            let q = roi.to_image(roi.to_input(p, 192).x, roi.to_input(p, 192).y, 192);
            assert!(p.dist(q) < 1e-3, "{angle} {mirror}: {p:?} -> {q:?}");
        }
    }

    #[test]
    fn sampling_an_upright_region_reproduces_the_pixels() {
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 7]));
        // 32 input pixels over 32 capture pixels, starting at (16, 16): a plain copy.
        let roi = Roi::upright(Pt::new(32.0, 32.0), 32.0);
        let t = roi.sample(&img, 32, 0.0, 255.0, 0.0);
        for (i, j) in [(0usize, 0usize), (5, 9), (31, 31)] {
            let at = (j * 32 + i) * 3;
            assert_eq!(t[at], ((16 + i) * 4) as f32);
            assert_eq!(t[at + 1], ((16 + j) * 4) as f32);
            assert_eq!(t[at + 2], 7.0);
        }
    }

    #[test]
    fn a_turned_region_over_the_edge_is_bilinear_inside_and_padded_outside() {
        let img = RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, ((x * y) % 251) as u8]));
        let roi = Roi { centre: Pt::new(8.0, 6.0), size: 36.0, angle: 0.3, mirror: false };
        let (n, lo, hi, pad) = (24, -1.0, 1.0, 0.25);
        let t = roi.sample(&img, n, lo, hi, pad);
        let (mut inside, mut outside) = (0, 0);
        for j in 0..n {
            for i in 0..n {
                let p = roi.to_image(i as f32 + 0.5, j as f32 + 0.5, n);
                let (sx, sy) = (p.x - 0.5, p.y - 0.5);
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                for c in 0..3 {
                    let v = |x: f32, y: f32| {
                        let ok = x >= 0.0 && y >= 0.0 && x < 40.0 && y < 30.0;
                        ok.then(|| lo + img.get_pixel(x as u32, y as u32)[c] as f32 * (hi - lo) / 255.0)
                    };
                    let q = [v(x0, y0), v(x0 + 1.0, y0), v(x0, y0 + 1.0), v(x0 + 1.0, y0 + 1.0)];
                    let want = if q.iter().all(Option::is_none) {
                        outside += 1;
                        pad
                    } else {
                        inside += 1;
                        let g = |o: Option<f32>| o.unwrap_or(pad);
                        (g(q[0]) * (1.0 - fx) + g(q[1]) * fx) * (1.0 - fy) + (g(q[2]) * (1.0 - fx) + g(q[3]) * fx) * fy
                    };
                    assert!((t[(j * n + i) * 3 + c] - want).abs() < 1e-4, "({i}, {j}) channel {c}");
                }
            }
        }
        // The region really lies on both sides of the capture's edge.
        assert!(inside > 300 && outside > 300, "{inside} inside, {outside} outside");
    }

    #[test]
    fn a_mirrored_region_reads_right_to_left() {
        let img = RgbImage::from_fn(64, 64, |x, _| image::Rgb([x as u8, 0, 0]));
        let roi = Roi { mirror: true, ..Roi::upright(Pt::new(32.0, 32.0), 32.0) };
        let t = roi.sample(&img, 32, 0.0, 255.0, 0.0);
        assert_eq!(t[0], 47.0);
        assert_eq!(t[31 * 3], 16.0);
    }

    #[test]
    fn portrait_region_is_three_by_four_and_centred() {
        assert_eq!(portrait_region(1920, 1080), (555.0, 0.0, 810.0, 1080.0));
        assert_eq!(portrait_region(480, 640), (0.0, 0.0, 480.0, 640.0));
        assert_eq!(portrait_region(300, 1000), (0.0, 300.0, 300.0, 400.0));
    }

    #[test]
    fn polygon_inside_test() {
        let sq = [Pt::new(0.0, 0.0), Pt::new(10.0, 0.0), Pt::new(10.0, 10.0), Pt::new(0.0, 10.0)];
        assert!(inside(&sq, Pt::new(5.0, 5.0)));
        assert!(!inside(&sq, Pt::new(15.0, 5.0)));
    }
}
