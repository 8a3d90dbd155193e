//! The QR scanner's wire format. Serial barcode modules (USB CDC or UART) send each decoded
//! text followed by a terminator — CR by default on most modules, LF or CR LF on others.
//! [`LineDecoder`] turns the byte stream, in whatever chunks it arrives, into texts:
//!
//! - memory is bounded: at most `max_len` bytes are held; a longer line is reported once as
//!   [`Rejected::TooLong`] and skipped up to its terminator;
//! - a line that is not UTF-8, or holds control characters (other than tab) — line noise, a
//!   scanner in the wrong mode, a baud-rate mismatch — is reported and dropped;
//! - empty lines (the LF of a CR LF in `Any` mode, stray terminators) are ignored.
//!
//! It does no I/O: the serial driver feeds it, the simulated scanner's file feeds it, and the
//! fuzzer feeds it (`fuzz/`).

/// What ends a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Terminator {
    /// CR or LF (so CR, LF and CR LF all work).
    #[default]
    Any,
    /// CR only; an LF is ignored.
    Cr,
    /// LF only; a CR is ignored.
    Lf,
}

/// Why a line was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    TooLong,
    NotUtf8,
    ControlBytes,
}

/// One line out of the decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    /// A dropped line and how many bytes it had (never its content: it may be personal).
    Rejected {
        reason: Rejected,
        bytes: usize,
    },
}

#[derive(Debug, Clone)]
pub struct LineDecoder {
    max_len: usize,
    terminator: Terminator,
    buf: Vec<u8>,
    /// Bytes of the current line seen past `max_len` (the line is being skipped).
    skipped: usize,
}

impl LineDecoder {
    pub fn new(max_len: usize, terminator: Terminator) -> Self {
        let max_len = max_len.max(1);
        LineDecoder { max_len, terminator, buf: Vec::with_capacity(max_len), skipped: 0 }
    }

    /// Feeds bytes as they arrived; `out` gets every line they complete.
    pub fn push(&mut self, bytes: &[u8], out: &mut impl FnMut(Line)) {
        for &b in bytes {
            let (ends, ignored) = match (self.terminator, b) {
                (Terminator::Any, b'\r' | b'\n') | (Terminator::Cr, b'\r') | (Terminator::Lf, b'\n') => (true, false),
                (Terminator::Cr, b'\n') | (Terminator::Lf, b'\r') => (false, true),
                _ => (false, false),
            };
            if ends {
                self.end_line(out);
            } else if ignored {
            } else if self.skipped > 0 || self.buf.len() == self.max_len {
                self.skipped += 1;
            } else {
                self.buf.push(b);
            }
        }
    }

    fn end_line(&mut self, out: &mut impl FnMut(Line)) {
        let bytes = self.buf.len() + self.skipped;
        let line = if self.skipped > 0 {
            Some(Line::Rejected { reason: Rejected::TooLong, bytes })
        } else if bytes == 0 {
            None
        } else {
            Some(match std::str::from_utf8(&self.buf) {
                Err(_) => Line::Rejected { reason: Rejected::NotUtf8, bytes },
                Ok(s) if s.chars().any(|c| c.is_control() && c != '\t') => {
                    Line::Rejected { reason: Rejected::ControlBytes, bytes }
                }
                Ok(s) => Line::Text(s.to_owned()),
            })
        };
        self.buf.clear();
        self.skipped = 0;
        if let Some(line) = line {
            out(line);
        }
    }

    /// Forgets a partial line (the scanner was unplugged mid-line).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.skipped = 0;
    }

    /// Bytes held for the line in progress (never more than `max_len`).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Convenience for tests and small feeds: every line `bytes` completes.
    pub fn lines(&mut self, bytes: &[u8]) -> Vec<Line> {
        let mut v = Vec::new();
        self.push(bytes, &mut |l| v.push(l));
        v
    }
}

/// A reader sees a code held in front of it many times: the same text again within `window`
/// of its last sighting counts once (so a code held still never counts twice, and a graduate
/// who scans again after the window is heard).
#[derive(Debug)]
pub struct RepeatFilter {
    window: std::time::Duration,
    last: Option<(String, std::time::Instant)>,
}

impl RepeatFilter {
    pub fn new(window: std::time::Duration) -> Self {
        RepeatFilter { window, last: None }
    }

