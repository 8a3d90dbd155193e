//! The crash test: a booth process runs simulated visits — paying through the WeChat Pay
//! sandbox with the real client, sealing paid photos and uploading them to a directory store —
//! and is killed (SIGKILL) at a random moment (every tenth round aimed at a payment screen,
//! every tenth just after a photo reached the store); then the booth starts again on the same data
//! directory, as start-up does: recovery, paid photos sealed, open orders settled with the
//! sandbox. After every restart:
//! - the journal opens and passes SQLite's integrity check; no ticket has more than three
//!   counted attempts; no visit is left open;
//! - no plain photo is left, and no orphan, half-written or stray sealed file;
//! - no order is left unsettled, none is paid twice, no ticket pays twice, and the journal and
//!   the sandbox agree on every paid order and its transaction;
//! - every paid photo is in the outbox (sealed, both files there) or in the store (both
//!   objects, the photo's bytes those journaled when it was sealed), never both, never lost,
//!   and the store holds nothing else.
//!
//! Every run, however short, must include a kill during a payment and a photo paid and
//! uploaded, or it fails. `cargo test --test crash` runs 10 rounds; `GRADBOOTH_CRASH_ROUNDS=500`
//! the long one.
//! The same binary is the booth process: run with `GRADBOOTH_CRASH_CHILD=<data dir>` it drives
//! visits (through the real runtime, journal, simulated devices, payment client and uploader)
//! until it is killed. The sandbox and the store live in the parent, across kills.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use std::sync::Mutex;

use gradbooth::config::{Gateway, Settings, UploadTarget};
use gradbooth::journal::OrderState;
use gradbooth::journal::storage::{SealedPart, Storage, sha256_hex};
use gradbooth::payment::checkout::Checkout;
use gradbooth::payment::{Sandbox, WechatPay};
use gradbooth::review::{Review, Reviewer, ScriptedReviewer};
use gradbooth::screen::UiMsg;
use gradbooth::ticket;
use gradbooth::visit::{Intent, LightingMode, Screen, View};
use gradbooth::{runtime, upload};
use gradbooth_hal::RgbImage;

const CHILD: &str = "GRADBOOTH_CRASH_CHILD";
const SEED: &str = "GRADBOOTH_CRASH_SEED";
const SANDBOX: &str = "GRADBOOTH_CRASH_SANDBOX";
const STORE: &str = "GRADBOOTH_CRASH_STORE";
/// The issuer key of the test's tickets (trusted by the booth process as key id "crash").
const KEY: [u8; 32] = [7; 32];
/// The longest a booth process may live before it is killed.
const MAX_LIFE_MS: u64 = 6000;

