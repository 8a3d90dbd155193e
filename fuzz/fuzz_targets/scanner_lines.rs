//! The QR scanner's line decoder on any byte stream cut into any chunks: never a panic, never
//! more than `max_len` bytes held, no text longer than `max_len` or holding a terminator.
#![no_main]

use gradbooth_hal::lines::{Line, LineDecoder, Terminator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, mut rest)) = data.split_first() else { return };
    let terminator = [Terminator::Any, Terminator::Cr, Terminator::Lf][usize::from(head % 3)];
    let max_len = 1 + usize::from(head >> 2);
    let chunk = 1 + usize::from(head % 7);
    let mut d = LineDecoder::new(max_len, terminator);
    while !rest.is_empty() {
        let (now, later) = rest.split_at(chunk.min(rest.len()));
        d.push(now, &mut |line| {
            if let Line::Text(t) = line {
                assert!(!t.is_empty() && t.len() <= max_len && !t.contains(['\r', '\n']));
            }
        });
        assert!(d.buffered() <= max_len);
        rest = later;
    }
});
