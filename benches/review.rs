//! The reviewer's costs on one core: a whole review of a 1920×1080 capture, one live-guidance
//! step on a preview frame, and loading the models at start-up. The capture is the
//! evaluation set's plain-background astronaut, placed in a booth-sized frame.

#[path = "../tests/eval/mod.rs"]
mod eval;

use criterion::{Criterion, criterion_group, criterion_main};
use gradbooth::config::Settings;
use gradbooth::review::{FaceModels, FaceReviewer, Reviewer, models};
use gradbooth::visit::LightingMode;
use gradbooth_hal::Camera;
use gradbooth_hal::sim::{SimCamera, SimControls};

fn capture_1080p() -> gradbooth_hal::RgbImage {
    let base = eval::base(&FaceModels::load(&models::default_dir()).unwrap());
    let case = eval::CASES.iter().find(|c| c.name == "plain_background").unwrap();
    let sitter = (case.make)(&base);
    let mut camera = SimCamera::new(SimControls::new(), 1920, 1080, 1000).with_sitters(vec![sitter]);
    camera.capture_still(std::time::Duration::from_secs(1)).unwrap()
}

fn load_reviewer() -> FaceReviewer {
    let settings =
        Settings::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml"))).unwrap();
    let r = &settings.review;
    FaceReviewer::load(&r.models, r.checks.clone(), r.standard.clone()).unwrap()
}

fn review(c: &mut Criterion) {
    let frame = capture_1080p();
    let reviewer = load_reviewer();
    let mut g = c.benchmark_group("review");
    g.sample_size(30);
    g.bench_function("whole_review_1920x1080", |b| {
        b.iter(|| reviewer.review(std::hint::black_box(&frame), LightingMode::NoGlasses).unwrap())
    });
    g.bench_function("live_guidance_step_1920x1080", |b| {
        b.iter(|| reviewer.guide(std::hint::black_box(&frame)).unwrap())
    });
    g.sample_size(10);
    g.bench_function("model_load", |b| b.iter(load_reviewer));
    g.finish();
}

criterion_group!(benches, review);
criterion_main!(benches);
