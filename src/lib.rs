//! gradbooth: the software of a self-service diploma e-registration photo booth.
//! See ARCHITECTURE.md for the map; `visit` is the heart, `runtime` the hands.

pub mod bus;
pub mod clock;
pub mod config;
pub mod devices;
pub mod diagnostics;
pub mod journal;
pub mod net;
pub mod operators;
pub mod payment;
pub mod review;
pub mod runtime;
pub mod screen;
pub mod ticket;
pub mod tools;
pub mod upload;
pub mod validate;

/// The visit's state machine: its own crate (`visit/`), so that the compiler keeps it free of I/O.
pub use gradbooth_visit as visit;

/// The Slint UI compiled from `ui/app.slint` by build.rs.
pub mod ui {
    slint::include_modules!();
}
