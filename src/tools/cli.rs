//! The `gradbooth` command table: the booth itself (default, `window`), and its tools — each
//! capability's own subcommand (`review::cmd`, `ticket::cmd`, `devices::wiring`, the payment
//! sandbox) and the headless `demo` and `gallery`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Backend, Settings};
use crate::ticket::cmd::TicketCmd;

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
    Review(crate::review::cmd::ReviewArgs),
    /// Personal shooting tickets: make issuer keys, issue and verify tickets (docs/ticket.md).
    Ticket {
        #[command(subcommand)]
        cmd: TicketCmd,
    },
    /// Technicians' service codes: make service keys, issue and verify codes (docs/service-code.md).
    ServiceCode {
        #[command(subcommand)]
        cmd: crate::diagnostics::cmd::ServiceCodeCmd,
    },
    /// Operators' configuration bundles: write one, verify it as the booth would (docs/bundle.md).
    Bundle {
        #[command(subcommand)]
        cmd: crate::config::bundle::cmd::BundleCmd,
    },
    /// Render every screen, in Chinese and English, to PNG files in --out.
    Gallery {
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the diagnostics' self-test without a screen (the booth's service stopped); exit 0:
    /// passed, 1: a check failed, 2: the test could not run.
    Selftest {
        /// The report as JSON (for a timer, a fleet, a ticket).
        #[arg(long)]
        json: bool,
        /// Simulated booth only: a debug-panel fault first (kill_lamp:key_left, black_camera,
        /// stick_top_limit, unplug_camera, …); may be repeated.
        #[arg(long)]
        simulate: Vec<String>,
    },
    /// The booth's records for the office (audit log, configuration history, statistics per
    /// day, the last self-test; no names, numbers or photos), signed, into DIR/gradbooth/export/.
    Export {
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
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

/// The configuration file, loaded and checked (the error names the file).
pub fn load(config: &Path) -> anyhow::Result<Settings> {
    Settings::load(config).with_context(|| format!("loading {}", config.display()))
}

pub fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        // To stderr (the service's journal), and the recent lines kept for an operator's export.
        .with_writer(crate::operators::log::Tee)
        .init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Cmd::Run { no_debug_panel: false }) {
        Cmd::Run { no_debug_panel } => {
            super::window::run_booth(&cli.config, cli.data_dir.as_deref(), cli.hardware, !no_debug_panel)
        }
        Cmd::Demo { out, sitters, scripted_review, english } => {
            if let Some(dir) = &cli.data_dir {
                // The demo must never write into a booth's own journal.
                anyhow::bail!(
                    "gradbooth demo keeps its own journal and photos in {}/data; --data-dir (or GRADBOOTH_DATA_DIR = {}) is for the booth itself: leave it out",
                    out.display(),
                    dir.display()
                );
            }
            let session = super::demo::run(super::demo::DemoArgs {
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
        Cmd::Review(args) => {
            let reviewer = crate::review::FaceReviewer::from_settings(&load(&cli.config)?.review)?;
            let all_ok = crate::review::cmd::run(&reviewer, &args, &mut std::io::stdout().lock())?;
            if !all_ok {
                std::process::exit(2);
            }
            Ok(())
        }
        Cmd::Ticket { cmd } => crate::ticket::cmd::run(cmd, || {
            let s = load(&cli.config)?;
            Ok((s.file.tickets.site, s.issuers))
        }),
        Cmd::ServiceCode { cmd } => crate::diagnostics::cmd::run(cmd, || {
            let s = load(&cli.config)?;
            Ok(crate::diagnostics::cmd::BoothKeys {
                site: s.file.tickets.site,
                issuers: s.diagnostics.issuers,
                revoked: s.diagnostics.revoked,
            })
        }),
        Cmd::Selftest { json, simulate } => {
            let args = super::selftest::SelfTestArgs {
                config: &cli.config,
                data_dir: cli.data_dir.as_deref(),
                hardware: cli.hardware,
                simulate: &simulate,
            };
            let report = match super::selftest::run(args) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("gradbooth selftest: {e:#}");
                    std::process::exit(2);
                }
            };
            if json {
                println!("{}", report.json());
            } else {
                print!("{}", super::selftest::text(&report));
            }
            std::process::exit(if report.passed { 0 } else { 1 });
        }
        Cmd::Bundle { cmd } => {
            if !crate::config::bundle::cmd::run(cmd, &cli.config, cli.data_dir.as_deref())? {
                std::process::exit(2);
            }
            Ok(())
        }
        Cmd::Export { to } => {
            let (text, data_dir) =
                crate::config::generations::base_of(&cli.config, cli.data_dir.as_deref(), cli.hardware)?;
            let mut settings = crate::config::generations::Generations::at(&data_dir).current(&text, cli.hardware)?;
            settings.data_dir = data_dir;
            let dir = crate::operators::export::run(&settings, &to, &mut |_, _| {})?;
            println!(
                "export written to {}; check it with: minisign -V -p {}/booth.pub -m {}/SHA256SUMS",
                dir.display(),
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        Cmd::Wiring => {
            print!("{}", crate::devices::wiring::table(&load(&cli.config)?.file.hardware));
            Ok(())
        }
        Cmd::Gallery { out } => {
            let files = super::gallery::run(&cli.config, &out)?;
            println!("gallery: {} screens written to {}", files.len(), out.display());
            Ok(())
        }
        Cmd::Sandbox { listen } => {
            let sandbox =
                crate::payment::Sandbox::start_on(listen).with_context(|| format!("listening on {listen}"))?;
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
