//! A serial QR scanner module (USB CDC or UART), read with `serialport`.
//!
//! The module sends each decoded text followed by a terminator ([`crate::lines`]). The driver
//! holds the port open; when a read fails (unplugged: EIO or hang-up) it drops the port, says
//! `Disconnected`, and tries to open the configured path again on the next call — the runtime
//! backs off between calls, so a scanner plugged back in is picked up within seconds. Give it
//! a stable path (a udev symlink such as `/dev/gradbooth-scanner`): the kernel's own name
//! (`ttyACM0`) may change on replug. The same code read again within `repeat_window` counts
//! once (modules re-read a code held in front of them).

use std::collections::VecDeque;
use std::io::Read;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tracing::{debug, info, warn};

use crate::lines::{Line, LineDecoder, RepeatFilter, Terminator};
use crate::{DeviceError, DeviceKind, QrScanner};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SerialScannerConfig {
    /// The scanner's device path, best a stable udev name.
    pub path: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default)]
    pub terminator: Terminator,
    /// Longest text accepted, bytes (a shooting code is ~230).
    #[serde(default = "default_max_line")]
    pub max_line: usize,
    /// The same text again within this many milliseconds counts once.
    #[serde(default = "default_repeat_ms")]
    pub repeat_window_ms: u64,
}

fn default_baud() -> u32 {
    9600
}
fn default_max_line() -> usize {
    2048
}
fn default_repeat_ms() -> u64 {
    2000
}

pub struct SerialScanner {
    config: SerialScannerConfig,
    port: Option<Box<dyn serialport::SerialPort>>,
    decoder: LineDecoder,
    pending: VecDeque<String>,
    repeats: RepeatFilter,
}

/// How long one read waits, so `next_text` keeps to its own timeout.
const READ_SLICE: Duration = Duration::from_millis(50);

impl SerialScanner {
    /// Does not open the port yet: the first `next_text` does (and reports if it cannot).
    pub fn new(config: SerialScannerConfig) -> Self {
        let decoder = LineDecoder::new(config.max_line, config.terminator);
        let repeats = RepeatFilter::new(Duration::from_millis(config.repeat_window_ms));
        SerialScanner { config, port: None, decoder, pending: VecDeque::new(), repeats }
    }

    fn disconnected(&self, detail: impl std::fmt::Display) -> DeviceError {
        DeviceError::Disconnected { device: DeviceKind::QrScanner, detail: format!("{}: {detail}", self.config.path) }
    }

    fn open(&mut self) -> Result<(), DeviceError> {
        if self.port.is_none() {
            let port = serialport::new(&self.config.path, self.config.baud)
                .timeout(READ_SLICE)
                .open()
                .map_err(|e| self.disconnected(e))?;
            info!(path = %self.config.path, baud = self.config.baud, "QR scanner opened");
            // Whatever was half-sent before is not a scan.
            self.decoder.reset();
            self.port = Some(port);
        }
        Ok(())
    }

    /// A text the decoder completed: dropped if it repeats the last one within the window.
    fn take(&mut self, text: String, now: Instant) {
        if self.repeats.is_new(&text, now) {
            self.pending.push_back(text);
        } else {
            debug!(bytes = text.len(), "repeated read of the same code ignored");
        }
    }
}

impl QrScanner for SerialScanner {
    fn next_text(&mut self, timeout: Duration) -> Result<Option<String>, DeviceError> {
        let deadline = Instant::now() + timeout;
        self.open()?;
        let mut buf = [0u8; 512];
        while self.pending.is_empty() {
            let Some(port) = self.port.as_mut() else { break };
            let read = port.read(&mut buf);
            let now = Instant::now();
            match read {
                Ok(0) => {
                    self.port = None;
                    return Err(self.disconnected("hung up"));
                }
                Ok(n) => {
                    let mut lines = Vec::new();
                    self.decoder.push(&buf[..n], &mut |l| lines.push(l));
                    for line in lines {
                        match line {
                            Line::Text(t) => self.take(t, now),
                            // Content never logged: a scan may carry a name.
                            Line::Rejected { reason, bytes } => {
                                warn!(?reason, bytes, "QR scanner sent a bad line; dropped")
                            }
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.port = None;
                    return Err(self.disconnected(e));
                }
            }
            if now >= deadline {
                break;
            }
        }
        Ok(self.pending.pop_front())
    }
}

#[cfg(test)]
mod tests;
