//! The loop: events in, `visit::step`, commands out, the view to the screen. It starts the
//! background services (the settler, the uploader, the review's keeper) and the device
//! threads, starts and ends with the hardware safe, and stops on `Msg::Shutdown`.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gradbooth_hal::Motion;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::shell::Shell;
use super::{Msg, Parts};
use crate::bus::{UiMsg, UiSink};
use crate::clock::{Backoff, Clock};
use crate::devices::workers::{self, CameraCmd, CameraContext};
use crate::diagnostics::bench::{Bench, BenchLinks, BenchParts};
use crate::diagnostics::metrics;
use crate::payment::checkout::Checkout;
use crate::payment::payer::{CREATE_RETRY, Orders};
use crate::review::job::{PhotoStore, review_keeper};
use crate::upload::Uploader;
use crate::visit::{self, Booth, CodeReading, Command, Event, LightScene};

/// How often orders left unsettled (a restart, a cut network) are asked about again.
const SETTLE_PERIOD: Duration = Duration::from_secs(60);
/// How often photos past their time are looked for (they normally go when their visit ends).
const SWEEP: Duration = Duration::from_secs(60);
/// A configuration generation on trial that has run this long stays.
const TRIAL: Duration = Duration::from_secs(600);
/// How often the diagnostics page on show is filled anew.
const PANEL_PERIOD: Duration = Duration::from_millis(500);

pub(super) struct Queues {
    pub events_tx: mpsc::UnboundedSender<Event>,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub control: mpsc::UnboundedReceiver<Msg>,
}

