//! Per-check agreement of the reviewer with the labelled evaluation set (tests/eval/), scored
//! separately on each side: "must fire" (the labels that expect the reason) and "must not
//! fire" (the labels that say it is absent). A side with no labels is **unscored** — a check
//! that never fires would otherwise score 100 % on its must-not side alone. The figures
//! recorded below are the floor: a change that lowers any of them fails this test. The table in
//! tests/eval/README.md must say the same (this test compares them). The report and the
//! images are written to target/tmp/eval/ for a person to look at.

mod eval;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use gradbooth::config::Settings;
use gradbooth::review::checks::CHECKS;
use gradbooth::review::{FaceModels, FaceReviewer, Reviewer, models};
use gradbooth::visit::LightingMode;

/// One side of a check: (agreeing, labelled), or `None` when nothing is labelled on it.
type Side = Option<(usize, usize)>;

/// Agreement recorded when the set was last changed: (check, must fire, must not fire).
const RECORDED: &[(&str, Side, Side)] = &[
    ("no_face", Some((1, 1)), Some((22, 22))),
    ("multiple_faces", Some((1, 1)), Some((2, 2))),
    ("face_too_small", Some((3, 3)), Some((5, 5))),
    ("face_too_large", Some((3, 3)), Some((4, 4))),
    ("off_centre", Some((2, 2)), Some((5, 5))),
    ("head_too_high", Some((2, 2)), Some((5, 5))),
    ("head_too_low", Some((1, 1)), Some((5, 5))),
    ("head_tilted", Some((2, 3)), Some((5, 5))),
    ("head_turned", None, Some((2, 2))),
    ("head_lowered_or_raised", None, None),
    ("eyes_closed", None, Some((2, 2))),
    ("mouth_open", Some((1, 1)), None),
    ("underexposed", Some((2, 2)), Some((6, 6))),
    ("overexposed", Some((1, 2)), Some((8, 8))),
    ("uneven_lighting", Some((3, 3)), Some((2, 2))),
    ("blurry", Some((2, 2)), Some((4, 5))),
    ("greyscale", Some((1, 1)), Some((1, 1))),
    ("low_resolution", Some((1, 1)), None),
    ("background_not_uniform", Some((1, 1)), Some((2, 2))),
    ("clothing_like_background", Some((1, 1)), Some((2, 2))),
    ("tinted_glasses", None, Some((2, 2))),
    ("glasses_reflection", Some((2, 2)), Some((1, 1))),
    ("hair_over_eyes", Some((1, 1)), Some((1, 1))),
    ("shoulders_not_level", Some((0, 1)), Some((2, 2))),
];

/// The same for the real portraits (tests/eval/real.rs).
const RECORDED_REAL: &[(&str, Side, Side)] = &[
    ("no_face", None, Some((63, 63))),
    ("multiple_faces", Some((5, 5)), Some((31, 31))),
    ("face_too_small", Some((2, 2)), None),
    ("face_too_large", Some((13, 13)), None),
    ("off_centre", None, None),
    ("head_too_high", None, None),
    ("head_too_low", None, None),
    ("head_tilted", Some((7, 7)), Some((11, 11))),
    ("head_turned", Some((3, 3)), Some((16, 16))),
    ("head_lowered_or_raised", Some((8, 8)), Some((21, 21))),
    ("eyes_closed", Some((8, 8)), Some((40, 40))),
    ("mouth_open", Some((20, 21)), Some((28, 28))),
    ("underexposed", None, Some((39, 39))),
    ("overexposed", None, Some((40, 40))),
    ("uneven_lighting", None, None),
    ("blurry", None, Some((20, 20))),
    ("greyscale", Some((1, 1)), Some((63, 63))),
    ("low_resolution", Some((9, 9)), Some((15, 15))),
    ("background_not_uniform", Some((12, 12)), Some((11, 11))),
    ("clothing_like_background", None, Some((11, 11))),
    ("tinted_glasses", Some((1, 1)), Some((63, 63))),
    ("glasses_reflection", None, None),
    ("hair_over_eyes", None, None),
    ("shoulders_not_level", None, None),
];

/// Must-not labels on blocking checks that the reviewer reported on the real set, last run.
const RECORDED_REAL_FALSE_REJECTIONS: usize = 0;

/// What one side of a check scored, and where it disagreed.
#[derive(Default, Clone)]
struct Tally {
    must: (usize, usize),
    must_not: (usize, usize),
    misses: Vec<String>,
}

fn side(s: (usize, usize)) -> Side {
    (s.1 > 0).then_some(s)
}

fn show(s: Side) -> String {
    match s {
        Some((a, n)) => format!("{a}/{n}"),
        None => "unscored".into(),
    }
}

