//! Per-check agreement of the reviewer with the labelled evaluation set (tests/eval/). The
//! figures recorded below are the floor: a change that lowers any of them fails this test.
//! The report and the images are written to target/tmp/eval/ for a person to look at.

mod eval;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use gradbooth::config::Settings;
use gradbooth::review::{FaceModels, FaceReviewer, Reviewer, models};
use gradbooth::visit::LightingMode;

/// Agreement recorded when the set was last changed: (check, agreeing, labelled).
const RECORDED: &[(&str, usize, usize)] = &[
    ("background_not_uniform", 3, 3),
    ("blurry", 5, 5),
    ("clothing_like_background", 3, 3),
    ("eyes_closed", 2, 2),
    ("face_too_large", 3, 3),
    ("face_too_small", 3, 3),
    ("glasses_reflection", 3, 3),
    ("hair_over_eyes", 2, 2),
    ("head_tilted", 4, 4),
    ("head_turned", 2, 2),
    ("mouth_open", 1, 1),
    ("multiple_faces", 3, 3),
    ("no_face", 15, 15),
    ("off_centre", 1, 1),
    ("overexposed", 6, 6),
    ("underexposed", 4, 4),
    ("uneven_lighting", 4, 4),
];

#[test]
fn reviewer_agrees_with_the_labelled_set() {
    let settings =
        Settings::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml"))).unwrap();
    let r = &settings.review;
    let reviewer = FaceReviewer::load(&r.models, r.checks.clone(), r.standard.clone()).expect("models load");
    let base = eval::base(&FaceModels::load(&models::default_dir()).unwrap());
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("eval");
    std::fs::create_dir_all(&out).unwrap();

    // check → (agreeing, labelled, cases that disagree)
    let mut tally: BTreeMap<&str, (usize, usize, Vec<String>)> = BTreeMap::new();
    let mut report = String::new();
    let mut details = String::new();
    for case in eval::CASES {
        let img = (case.make)(&base);
        img.save(out.join(format!("{}.png", case.name))).unwrap();
        let mode = if case.glasses { LightingMode::Glasses } else { LightingMode::NoGlasses };
        let review = reviewer.review(&img, mode).expect("review runs");
        let reported: Vec<&str> = review.verdict.findings.iter().map(|f| f.code).collect();
        writeln!(report, "{:<28} reported {:?}", case.name, reported).unwrap();
        let measures: Vec<String> = review.measures.iter().map(|(k, v)| format!("{k}={v:.3}")).collect();
        writeln!(details, "{:<28} {}", case.name, measures.join(" ")).unwrap();
        for (codes, want) in [(case.expect, true), (case.absent, false)] {
            for &code in codes {
                let t = tally.entry(code).or_default();
                t.1 += 1;
                if reported.contains(&code) == want {
                    t.0 += 1;
                } else {
                    t.2.push(format!("{}{}", if want { "missed in " } else { "false alarm in " }, case.name));
                }
            }
        }
    }
    writeln!(report, "\n{:<26} agreement", "check").unwrap();
    for (code, (agree, n, misses)) in &tally {
        writeln!(report, "{code:<26} {agree}/{n} {}", misses.join(", ")).unwrap();
    }
    std::fs::write(out.join("report.txt"), format!("{report}\nmeasures\n{details}")).unwrap();
    println!("{report}");

    let mut worse = Vec::new();
    for &(code, agree, n) in RECORDED {
        let (a, m, _) = tally.get(code).cloned().unwrap_or_default();
        // Lower agreement, or a label lost from the set, is a regression.
        if m < n || (a as f32 / m as f32) < (agree as f32 / n as f32) {
            worse.push(format!("{code}: {a}/{m}, recorded {agree}/{n}"));
        }
    }
    assert!(worse.is_empty(), "agreement dropped:\n{}\n\n{report}", worse.join("\n"));
}
