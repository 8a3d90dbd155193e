//! Paid photos leaving the booth for an S3-compatible store: a real S3 server on loopback
//! (`s3s-fs`, which verifies SigV4; `scripts/setup --tests` installs it), reached through a
//! proxy this test can cut like a network cable.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gradbooth::clock::{Backoff, WallClock};
use gradbooth::journal::storage::{SealedPart, Storage};
use gradbooth::journal::{NewOrder, PhotoKind};
use gradbooth::upload::seal::Centre;
use gradbooth::upload::{Pace, S3Settings, S3Target, Target, Uploader, object_key};

const BOOTH: &str = "fengxian-d108";
const BUCKET: &str = "graduate-photos";
const KEY_ID: &str = "gradbooth-test";
const SECRET: &str = "gradbooth-test-secret-key";

/// Where `scripts/setup --tests` put the server (`GRADBOOTH_TOOLS`, by default
/// ~/.cache/gradbooth-tools).
fn s3s_fs() -> PathBuf {
    let tools = std::env::var_os("GRADBOOTH_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cache/gradbooth-tools")
    });
    let cached = tools.join("bin/s3s-fs");
    assert!(
        cached.exists(),
        "s3s-fs (the S3 test server) is missing: scripts/setup --tests installs it into {}",
        cached.display()
    );
    cached
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A real S3-compatible server on loopback, serving `dir` (buckets are subdirectories).
struct S3Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl S3Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(BUCKET)).unwrap();
        let port = free_port();
        let child = Command::new(s3s_fs())
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", KEY_ID, "--secret-key", SECRET])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting s3s-fs");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3Server { child, port, dir }
    }

    fn bucket(&self) -> PathBuf {
        self.dir.path().join(BUCKET)
    }

    /// The sealed files the store holds, by key.
    fn objects(&self) -> Vec<String> {
        let mut keys: Vec<String> = walk(&self.bucket())
            .into_iter()
            .map(|p| p.strip_prefix(self.bucket()).unwrap().to_string_lossy().into_owned())
            .filter(|k| k.ends_with(".age"))
            .collect();
        keys.sort();
        keys
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn settings(port: u16, secret: &str) -> S3Settings {
    S3Settings {
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        access_key_id: KEY_ID.into(),
        secret_access_key: secret.into(),
        prefix: String::new(),
        timeout: Duration::from_secs(2),
    }
}

/// A TCP proxy that can be cut: open connections are dropped and new ones refused until it
/// is restored.
struct CutProxy {
    port: u16,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl CutProxy {
    fn start(rt: &tokio::runtime::Runtime, upstream: u16) -> Self {
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (c, cs) = (cut.clone(), conns.clone());
        rt.spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                cs.lock().unwrap().push(task.abort_handle());
            }
        });
        CutProxy { port, cut, conns }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

fn test_centre() -> (age::x25519::Identity, Centre) {
    let identity = age::x25519::Identity::generate();
    let centre = identity.to_public().to_string().parse().unwrap();
    (identity, centre)
}

/// `n` paid, sealed photos waiting in a booth's outbox; returns their order numbers and the
/// plain bytes each stands for.
fn paid_photos(storage: &Storage, centre: &Centre, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let ticket = format!("T{i:03}");
            let plain = format!("standard photo {i}").into_bytes();
            let j = || storage.journal();
            j().ticket_seen(&ticket, 1).unwrap();
            j().attempt_started(&ticket, 1, 1).unwrap();
            let file = storage.save_photo(&ticket, 1, PhotoKind::Standard, &plain, 1).unwrap();
            let no = format!("{BOOTH}_{:04}", 1_748_916_000 + i);
            j().order_created(
                &NewOrder { out_trade_no: &no, ticket_id: &ticket, photo: Some(&file), amount_fen: 3000 },
                1,
            )
            .unwrap();
            j().order_paid(&no, &format!("4200{i:024}"), 2).unwrap();
            j().visit_ended(&ticket, "paid", true, 2).unwrap();
            assert!(storage.seal_paid(centre, BOOTH, &no, 3).unwrap());
            (no, plain)
        })
        .collect()
}

fn uploader(storage: &Arc<Storage>, target: Arc<dyn Target>) -> Uploader {
    Uploader::new(
        storage.clone(),
        target,
        BOOTH.into(),
        WallClock::System,
        Arc::default(),
        Pace {
            retry: Backoff { first: Duration::from_millis(100), max: Duration::from_secs(1) },
            idle: Duration::from_millis(500),
        },
    )
}

fn expected_keys(photos: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut keys: Vec<String> =
        photos.iter().flat_map(|(no, _)| SealedPart::BOTH.map(|p| object_key(BOOTH, no, p))).collect();
    keys.sort();
    keys
}

