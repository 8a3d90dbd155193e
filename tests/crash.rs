//! The crash test: a booth process runs simulated visits and is killed (SIGKILL) at a random
//! moment; then the booth starts again on the same data directory. After every restart the
//! journal must open and pass SQLite's integrity check, no ticket may have more than three
//! counted attempts, every paid photo must still be there (and stay there round after round),
//! and no orphan or half-written photo file may remain.
//!
//! `cargo test --test crash` runs a short version; `GRADBOOTH_CRASH_ROUNDS=500` the long one.
//! The same binary is the booth process: run with `GRADBOOTH_CRASH_CHILD=<data dir>` it drives
//! visits (through the real runtime, journal and simulated devices) until it is killed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gradbooth::config::Settings;
use gradbooth::review::{Review, Reviewer, ScriptedReviewer};
use gradbooth::{devices, runtime};
use gradbooth::screen::UiMsg;
use gradbooth::storage::Storage;
use gradbooth::ticket;
use gradbooth::visit::{Intent, LightingMode, Screen, View};
use gradbooth_hal::RgbImage;

const CHILD: &str = "GRADBOOTH_CRASH_CHILD";
const SEED: &str = "GRADBOOTH_CRASH_SEED";
/// The issuer key of the test's tickets (trusted by the booth process as key id "crash").
const KEY: [u8; 32] = [7; 32];
/// The longest a booth process may live before it is killed.
const MAX_LIFE_MS: u64 = 6000;

fn main() {
    match std::env::var_os(CHILD) {
        Some(dir) => {
            booth_process(PathBuf::from(dir), std::env::var(SEED).ok().and_then(|s| s.parse().ok()).unwrap_or(1))
        }
        None => crash_loop(),
    }
}

/// splitmix64: a small, seedable random source (the test must be repeatable from its seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn crash_loop() {
    let rounds: u32 = std::env::var("GRADBOOTH_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed: u64 = std::env::var(SEED).ok().and_then(|s| s.parse().ok()).unwrap_or(20261123);
    let data = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let mut paid_so_far: BTreeSet<(String, String)> = BTreeSet::new();
    let mut killed_on: BTreeMap<String, u32> = BTreeMap::new();
    // What the restarts found and put right, summed over the rounds.
    let mut found = [0usize; 4];
    let started = Instant::now();
    println!("crash test: {rounds} rounds, seed {seed}, data in {}", data.path().display());
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, data.path())
            .env(SEED, (seed ^ u64::from(round).wrapping_mul(0x2545_F491_4F6C_DD1D)).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the booth process");
        std::thread::sleep(Duration::from_millis(rng.below(MAX_LIFE_MS)));
        child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        let status = child.wait().unwrap();
        let last = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok).last();
        let moment = match status.code() {
            // It ended by itself: only a failure inside the booth process does that.
            Some(code) => panic!("round {round}: the booth process exited with {code} before it was killed"),
            None => last.unwrap_or_else(|| "starting".into()),
        };
        *killed_on.entry(moment).or_default() += 1;

        // The booth starts again: what does it find?
        let (storage, recovery) = Storage::open(data.path(), Duration::ZERO, now())
            .unwrap_or_else(|e| panic!("round {round}: the journal does not open after the kill: {e}"));
        for (sum, n) in found.iter_mut().zip([
            recovery.visits_closed,
            recovery.partial_files,
            recovery.orphan_files,
            recovery.unpaid_deleted,
        ]) {
            *sum += n;
        }
        let j = storage.journal();
        assert!(j.integrity_ok().unwrap(), "round {round}: journal integrity");
        assert_eq!(recovery.paid_missing, 0, "round {round}: a paid photo is missing");
        let most = j.most_attempts().unwrap();
        assert!(most <= 3, "round {round}: a ticket has {most} attempts");
        assert!(j.open_visits().unwrap().is_empty(), "round {round}: a visit is still open after recovery");
        let rows = j.live_photos().unwrap();
        let files = storage.files_on_disk().unwrap();
        let recorded: BTreeSet<String> = rows.iter().map(|r| r.file.clone()).collect();
        assert_eq!(files, recorded, "round {round}: photo files and journal disagree (orphans or missing)");
        assert!(rows.iter().all(|r| r.in_outbox), "round {round}: an unpaid photo outlived its visit");
        let outbox: BTreeSet<(String, String)> = j.outbox().unwrap().into_iter().collect();
        assert!(paid_so_far.is_subset(&outbox), "round {round}: a paid photo left the outbox");
        for (file, _) in &outbox {
            assert!(storage.photo_path(file).metadata().is_ok_and(|m| m.len() > 0), "round {round}: {file} empty");
        }
        paid_so_far = outbox;
    }
    let storage = Storage::open(data.path(), Duration::ZERO, now()).unwrap().0;
    let summary = storage.journal().summary().unwrap();
    println!("crash test: {rounds} kills in {:.0} s, all recovered; {summary:?}", started.elapsed().as_secs_f64());
    println!("crash test: killed on {killed_on:?}");
    let [visits, partial, orphans, unpaid] = found;
    println!(
        "crash test: restarts closed {visits} open visits, removed {partial} half-written and {orphans} \
         unrecorded photo files, deleted {unpaid} unpaid photos"
    );
    // The loop must have exercised the journal, not just started and killed idle booths.
    if rounds >= 10 {
        assert!(summary.attempts > 0 && summary.reviews > 0, "no visit got as far as a capture: {summary:?}");
    }
    if rounds >= 100 {
        assert!(summary.paid_orders > 0 && summary.interrupted_visits > 0, "{summary:?}");
    }
}