fn main() {
    match std::env::var_os(CHILD) {
        Some(dir) => booth_process(
            PathBuf::from(dir),
            std::env::var(SEED).ok().and_then(|s| s.parse().ok()).unwrap_or(1),
            std::env::var(SANDBOX).expect("the sandbox's URL"),
            PathBuf::from(std::env::var_os(STORE).expect("the store's directory")),
        ),
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

fn settings() -> Settings {
    Settings::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/booth.toml")).unwrap()
}

/// What the parent tracks across rounds.
#[derive(Default)]
struct Ledger {
    /// Paid orders ever seen: out_trade_no → transaction id (they must stay paid).
    paid: BTreeMap<String, String>,
    /// Sum of what the restarts found and put right.
    found: BTreeMap<&'static str, usize>,
}

fn crash_loop() {
    let rounds: u32 = std::env::var("GRADBOOTH_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed: u64 = std::env::var(SEED).ok().and_then(|s| s.parse().ok()).unwrap_or(20261123);
    let root = tempfile::tempdir().unwrap();
    let (data, store) = (root.path().join("data"), root.path().join("store"));
    let sandbox = Sandbox::start().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut rng = Rng(seed);
    let mut ledger = Ledger::default();
    let mut killed_on: BTreeMap<String, u32> = BTreeMap::new();
    let started = Instant::now();
    println!("crash test: {rounds} rounds, seed {seed}, data in {}", root.path().display());
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, &data)
            .env(SANDBOX, sandbox.url())
            .env(STORE, &store)
            .env(SEED, (seed ^ u64::from(round).wrapping_mul(0x2545_F491_4F6C_DD1D)).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the booth process");
        // The booth process prints each screen it reaches; the last line read says where the
        // kill fell.
        let (screens, last) = watch_lines(child.stdout.take().unwrap());
        match Target::of(round) {
            Target::Random => std::thread::sleep(Duration::from_millis(rng.below(MAX_LIFE_MS))),
            // So that every run, however short, kills a booth in the middle of a payment …
            Target::Payment => {
                wait_for_screen(&screens, "payment", round);
                std::thread::sleep(Duration::from_millis(rng.below(300)));
            }
            // … and pays and uploads at least one photo before a kill.
            Target::AfterUpload => {
                let before = walk(&store).len();
                let deadline = Instant::now() + TARGET_WITHIN;
                while walk(&store).len() <= before {
                    assert!(
                        Instant::now() < deadline,
                        "round {round}: no photo reached the store within {TARGET_WITHIN:?}"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
                std::thread::sleep(Duration::from_millis(rng.below(1000)));
            }
        }
        child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        let status = child.wait().unwrap();
        let moment = match status.code() {
            // It ended by itself: only a failure inside the booth process does that.
            Some(code) => panic!("round {round}: the booth process exited with {code} before it was killed"),
            None => last.lock().unwrap().clone().unwrap_or_else(|| "starting".into()),
        };
        *killed_on.entry(moment).or_default() += 1;
        restart_and_check(round, &data, &store, &sandbox, &rt, &mut ledger);
    }
    let storage = Storage::open(&data, Duration::ZERO, now()).unwrap().0;
    let summary = storage.journal().summary().unwrap();
    // Every photo that reached the store opens, with the test centre's identity, to a standard photo.
    let identity: age::x25519::Identity =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/test-centre.key"))
            .unwrap()
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .unwrap()
            .parse()
            .unwrap();
    let mut opened = 0;
    for no in ledger.paid.keys() {
        let path = store.join(upload::object_key(&settings().file.booth.id, no, SealedPart::Photo));
        if let Ok(sealed) = std::fs::read(&path) {
            let jpeg = age::decrypt(&identity, &sealed).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let img = image::load_from_memory(&jpeg).unwrap();
            assert_eq!((img.width(), img.height()), (480, 640), "{}", path.display());
            opened += 1;
        }
    }
    let (requests, refused) = sandbox.requests();
    println!("crash test: {rounds} kills in {:.0} s, all recovered; {summary:?}", started.elapsed().as_secs_f64());
    println!("crash test: killed on {killed_on:?}");
    println!("crash test: restarts found and put right {:?}", ledger.found);
    println!(
        "crash test: sandbox {} orders ({} paid), {requests} requests ({refused} refused signatures); {opened} uploaded photos decrypted",
        sandbox.orders().len(),
        ledger.paid.len()
    );
    assert_eq!(refused, 0, "the sandbox refused a request's signature");
    // The loop must have exercised what it claims to, whatever the number of rounds: visits as
    // far as a review, a kill in the middle of a payment, and photos paid and uploaded.
    assert!(summary.attempts > 0 && summary.reviews > 0, "no visit got as far as a review: {summary:?}");
    assert!(killed_on.get("payment").is_some_and(|&n| n > 0), "no kill fell on a payment: {killed_on:?}");
    assert!(summary.paid_orders > 0 && summary.uploaded > 0, "no photo was paid for and uploaded: {summary:?}");
    assert!(opened > 0, "no uploaded photo decrypted");
    if rounds >= 100 {
        assert!(summary.interrupted_visits > 0, "{summary:?}");
    }
}

/// Where a round's kill is aimed: most fall at a random moment; every tenth round waits for a
/// payment screen, and every tenth (offset by five) for a photo to reach the store — so even
/// the suite's ten rounds cover both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Random,
    Payment,
    AfterUpload,
}

impl Target {
    fn of(round: u32) -> Self {
        match round % 10 {
            0 => Target::AfterUpload,
            5 => Target::Payment,
            _ => Target::Random,
        }
    }
}

/// The longest a targeted round waits for its moment before the booth counts as broken.
const TARGET_WITHIN: Duration = Duration::from_secs(60);

/// Reads the booth process's lines as they come: each on the channel, the last kept.
fn watch_lines(out: std::process::ChildStdout) -> (mpsc::Receiver<String>, Arc<Mutex<Option<String>>>) {
    let (tx, rx) = mpsc::channel();
    let last = Arc::new(Mutex::new(None));
    let keep = last.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            *keep.lock().unwrap() = Some(line.clone());
            let _ = tx.send(line);
        }
    });
    (rx, last)
}