pub(super) async fn run(
    parts: Parts,
    ui: Arc<dyn UiSink>,
    queues: Queues,
    clock: Clock,
    heartbeat: Arc<AtomicU64>,
    restart: Arc<AtomicBool>,
) {
    let Parts { settings, devices, reviewer, payment, upload, wall_clock, storage, sandbox, pace, .. } = parts;
    let (bench_payment, bench_target) = (payment.clone(), upload.clone());
    let Queues { events_tx: tx, events: mut rx, mut control } = queues;
    let uploads = Arc::new(tokio::sync::Notify::new());
    let checkout = Arc::new(Checkout {
        payment,
        storage: storage.clone(),
        centre: settings.upload.centre.clone(),
        booth_id: settings.file.booth.id.clone(),
        wall_clock,
        uploads: uploads.clone(),
        live: Mutex::new(None),
        retry_pause: CREATE_RETRY,
    });
    // Paid photos sealed and open orders settled (at once, then every minute), the outbox sent.
    let background = [
        tokio::spawn(checkout.clone().run_settler(SETTLE_PERIOD)),
        tokio::spawn(
            Uploader::new(
                storage.clone(),
                upload,
                settings.file.booth.id.clone(),
                wall_clock,
                uploads.clone(),
                crate::upload::Pace::default(),
            )
            .run(),
        ),
    ];
    let (review_failures, failures) = mpsc::unbounded_channel();
    let keeper = tokio::spawn(review_keeper(reviewer.clone(), tx.clone(), failures));
    let photos: PhotoStore = Arc::default();
    let photo_ids = Arc::new(AtomicU32::new(1));
    let (links, threads) = workers::spawn(
        devices,
        CameraContext {
            events: tx.clone(),
            ui: ui.clone(),
            photos: photos.clone(),
            storage: storage.clone(),
            wall_clock,
            capture_timeout: settings.policy.timeouts.capture,
            photo_ids: photo_ids.clone(),
            reviewer: reviewer.clone(),
        },
    );
    let reads_codes_by_camera = links.reads_codes_by_camera;
    let bench = Bench::new(BenchParts {
        cfg: settings.bench_config(),
        links: BenchLinks::of(&links),
        reviewer: reviewer.clone(),
        storage: storage.clone(),
        payment: bench_payment,
        target: bench_target,
        wall_clock,
        events: tx.clone(),
        ui: ui.clone(),
        uploads: uploads.clone(),
    });
    let metrics = settings.diagnostics.metrics_listen.map(|addr| tokio::spawn(metrics::serve(addr, bench.clone())));

    let watcher = settings.operators.stick.clone().map(|p| crate::operators::watch::spawn(p, tx.clone()));
    let desk = crate::operators::desk::Desk::new(storage.clone(), wall_clock, tx.clone(), ui.clone());
    let poll = Backoff { first: pace.payment_poll, max: pace.payment_poll_max };
    let orders = Orders::new(checkout, clock, tx.clone(), poll, settings.file.booth.photo_type.clone());
    let mut shell = Shell {
        settings,
        wall_clock,
        events: tx.clone(),
        ui: ui.clone(),
        devices: links,
        photos,
        standards: Arc::default(),
        reviewer,
        orders,
        storage,
        attempt_unrecorded: false,
        camera_controls: None,
        photo_ids,
        visit_epoch: Arc::default(),
        review_failures,
        bench,
        desk,
        now: clock.now(),
    };
    // A journal that could not be opened: out of service until a technician sets it aside.
    if shell.storage.broken().is_some() {
        let _ = tx.send(Event::Fault(visit::Part::Journal));
    }
    // Start safe: motor stopped, lights idle.
    shell.run(Command::Chair(Motion::Stop));
    shell.run(Command::Lights(LightScene::Idle));

    let mut booth = Booth::default();
    // The staffed studios open today, to the screen (again when the day changes).
    let mut studios_day = None;
    let mut panel_at = None;
    let mut known_faults = booth.faults.clone();
    let mut last_view = None;
    let mut reading = CodeReading::Off;
    let mut ticker = tokio::time::interval(pace.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sweeper = tokio::time::interval(SWEEP);
    sweeper.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    info!(booth = %shell.settings.file.booth.id, "booth started");
    shell.audit("booth", "started", &format!("booth {}", shell.settings.file.booth.id));
    for n in shell.settings.config_notes.clone() {
        shell.audit("booth", n.action, &n.detail);
    }
    // A configuration generation on trial is confirmed by a paid visit, a passing self-test,
    // or TRIAL of running.
    let generations = crate::config::generations::Generations::at(&shell.settings.data_dir);
    let mut on_trial = generations.state().is_ok_and(|s| s.trial_starts.is_some());
    let mut started = std::time::Instant::now();
    loop {
        let event = tokio::select! {
            biased;
            msg = control.recv() => match msg {
                Some(Msg::Audit { actor, action }) => {
                    shell.audit(actor, &action, "");
                    continue;
                }
                Some(Msg::SandboxPay) => {
                    match (visit::payment_code(&booth), &sandbox) {
                        (Some(code), Some(link)) => {
                            let (link, code) = (link.clone(), code.to_owned());
                            tokio::spawn(async move {
                                match link.pay(&code).await {
                                    Ok(no) => info!(order = %no, "sandbox: the graduate paid"),
                                    Err(e) => warn!(error = %e, "sandbox: payment refused"),
                                }
                            });
                        }
                        (_, None) => warn!("no sandbox to pay: the booth takes real payments"),
                        _ => info!("sandbox: no payment code on screen"),
                    }
                    continue;
                }
                Some(Msg::SelfTest(reply)) => {
                let bench = shell.bench.clone();
                std::thread::spawn(move || {
                    let _ = reply.send(bench.run_self_test(false));
                });
                continue;
            }
                Some(Msg::Shutdown) | None => break,
            },
            event = rx.recv() => match event {
                Some(e) => e,
                None => break,
            },
            _ = sweeper.tick() => {
                shell.sweep();
                continue;
            }
            _ = ticker.tick() => {
                let closed = shell.settings.schedule.check(wall_clock.now()).err();
                if closed != booth.closed { Event::Hours(closed) } else { Event::Tick }
            }
        };
        if !matches!(event, Event::Tick) {
            debug!(event = event.name(), "event");
        }
        let now = clock.now();
        heartbeat.store(now.0, Ordering::Relaxed);
        let today = wall_clock.now().date_naive();
        if studios_day != Some(today) {
            studios_day = Some(today);
            let open =
                crate::screen::studios::open_on(&shell.settings.studios, today, &shell.settings.schedule.holidays);
            ui.send(UiMsg::Studios(open.iter().map(|s| s.place()).collect()));
        }
        let proved = matches!(&event, Event::SelfTested(o) if o.failed.is_empty());
        let (next, cmds) = visit::step(&shell.settings.policy, booth, event, now);
        booth = next;
        shell.now = now;
        if on_trial
            && (proved
                || started.elapsed() >= TRIAL
                || cmds.iter().any(|c| matches!(c, Command::VisitEnded { outcome: visit::VisitOutcome::Paid, .. })))
        {
            on_trial = false;
            match generations.confirm() {
                Ok(_) => shell.audit(
                    "booth",
                    "config_confirmed",
                    &format!("{:?}", generations.state().map(|s| s.applied).unwrap_or_default()),
                ),
                Err(e) => warn!(error = %e, "the configuration on trial could not be confirmed"),
            }
        }
        for cmd in cmds {
            shell.run(cmd);
        }
        // A generation applied at the desk: switched to now that the booth rests.
        if matches!(booth.phase, visit::Phase::Idle | visit::Phase::OutOfService)
            && let Some(p) = shell.desk.take_pending()
        {
            if p.restart {
                shell.audit("booth", "config_restart", &format!("serial {}", p.serial));
                info!(serial = p.serial, "the new configuration needs a fresh start: restarting");
                restart.store(true, Ordering::Relaxed);
                break;
            }
            shell.settings = *p.settings;
            shell.bench.reconfigure(shell.settings.bench_config());
            ui.send(UiMsg::Facts(Box::new(shell.settings.facts())));
            studios_day = None;
            if let Err(e) = generations.started_in_place() {
                warn!(error = %e, "the switch could not be recorded");
            }
            on_trial = true;
            started = std::time::Instant::now();
            shell.audit(
                "booth",
                "config_switched",
                &format!("serial {} sha256 {}", p.serial, shell.settings.source_sha256),
            );
            info!(serial = p.serial, "switched to the new configuration");
        }
        // The parts' health for the diagnostics and the metrics; the page on show, twice a second.
        if booth.faults != known_faults {
            known_faults = booth.faults.clone();
            shell.bench.faults(known_faults.iter().copied().collect());
        }
        match &booth.phase {
            visit::Phase::Service(s)
                if panel_at.is_none_or(|(page, at): (visit::ServicePage, std::time::Instant)| {
                    page != s.page || at.elapsed() >= PANEL_PERIOD
                }) =>
            {
                shell.bench.refresh(s.page);
                panel_at = Some((s.page, std::time::Instant::now()));
            }
            visit::Phase::Service(_) => {}
            _ => panel_at = None,
        }
        if reads_codes_by_camera && visit::code_reading(&booth) != reading {
            reading = visit::code_reading(&booth);
            let _ = shell.devices.camera.send(CameraCmd::ReadCodes(reading));
        }
        let v = visit::view(&shell.settings.policy, &booth, now);
        if last_view.as_ref() != Some(&v) {
            if last_view.as_ref().is_none_or(|l: &visit::View| l.screen != v.screen) {
                info!(screen = v.screen.code(), "screen");
            }
            ui.send(UiMsg::View(Box::new(v.clone())));
            last_view = Some(v);
        }
    }
    // Every way out leaves the hardware safe.
    shell.run(Command::Chair(Motion::Stop));
    shell.run(Command::Preview(false));
    shell.run(Command::Lights(LightScene::Idle));
    shell.orders.stop();
    for t in background {
        t.abort();
    }
    keeper.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    shell.audit("booth", "stopped", "");
    drop(watcher);
    drop(shell);
    drop(tx);
    rx.close();
    control.close();
    for t in threads {
        let _ = t.join();
    }
    info!("booth stopped");
}
