//! A QR scanner fed by [`SimControls::present_qr`] (keyboard shortcut, debug panel, tests)
//! and, optionally, by lines appended to a text file.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use super::SimControls;
use crate::{DeviceError, DeviceKind, QrScanner};

pub struct SimScanner {
    controls: SimControls,
    file: Option<(PathBuf, Option<BufReader<File>>)>,
}

impl SimScanner {
    pub fn new(controls: SimControls) -> Self {
        Self { controls, file: None }
    }

    /// Also read one scan per line appended to `path` (created if missing).
    pub fn with_file(mut self, path: PathBuf) -> Self {
        self.file = Some((path, None));
        self
    }

    fn read_file_line(&mut self) -> Option<String> {
        let (path, reader) = self.file.as_mut()?;
        if reader.is_none() {
            let f = File::options().create(true).append(true).read(true).open(&*path).ok()?;
            let mut r = BufReader::new(f);
            // Only what is appended after start-up counts as a scan.
            let mut skip = String::new();
            while r.read_line(&mut skip).ok()? > 0 {
                skip.clear();
            }
            *reader = Some(r);
        }
        let mut line = String::new();
        match reader.as_mut()?.read_line(&mut line) {
            Ok(n) if n > 0 && line.ends_with('\n') => Some(line.trim().to_owned()).filter(|l| !l.is_empty()),
            _ => None,
        }
    }
}

impl QrScanner for SimScanner {
    fn next_text(&mut self, timeout: Duration) -> Result<Option<String>, DeviceError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.controls.check_plugged(DeviceKind::QrScanner)?;
            if let Some(text) = self.controls.take_scan().or_else(|| self.read_file_line()) {
                return Ok(Some(text));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            thread::sleep((deadline - now).min(Duration::from_millis(20)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn presented_codes_arrive_in_order_and_silence_is_none() {
        let controls = SimControls::new();
        let mut s = SimScanner::new(controls.clone());
        controls.present_qr("first");
        controls.present_qr("second");
        let t = Duration::from_millis(30);
        assert_eq!(s.next_text(t).unwrap().as_deref(), Some("first"));
        assert_eq!(s.next_text(t).unwrap().as_deref(), Some("second"));
        assert_eq!(s.next_text(t).unwrap(), None);
    }

    #[test]
    fn lines_appended_to_the_scan_file_are_scans() {
        let dir = std::env::temp_dir().join(format!("gb-scan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scans.txt");
        std::fs::write(&path, "old line\n").unwrap();
        let mut s = SimScanner::new(SimControls::new()).with_file(path.clone());
        let t = Duration::from_millis(30);
        assert_eq!(s.next_text(t).unwrap(), None, "lines from before start-up are not scans");
        writeln!(File::options().append(true).open(&path).unwrap(), "GBT-NEW").unwrap();
        assert_eq!(s.next_text(t).unwrap().as_deref(), Some("GBT-NEW"));
        std::fs::remove_dir_all(dir).ok();
    }
}
