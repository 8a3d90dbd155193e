//! Over real pseudo-terminal pairs: the test holds the master end (the scanner module), the
//! driver opens the slave end by path — through a symlink, as udev gives the real scanner a
//! stable name, so "plugging it back in" is a new pair behind the same name.

use std::io::Write;
use std::path::{Path, PathBuf};

use serialport::{SerialPort, TTYPort};

use super::*;

/// A pseudo-terminal pair standing in for a scanner, reachable at `link`.
struct Module {
    master: TTYPort,
}

impl Module {
    fn plug(link: &Path) -> Module {
        let (master, slave) = TTYPort::pair().expect("a pseudo-terminal pair");
        let name = slave.name().expect("the slave's path");
        drop(slave);
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(name, link).unwrap();
        Module { master }
    }
    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
        self.master.flush().unwrap();
    }
}

fn scanner(link: &Path, repeat_window_ms: u64) -> SerialScanner {
    SerialScanner::new(SerialScannerConfig {
        path: link.to_string_lossy().into_owned(),
        baud: 9600,
        terminator: Terminator::Any,
        max_line: 64,
        repeat_window_ms,
    })
}

fn link() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("gradbooth-scanner");
    (dir, link)
}

const WAIT: Duration = Duration::from_millis(500);

#[test]
fn texts_arrive_line_by_line_whatever_the_pieces() {
    let (_d, link) = link();
    let mut module = Module::plug(&link);
    let mut s = scanner(&link, 0);
    assert_eq!(s.next_text(Duration::from_millis(60)).unwrap(), None, "silence is nothing");
    module.send(b"GBT1:ABC");
    module.send(b"DEF\r\nGBT1:XYZ\r");
    assert_eq!(s.next_text(WAIT).unwrap().as_deref(), Some("GBT1:ABCDEF"));
    assert_eq!(s.next_text(WAIT).unwrap().as_deref(), Some("GBT1:XYZ"));
}

#[test]
fn garbage_and_overlong_lines_are_dropped_and_the_next_code_is_read() {
    let (_d, link) = link();
    let mut module = Module::plug(&link);
    let mut s = scanner(&link, 0);
    s.next_text(Duration::from_millis(10)).unwrap();
    module.send(b"\xff\xfe\x00\x13noise\r");
    module.send(&[b'A'; 1000]);
    module.send(b"\rGBT1:GOOD\r");
    assert_eq!(s.next_text(WAIT).unwrap().as_deref(), Some("GBT1:GOOD"));
}

#[test]
fn the_same_code_read_again_within_the_window_counts_once() {
    let (_d, link) = link();
    let mut module = Module::plug(&link);
    let mut s = scanner(&link, 300);
    s.next_text(Duration::from_millis(10)).unwrap();
    module.send(b"GBT1:SAME\rGBT1:SAME\rGBT1:SAME\r");
    assert_eq!(s.next_text(WAIT).unwrap().as_deref(), Some("GBT1:SAME"));
    assert_eq!(s.next_text(Duration::from_millis(100)).unwrap(), None, "repeats within 300 ms are one read");
    std::thread::sleep(Duration::from_millis(350));
    module.send(b"GBT1:SAME\r");
    assert_eq!(s.next_text(WAIT).unwrap().as_deref(), Some("GBT1:SAME"), "after the window it is a new scan");
}

#[test]
fn an_unplugged_scanner_is_reported_and_picked_up_again_when_plugged_back() {
    let (_d, link) = link();
    let mut module = Module::plug(&link);
    let mut s = scanner(&link, 0);
    s.next_text(Duration::from_millis(10)).unwrap();
    module.send(b"GBT1:ONE\r");
    assert_eq!(s.next_text(WAIT).unwrap().as_deref(), Some("GBT1:ONE"));
    // Pulled out halfway through a code.
    module.send(b"GBT1:HALF");
    drop(module);
    let err = s.next_text(WAIT).unwrap_err();
    assert!(matches!(err, DeviceError::Disconnected { device: DeviceKind::QrScanner, .. }), "{err}");
    std::fs::remove_file(&link).unwrap();
    assert!(s.next_text(WAIT).is_err(), "still gone: reported again, nothing read");
    // Plugged back in (a new device behind the same stable name).
    let mut module = Module::plug(&link);
    s.next_text(Duration::from_millis(10)).unwrap();
    module.send(b"GBT1:TWO\r");
    assert_eq!(s.next_text(WAIT).unwrap().as_deref(), Some("GBT1:TWO"), "the half code was not glued to it");
}

#[test]
fn a_baud_rate_termios_does_not_know_is_named_not_guessed() {
    let (_d, link) = link();
    let _module = Module::plug(&link);
    let mut s = SerialScanner::new(SerialScannerConfig {
        path: link.to_string_lossy().into_owned(),
        baud: 10_000,
        terminator: Terminator::Any,
        max_line: 64,
        repeat_window_ms: 0,
    });
    let err = s.next_text(Duration::from_millis(60)).unwrap_err();
    assert!(err.to_string().contains("10000 is not a standard baud rate"), "{err}");
}
