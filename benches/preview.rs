//! The preview path per frame: a 1920×1080 camera frame to the image the UI shows.

use criterion::{Criterion, criterion_group, criterion_main};
use gradbooth::preview::{PREVIEW_HEIGHT, PREVIEW_WIDTH, preview_image};
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

criterion_group!(benches, preview);
criterion_main!(benches);
