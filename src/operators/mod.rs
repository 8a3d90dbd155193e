//! The operators' side of the booth (docs/bundle.md): what happens when an operator brings a
//! USB stick — the watcher that sees it come and go (`watch.rs`), the desk's hands (`desk.rs`:
//! reading and verifying the stick, applying a bundle, switching the running booth to the new
//! generation at its next rest, exporting), and the export itself (`export.rs`, also
//! `gradbooth export`), with the booth's recent log (`log.rs`).
//!
//! Above `config` (it verifies bundles against the configuration the booth runs) and below
//! `runtime`, which hands it the desk's commands.

pub mod desk;
pub mod export;
pub mod log;
pub mod watch;
