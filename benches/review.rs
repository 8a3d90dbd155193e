//! The reviewer's costs on one core: a whole review of a 1920×1080 capture — one that fails
//! (no standard photo is made) and one that passes (the placement, the background matte and
//! the JPEG size search run: the standard photo is made) — one live-guidance step on a
//! preview frame, and loading the models at start-up. The capture is the evaluation set's
//! plain-background astronaut in a booth-sized frame: she smiles with her teeth showing, so the
//! booth's checks fail her on `mouth_open`; with that one check off she passes.

#[path = "../tests/eval/mod.rs"]
mod eval;

use criterion::{Criterion, criterion_group, criterion_main};
use gradbooth::config::Settings;
use gradbooth::review::{FaceReviewer, Reviewer};
use gradbooth::visit::LightingMode;

fn load_reviewer(allow_smile: bool) -> FaceReviewer {
    let settings =
        Settings::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml"))).unwrap();
    let r = &settings.review;
    let mut checks = r.checks.clone();
    if allow_smile {
        checks.retain(|c| c.spec.code != "mouth_open");
    }
    FaceReviewer::load(&r.models, checks, r.standard.clone()).unwrap()
}

fn review(c: &mut Criterion) {
    let frame = eval::booth_capture("plain_background");
    let failing = load_reviewer(false);
    let passing = load_reviewer(true);
    // Each benchmark measures what its name says.
    let f = failing.review(&frame, LightingMode::NoGlasses).unwrap();
    assert!(!f.verdict.passed() && f.standard.is_none(), "the failing review fails: {:?}", f.verdict);
    let p = passing.review(&frame, LightingMode::NoGlasses).unwrap();
    assert!(p.verdict.passed() && p.standard.is_some(), "the passing review makes the standard photo: {:?}", p.verdict);
    let mut g = c.benchmark_group("review");
    g.sample_size(30);
    g.bench_function("whole_review_failing_1920x1080", |b| {
        b.iter(|| failing.review(std::hint::black_box(&frame), LightingMode::NoGlasses).unwrap())
    });
    g.bench_function("whole_review_passing_with_standard_photo_1920x1080", |b| {
        b.iter(|| passing.review(std::hint::black_box(&frame), LightingMode::NoGlasses).unwrap())
    });
    g.bench_function("live_guidance_step_1920x1080", |b| {
        b.iter(|| failing.guide(std::hint::black_box(&frame)).unwrap())
    });
    g.sample_size(10);
    g.bench_function("model_load", |b| b.iter(|| load_reviewer(false)));
    g.finish();
}

/// Where a passing review's time goes: each network and each stage on the same capture.
fn review_parts(c: &mut Criterion) {
    use gradbooth::review::{FaceModels, Measures, StandardSpec, measures, standard};
    let frame = eval::booth_capture("plain_background");
    let m = FaceModels::load(&gradbooth::review::models::default_dir()).unwrap();
    let faces = m.detect(&frame, true).unwrap();
    let mesh = m.mesh(&frame, &faces[0], true).unwrap();
    let irises = m.irises(&frame, &mesh).unwrap();
    let mask = m.segment(&frame).unwrap();
    let spec = StandardSpec::default();
    let p = standard::placement_for(&spec, &mesh, &mask, frame.width(), frame.height()).unwrap();
    let photo = standard::render(&spec, &frame, &mask, &p);
    let mut g = c.benchmark_group("review_parts");
    g.sample_size(20);
    g.bench_function("detect", |b| b.iter(|| m.detect(std::hint::black_box(&frame), true).unwrap()));
    // The booth capture's detector square is already the landmarks' own: one run of the mesh.
    g.bench_function("mesh", |b| b.iter(|| m.mesh(&frame, &faces[0], true).unwrap()));
    g.bench_function("irises", |b| b.iter(|| m.irises(&frame, &mesh).unwrap()));
    g.bench_function("segment", |b| b.iter(|| m.segment(&frame).unwrap()));
    g.bench_function("measures_full", |b| {
        b.iter(|| {
            let full = measures::Full {
                img: &frame,
                mesh: &mesh,
                irises: &irises,
                mask: &mask,
                frame: p.frame(),
                background: spec.background,
                face_width: spec.face_width_target,
            };
            let mut out = Measures::new();
            measures::full(&full, &mut out);
            out
        })
    });
    g.bench_function("standard_render", |b| b.iter(|| standard::render(&spec, &frame, &mask, &p)));
    g.bench_function("standard_encode_in_range", |b| b.iter(|| standard::encode_in_range(&spec, &photo)));
    g.finish();
}

criterion_group!(benches, review, review_parts);
criterion_main!(benches);