    /// Whether `text`, seen at `now`, is a new read (true) or a repeat (false).
    pub fn is_new(&mut self, text: &str, now: std::time::Instant) -> bool {
        let repeat = self
            .last
            .as_ref()
            .is_some_and(|(last, at)| last == text && now.saturating_duration_since(*at) < self.window);
        self.last = Some((text.to_owned(), now));
        !repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_code_held_still_counts_once_and_again_after_the_window() {
        use std::time::{Duration, Instant};
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut f = RepeatFilter::new(Duration::from_millis(2000));
        assert!(f.is_new("A", ms(0)));
        // Seen every half second for five seconds: each sighting renews the window.
        for n in 1..=10 {
            assert!(!f.is_new("A", ms(n * 500)), "sighting {n}");
        }
        assert!(f.is_new("B", ms(5100)));
        assert!(f.is_new("A", ms(5200)), "another code in between: A is new again");
        assert!(f.is_new("A", ms(7300)), "after the window");
    }

    fn text(s: &str) -> Line {
        Line::Text(s.into())
    }

    #[test]
    fn cr_lf_and_crlf_all_end_a_line_in_any_mode() {
        let mut d = LineDecoder::new(64, Terminator::Any);
        assert_eq!(d.lines(b"GBT1:AB\rGBT1:CD\nGBT1:EF\r\n\r\n"), [text("GBT1:AB"), text("GBT1:CD"), text("GBT1:EF")]);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn a_line_split_across_reads_is_whole() {
        let mut d = LineDecoder::new(64, Terminator::Cr);
        assert!(d.lines(b"GBT1:A").is_empty());
        assert_eq!(d.buffered(), 6);
        assert_eq!(d.lines(b"B\n\r"), [text("GBT1:AB")], "LF is ignored in CR mode");
    }

    #[test]
    fn an_overlong_line_is_reported_once_and_the_next_line_is_fine() {
        let mut d = LineDecoder::new(8, Terminator::Lf);
        let mut long = vec![b'x'; 100];
        long.extend_from_slice(b"\nshort\n");
        assert_eq!(d.lines(&long), [Line::Rejected { reason: Rejected::TooLong, bytes: 100 }, text("short")]);
    }

    #[test]
    fn noise_and_bad_utf8_are_reported_without_their_content() {
        let mut d = LineDecoder::new(64, Terminator::Any);
        assert_eq!(
            d.lines(b"\xff\xfe\x00ab\rok\x01\rtab\there\r"),
            [
                Line::Rejected { reason: Rejected::NotUtf8, bytes: 5 },
                Line::Rejected { reason: Rejected::ControlBytes, bytes: 3 },
                text("tab\there"),
            ]
        );
    }

    #[test]
    fn reset_drops_a_partial_line() {
        let mut d = LineDecoder::new(64, Terminator::Any);
        d.lines(b"half a co");
        d.reset();
        assert_eq!(d.lines(b"de\r"), [text("de")]);
    }

    fn chunked(bytes: &[u8], cuts: &[usize], d: &mut LineDecoder) -> Vec<Line> {
        let mut out = Vec::new();
        let mut rest = bytes;
        for &c in cuts {
            let (a, b) = rest.split_at(c.min(rest.len()));
            d.push(a, &mut |l| out.push(l));
            assert!(d.buffered() <= 32, "memory is bounded");
            rest = b;
        }
        d.push(rest, &mut |l| out.push(l));
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any bytes, cut anywhere: no panic, bounded memory, and the same lines whatever the cuts.
        #[test]
        fn any_bytes_in_any_chunks(bytes in proptest::collection::vec(any::<u8>(), 0..400),
                                   cuts in proptest::collection::vec(0usize..50, 0..20),
                                   mode in prop_oneof![Just(Terminator::Any), Just(Terminator::Cr), Just(Terminator::Lf)]) {
            let whole = LineDecoder::new(32, mode).lines(&bytes);
            let pieces = chunked(&bytes, &cuts, &mut LineDecoder::new(32, mode));
            prop_assert_eq!(&whole, &pieces);
            for l in &whole {
                if let Line::Text(t) = l {
                    prop_assert!(!t.is_empty() && t.len() <= 32 && !t.contains(['\r', '\n']));
                }
            }
        }

        /// Texts a scanner sends come out exactly, in order.
        #[test]
        fn texts_come_out_as_sent(texts in proptest::collection::vec("[A-Z2-7:]{1,32}", 0..10),
                                  cuts in proptest::collection::vec(0usize..40, 0..20)) {
            let mut wire = Vec::new();
            for t in &texts {
                wire.extend_from_slice(t.as_bytes());
                wire.extend_from_slice(b"\r\n");
            }
            let got = chunked(&wire, &cuts, &mut LineDecoder::new(32, Terminator::Any));
            prop_assert_eq!(got, texts.iter().map(|t| Line::Text(t.clone())).collect::<Vec<_>>());
        }
    }
}