#[test]
fn paid_photos_reach_a_real_s3_store_sealed_and_sending_again_is_harmless() {
    let server = S3Server::start();
    let data = tempfile::tempdir().unwrap();
    let storage = Arc::new(Storage::open(data.path(), Duration::ZERO, 0).unwrap().0);
    let (identity, centre) = test_centre();
    let photos = paid_photos(&storage, &centre, 3);
    let rt = tokio::runtime::Runtime::new().unwrap();

    // A wrong secret is refused by the server's SigV4 check: nothing is marked sent.
    let impostor = uploader(&storage, Arc::new(S3Target::new(&settings(server.port, "not-the-secret")).unwrap()));
    let err = rt.block_on(impostor.send_waiting()).unwrap_err();
    assert!(err.to_string().contains("SignatureDoesNotMatch") || err.to_string().contains("403"), "{err}");
    assert_eq!(storage.ready_to_send().unwrap().len(), 3);
    assert!(server.objects().is_empty());

    let target = Arc::new(S3Target::new(&settings(server.port, SECRET)).unwrap());
    let u = uploader(&storage, target.clone());
    assert_eq!(rt.block_on(u.send_waiting()).unwrap(), 3);
    assert_eq!(server.objects(), expected_keys(&photos));
    assert!(storage.sealed_files_on_disk().unwrap().is_empty(), "the local copies go once the store has them");
    for (no, plain) in &photos {
        let sealed = std::fs::read(server.bucket().join(object_key(BOOTH, no, SealedPart::Photo))).unwrap();
        assert_eq!(&age::decrypt(&identity, &sealed).unwrap(), plain);
    }
    // A repeated upload (a lost answer, a crash before the journal heard) writes the same
    // object again: nothing new appears.
    let (no, _) = &photos[0];
    let key = object_key(BOOTH, no, SealedPart::Photo);
    let before = std::fs::read(server.bucket().join(&key)).unwrap();
    rt.block_on(target.put(&key, Bytes::from(before.clone()))).unwrap();
    assert_eq!(std::fs::read(server.bucket().join(&key)).unwrap(), before);
    assert_eq!(server.objects().len(), 6);
    assert_eq!(rt.block_on(u.send_waiting()).unwrap(), 0, "nothing is sent twice");
}

#[test]
fn a_hundred_photos_waiting_through_a_network_cut_all_arrive_once() {
    let server = S3Server::start();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let proxy = CutProxy::start(&rt, server.port);
    let data = tempfile::tempdir().unwrap();
    let storage = Arc::new(Storage::open(data.path(), Duration::ZERO, 0).unwrap().0);
    let (identity, centre) = test_centre();
    let photos = paid_photos(&storage, &centre, 100);

    // The network is down when the uploader starts …
    proxy.cut();
    let target = Arc::new(S3Target::new(&settings(proxy.port, SECRET)).unwrap());
    let task = rt.spawn(uploader(&storage, target).run());
    std::thread::sleep(Duration::from_secs(2));
    assert!(server.objects().is_empty());
    assert_eq!(storage.ready_to_send().unwrap().len(), 100);
    // … comes back, and is cut again while photos are going.
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.objects().len() < 20 {
        assert!(Instant::now() < deadline, "uploads did not start after the network came back");
        std::thread::sleep(Duration::from_millis(10));
    }
    proxy.cut();
    let during_cut = storage.ready_to_send().unwrap().len();
    std::thread::sleep(Duration::from_secs(3));
    assert!(during_cut > 0 && storage.ready_to_send().unwrap().len() == during_cut, "nothing goes while cut");
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !storage.ready_to_send().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "{} photos never arrived", storage.ready_to_send().unwrap().len());
        std::thread::sleep(Duration::from_millis(50));
    }
    task.abort();
    // All arrived, each exactly once under its own key, and each opens to its photo.
    assert_eq!(server.objects(), expected_keys(&photos));
    for (no, plain) in &photos {
        let sealed = std::fs::read(server.bucket().join(object_key(BOOTH, no, SealedPart::Photo))).unwrap();
        assert_eq!(&age::decrypt(&identity, &sealed).unwrap(), plain);
    }
    let summary = storage.journal().summary().unwrap();
    assert_eq!((summary.uploaded, summary.outbox), (100, 0));
    assert!(storage.sealed_files_on_disk().unwrap().is_empty());
    let tries: u32 = storage.journal().outbox_entries().unwrap().iter().map(|e| e.tries).sum();
    println!("network cut: 100 photos, {tries} upload tries, {during_cut} waiting when cut");
}
