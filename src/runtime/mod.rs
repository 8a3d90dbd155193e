//! The imperative shell. It owns the devices and services, feeds their results to the
//! visit's state machine as events, carries out the commands the machine returns, and sends
//! the resulting view to the UI. Whatever way the booth stops, the chair is stopped and the
//! lights are idled.
//!
//! - `start` runs the booth on its own thread (a tokio runtime; the loop itself runs on that
//!   thread under `block_on`) and returns the `BoothHandle` the UI and tests drive it with.
//! - `run`: the loop — events from `bus::Events` and control messages (`Msg`) in,
//!   `visit::step`, commands out, `visit::view` to the screen; a tick every `Pace::tick`, a
//!   sweep every minute; it starts the settler, the uploader, the review's keeper and the
//!   device threads (`devices::workers`).
//! - `shell`: one `Command` handed to the capability that does it.
//! - `parts`: what a booth is made of, put together for the simulated booth or the Pi.

mod parts;
mod run;
mod shell;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use gradbooth_hal::sim::{Limit, SimControls};
use gradbooth_hal::{DeviceKind, SeatButton};
use tokio::sync::mpsc;
use tracing::{error, warn};

pub use self::parts::{Parts, StartError, pi, simulated};
use crate::bus::UiSink;
use crate::clock::{Clock, WallClock};
use crate::payment::SandboxLink;
use crate::ticket;
use crate::visit::{Event, Intent};

/// The simulated booth's own service code key id (trusted by that booth only).
pub const SIM_SERVICE_KEY: &str = "sim-service";

/// The booth's rhythm. The defaults are the booth's; a soak test runs faster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// How often the machine hears the time (countdowns, timeouts, opening hours).
    pub tick: Duration,
    /// How often an open payment order is asked about (WeChat Pay suggests 2–3 s); when the
    /// service is busy or out of reach the pause doubles up to `payment_poll_max`.
    pub payment_poll: Duration,
    pub payment_poll_max: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            tick: Duration::from_millis(100),
            payment_poll: Duration::from_secs(2),
            payment_poll_max: Duration::from_secs(16),
        }
    }
}

/// What the simulated booth needs to issue its demo ticket.
struct SimIssuer {
    key: Arc<ed25519_dalek::SigningKey>,
    /// Signs the demo service code (key id `SIM_SERVICE_KEY`).
    service_key: Arc<ed25519_dalek::SigningKey>,
    site: String,
    wall_clock: WallClock,
    /// The demo graduate's ticket id: new for every simulated booth, so a journal kept from an
    /// earlier run does not find him finished.
    ticket_id: String,
}

enum Msg {
    /// An action by a technician or operator, for the journal's audit log.
    Audit {
        actor: &'static str,
        action: String,
    },
    /// The debug panel: the graduate pays the code on screen with the sandbox's "phone".
    SandboxPay,
    /// `gradbooth selftest`: the whole self-test, its report back.
    SelfTest(std::sync::mpsc::Sender<crate::diagnostics::selftest::Report>),
    Shutdown,
}

