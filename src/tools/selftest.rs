//! `gradbooth selftest`: the diagnostics mode's self-test without a screen — over ssh, or from
//! a systemd timer. It starts the booth headless on the configured devices (the booth's service
//! must be stopped: one process per data directory), runs every check once, prints the report
//! (`--json` for machines) and says pass or fail in its exit status: 0 passed, 1 failed, 2 the
//! test could not run. `--simulate` sets a simulated fault first (the simulated booth only).

use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::bus::UiMsg;
use crate::config::Backend;
use crate::diagnostics::selftest::Report;

/// How long the whole self-test may take (the chair's runs are the longest part).
const WAIT: Duration = Duration::from_secs(180);

pub struct SelfTestArgs<'a> {
    pub config: &'a Path,
    pub data_dir: Option<&'a Path>,
    pub hardware: Option<Backend>,
    /// Debug-panel actions for the simulated booth (e.g. `kill_lamp:key_left`).
    pub simulate: &'a [String],
}

pub fn run(args: SelfTestArgs) -> anyhow::Result<Report> {
    let settings = super::window::load_settings(args.config, args.data_dir, args.hardware)?;
    if !args.simulate.is_empty() && settings.file.hardware.backend != Backend::Simulated {
        bail!("--simulate is for the simulated booth only");
    }
    let parts = super::window::parts(settings).context(
        "the booth could not start for its self-test (if the booth's service is running on this data directory, stop it first: systemctl stop gradbooth)",
    )?;
    // No screen: what the booth would show goes nowhere.
    let (tx, rx) = mpsc::channel::<UiMsg>();
    drop(rx);
    let booth = crate::runtime::start(parts, Arc::new(tx));
    // The devices report in (a fault found at start-up is the machine's before the test).
    std::thread::sleep(Duration::from_millis(1500));
    for action in args.simulate {
        booth.simulate(action);
    }
    let report = booth.self_test(WAIT);
    booth.shutdown();
    report.with_context(|| format!("the self-test did not finish within {} s", WAIT.as_secs()))
}

/// The report for a person: one line a check.
pub fn text(r: &Report) -> String {
    let mut out = format!("self-test of booth {}: {}\n", r.booth, if r.passed { "PASSED" } else { "FAILED" });
    for c in &r.checks {
        out += &format!("  {:<4} {:<22} {}\n", if c.passed { "ok" } else { "FAIL" }, c.name, c.detail);
    }
    out
}