/// The restarted booth's clock: the system's (later than the booth process's simulated 2025 day).
fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Passes or fails each review at random (60 % pass), like the scripted reviewer otherwise.
struct CoinReviewer(AtomicU64);

impl Reviewer for CoinReviewer {
    fn review(&self, photo: &RgbImage, mode: LightingMode) -> Result<Review, gradbooth::review::ModelError> {
        let mut rng = Rng(self.0.fetch_add(1, Ordering::Relaxed));
        ScriptedReviewer { pass: rng.chance(60) }.review(photo, mode)
    }
}

/// A graduate in a hurry, over and over: the booth process of the crash test.
fn booth_process(dir: PathBuf, seed: u64) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut settings = Settings::load(&manifest.join("config/booth.toml")).unwrap();
    settings.data_dir = dir;
    settings.policy.countdown = Duration::from_millis(200);
    let key = ed25519_dalek::SigningKey::from_bytes(&KEY);
    settings.issuers.insert("crash", key.verifying_key());
    let site = settings.file.tickets.site.clone();
    let sitter = RgbImage::from_pixel(960, 540, image::Rgb([128, 150, 170]));
    let reviewer = Arc::new(CoinReviewer(AtomicU64::new(seed)));
    let (parts, _lights) = devices::simulated(settings, vec![sitter], reviewer).unwrap();
    let (storage, wall_clock) = (parts.storage.clone(), parts.wall_clock);
    let (tx, rx) = mpsc::channel();
    let booth = runtime::start(parts, Arc::new(tx));
    let sim = booth.sim().unwrap().clone();
    let mut rng = Rng(seed);
    let mut out = std::io::stdout();
    let mut last_seen = None;
    let dies_at = Instant::now() + Duration::from_millis(MAX_LIFE_MS * 4);
    while Instant::now() < dies_at {
        let Ok(UiMsg::View(v)) = rx.recv_timeout(Duration::from_millis(100)) else { continue };
        // Act once per change of what matters (not on every countdown second).
        let seen = (v.screen, v.refusal, v.checking_ticket, v.payment.as_ref().map(|p| p.stage), v.verdict.clone());
        if last_seen.as_ref() == Some(&seen) {
            continue;
        }
        last_seen = Some(seen);
        // The last line the parent reads tells where the kill fell.
        let _ = writeln!(out, "{}", v.screen.code());
        let _ = out.flush();
        act(&v, &booth, &sim, &storage, &key_claims(&site, wall_clock.now().timestamp()), &key, &mut rng);
    }
    // Never reached in the test: the parent kills first.
    std::process::exit(3);
}

fn key_claims(site: &str, now: i64) -> ticket::Claims {
    ticket::Claims { key_id: "crash".into(), ..ticket::demo_claims(site, now) }
}

fn act(
    v: &View,
    booth: &runtime::BoothHandle,
    sim: &gradbooth_hal::sim::SimControls,
    storage: &Storage,
    claims: &ticket::Claims,
    key: &ed25519_dalek::SigningKey,
    rng: &mut Rng,
) {
    match v.screen {
        Screen::Idle => booth.intent(Intent::Prepare),
        Screen::Scan if !v.checking_ticket => {
            // The first ticket that still has attempts: a visit killed earlier continues.
            let journal = storage.journal();
            let id = (0..)
                .map(|n| format!("CRASH-{n}"))
                .find(|id| journal.ticket(id).unwrap().is_none_or(|t| !t.finished && t.attempts_used < 3))
                .unwrap();
            drop(journal);
            sim.present_qr(ticket::issue(key, &ticket::Claims { id, ..claims.clone() }));
        }
        Screen::Confirm => booth.intent(Intent::ConfirmData),
        Screen::Lighting => booth.intent(Intent::ChooseLighting(if rng.chance(50) {
            LightingMode::Glasses
        } else {
            LightingMode::NoGlasses
        })),
        Screen::Rules => booth.intent(Intent::AcceptRules),
        Screen::Seat => booth.intent(Intent::StartCapture),
        Screen::AttemptShown => {
            booth.intent(if v.can_retake() && rng.chance(20) { Intent::Retake } else { Intent::UsePhoto })
        }
        Screen::ReviewResult => booth.intent(match &v.verdict {
            Some(verdict) if verdict.passed() => Intent::GoToPayment,
            _ if v.can_retake() => Intent::Retake,
            _ => Intent::Exit,
        }),
        Screen::Payment => match v.payment.as_ref().map(|p| p.stage) {
            Some("waiting") if rng.chance(85) => {
                booth.simulate("pay");
            }
            Some("waiting" | "unreachable") => booth.intent(Intent::Exit),
            Some("expired") => booth.intent(Intent::NewPaymentCode),
            _ => {}
        },
        Screen::Done | Screen::Notice => booth.intent(Intent::Finish),
        _ => {}
    }
}
