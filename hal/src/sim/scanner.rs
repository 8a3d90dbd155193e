//! A QR scanner fed by [`SimControls::present_qr`] (keyboard shortcut, debug panel, tests)
//! and, optionally, by lines appended to a text file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use super::SimControls;
use crate::lines::{Line, LineDecoder, Terminator};
use crate::{DeviceError, DeviceKind, QrScanner};

/// The longest scan the simulated scanner takes from its file (like a serial module's limit).
const MAX_LINE: usize = 2048;

pub struct SimScanner {
    controls: SimControls,
    file: Option<(PathBuf, Option<File>)>,
    decoder: LineDecoder,
    pending: VecDeque<String>,
}

impl SimScanner {
    pub fn new(controls: SimControls) -> Self {
        Self { controls, file: None, decoder: LineDecoder::new(MAX_LINE, Terminator::Any), pending: VecDeque::new() }
    }

    /// Also read one scan per line appended to `path` (created if missing).
    pub fn with_file(mut self, path: PathBuf) -> Self {
        self.file = Some((path, None));
        self
    }

    fn read_file_line(&mut self) -> Option<String> {
        if let Some(text) = self.pending.pop_front() {
            return Some(text);
        }
        let (path, file) = self.file.as_mut()?;
        if file.is_none() {
            let mut f = File::options().create(true).append(true).read(true).open(&*path).ok()?;
            // Only what is appended after start-up counts as a scan.
            f.seek(SeekFrom::End(0)).ok()?;
            *file = Some(f);
        }
        let mut chunk = [0u8; 4096];
        let n = file.as_mut()?.read(&mut chunk).ok()?;
        let pending = &mut self.pending;
        self.decoder.push(&chunk[..n], &mut |line| match line {
            Line::Text(t) => pending.push_back(t.trim().to_owned()),
            Line::Rejected { reason, bytes } => tracing::warn!(?reason, bytes, "scan file line dropped"),
        });
        self.pending.retain(|t| !t.is_empty());
        self.pending.pop_front()
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
