//! gradbooth: the software of a self-service diploma e-registration photo booth.
//! See ARCHITECTURE.md for the map; `visit` is the heart, `runtime` the hands.

pub mod checkout;
pub mod config;
pub mod demo;
pub mod devices;
pub mod gallery;
pub mod headless;
pub mod journal;
pub mod net;
pub mod payment;
pub mod preview;
pub mod qr;
pub mod review;
pub mod review_cmd;
pub mod runtime;
pub mod screen;
pub mod seal;
pub mod storage;
pub mod ticket;
pub mod ticket_cmd;
pub mod upload;
pub mod wiring;

/// The visit's state machine: its own crate (`visit/`), so that the compiler keeps it free of I/O.
pub use gradbooth_visit as visit;

/// The Slint UI compiled from `ui/app.slint` by build.rs.
pub mod ui {
    slint::include_modules!();
}
