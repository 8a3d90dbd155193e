//! `gradbooth gallery` renders every screen, in Chinese, English and at 1280×800.

use std::process::Command;

#[test]
fn the_gallery_renders_every_screen_in_both_languages_and_both_sizes() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["gallery", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let count = |dir: &str| std::fs::read_dir(out.path().join(dir)).unwrap().count();
    let n = count("zh");
    assert!(n >= 15, "every screen has a picture ({n})");
    assert_eq!(count("en"), n);
    assert_eq!(count("1280x800"), n);
    let zh = image::open(out.path().join("zh/01-idle.png")).unwrap().to_rgb8();
    let en = image::open(out.path().join("en/01-idle.png")).unwrap().to_rgb8();
    let small = image::open(out.path().join("1280x800/01-idle.png")).unwrap();
    assert_eq!(zh.dimensions(), (1920, 1080));
    assert_eq!((small.width(), small.height()), (1280, 800));
    // The English idle screen really is different text, not the Chinese one again.
    let differing = zh.pixels().zip(en.pixels()).filter(|(a, b)| a != b).count();
    assert!(differing > 20_000, "only {differing} pixels differ between zh and en");
    // And text is drawn at all (a missing CJK font draws nothing): the title band has ink.
    let dark =
        (0..1920).flat_map(|x| (120..200).map(move |y| (x, y))).filter(|&(x, y)| zh.get_pixel(x, y)[0] < 80).count();
    assert!(dark > 5_000, "the Chinese title is drawn ({dark} dark pixels)");
}
