//! The booth's recent log, kept in memory for an export: the last `KEEP` lines the log
//! writes (to stderr, i.e. the service's journal), nothing else. The log never holds names,
//! student numbers or photos (ARCHITECTURE.md, invariants), so neither does this.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// Lines kept.
pub const KEEP: usize = 2000;

fn ring() -> &'static Mutex<VecDeque<String>> {
    static RING: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();
    RING.get_or_init(|| Mutex::new(VecDeque::with_capacity(KEEP)))
}

/// The recent lines, oldest first.
pub fn recent() -> Vec<String> {
    ring().lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
}

/// A log writer that writes to stderr and keeps a copy of each line (`tracing_subscriber`'s
/// `with_writer(log::Tee)`).
#[derive(Clone, Copy, Default)]
pub struct Tee;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Tee {
    type Writer = TeeWriter;
    fn make_writer(&'a self) -> TeeWriter {
        TeeWriter(Vec::new())
    }
}

/// One event's text: to stderr and the ring when it is done.
pub struct TeeWriter(Vec<u8>);

impl Write for TeeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for TeeWriter {
    fn drop(&mut self) {
        let _ = std::io::stderr().write_all(&self.0);
        keep(&String::from_utf8_lossy(&self.0));
    }
}

/// Keeps `text`'s lines (without the terminal's colour codes).
pub fn keep(text: &str) {
    let mut r = ring().lock().unwrap_or_else(|e| e.into_inner());
    for line in text.lines().filter(|l| !l.is_empty()) {
        if r.len() == KEEP {
            r.pop_front();
        }
        r.push_back(strip_ansi(line));
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ … final byte in @–~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_lines_without_colour() {
        keep("\u{1b}[32m INFO\u{1b}[0m booth started\n");
        for i in 0..KEEP {
            keep(&format!("line {i}\n"));
        }
        let r = recent();
        assert_eq!(r.len(), KEEP);
        assert_eq!(r.last().map(String::as_str), Some(format!("line {}", KEEP - 1).as_str()));
        assert!(!r.iter().any(|l| l.contains("booth started")), "the oldest line went");
        assert_eq!(strip_ansi("\u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m x"), "2026  INFO x");
    }
}
