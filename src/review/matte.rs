//! The standard photo's matte: the person mask, upsampled to the photo, made to follow the
//! photo's own edges (hair, shoulders) by He, Sun & Tang's guided filter, computed as He & Sun's
//! *fast* guided filter: the filter's coefficients are found on the picture subsampled by
//! `s` and bilinearly upsampled, which costs about 1/s² of the full filter and differs from it
//! by far less than the mask's own resolution (the mask is 256 × 256 over the whole portrait
//! region, coarser than the photo).

use super::face::Tap;

/// The matte `p` filtered with `guide` (both `w × h`, row-major): window radius `r` and
/// regularisation `eps` at full resolution, coefficients computed at 1/`s` (`s` = 1 is the
/// plain guided filter; a side not divisible by `s` falls back to it).
pub fn guided_filter(guide: &[f32], p: &[f32], w: usize, h: usize, r: usize, eps: f32, s: usize) -> Vec<f32> {
    let s = if s > 1 && w.is_multiple_of(s) && h.is_multiple_of(s) { s } else { 1 };
    let (sw, sh, sr) = (w / s, h / s, (r / s).max(1));
    let (gi, pi) = (subsample(guide, w, h, s), subsample(p, w, h, s));
    let mean = |v: &[f32]| box_mean(v, sw, sh, sr);
    let gp: Vec<f32> = gi.iter().zip(&pi).map(|(a, b)| a * b).collect();
    let gg: Vec<f32> = gi.iter().map(|a| a * a).collect();
    let (mg, mp, mgp, mgg) = (mean(&gi), mean(&pi), mean(&gp), mean(&gg));
    let a: Vec<f32> = (0..sw * sh).map(|k| (mgp[k] - mg[k] * mp[k]) / (mgg[k] - mg[k] * mg[k] + eps)).collect();
    let b: Vec<f32> = (0..sw * sh).map(|k| mp[k] - a[k] * mg[k]).collect();
    let (ma, mb) = (mean(&a), mean(&b));
    if s == 1 {
        return (0..w * h).map(|k| ma[k] * guide[k] + mb[k]).collect();
    }
    // Each full-resolution pixel's place on the subsampled grid (its centre at (i + ½)/s − ½).
    let taps =
        |n: usize, m: usize| -> Vec<Tap> { (0..n).map(|i| Tap::at((i as f32 + 0.5) / s as f32 - 0.5, m)).collect() };
    let (tx, ty) = (taps(w, sw), taps(h, sh));
    let up = |v: &[f32], x: Tap, y: Tap| Tap::bilinear(v, sw, x, y);
    let mut q = Vec::with_capacity(w * h);
    for (j, &y) in ty.iter().enumerate() {
        for (i, &x) in tx.iter().enumerate() {
            q.push(up(&ma, x, y) * guide[j * w + i] + up(&mb, x, y));
        }
    }
    q
}

/// The mean of each `s × s` block (`w` and `h` divisible by `s`).
fn subsample(v: &[f32], w: usize, h: usize, s: usize) -> Vec<f32> {
    if s == 1 {
        return v.to_vec();
    }
    let (sw, sh) = (w / s, h / s);
    let mut out = vec![0f32; sw * sh];
    for y in 0..h {
        let row = &mut out[(y / s) * sw..(y / s + 1) * sw];
        for (o, block) in row.iter_mut().zip(v[y * w..(y + 1) * w].chunks_exact(s)) {
            *o += block.iter().sum::<f32>();
        }
    }
    let n = (s * s) as f32;
    out.iter_mut().for_each(|o| *o /= n);
    out
}

