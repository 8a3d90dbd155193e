//! `gradbooth review [--json] [--glasses] [--standardize DIR] IMAGE...`: reviews image files
//! exactly as the booth reviews a capture. Exit status 0 when every file was reviewed (pass
//! or fail), 2 when a file could not be read or judged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::review::{FaceReviewer, Review, Reviewer};
use crate::visit::{LightingMode, Severity};

#[derive(clap::Args)]
pub struct ReviewArgs {
    /// One JSON object per line: file, verdict, reasons, measures, ms.
    #[arg(long)]
    pub json: bool,
    /// Judge as in the glasses lighting mode (adds the reflection check).
    #[arg(long)]
    pub glasses: bool,
    /// Write the standard 480×640 photo of each passing image into this directory.
    #[arg(long, value_name = "DIR")]
    pub standardize: Option<PathBuf>,
    #[arg(required = true, value_name = "IMAGE")]
    pub files: Vec<PathBuf>,
}

/// Reviews every file, writing one line (text or JSON) each to `out`; returns whether all
/// files could be reviewed.
pub fn run(reviewer: &FaceReviewer, args: &ReviewArgs, out: &mut dyn Write) -> anyhow::Result<bool> {
    if let Some(dir) = &args.standardize {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mode = if args.glasses { LightingMode::Glasses } else { LightingMode::NoGlasses };
    let mut all_ok = true;
    for file in &args.files {
        let name = file.display().to_string();
        let img = match image::open(file) {
            Ok(i) => i.to_rgb8(),
            Err(e) => {
                all_ok = false;
                report_error(out, args.json, &name, &format!("cannot read the image: {e}"))?;
                continue;
            }
        };
        let started = Instant::now();
        let review = match reviewer.review(&img, mode) {
            Ok(r) => r,
            Err(e) => {
                all_ok = false;
                report_error(out, args.json, &name, &e.to_string())?;
                continue;
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let standard = match (&args.standardize, &review.standard) {
            (Some(dir), Some(std)) => {
                let path = dir.join(standard_name(file));
                std::fs::write(&path, &std.jpeg.bytes).with_context(|| format!("writing {}", path.display()))?;
                Some(path)
            }
            _ => None,
        };
        if args.json {
            writeln!(out, "{}", json_line(&name, &review, ms, standard.as_deref()))?;
        } else {
            writeln!(out, "{}", text_line(&name, &review, ms, standard.as_deref()))?;
        }
    }
    Ok(all_ok)
}

fn standard_name(file: &Path) -> String {
    format!("{}.jpg", file.file_stem().and_then(|s| s.to_str()).unwrap_or("photo"))
}

fn report_error(out: &mut dyn Write, json: bool, file: &str, error: &str) -> std::io::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::json!({ "file": file, "error": error }))
    } else {
        writeln!(out, "{file}: ERROR {error}")
    }
}

pub fn json_line(file: &str, r: &Review, ms: f64, standard: Option<&Path>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "file": file,
        "verdict": if r.verdict.passed() { "pass" } else { "fail" },
        "reasons": r.verdict.findings.iter().filter(|f| f.severity == Severity::Blocks).map(|f| f.code).collect::<Vec<_>>(),
        "warnings": r.verdict.findings.iter().filter(|f| f.severity == Severity::Warns).map(|f| f.code).collect::<Vec<_>>(),
        "findings": r.verdict.findings,
        "measures": r.measures,
        "ms": (ms * 10.0).round() / 10.0,
    });
    if let Some(s) = &r.standard {
        v["standard"] = serde_json::json!({
            "file": standard.map(|p| p.display().to_string()),
            "bytes": s.jpeg.bytes.len(),
            "quality": s.jpeg.quality,
            "size_in_range": s.jpeg.size_in_range,
            "eye_line": s.placement.eye_line,
            "hair_top": s.placement.hair_top,
            "face_width": s.placement.face_width,
        });
    }
    v
}

fn text_line(file: &str, r: &Review, ms: f64, standard: Option<&Path>) -> String {
    let verdict = if r.verdict.passed() { "PASS" } else { "FAIL" };
    let findings: Vec<String> = r
        .verdict
        .findings
        .iter()
        .map(|f| {
            let kind = if f.severity == Severity::Warns { " (warning)" } else { "" };
            format!("{}{kind}: {:.3} vs limit {:.3}", f.code, f.measured, f.limit)
        })
        .collect();
    let mut line = format!("{file}: {verdict} in {ms:.0} ms");
    if !findings.is_empty() {
        line += &format!(" — {}", findings.join("; "));
    }
    if let Some(p) = standard {
        line += &format!(" → {}", p.display());
    }
    line
}
