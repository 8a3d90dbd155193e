//! The `gradbooth` command: the booth itself (default), and its headless tools.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use gradbooth::config::{Backend, Settings};
use gradbooth::screen::{self, UiMsg, UiSink};
use gradbooth::ui::{AppWindow, BoothAdapter};
use slint::ComponentHandle;

#[derive(Parser)]
#[command(name = "gradbooth", version, about = "Self-service diploma photo booth (自助拍照一体机)")]
struct Cli {
    /// The booth's configuration file.
    #[arg(long, global = true, default_value = "config/booth.toml", env = "GRADBOOTH_CONFIG")]
    config: PathBuf,
    /// Where the journal and photos live, instead of the configuration's `[storage] data_dir`
    /// (the Pi package sets /var/lib/gradbooth).
    #[arg(long, global = true, env = "GRADBOOTH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Run on these devices instead of the configuration's `[hardware] backend` (the Pi
    /// package's service says `pi`).
    #[arg(long, global = true, value_enum, env = "GRADBOOTH_HARDWARE")]
    hardware: Option<Backend>,
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
    /// Personal shooting tickets: make issuer keys, issue and verify tickets (docs/ticket.md).
    Ticket {
        #[command(subcommand)]
        cmd: TicketCmd,
    },
    /// Render every screen, in Chinese and English, to PNG files in --out.
    Gallery {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the wiring table (Raspberry Pi header pin ↔ device) of the configuration.
    Wiring,
    /// Run the WeChat Pay sandbox on its own (for `payment.sandbox_url`); pay a code shown by
    /// a booth with `curl -d 'weixin://…' http://ADDR/sandbox/pay`.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
    },
}

#[derive(Subcommand)]
enum TicketCmd {
    /// Make an issuer key pair: the secret into --out (mode 0600), the public key printed.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The key id tickets will name (printed in the config line).
        #[arg(long, default_value = "issuer")]
        key_id: String,
    },
    /// Issue a ticket: prints the QR text; --png also writes the code as an image.
    Issue {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[arg(long, default_value = "issuer")]
        key_id: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// The full student number; the ticket carries it masked (2022****56).
        #[arg(long)]
        student_no: String,
        #[arg(long)]
        school: String,
        /// The site it is valid at (default: this configuration's `tickets.site`).
        #[arg(long)]
        site: Option<String>,
        /// Valid from (RFC 3339; default now).
        #[arg(long)]
        issued: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Valid until (RFC 3339; default 30 days after --issued).
        #[arg(long)]
        expires: Option<chrono::DateTime<chrono::FixedOffset>>,
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
    },
    /// Verify a ticket's text as this booth would (exit 2 when refused).
    Verify {
        text: String,
        /// The moment to check at (RFC 3339; default now).
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
}

