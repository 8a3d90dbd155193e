//! The technicians' diagnostics mode, beside the pure machine's part of it (`visit::service`:
//! entry, lock-out, key switch, pages, hold-to-run, the ways out):
//! - `code`: the signed service code `GBS1:` (format, verification, revocation);
//! - `settings`: `[diagnostics]`;
//! - `bench`: what the mode does with the booth's parts (code checks, page actions, the test
//!   capture, the scanner page, the self-test's thread);
//! - `selftest`: every check that needs no person, and its report;
//! - `panel`: the lines of each page;
//! - `metrics`: the Prometheus / OpenMetrics endpoint;
//! - `cmd`: `gradbooth service-code keygen | issue | verify`.

pub mod bench;
pub mod cmd;
pub mod code;
pub mod metrics;
mod panel;
pub mod selftest;
pub mod settings;
