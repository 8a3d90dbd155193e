//! Decoding MediaPipe's face detectors (BlazeFace): the short-range one (128 × 128, 896 SSD
//! anchors on a 16 × 16 grid, 2 per cell, and an 8 × 8 grid, 6 per cell) and the full-range one
//! (192 × 192, 2304 anchors on a 48 × 48 grid, 1 per cell, for faces far from the camera);
//! boxes and six keypoints relative to the anchor centre in input pixels, then a weighted
//! non-maximum suppression.

use super::geometry::Pt;

/// Which detector's outputs are being decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Short,
    Full,
}

impl Range {
    pub fn side(self) -> f32 {
        match self {
            Range::Short => 128.0,
            Range::Full => 192.0,
        }
    }

    /// (grid, anchors per cell) of each feature map, in the model's order.
    fn grids(self) -> &'static [(usize, usize)] {
        match self {
            Range::Short => &[(16, 2), (8, 6)],
            Range::Full => &[(48, 1)],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub score: f32,
    /// Centre and size, in input pixels (0..128).
    pub centre: Pt,
    pub width: f32,
    pub height: f32,
    /// Right eye, left eye (the graduate's), nose tip, mouth, right ear, left ear.
    pub keypoints: [Pt; 6],
}

fn anchors(range: Range) -> Vec<Pt> {
    let mut a = Vec::new();
    for &(grid, per_cell) in range.grids() {
        for y in 0..grid {
            for x in 0..grid {
                for _ in 0..per_cell {
                    a.push(Pt::new((x as f32 + 0.5) / grid as f32, (y as f32 + 0.5) / grid as f32));
                }
            }
        }
    }
    a
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-100.0, 100.0)).exp())
}

/// Every anchor scoring at least `min_score`, merged by weighted NMS.
pub fn decode(range: Range, regressors: &[f32], scores: &[f32], min_score: f32) -> Vec<Detection> {
    let anchors = anchors(range);
    let side = range.side();
    let mut found: Vec<Detection> = Vec::new();
    for (i, anchor) in anchors.iter().enumerate() {
        let Some(&raw) = scores.get(i) else { break };
        let score = sigmoid(raw);
        if score < min_score {
            continue;
        }
        let Some(r) = regressors.get(i * 16..i * 16 + 16) else { break };
        let at = |dx: f32, dy: f32| Pt::new(dx + anchor.x * side, dy + anchor.y * side);
        let mut keypoints = [Pt::default(); 6];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = at(r[4 + 2 * k], r[5 + 2 * k]);
        }
        found.push(Detection { score, centre: at(r[0], r[1]), width: r[2], height: r[3], keypoints });
    }
    weighted_nms(found, 0.3)
}

fn iou(a: &Detection, b: &Detection) -> f32 {
    let (ax0, ax1) = (a.centre.x - a.width / 2.0, a.centre.x + a.width / 2.0);
    let (ay0, ay1) = (a.centre.y - a.height / 2.0, a.centre.y + a.height / 2.0);
    let (bx0, bx1) = (b.centre.x - b.width / 2.0, b.centre.x + b.width / 2.0);
    let (by0, by1) = (b.centre.y - b.height / 2.0, b.centre.y + b.height / 2.0);
    let iw = (ax1.min(bx1) - ax0.max(bx0)).max(0.0);
    let ih = (ay1.min(by1) - ay0.max(by0)).max(0.0);
    let inter = iw * ih;
    let union = a.width * a.height + b.width * b.height - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// MediaPipe's weighted suppression: overlapping detections are averaged, weighted by score.
fn weighted_nms(mut dets: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !dets.is_empty() {
        let top = dets[0].clone();
        let (group, rest): (Vec<_>, Vec<_>) = dets.into_iter().partition(|d| iou(&top, d) > threshold);
        dets = rest;
        let total: f32 = group.iter().map(|d| d.score).sum();
        let mut merged = top.clone();
        if total > 0.0 {
            let avg = |f: &dyn Fn(&Detection) -> f32| group.iter().map(|d| f(d) * d.score).sum::<f32>() / total;
            merged.centre = Pt::new(avg(&|d| d.centre.x), avg(&|d| d.centre.y));
            merged.width = avg(&|d| d.width);
            merged.height = avg(&|d| d.height);
            for k in 0..6 {
                merged.keypoints[k] = Pt::new(avg(&|d| d.keypoints[k].x), avg(&|d| d.keypoints[k].y));
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_896_anchors_in_the_models_order() {
        let a = anchors(Range::Short);
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], Pt::new(0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2], Pt::new(1.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[512], Pt::new(0.5 / 8.0, 0.5 / 8.0));
        assert_eq!(a[895], Pt::new(7.5 / 8.0, 7.5 / 8.0));
    }

    #[test]
    fn the_full_range_detector_has_one_anchor_on_each_cell_of_a_48_grid() {
        let a = anchors(Range::Full);
        assert_eq!(a.len(), 2304);
        assert_eq!(a[0], Pt::new(0.5 / 48.0, 0.5 / 48.0));
        assert_eq!(a[1], Pt::new(1.5 / 48.0, 0.5 / 48.0));
        assert_eq!(a[48], Pt::new(0.5 / 48.0, 1.5 / 48.0));
        // A face on cell (10, 20): its box is placed in 192-pixel input coordinates.
        let mut regs = vec![0.0f32; 2304 * 16];
        let mut scores = vec![-10.0f32; 2304];
        let i = 20 * 48 + 10;
        scores[i] = 4.0;
        regs[i * 16 + 2] = 12.0;
        regs[i * 16 + 3] = 12.0;
        let d = decode(Range::Full, &regs, &scores, 0.5);
        assert_eq!(d.len(), 1);
        assert!((d[0].centre.x - 10.5 / 48.0 * 192.0).abs() < 1e-3 && (d[0].centre.y - 20.5 * 4.0).abs() < 1e-3);
    }

    #[test]
    fn overlapping_boxes_merge_and_distant_ones_stay() {
        let mut regs = vec![0.0f32; 896 * 16];
        let mut scores = vec![-10.0f32; 896];
        // Two neighbouring anchors on the 8×8 grid describe one face; a far anchor another.
        for (i, dx) in [(512 + 6 * 27, 0.0), (512 + 6 * 27 + 1, 2.0), (512 + 6 * 5, 0.0)] {
            scores[i] = 3.0;
            regs[i * 16] = dx;
            regs[i * 16 + 2] = 40.0;
            regs[i * 16 + 3] = 40.0;
        }
        let d = decode(Range::Short, &regs, &scores, 0.5);
        assert_eq!(d.len(), 2, "{d:?}");
        // The pair on cell (3, 3) merged into their score-weighted mean.
        let merged = d.iter().find(|d| d.centre.y > 50.0).expect("the merged face");
        assert!((merged.centre.x - (3.5 / 8.0 * 128.0 + 1.0)).abs() < 1e-3, "{:?}", merged.centre);
        assert!(d.iter().all(|d| d.score > 0.9));
    }

    #[test]
    fn low_scores_are_dropped() {
        let d = decode(Range::Short, &vec![0.0; 896 * 16], &vec![-1.0; 896], 0.5);
        assert!(d.is_empty());
    }
}
