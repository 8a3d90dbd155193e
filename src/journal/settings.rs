//! `[storage]`: the data directory (the journal, the photos, the outbox) and how long an
//! unpaid standard photo is kept after its visit.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::validate::{Invalid, in_range, invalid};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageFile {
    /// Where the journal (and, later, photos waiting to leave) live; relative to the working
    /// directory unless absolute.
    data_dir: String,
    /// Minutes the standard photo of a visit that ended unpaid is kept (0: deleted when the
    /// visit ends, like every unchosen capture).
    #[serde(default)]
    unpaid_retention_minutes: u32,
}

/// The data directory and its retention, checked.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    pub unpaid_retention: Duration,
}

impl StorageFile {
    pub fn validate(&self) -> Result<StorageSettings, Invalid> {
        let data_dir = match self.data_dir.trim() {
            "" => {
                return Err(invalid("storage.data_dir", "\"\"", "a directory for the journal, like \"var/gradbooth\""));
            }
            d => PathBuf::from(d),
        };
        let unpaid_retention = Duration::from_secs(
            60 * in_range("storage.unpaid_retention_minutes", self.unpaid_retention_minutes, 0, 24 * 60)? as u64,
        );
        Ok(StorageSettings { data_dir, unpaid_retention })
    }
}
