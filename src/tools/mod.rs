//! The `gradbooth` command and what only it runs: the command table (`cli`), the booth in a
//! window (`window`), and the headless tools `demo` (a scripted graduate through a whole visit)
//! and `gallery` (every screen, both languages, two panel sizes), and `selftest` (the
//! diagnostics' self-test without a screen).

pub mod cli;
pub mod demo;
pub mod gallery;
mod gallery_desk;
mod gallery_service;
pub mod selftest;
pub mod window;