/// The agreement table as tests/eval/README.md holds it.
fn table(tally: &BTreeMap<&str, Tally>) -> String {
    let mut t = String::from("| check | must fire | must not fire |\n|---|---|---|\n");
    for spec in CHECKS {
        let x = tally.get(spec.code).cloned().unwrap_or_default();
        writeln!(t, "| {} | {} | {} |", spec.code, show(side(x.must)), show(side(x.must_not))).unwrap();
    }
    t
}

/// One labelled image as the scorer sees it.
struct Labelled<'a> {
    name: &'a str,
    img: image::RgbImage,
    glasses: bool,
    expect: Vec<&'a str>,
    absent: Vec<&'a str>,
}

/// What a set scored: per check and side, the false rejections (a must-not label that blocks
/// the photo) and the false passes (a photo with a blocking defect judged fit to use).
struct Scored {
    tally: BTreeMap<&'static str, Tally>,
    must_not: usize,
    false_rejections: Vec<String>,
    blocking: usize,
    false_passes: Vec<String>,
    report: String,
}

fn score<'a>(set: &str, cases: impl Iterator<Item = Labelled<'a>>) -> Scored {
    let settings =
        Settings::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/booth.toml"))).unwrap();
    let reviewer = FaceReviewer::from_settings(&settings.review).expect("models load");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(set);
    std::fs::create_dir_all(&out).unwrap();
    let blocks = |code: &str| {
        settings.review.checks.iter().any(|c| c.spec.code == code && c.severity == gradbooth::visit::Severity::Blocks)
    };

    let mut s = Scored {
        tally: BTreeMap::new(),
        must_not: 0,
        false_rejections: Vec::new(),
        blocking: 0,
        false_passes: Vec::new(),
        report: String::new(),
    };
    let mut details = String::new();
    for case in cases {
        // A label on a check that does not run in the case's mode would score nothing.
        for code in case.expect.iter().chain(&case.absent) {
            let spec =
                CHECKS.iter().find(|c| c.code == *code).unwrap_or_else(|| panic!("{}: no check {code}", case.name));
            assert!(case.glasses || !spec.glasses_only, "{}: {code} does not run without glasses", case.name);
            assert!(!(case.expect.contains(code) && case.absent.contains(code)), "{}: {code} on both sides", case.name);
        }
        case.img.save(out.join(format!("{}.png", case.name))).unwrap();
        let mode = if case.glasses { LightingMode::Glasses } else { LightingMode::NoGlasses };
        let review = reviewer.review(&case.img, mode).expect("review runs");
        let reported: Vec<&str> = review.verdict.findings.iter().map(|f| f.code).collect();
        let hint = reviewer.guide(&case.img).expect("guidance runs");
        writeln!(s.report, "{:<28} reported {:?} live {hint}", case.name, reported).unwrap();
        let measures: Vec<String> = review.measures.iter().map(|(k, v)| format!("{k}={v:.3}")).collect();
        writeln!(details, "{:<28} {}", case.name, measures.join(" ")).unwrap();
        for (codes, want) in [(&case.expect, true), (&case.absent, false)] {
            for &code in codes {
                let spec = CHECKS.iter().find(|c| c.code == code).unwrap();
                let t = s.tally.entry(spec.code).or_default();
                let side = if want { &mut t.must } else { &mut t.must_not };
                side.1 += 1;
                if reported.contains(&code) == want {
                    side.0 += 1;
                } else {
                    t.misses.push(format!("{}{}", if want { "missed in " } else { "false alarm in " }, case.name));
                }
                if !want && blocks(code) {
                    s.must_not += 1;
                    if reported.contains(&code) {
                        s.false_rejections.push(format!("{code} in {}", case.name));
                    }
                }
            }
        }
        if case.expect.iter().any(|c| blocks(c)) {
            s.blocking += 1;
            if review.verdict.passed() {
                s.false_passes.push(case.name.to_owned());
            }
        }
    }
    writeln!(s.report, "\n{:<26} {:<10} {:<14} disagreements", "check", "must fire", "must not fire").unwrap();
    for spec in CHECKS {
        let t = s.tally.get(spec.code).cloned().unwrap_or_default();
        writeln!(
            s.report,
            "{:<26} {:<10} {:<14} {}",
            spec.code,
            show(side(t.must)),
            show(side(t.must_not)),
            t.misses.join(", ")
        )
        .unwrap();
    }
    writeln!(
        s.report,
        "\nfalse rejections: {} of {} blocking must-not labels {:?}\nfalse passes: {} of {} photos with a blocking defect {:?}",
        s.false_rejections.len(),
        s.must_not,
        s.false_rejections,
        s.false_passes.len(),
        s.blocking,
        s.false_passes
    )
    .unwrap();
    std::fs::write(out.join("report.txt"), format!("{}\nmeasures\n{details}", s.report)).unwrap();
    println!("{}", s.report);
    s
}

