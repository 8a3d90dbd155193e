//! The technicians' diagnostics mode. So far: the signed service code that opens it
//! (`code`: format, verification, revocation), `[diagnostics]` (`settings`) and
//! `gradbooth service-code keygen | issue | verify` (`cmd`). The mode itself — its pages,
//! the self-test and the metrics — is issue 16's next steps.

pub mod cmd;
pub mod code;
pub mod settings;