/// Mean over a (2r+1)² window, clipped at the borders: a running sum along each row, then a
/// running sum of whole rows down the picture (the window is separable; both passes read memory
/// in order), each divided by the count it covered.
fn box_mean(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let span = |x: usize, len: usize| ((x + r).min(len - 1) + 1 - x.saturating_sub(r)) as f32;
    let mut rows = vec![0f32; w * h];
    for y in 0..h {
        let (src, dst) = (&v[y * w..(y + 1) * w], &mut rows[y * w..(y + 1) * w]);
        let mut sum: f32 = src[..r.min(w)].iter().sum();
        for x in 0..w {
            if x + r < w {
                sum += src[x + r];
            }
            if x > r {
                sum -= src[x - r - 1];
            }
            dst[x] = sum / span(x, w);
        }
    }
    let mut out = vec![0f32; w * h];
    let mut sum = vec![0f32; w];
    for y in 0..r.min(h) {
        sum.iter_mut().zip(&rows[y * w..(y + 1) * w]).for_each(|(s, v)| *s += v);
    }
    for y in 0..h {
        if y + r < h {
            sum.iter_mut().zip(&rows[(y + r) * w..(y + r + 1) * w]).for_each(|(s, v)| *s += v);
        }
        if y > r {
            sum.iter_mut().zip(&rows[(y - r - 1) * w..(y - r) * w]).for_each(|(s, v)| *s -= v);
        }
        let n = span(y, h);
        out[y * w..(y + 1) * w].iter_mut().zip(&sum).for_each(|(o, s)| *o = s / n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_mean_averages_each_clipped_window() {
        let (w, h, r) = (9, 7, 2);
        let v: Vec<f32> = (0..w * h).map(|k| ((k * 37) % 11) as f32).collect();
        let got = box_mean(&v, w, h, r);
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut n) = (0.0, 0.0);
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        sum += v[yy * w + xx];
                        n += 1.0;
                    }
                }
                assert!((got[y * w + x] - sum / n).abs() < 1e-4, "({x}, {y})");
            }
        }
    }

    #[test]
    fn the_guided_filter_keeps_a_flat_matte_flat() {
        let guide: Vec<f32> = (0..64 * 64).map(|k| (k % 7) as f32 / 7.0).collect();
        let p = vec![0.75f32; 64 * 64];
        for s in [1, 2] {
            let q = guided_filter(&guide, &p, 64, 64, 4, 1e-3, s);
            assert!(q.iter().all(|v| (v - 0.75).abs() < 1e-3), "s = {s}");
        }
    }

    /// A head against the background: a bright disc in the guide, and a coarse, blurred mask
    /// of it shifted by two pixels (as a low-resolution mask is).
    fn head(w: usize, h: usize) -> (Vec<f32>, Vec<f32>) {
        let inside = |x: f32, y: f32, r: f32| (x - w as f32 / 2.0).hypot(y - h as f32 / 2.0) - r;
        let guide = (0..w * h).map(|k| if inside((k % w) as f32, (k / w) as f32, 30.0) < 0.0 { 0.8 } else { 0.3 });
        let mask = (0..w * h).map(|k| (0.5 - inside((k % w) as f32 + 2.0, (k / w) as f32, 30.0) / 8.0).clamp(0.0, 1.0));
        (guide.collect(), mask.collect())
    }

    #[test]
    fn the_matte_steps_where_the_guide_does() {
        let (w, h) = (96, 96);
        let (guide, mask) = head(w, h);
        // Along the middle row, the largest step between neighbours and where it is.
        let step = |v: &[f32]| {
            (1..w / 2)
                .map(|x| (v[h / 2 * w + x] - v[h / 2 * w + x - 1], x))
                .fold((0.0, 0), |m, d| if d.0 > m.0 { d } else { m })
        };
        // The mask ramps over 8 px, two pixels off; the disc's edge is between x = 18 and 19.
        assert!(step(&mask).0 < 0.15);
        for s in [1, 2] {
            let (jump, at) = step(&guided_filter(&guide, &mask, w, h, 6, 1e-3, s));
            assert_eq!(at, w / 2 - 29, "s = {s}");
            assert!(jump > 0.4, "s = {s}: {jump}");
        }
    }

    #[test]
    fn the_fast_filter_agrees_with_the_full_one() {
        let (w, h) = (96, 128);
        let (guide, mask) = head(w, h);
        let full = guided_filter(&guide, &mask, w, h, 6, 1e-3, 1);
        let fast = guided_filter(&guide, &mask, w, h, 6, 1e-3, 2);
        let diff: Vec<f32> = full.iter().zip(&fast).map(|(a, b)| (a - b).abs()).collect();
        let mean = diff.iter().sum::<f32>() / diff.len() as f32;
        let max = diff.iter().copied().fold(0.0, f32::max);
        assert!(mean < 0.01 && max < 0.2, "mean {mean}, max {max}");
        // Not the same computation: the subsampled one differs somewhere.
        assert!(max > 0.0);
    }
}
