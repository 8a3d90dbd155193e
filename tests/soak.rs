//! The soak: many simulated visits in one booth process — scan, confirm, lighting, rules, seat,
//! capture, review, WeChat Pay through the sandbox with the real client, sealing and upload —
//! with the booth's rhythm sped up (`runtime::Pace`: ticks of 10 ms, payment asked about every
//! 20 ms, a 10 ms countdown). It checks that the process does not grow: resident memory and
//! open file descriptors flat after warm-up, the journal growing by about the same bytes for
//! every visit, and nothing left in `photos/` or `outbox/` but what is still on its way.
//!
//! Not part of the suite (it takes a while):
//! `GRADBOOTH_SOAK_VISITS=10000 cargo test --release --test soak -- --ignored --nocapture`
//! (default 2,000 visits). The sandbox runs as its own process (`gradbooth sandbox`), so this
//! process holds only the booth and the graduate who drives it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gradbooth::config::{Gateway, Settings, UploadTarget};
use gradbooth::review::ScriptedReviewer;
use gradbooth::runtime::{self, Pace};
use gradbooth::screen::UiMsg;
use gradbooth::ticket;
use gradbooth::visit::{Intent, LightingMode, Screen, View};

/// The sandbox in a process of its own, killed with the test.
struct SandboxProcess(Child, String);