fn wait_for_screen(screens: &mpsc::Receiver<String>, screen: &str, round: u32) {
    let deadline = Instant::now() + TARGET_WITHIN;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match screens.recv_timeout(left) {
            Ok(line) if line == screen => return,
            Ok(_) => {}
            Err(_) => panic!("round {round}: the booth never reached the {screen} screen within {TARGET_WITHIN:?}"),
        }
    }
}

/// The booth starts again on `data`, as the next start would (recovery, sealing, settling),
/// and everything it promises is checked.
fn restart_and_check(
    round: u32,
    data: &Path,
    store: &Path,
    sandbox: &Sandbox,
    rt: &tokio::runtime::Runtime,
    ledger: &mut Ledger,
) {
    let settings = settings();
    let (storage, recovery) = Storage::open(data, Duration::ZERO, now())
        .unwrap_or_else(|e| panic!("round {round}: the journal does not open after the kill: {e}"));
    let storage = Arc::new(storage);
    for (k, n) in [
        ("open visits closed", recovery.visits_closed),
        ("half-written photos removed", recovery.partial_files),
        ("unrecorded photos removed", recovery.orphan_files),
        ("unpaid photos deleted", recovery.unpaid_deleted),
        ("stray sealed files removed", recovery.stray_sealed_files),
        ("unknown sealed files set aside", recovery.sealed_set_aside),
        ("sealed photos' plain files deleted", recovery.plaintext_deleted),
        ("orders to settle", recovery.unsettled_orders),
    ] {
        *ledger.found.entry(k).or_default() += n;
    }
    assert_eq!(recovery.paid_missing, 0, "round {round}: a paid photo is missing");
    assert_eq!(recovery.sealed_set_aside, 0, "round {round}: a sealed file of an order the journal never knew");
    let booth_id = settings.file.booth.id.clone();
    let client = WechatPay::new(sandbox.client_config(&booth_id, Duration::from_secs(5))).unwrap();
    let checkout = Arc::new(Checkout {
        payment: Arc::new(client),
        storage: storage.clone(),
        centre: settings.upload.centre.clone(),
        booth_id: booth_id.clone(),
        wall_clock: gradbooth::clock::WallClock::System,
        uploads: Arc::default(),
        live: Mutex::new(None),
        retry_pause: Duration::from_millis(50),
    });
    let sealed = storage.seal_pending(&*checkout.centre, &booth_id, now()).unwrap();
    *ledger.found.entry("paid photos sealed at start-up").or_default() += sealed;
    let settled = rt.block_on(checkout.settle_all(None)).unwrap();
    let left = gradbooth::payment::checkout::unknown(&settled);
    assert_eq!(left, 0, "round {round}: orders left unsettled with the sandbox up: {settled:?}");
    *ledger.found.entry("orders found paid at start-up").or_default() +=
        settled.iter().filter(|(_, s)| matches!(s, gradbooth::payment::checkout::Settlement::Paid { .. })).count();
    // As the settler does: photos kept while their orders could be paid go once they are settled.
    *ledger.found.entry("photos of settled orders deleted").or_default() += storage.sweep(now()).unwrap();

    let j = storage.journal();
    assert!(j.integrity_ok().unwrap(), "round {round}: journal integrity");
    let most = j.most_attempts().unwrap();
    assert!(most <= 3, "round {round}: a ticket has {most} attempts");
    assert!(j.open_visits().unwrap().is_empty(), "round {round}: a visit is still open after recovery");
    assert!(j.unsettled_orders(None).unwrap().is_empty(), "round {round}: an order is unsettled");
    // No plain photo rests on disk after its visit: unpaid ones are deleted, paid ones sealed.
    let rows = j.live_photos().unwrap();
    assert!(rows.is_empty(), "round {round}: plain photos left: {rows:?}");
    assert!(storage.files_on_disk().unwrap().is_empty(), "round {round}: files in photos/");

    // The sandbox and the journal agree on every order; no ticket paid twice.
    let orders = j.orders().unwrap();
    let mut paid_per_ticket: BTreeMap<&str, u32> = BTreeMap::new();
    for o in sandbox.orders() {
        let ours = orders.iter().find(|r| r.out_trade_no == o.out_trade_no).unwrap_or_else(|| {
            panic!("round {round}: the sandbox has order {} the journal never made", o.out_trade_no)
        });
        if o.trade_state == "SUCCESS" {
            assert_eq!(ours.state, OrderState::Paid, "round {round}: paid at WeChat, {:?} in the journal", ours.state);
            assert_eq!(ours.transaction_id.as_deref(), o.transaction_id.as_deref(), "round {round}");
            *paid_per_ticket.entry(&ours.ticket_id).or_default() += 1;
        } else {
            assert_ne!(ours.state, OrderState::Paid, "round {round}: {} paid in the journal only", o.out_trade_no);
        }
    }
    for (ticket, n) in &paid_per_ticket {
        assert_eq!(*n, 1, "round {round}: ticket {ticket} paid {n} times");
    }
    for (no, txn) in &ledger.paid {
        let o = orders.iter().find(|r| &r.out_trade_no == no).unwrap();
        assert_eq!((o.state, o.transaction_id.as_ref()), (OrderState::Paid, Some(txn)), "round {round}: {no} changed");
    }
    for o in orders.iter().filter(|o| o.state == OrderState::Paid) {
        ledger.paid.insert(o.out_trade_no.clone(), o.transaction_id.clone().unwrap_or_default());
    }

    // Every paid photo is sealed, and either waiting in the outbox or in the store — not lost.
    let entries = j.outbox_entries().unwrap();
    assert_eq!(entries.len(), ledger.paid.len(), "round {round}: a paid order without its photo in the outbox");
    let sealed_files = storage.sealed_files_on_disk().unwrap();
    let mut expected_objects = BTreeSet::new();
    let mut expected_sealed = BTreeSet::new();
    for e in &entries {
        let sha = e.sealed_sha256.as_ref().unwrap_or_else(|| panic!("round {round}: {} not sealed", e.out_trade_no));
        assert!(!e.plaintext_on_disk, "round {round}: {} still plain", e.out_trade_no);
        let key = upload::object_key(&booth_id, &e.out_trade_no, SealedPart::Photo);
        if e.sent {
            let bytes = std::fs::read(store.join(&key))
                .unwrap_or_else(|_| panic!("round {round}: {key} journaled sent but not in the store"));
            assert_eq!(&sha256_hex(&bytes), sha, "round {round}: the store's {key} is not the sealed photo");
            for part in SealedPart::BOTH {
                expected_objects.insert(upload::object_key(&booth_id, &e.out_trade_no, part));
            }
        } else {
            for part in SealedPart::BOTH {
                expected_sealed.insert(part.file_name(&e.out_trade_no));
            }
        }
    }
    assert_eq!(sealed_files, expected_sealed, "round {round}: the outbox directory and the journal disagree");
    // The store holds exactly the photos sent, each once (a second copy would be another key).
    let in_store: BTreeSet<String> = walk(store)
        .into_iter()
        .map(|p| p.strip_prefix(store).unwrap().to_string_lossy().into_owned())
        .filter(|p| !p.ends_with(".tmp"))
        .collect();
    let unexpected: Vec<_> = in_store.difference(&expected_objects).collect();
    // An object of a photo still waiting may be there: its upload was cut before the journal
    // heard. It is the same bytes the next upload sends.
    for key in &unexpected {
        let no = key.rsplit('/').next().unwrap().split(".j").next().unwrap();
        assert!(
            entries.iter().any(|e| e.out_trade_no == no && !e.sent),
            "round {round}: the store holds {key}, which is no paid photo of this booth"
        );
    }
    let missing: Vec<_> = expected_objects.difference(&in_store).collect();
    assert!(missing.is_empty(), "round {round}: journaled sent but not in the store: {missing:?}");
    drop(j);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
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
fn booth_process(dir: PathBuf, seed: u64, sandbox_url: String, store: PathBuf) {
    let mut settings = settings();
    settings.data_dir = dir;
    settings.policy.countdown = Duration::from_millis(200);
    settings.payment.gateway = Gateway::Sandbox { url: Some(sandbox_url) };
    settings.upload.target = UploadTarget::Dir(Some(store));
    // Short-lived payment codes, so expiry, closing and paying at the last second happen.
    settings.policy.timeouts.payment = Duration::from_millis(2000 + seed % 4000);
    let key = ed25519_dalek::SigningKey::from_bytes(&KEY);
    settings.issuers.insert("crash", key.verifying_key());
    let site = settings.file.tickets.site.clone();
    let sitter = RgbImage::from_pixel(960, 540, image::Rgb([128, 150, 170]));
    let reviewer = Arc::new(CoinReviewer(AtomicU64::new(seed)));
    let (parts, _lights) = runtime::simulated(settings, vec![sitter], reviewer).unwrap();
    let (storage, wall_clock) = (parts.storage.clone(), parts.wall_clock);
    let (tx, rx) = mpsc::channel();
    let booth = runtime::start(parts, Arc::new(tx));
    let sim = booth.sim().unwrap().clone();
    let mut rng = Rng(seed);
    let mut out = std::io::stdout();
    let mut last_seen = None;
    // Longer than any round waits for its moment (`TARGET_WITHIN`).
    let dies_at = Instant::now() + TARGET_WITHIN * 2;
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
            // The first ticket that still has attempts, or a kept photo to pay for: a visit killed
            // or left unpaid earlier continues.
            let journal = storage.journal();
            let now = claims.issued_at as i64 + 3600;
            let id = (0..)
                .map(|n| format!("CRASH-{n}"))
                .find(|id| {
                    journal.ticket(id).unwrap().is_none_or(|t| {
                        !t.finished && (t.attempts_used < 3 || journal.kept_photo(id, now, 1800).unwrap().is_some())
                    })
                })
                .unwrap();
            drop(journal);
            sim.present_qr(ticket::issue(key, &ticket::Claims { id, ..claims.clone() }));
        }
        // A kept photo is paid for as it is (always when no attempt is left), or a new one taken.
        Screen::Confirm if v.kept_photo && (!v.can_retake() || rng.chance(70)) => booth.intent(Intent::PayKeptPhoto),
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
        Screen::Payment => match v.payment.as_ref().map(|p| p.stage.code()) {
            Some("waiting") if rng.chance(80) => {
                // The graduate takes a moment to find the phone.
                std::thread::sleep(Duration::from_millis(rng.below(2500)));
                booth.simulate("pay");
            }
            Some("waiting") if rng.chance(50) => {}
            Some("waiting" | "unreachable") => booth.intent(Intent::Exit),
            Some("expired" | "unconfirmed") if rng.chance(70) => booth.intent(Intent::NewPaymentCode),
            Some("expired" | "unconfirmed") => booth.intent(Intent::Exit),
            _ => {}
        },
        Screen::Done | Screen::Notice => booth.intent(Intent::Finish),
        _ => {}
    }
}