/// Every check's figures against the recorded ones: lower agreement, a label lost, or a side
/// scored now and recorded unscored (or the reverse) is a change to record.
fn regressions(tally: &BTreeMap<&str, Tally>, recorded: &[(&str, Side, Side)]) -> Vec<String> {
    let mut worse = Vec::new();
    for spec in CHECKS {
        let t = tally.get(spec.code).cloned().unwrap_or_default();
        let (must, must_not) = (side(t.must), side(t.must_not));
        let Some(&(_, rec_must, rec_not)) = recorded.iter().find(|r| r.0 == spec.code) else {
            worse.push(format!("{}: no recorded figure", spec.code));
            continue;
        };
        for (name, now, was) in [("must fire", must, rec_must), ("must not fire", must_not, rec_not)] {
            let regressed = match (now, was) {
                (Some((a, n)), Some((ra, rn))) => n < rn || (a as f32 / n as f32) < (ra as f32 / rn as f32),
                (None, None) => false,
                _ => true,
            };
            if regressed {
                worse.push(format!("{} {name}: {}, recorded {}", spec.code, show(now), show(was)));
            }
        }
    }
    worse
}

fn readme_holds(heading: &str, table: &str) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval/README.md")).unwrap();
    let at = readme.find(heading).unwrap_or_else(|| panic!("tests/eval/README.md has no {heading:?}"));
    assert!(
        readme[at..].contains(table),
        "tests/eval/README.md's table under {heading:?} is not what the set scores; it should read:\n{table}"
    );
}

#[test]
fn reviewer_agrees_with_the_labelled_set_on_both_sides_of_every_check() {
    let base = eval::base(&FaceModels::load(&models::default_dir()).unwrap());
    let cases = eval::CASES.iter().map(|c| Labelled {
        name: c.name,
        img: (c.make)(&base),
        glasses: c.glasses,
        expect: c.expect.to_vec(),
        absent: c.absent.to_vec(),
    });
    let s = score("eval", cases);
    let worse = regressions(&s.tally, RECORDED);
    assert!(worse.is_empty(), "agreement changed:\n{}\n\n{}", worse.join("\n"), s.report);
    readme_holds("## Agreement (the last run", &table(&s.tally));
}

/// The real portraits (tests/eval/real.rs): the two numbers the booth lives by — no photo with
/// a blocking defect passes, and at most 2 % of the must-not labels block a photo — and at
/// least 95 % agreement on every scored side; the recorded figures are the floor.
#[test]
fn reviewer_on_real_faces_passes_no_bad_photo_and_rejects_few_good_ones() {
    let real = eval::real::cases();
    let cases = real.iter().map(|c| Labelled {
        name: &c.name,
        img: eval::real::image(c),
        glasses: c.glasses,
        expect: c.expect.iter().map(String::as_str).collect(),
        absent: c.absent.iter().map(String::as_str).collect(),
    });
    let s = score("eval-real", cases);
    assert!(s.false_passes.is_empty(), "false passes: {:?}\n\n{}", s.false_passes, s.report);
    // More false rejections than recorded is a drop, however few.
    let recorded = RECORDED_REAL_FALSE_REJECTIONS;
    assert!(
        s.false_rejections.len() <= recorded,
        "false rejections {:?}, recorded {recorded}\n\n{}",
        s.false_rejections,
        s.report
    );
    assert!(
        s.false_rejections.len() * 50 <= s.must_not,
        "false rejections {} of {} must-not labels (over 2 %)\n\n{}",
        s.false_rejections.len(),
        s.must_not,
        s.report
    );
    let low: Vec<String> = s
        .tally
        .iter()
        .flat_map(|(code, t)| [("must fire", t.must), ("must not fire", t.must_not)].map(|(n, v)| (code, n, v)))
        .filter(|(_, _, (a, n))| *n > 0 && *a * 100 < *n * 95)
        .map(|(code, name, (a, n))| format!("{code} {name}: {a}/{n}"))
        .collect();
    assert!(low.is_empty(), "agreement under 95 %:\n{}\n\n{}", low.join("\n"), s.report);
    let worse = regressions(&s.tally, RECORDED_REAL);
    assert!(worse.is_empty(), "agreement changed:\n{}\n\n{}", worse.join("\n"), s.report);
    readme_holds("## Real faces: agreement", &table(&s.tally));
}

/// `cargo test --test evaluation -- --ignored`: the images alone, in target/tmp/eval-unjudged/,
/// for labelling a new case by looking at it before the reviewer judges it.
#[test]
#[ignore = "writes the set for labelling; nothing to check"]
fn write_the_set_for_labelling() {
    let base = eval::base(&FaceModels::load(&models::default_dir()).unwrap());
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("eval-unjudged");
    eval::write_set(&base, &dir);
    eval::real::write_set(&dir.join("real"));
}