impl SandboxProcess {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_gradbooth"))
            .args(["sandbox", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .expect("starting the sandbox");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the sandbox did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SandboxProcess(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One look at the process and its data directory.
#[derive(Debug, Clone, Copy)]
struct Sample {
    visits: usize,
    seconds: f64,
    rss_kb: u64,
    fds: usize,
    threads: usize,
    journal_bytes: u64,
    photos: usize,
    sealed: usize,
    objects: usize,
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn files(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        n += if p.is_dir() { files(&p) } else { 1 };
    }
    n
}

fn sample(visits: usize, started: Instant, data: &Path, store: &Path) -> Sample {
    let journal_bytes = ["journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"]
        .iter()
        .map(|f| std::fs::metadata(data.join(f)).map(|m| m.len()).unwrap_or(0))
        .sum();
    Sample {
        visits,
        seconds: started.elapsed().as_secs_f64(),
        rss_kb: status_kb("VmRSS:"),
        fds: count(Path::new("/proc/self/fd")),
        threads: count(Path::new("/proc/self/task")),
        journal_bytes,
        photos: count(&data.join("photos")),
        sealed: count(&data.join("outbox")),
        objects: files(store),
    }
}

#[test]
#[ignore = "a long run: GRADBOOTH_SOAK_VISITS=10000 cargo test --release --test soak -- --ignored --nocapture"]
fn ten_thousand_visits_leave_memory_descriptors_and_disk_flat() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).try_init();
    }
    let visits: usize = std::env::var("GRADBOOTH_SOAK_VISITS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let every = (visits / 20).max(50);
    let sandbox = SandboxProcess::start();
    let (data, store) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut settings = Settings::parse(include_str!("../config/booth.toml")).unwrap();
    settings.data_dir = data.path().to_owned();
    settings.policy.countdown = Duration::from_millis(10);
    settings.payment.gateway = Gateway::Sandbox { url: Some(sandbox.1.clone()) };
    settings.upload.target = UploadTarget::Dir(Some(store.path().to_owned()));
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    settings.issuers.insert("soak", key.verifying_key());
    let site = settings.file.tickets.site.clone();
    let (mut parts, _lights) =
        gradbooth::runtime::simulated(settings, vec![], Arc::new(ScriptedReviewer { pass: true })).unwrap();
    parts.pace = Pace { tick: Duration::from_millis(10), payment_poll: Duration::from_millis(20), ..Pace::default() };
    let wall_clock = parts.wall_clock;
    let storage = parts.storage.clone();
    let (tx, rx) = mpsc::channel();
    let booth = runtime::start(parts, Arc::new(tx));
    let sim = booth.sim().unwrap().clone();

    let started = Instant::now();
    let mut samples = vec![sample(0, started, data.path(), store.path())];
    let (mut done, mut last_seen, mut stuck_since) = (0usize, None, Instant::now());
    while done < visits {
        let v: View = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(UiMsg::View(v)) => *v,
            Ok(_) => continue,
            Err(_) => {
                assert!(stuck_since.elapsed() < Duration::from_secs(30), "visit {done} stuck: {last_seen:?}");
                continue;
            }
        };
        let seen = (v.screen, v.checking_ticket, v.payment.as_ref().map(|p| p.stage));
        if last_seen == Some(seen) {
            continue;
        }
        last_seen = Some(seen);
        stuck_since = Instant::now();
        match v.screen {
            Screen::Idle => booth.intent(Intent::Prepare),
            Screen::Scan if !v.checking_ticket => {
                let claims = ticket::Claims {
                    key_id: "soak".into(),
                    id: format!("SOAK-{done:05}"),
                    ..ticket::demo_claims(&site, wall_clock.now().timestamp())
                };
                sim.present_qr(ticket::issue(&key, &claims));
            }
            Screen::Confirm => booth.intent(Intent::ConfirmData),
            Screen::Lighting => booth.intent(Intent::ChooseLighting(LightingMode::NoGlasses)),
            Screen::Rules => booth.intent(Intent::AcceptRules),
            Screen::Seat => booth.intent(Intent::StartCapture),
            Screen::AttemptShown => booth.intent(Intent::UsePhoto),
            Screen::ReviewResult => booth.intent(Intent::GoToPayment),
            Screen::Payment if v.payment.as_ref().is_some_and(|p| p.stage.code() == "waiting") => booth.simulate("pay"),
            Screen::Payment if v.payment.as_ref().is_some_and(|p| p.stage.code() != "creating") => {
                panic!("visit {done}: payment {:?}", v.payment)
            }
            Screen::Done => {
                done += 1;
                if done % every == 0 {
                    let s = sample(done, started, data.path(), store.path());
                    println!("{s:?}");
                    samples.push(s);
                }
                booth.intent(Intent::Finish);
            }
            Screen::Notice | Screen::OutOfService => panic!("visit {done}: {:?} {:?}", v.notice, v.faults),
            _ => {}
        }
    }
    // The last photos on their way out.
    let deadline = Instant::now() + Duration::from_secs(60);
    while storage.upload_health().unwrap().waiting > 0 {
        assert!(Instant::now() < deadline, "photos left waiting: {:?}", storage.upload_health().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }
    let end = sample(done, started, data.path(), store.path());
    booth.shutdown();
    println!("end {end:?}");

    // Warm-up: the first tenth of the run (caches, pools and the journal's pages settle).
    let warm: Vec<&Sample> = samples.iter().filter(|s| s.visits >= visits / 10).collect();
    let (first, last) = (warm[0], warm[warm.len() - 1]);
    let rss: Vec<u64> = warm.iter().map(|s| s.rss_kb).collect();
    let fds: Vec<usize> = warm.iter().map(|s| s.fds).collect();
    let (rss_lo, rss_hi) = (*rss.iter().min().unwrap(), *rss.iter().max().unwrap());
    let (fd_lo, fd_hi) = (*fds.iter().min().unwrap(), *fds.iter().max().unwrap());
    // The journal: bytes per visit over the second and the last stretch of the run.
    let per_visit =
        |a: &Sample, b: &Sample| (b.journal_bytes as f64 - a.journal_bytes as f64) / (b.visits - a.visits) as f64;
    let mid = warm[warm.len() / 2];
    let (early, late) = (per_visit(first, mid), per_visit(mid, last));
    println!(
        "soak: {done} visits in {:.0} s ({:.1} ms a visit); after warm-up (visit {}): RSS {rss_lo}–{rss_hi} kB \
         (peak {} kB), fds {fd_lo}–{fd_hi}, threads {}–{}; journal {:.0} then {:.0} bytes a visit, {} bytes at the end; \
         photos/ {} files, outbox/ {} files, store {} objects",
        end.seconds,
        end.seconds * 1000.0 / done as f64,
        first.visits,
        status_kb("VmHWM:"),
        warm.iter().map(|s| s.threads).min().unwrap(),
        warm.iter().map(|s| s.threads).max().unwrap(),
        early,
        late,
        end.journal_bytes,
        end.photos,
        end.sealed,
        end.objects
    );
    // Flat: resident memory within 8 MB over the whole run after warm-up, no descriptor kept.
    assert!(rss_hi - rss_lo <= 8 * 1024, "resident memory grew from {rss_lo} to {rss_hi} kB");
    assert!(fd_hi - fd_lo <= 4, "open files went from {fd_lo} to {fd_hi}");
    assert!(late <= early * 1.5 + 64.0, "the journal grows faster late ({late:.0} B/visit) than early ({early:.0})");
    // Nothing is kept but what the visits must keep: no plain photo, nothing still to send, and
    // in the store each paid photo once (photo and manifest).
    assert_eq!((end.photos, end.sealed), (0, 0));
    assert_eq!(end.objects, 2 * done);
    let summary = storage.journal().summary().unwrap();
    assert_eq!((summary.paid_orders, summary.uploaded), (done as i64, done as i64));
}
