//! The booth's headless tools: `demo` (a scripted graduate through a whole visit) and `gallery`
//! (every screen, both languages, two panel sizes).

pub mod demo;
pub mod gallery;
