//! What every capability's `settings.rs` refuses a value with: the key that holds it, its
//! value, and what would be allowed (`Invalid`, shared with the visit machine's crate).

pub use gradbooth_vocab::{Invalid, in_range, invalid};

/// The text of a key file named by `key` (kept out of the configuration itself).
pub fn read_key_file(key: &str, path: &str) -> Result<String, Invalid> {
    std::fs::read_to_string(path.trim()).map_err(|e| invalid(key, format!("{path:?}"), format!("cannot read it: {e}")))
}
