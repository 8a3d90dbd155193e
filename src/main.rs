//! The `gradbooth` command: the booth itself (default), and its headless tools.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use gradbooth::config::Settings;
use gradbooth::screen::{self, UiMsg, UiSink};
use gradbooth::ui::{AppWindow, BoothAdapter};
use slint::ComponentHandle;

#[derive(Parser)]
#[command(name = "gradbooth", version, about = "Self-service diploma photo booth (自助拍照一体机)")]
struct Cli {
    /// The booth's configuration file.
    #[arg(long, global = true, default_value = "config/booth.toml", env = "GRADBOOTH_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Outcome {
    Pass,
    Fail,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the booth in a window (the default).
    Run {
        /// Hide the simulated booth's debug panel.
        #[arg(long)]
        no_debug_panel: bool,
    },
    /// A scripted graduate goes through a visit headlessly; screens and photos go to --out.
    Demo {
        #[arg(long)]
        out: PathBuf,
        /// Portrait image(s) the simulated camera shows, one per capture in turn.
        #[arg(long = "sitter")]
        sitters: Vec<PathBuf>,
        /// Replace the reviewer with a fixed outcome (the screen then says 模拟审核).
        #[arg(long)]
        scripted_review: Option<Outcome>,
        /// Show the visit in English.
        #[arg(long)]
        english: bool,
    },
    /// Review image files as the booth reviews a capture (exit 0: all reviewed; 2: a file failed).
    Review {
        /// One JSON object per line: file, verdict, reasons, measures, ms.
        #[arg(long)]
        json: bool,
        /// Judge as in the glasses lighting mode (adds the reflection check).
        #[arg(long)]
        glasses: bool,
        /// Write the standard 480×640 photo of each passing image into this directory.
        #[arg(long, value_name = "DIR")]
        standardize: Option<PathBuf>,
        #[arg(required = true, value_name = "IMAGE")]
        files: Vec<PathBuf>,
    },
    /// Render every screen, in Chinese and English, to PNG files in --out.
    Gallery {
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Cmd::Run { no_debug_panel: false }) {
        Cmd::Run { no_debug_panel } => run_booth(&cli.config, !no_debug_panel),
        Cmd::Demo { out, sitters, scripted_review, english } => {
            let session = gradbooth::demo::run(gradbooth::demo::DemoArgs {
                config: cli.config,
                out: out.clone(),
                sitters,
                scripted_review: scripted_review.map(|o| matches!(o, Outcome::Pass)),
                english,
            })?;
            println!(
                "demo: {} screens, {} photo(s), payment {}; written to {}",
                session.screenshots.len(),
                session.captured_photos.len(),
                session.payment,
                out.display()
            );
            Ok(())
        }
        Cmd::Review { json, glasses, standardize, files } => {
            let settings = Settings::load(&cli.config).with_context(|| format!("loading {}", cli.config.display()))?;
            let r = &settings.review;
            let reviewer = gradbooth::review::FaceReviewer::load(&r.models, r.checks.clone(), r.standard.clone())?;
            let args = gradbooth::review_cmd::ReviewArgs { files, json, glasses, standardize };
            let all_ok = gradbooth::review_cmd::run(&reviewer, &args, &mut std::io::stdout().lock())?;
            if !all_ok {
                std::process::exit(2);
            }
            Ok(())
        }
        Cmd::Gallery { out } => {
            let files = gradbooth::gallery::run(&cli.config, &out)?;
            println!("gallery: {} screens written to {}", files.len(), out.display());
            Ok(())
        }
    }
}

/// Sends UI messages to the Slint event loop. Preview frames are dropped while one is
/// still waiting to be shown, so a slow screen never builds a queue.
struct EventLoopSink {
    app: slint::Weak<AppWindow>,
    frame_pending: Arc<std::sync::atomic::AtomicBool>,
}

impl UiSink for EventLoopSink {
    fn send(&self, msg: UiMsg) {
        use std::sync::atomic::Ordering;
        let is_frame = matches!(msg, UiMsg::Preview(_));
        if is_frame && self.frame_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending = self.frame_pending.clone();
        let _ = self.app.upgrade_in_event_loop(move |app| {
            if is_frame {
                pending.store(false, Ordering::Release);
            }
            screen::apply(&app, msg);
        });
    }
}

fn run_booth(config: &std::path::Path, debug_panel: bool) -> anyhow::Result<()> {
    let settings = Settings::load(config).with_context(|| format!("loading {}", config.display()))?;
    let app = match AppWindow::new() {
        Ok(app) => app,
        Err(e) => {
            eprintln!(
                "gradbooth: cannot open a window ({e}).\n\
                 No display? Run the booth headlessly instead:\n  \
                 cargo run --release -- demo --out out/demo\n  \
                 cargo run --release -- gallery --out out/gallery"
            );
            std::process::exit(2);
        }
    };
    screen::apply_settings(&app, &settings);
    screen::set_language(&app, settings.file.ui.language == "en");
    app.global::<BoothAdapter>().set_debug_panel(debug_panel);
    let reviewer = gradbooth::review::from_settings(&settings.review);
    let sitters = gradbooth_hal::sim::SimCamera::load_sitters(&settings.file.hardware.simulated.sitter_images)
        .context("reading hardware.simulated.sitter_images")?;
    let (parts, _lights) = gradbooth::runtime::simulated(settings, sitters, reviewer);
    let sink = EventLoopSink { app: app.as_weak(), frame_pending: Arc::default() };
    let booth = Rc::new(gradbooth::runtime::start(parts, Arc::new(sink)));
    screen::connect(&app, booth.clone());
    let result = app.run();
    booth.shutdown();
    result.context("the UI event loop failed")
}
