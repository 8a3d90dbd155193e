//! A serial QR scanner module (USB CDC or UART), read with `serialport`.
//!
//! The module sends each decoded text followed by a terminator ([`crate::lines`]). The driver
//! holds the port open; when a read fails (unplugged: EIO or hang-up) it drops the port, says
//! `Disconnected`, and tries to open the configured path again on the next call — the runtime
//! backs off between calls, so a scanner plugged back in is picked up within seconds. Give it
//! a stable path (a udev symlink such as `/dev/gradbooth-scanner`): the kernel's own name
//! (`ttyACM0`) may change on replug. The same code read again within `repeat_window` counts
//! once (modules re-read a code held in front of them).
//!
//! The port is set up with POSIX termios (raw, 8N1, no flow control, a standard baud rate)
//! rather than serialport's own `open`, whose Linux path uses the `termios2` ioctls
//! (TCGETS2/TCSETS2) for arbitrary baud rates: qemu-user cannot emulate those, so the Pi's
//! tests under emulation (`scripts/test-pi`) could not open a port at all. Reading is
//! serialport's `TTYPort` (poll with a timeout, then read).

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

/// The baud rates a scanner may use: POSIX termios's standard rates.
pub const STANDARD_BAUDS: [u32; 13] =
    [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600];

fn baud_rate(baud: u32) -> Option<nix::sys::termios::BaudRate> {
    use nix::sys::termios::BaudRate as B;
    Some(match baud {
        1200 => B::B1200,
        2400 => B::B2400,
        4800 => B::B4800,
        9600 => B::B9600,
        19200 => B::B19200,
        38400 => B::B38400,
        57600 => B::B57600,
        115200 => B::B115200,
        230400 => B::B230400,
        460800 => B::B460800,
        500000 => B::B500000,
        576000 => B::B576000,
        921600 => B::B921600,
        _ => return None,
    })
}

/// Opens `path` as a raw 8N1 tty at `baud`, without flow control, for reading with `timeout`.
fn open_raw(path: &str, baud: u32, timeout: Duration) -> Result<serialport::TTYPort, String> {
    use std::os::fd::{FromRawFd, IntoRawFd};
    use std::os::unix::fs::OpenOptionsExt;

    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    use nix::sys::termios::{self, ControlFlags, InputFlags, SetArg};
    use serialport::SerialPort;

    let speed = baud_rate(baud).ok_or_else(|| format!("{baud} is not a standard baud rate"))?;
    // Not our controlling terminal; not blocking on a modem line while opening.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    let fd = file.into_raw_fd();
    // Owned from here: closed on every way out.
    let port = unsafe { serialport::TTYPort::from_raw_fd(fd) };
    let setup = || -> nix::Result<()> {
        let mut t = termios::tcgetattr(fd)?;
        termios::cfmakeraw(&mut t);
        t.control_flags |= ControlFlags::CLOCAL | ControlFlags::CREAD;
        t.control_flags &= !(ControlFlags::CRTSCTS | ControlFlags::CSTOPB | ControlFlags::PARENB);
        t.input_flags &= !(InputFlags::IXON | InputFlags::IXOFF | InputFlags::IXANY);
        termios::cfsetspeed(&mut t, speed)?;
        termios::tcsetattr(fd, SetArg::TCSANOW, &t)?;
        // Reads wait in poll (the timeout), then read what is there.
        fcntl(fd, FcntlArg::F_SETFL(OFlag::empty()))?;
        Ok(())
    };
    setup().map_err(|e| e.desc().to_owned())?;
    let mut port = port;
    port.set_timeout(timeout).map_err(|e| e.to_string())?;
    Ok(port)
}

pub struct SerialScanner {
    config: SerialScannerConfig,
    port: Option<serialport::TTYPort>,
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
            let port = open_raw(&self.config.path, self.config.baud, READ_SLICE).map_err(|e| self.disconnected(e))?;
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