fn ticket_cmd(config: &std::path::Path, cmd: TicketCmd) -> anyhow::Result<()> {
    use gradbooth::ticket::{self, cmd as ticket_cmd};
    let out = &mut std::io::stdout().lock();
    match cmd {
        TicketCmd::Keygen { out: file, key_id } => ticket_cmd::keygen(&file, &key_id, out),
        TicketCmd::Issue { key, key_id, id, name, student_no, school, site, issued, expires, png } => {
            let site = match site {
                Some(s) => s,
                None => Settings::load(config)?.file.tickets.site,
            };
            let issued = issued.map_or_else(|| chrono::Utc::now().timestamp(), |t| t.timestamp());
            let expires = expires.map_or(issued + 30 * 86400, |t| t.timestamp());
            let secs = |t: i64| u32::try_from(t).context("times must lie between 1970 and 2106");
            let claims = ticket::Claims {
                key_id,
                id,
                name,
                student_no_masked: ticket::mask(&student_no),
                school,
                photo_type: ticket::PHOTO_GRADUATE,
                site,
                issued_at: secs(issued)?,
                expires_at: secs(expires)?,
            };
            claims.check().map_err(anyhow::Error::msg)?;
            ticket_cmd::issue(&key, &claims, png.as_deref(), out).map(|_| ())
        }
        TicketCmd::Verify { text, at } => {
            let settings = Settings::load(config).with_context(|| format!("loading {}", config.display()))?;
            let now = at.map_or_else(|| chrono::Utc::now().timestamp(), |t| t.timestamp());
            if !ticket_cmd::verify(&text, &settings.issuers, &settings.file.tickets.site, now, out)? {
                std::process::exit(2);
            }
            Ok(())
        }
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Cmd::Run { no_debug_panel: false }) {
        Cmd::Run { no_debug_panel } => run_booth(&cli.config, cli.data_dir.as_deref(), cli.hardware, !no_debug_panel),
        Cmd::Demo { out, sitters, scripted_review, english } => {
            if let Some(dir) = &cli.data_dir {
                // The demo must never write into a booth's own journal.
                anyhow::bail!(
                    "gradbooth demo keeps its own journal and photos in {}/data; --data-dir (or GRADBOOTH_DATA_DIR = {}) is for the booth itself: leave it out",
                    out.display(),
                    dir.display()
                );
            }
            let session = gradbooth::tools::demo::run(gradbooth::tools::demo::DemoArgs {
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
            let args = gradbooth::review::cmd::ReviewArgs { files, json, glasses, standardize };
            let all_ok = gradbooth::review::cmd::run(&reviewer, &args, &mut std::io::stdout().lock())?;
            if !all_ok {
                std::process::exit(2);
            }
            Ok(())
        }
        Cmd::Ticket { cmd } => ticket_cmd(&cli.config, cmd),
        Cmd::Wiring => {
            let settings = Settings::load(&cli.config).with_context(|| format!("loading {}", cli.config.display()))?;
            print!("{}", gradbooth::devices::wiring::table(&settings.file.hardware));
            Ok(())
        }
        Cmd::Gallery { out } => {
            let files = gradbooth::tools::gallery::run(&cli.config, &out)?;
            println!("gallery: {} screens written to {}", files.len(), out.display());
            Ok(())
        }
        Cmd::Sandbox { listen } => {
            let sandbox =
                gradbooth::payment::Sandbox::start_on(listen).with_context(|| format!("listening on {listen}"))?;
            println!(
                "WeChat Pay sandbox at {} — in the booth's configuration: sandbox_url = \"{}\"",
                sandbox.url(),
                sandbox.url()
            );
            println!(
                "orders: curl {}/sandbox/orders; pay a code: curl -d 'weixin://…' {}/sandbox/pay",
                sandbox.url(),
                sandbox.url()
            );
            loop {
                std::thread::park();
            }
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

/// The configuration as the booth runs it: the file, the data directory and devices given on
/// the command line (or by the service's environment).
fn load_settings(
    config: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    hardware: Option<Backend>,
) -> anyhow::Result<Settings> {
    let mut settings = Settings::load_on(config, hardware).with_context(|| format!("loading {}", config.display()))?;
    if let Some(dir) = data_dir {
        settings.data_dir = dir.to_owned();
    }
    Ok(settings)
}

/// The booth's parts from its configuration, the window set up for them.
fn assemble(app: &AppWindow, settings: Settings, debug_panel: bool) -> anyhow::Result<gradbooth::runtime::Parts> {
    screen::apply_facts(app, &settings.facts());
    screen::set_language(app, settings.file.ui.language == "en");
    let reviewer: Arc<dyn gradbooth::review::Reviewer> =
        Arc::new(gradbooth::review::BoothReviewer::new(&settings.review));
    Ok(match settings.file.hardware.backend {
        Backend::Simulated => {
            app.global::<BoothAdapter>().set_debug_panel(debug_panel);
            let sitters = gradbooth::devices::sitters(
                &settings.file.hardware.simulated.sitter_images,
                "hardware.simulated.sitter_images",
            ).map_err(anyhow::Error::msg)?;
            gradbooth::runtime::simulated(settings, sitters, reviewer)?.0
        }
        Backend::Pi => gradbooth::runtime::pi(settings, reviewer)?,
    })
}

fn run_booth(
    config: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    hardware: Option<Backend>,
    debug_panel: bool,
) -> anyhow::Result<()> {
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
    let parts = match load_settings(config, data_dir, hardware).and_then(|s| assemble(&app, s, debug_panel)) {
        Ok(parts) => parts,
        Err(e) => {
            let (config, data_dir) = (config.to_owned(), data_dir.map(|d| d.to_owned()));
            return cannot_start(&app, &e, move || load_and_open(&config, data_dir.as_deref(), hardware));
        }
    };
    let sink = EventLoopSink { app: app.as_weak(), frame_pending: Arc::default() };
    let booth = Rc::new(gradbooth::runtime::start(parts, Arc::new(sink)));
    screen::connect(&app, booth.clone());
    // The service manager's watchdog (systemd WatchdogSec): fed from the UI thread, and only
    // while the runtime's loop is also going round, so a hung UI or a hung runtime is restarted.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = slint::Timer::default();
    {
        let booth = booth.clone();
        watchdog.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(2), move || {
            if booth.since_heartbeat() < std::time::Duration::from_secs(5) {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        });
    }
    let result = app.run();
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    booth.shutdown();
    result.context("the UI event loop failed")
}

/// Whether the booth could start now: its configuration loads and its data directory opens.
fn load_and_open(
    config: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    hardware: Option<Backend>,
) -> anyhow::Result<()> {
    let s = load_settings(config, data_dir, hardware)?;
    let now = chrono::Utc::now().timestamp();
    gradbooth::journal::storage::Storage::open(&s.data_dir, s.unpaid_retention, now)
        .context("opening the data directory")?;
    Ok(())
}

/// The booth cannot start (a bad configuration, an unusable data directory). Rather than
/// exiting into a restart loop behind a black screen, it shows the out of service screen with
/// the reason, keeps the service watchdog fed, and looks again every 30 s; once the problem is
/// fixed it exits with status 75 so the service manager starts it afresh.
fn cannot_start(
    app: &AppWindow,
    err: &anyhow::Error,
    retry: impl Fn() -> anyhow::Result<()> + 'static,
) -> anyhow::Result<()> {
    let reason = format!("{err:#}");
    tracing::error!(reason, "the booth cannot start; out of service until this is fixed");
    screen::show_startup_error(app, &reason);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = slint::Timer::default();
    watchdog.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(2), || {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
    });
    let fixed = Rc::new(std::cell::Cell::new(false));
    let recheck = slint::Timer::default();
    {
        let fixed = fixed.clone();
        recheck.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(30), move || {
            if retry().is_ok() {
                fixed.set(true);
                let _ = slint::quit_event_loop();
            }
        });
    }
    app.run().context("the UI event loop failed")?;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    if fixed.get() {
        tracing::info!("the problem is fixed; exiting so the service starts the booth again");
        eprintln!("gradbooth: the problem is fixed; start the booth again (the service does so itself)");
        std::process::exit(75);
    }
    Ok(())
}
