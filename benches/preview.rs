//! Per camera frame: the preview path (a 1920×1080 frame to the image the UI shows) and the
//! camera-based QR reader (a frame with a phone's code held up, and one without).

use criterion::{Criterion, criterion_group, criterion_main};
use gradbooth::screen::preview::{PREVIEW_HEIGHT, PREVIEW_WIDTH, preview_image};
use gradbooth_hal::Camera;
use gradbooth_hal::sim::{SimCamera, SimControls};

fn preview(c: &mut Criterion) {
    let mut camera = SimCamera::new(SimControls::new(), 1920, 1080, 1000);
    let frame = camera.preview_frame(std::time::Duration::from_secs(1)).expect("a synthetic frame");
    c.bench_function("preview_1920x1080_to_540x720", |b| {
        b.iter(|| {
            let image = preview_image(std::hint::black_box(&frame), PREVIEW_WIDTH, PREVIEW_HEIGHT);
            // What the UI thread does with it: wrap it without copying.
            slint::Image::from_rgb8(image)
        })
    });
}

fn camera_qr(c: &mut Criterion) {
    let controls = SimControls::new();
    let mut camera = SimCamera::new(controls.clone(), 1920, 1080, 1000);
    let empty = camera.preview_frame(std::time::Duration::from_secs(1)).expect("a synthetic frame");
    controls.set_codes_to_camera(true);
    // A shooting ticket's length (~230 characters, a version-9 code).
    controls.present_qr(format!("GBT1:{}", "A".repeat(225)));
    let held = camera.preview_frame(std::time::Duration::from_secs(1)).expect("a synthetic frame");
    assert_eq!(gradbooth_hal::camera_qr::decode(&held, 2048).len(), 1);
    c.bench_function("camera_qr_1920x1080_code_held_up", |b| {
        b.iter(|| gradbooth_hal::camera_qr::decode(std::hint::black_box(&held), 2048))
    });
    c.bench_function("camera_qr_1920x1080_no_code", |b| {
        b.iter(|| gradbooth_hal::camera_qr::decode(std::hint::black_box(&empty), 2048))
    });
}

criterion_group!(benches, preview, camera_qr);
criterion_main!(benches);