/// A running booth: send it intents; drop or `shutdown` to stop it safely.
pub struct BoothHandle {
    tx: mpsc::UnboundedSender<Msg>,
    events: mpsc::UnboundedSender<Event>,
    /// When the runtime's loop last went round (ms on its clock), for the service watchdog.
    heartbeat: Arc<AtomicU64>,
    /// The loop ended for a configuration only a fresh start takes (`restart_wanted`).
    restart: Arc<std::sync::atomic::AtomicBool>,
    started: std::time::Instant,
    sim: Option<SimControls>,
    sandbox: Option<SandboxLink>,
    sim_issuer: Option<SimIssuer>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl BoothHandle {
    pub fn intent(&self, intent: Intent) {
        let _ = self.events.send(Event::Intent(intent));
    }

    /// The seat's own button: pressed on the simulated chair.
    pub fn seat_button(&self, button: SeatButton) {
        if let Some(sim) = &self.sim {
            sim.seat_button(button);
        }
    }

    /// Debug-panel actions of the simulated booth.
    pub fn simulate(&self, action: &str) {
        let Some(sim) = &self.sim else {
            warn!(action, "simulation action ignored: the hardware is real");
            return;
        };
        let _ = self.tx.send(Msg::Audit { actor: "technician", action: format!("simulate {action}") });
        match action {
            "demo_ticket" => match self.demo_ticket() {
                Some(text) => sim.present_qr(text),
                None => warn!("no simulated ticket issuer"),
            },
            "demo_service_code" => match self.demo_service_code() {
                Some(text) => sim.present_qr(text),
                None => warn!("no simulated service code issuer"),
            },
            "service_key_on" => sim.set_service_key(true),
            "service_key_off" => sim.set_service_key(false),
            "pay" => {
                let _ = self.tx.send(Msg::SandboxPay);
            }
            "unplug_camera" => sim.unplug(DeviceKind::Camera),
            "replug_camera" => sim.replug(DeviceKind::Camera),
            "unplug_scanner" => sim.unplug(DeviceKind::QrScanner),
            "replug_scanner" => sim.replug(DeviceKind::QrScanner),
            "jam_chair" => sim.jam_chair(true),
            "free_chair" => sim.jam_chair(false),
            "black_camera" => sim.set_black_frames(true),
            "mend_camera" => sim.set_black_frames(false),
            "stick_top_limit" => sim.stick_limit(Limit::Top, true),
            "free_top_limit" => sim.stick_limit(Limit::Top, false),
            other => match other.split_once(':') {
                Some(("kill_lamp", channel)) => sim.set_lamp_alive(channel, false),
                Some(("mend_lamp", channel)) => sim.set_lamp_alive(channel, true),
                _ => warn!(action = other, "unknown simulation action"),
            },
        }
    }

    /// A freshly signed ticket for the demo graduate (李明), valid now at this booth's site.
    pub fn demo_ticket(&self) -> Option<String> {
        let i = self.sim_issuer.as_ref()?;
        let claims = ticket::Claims { id: i.ticket_id.clone(), ..ticket::demo_claims(&i.site, i.wall_clock.now_s()) };
        Some(ticket::issue(&i.key, &claims))
    }

    /// A freshly signed service code for the demo technician, valid 8 hours at this booth.
    pub fn demo_service_code(&self) -> Option<String> {
        let i = self.sim_issuer.as_ref()?;
        let now = i.wall_clock.now_s() as u32;
        let claims = crate::diagnostics::code::ServiceClaims {
            key_id: SIM_SERVICE_KEY.into(),
            technician: "DEMO-TECH".into(),
            sites: vec![i.site.clone()],
            not_before: now.saturating_sub(60),
            expires_at: now + 8 * 3600,
            nonce: crate::diagnostics::code::nonce(),
        };
        Some(crate::diagnostics::code::issue(&i.service_key, &claims))
    }

    /// The booth stopped itself to start afresh on a new configuration (an operator's bundle
    /// that changes what a running booth cannot take in place): exit so the service restarts it.
    pub fn restart_wanted(&self) -> bool {
        self.restart.load(Ordering::Relaxed)
    }

    /// How long ago the runtime's loop last went round (it ticks every 100 ms).
    pub fn since_heartbeat(&self) -> Duration {
        let beat = Duration::from_millis(self.heartbeat.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(beat)
    }

    pub fn sim(&self) -> Option<&SimControls> {
        self.sim.as_ref()
    }

    /// The sandbox the booth pays through, when it does.
    pub fn sandbox(&self) -> Option<&SandboxLink> {
        self.sandbox.as_ref()
    }

    /// The whole self-test (`gradbooth selftest`), waiting at most `wait` for its report.
    pub fn self_test(&self, wait: Duration) -> Option<crate::diagnostics::selftest::Report> {
        let (reply, report) = std::sync::mpsc::channel();
        self.tx.send(Msg::SelfTest(reply)).ok()?;
        report.recv_timeout(wait).ok()
    }

    /// Stop the booth: chair stopped, lights idle, device threads ended.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take()
            && t.join().is_err()
        {
            error!("the booth's runtime thread panicked");
        }
    }
}

impl Drop for BoothHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start the booth on its own thread (a tokio runtime plus one thread per device).
pub fn start(parts: Parts, ui: Arc<dyn UiSink>) -> BoothHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let sim = parts.sim.clone();
    let sandbox = parts.sandbox.clone();
    let sim_issuer = parts.sim_issuer.clone().map(|(key, service_key)| SimIssuer {
        key,
        service_key,
        site: parts.settings.file.tickets.site.clone(),
        wall_clock: parts.wall_clock,
        ticket_id: {
            let mut b = [0u8; 4];
            getrandom::fill(&mut b).expect("the operating system's random source");
            format!("DEMO-{}", data_encoding::HEXUPPER.encode(&b))
        },
    });
    let (events_tx, events) = mpsc::unbounded_channel();
    let queues = run::Queues { events_tx: events_tx.clone(), events, control: rx };
    let heartbeat = Arc::new(AtomicU64::new(0));
    let clock = Clock::start();
    let beat = heartbeat.clone();
    let restart = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let wants = restart.clone();
    let thread = thread::Builder::new()
        .name("booth-runtime".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    error!(error = %e, "cannot start the async runtime");
                    return;
                }
            };
            rt.block_on(run::run(parts, ui, queues, clock, beat, wants));
        })
        .expect("spawning the runtime thread");
    BoothHandle {
        tx,
        events: events_tx,
        heartbeat,
        restart,
        started: clock.started(),
        sim,
        sandbox,
        sim_issuer,
        thread: Mutex::new(Some(thread)),
    }
}

impl crate::screen::Controls for BoothHandle {
    fn intent(&self, intent: Intent) {
        BoothHandle::intent(self, intent)
    }
    fn seat_button(&self, button: SeatButton) {
        BoothHandle::seat_button(self, button)
    }
    fn simulate(&self, action: &str) {
        BoothHandle::simulate(self, action)
    }
    fn service(&self, intent: crate::visit::ServiceIntent) {
        let _ = self.events.send(Event::Service(intent));
    }
    fn desk(&self, intent: crate::visit::DeskIntent) {
        let _ = self.events.send(Event::Desk(intent));
    }
}
