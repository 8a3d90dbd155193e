//! The configuration the booth runs: the base file plus the bundles applied, in order — each
//! generation a list of applied serials, its bundles kept in `<data_dir>/config/bundles/`.
//! `state.json` is the one commit point (written crash-safe: tmp, fsync, rename, fsync dir), so
//! a booth killed at any moment starts on exactly the old or the new whole configuration.
//!
//! A new generation is on **trial** until the booth confirms it (a self-test passed, a visit
//! paid, or ten minutes run): a start that finds the trial already started once and never
//! confirmed (a crash, a watchdog restart, a failed start) puts the previous generation back,
//! as does a generation the checker refuses. The serial floor never goes back down.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::bundle::{self, Verified};
use super::{Backend, Settings};

/// What `state.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The serials of the bundles that make the current configuration, in order.
    pub applied: Vec<u64>,
    /// The generation before the last apply, kept while the new one is on trial.
    #[serde(default)]
    pub previous: Option<Vec<u64>>,
    /// Starts made on the current generation while on trial (`None`: confirmed).
    #[serde(default)]
    pub trial_starts: Option<u32>,
    /// The highest serial ever applied: a bundle must be above it, and it never goes down.
    pub floor: u64,
}

/// Something to put in the journal's audit log once the booth runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub action: &'static str,
    pub detail: String,
}

pub struct Generations {
    dir: PathBuf,
}

/// A booth's base file, read (its name in any error), and its data directory: `data_dir` when
/// given (the command line, the service's environment), else the file's `[storage] data_dir`.
pub fn base_of(config: &Path, data_dir: Option<&Path>, backend: Option<Backend>) -> anyhow::Result<(String, PathBuf)> {
    let text = std::fs::read_to_string(config).map_err(|e| anyhow::anyhow!("reading {}: {e}", config.display()))?;
    let base = Settings::parse_from(config, &text, backend)
        .map_err(|e| anyhow::anyhow!("loading {}: {e}", config.display()))?;
    Ok((text, data_dir.map(Path::to_owned).unwrap_or(base.data_dir)))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("{}: {e}", path.display())
}

impl Generations {
    pub fn at(data_dir: &Path) -> Self {
        Generations { dir: data_dir.join("config") }
    }

    pub fn state(&self) -> anyhow::Result<State> {
        let path = self.dir.join("state.json");
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    fn write_state(&self, s: &State) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let json = serde_json::to_vec_pretty(s)?;
        crate::journal::storage::write_durably(&self.dir, "state.json", &json)?;
        Ok(())
    }

    fn bundle_path(&self, serial: u64) -> PathBuf {
        self.dir.join("bundles").join(format!("{serial}.toml"))
    }

    /// The SHA-256 of the bundle applied with `serial`, if one was.
    pub fn applied_sha256(&self, serial: u64) -> Option<String> {
        std::fs::read(self.bundle_path(serial)).ok().map(|b| crate::journal::storage::sha256_hex(&b))
    }

    /// The booth switched to the generation on trial without a restart: that counts as its
    /// start, so a crash before it confirms rolls it back.
    pub fn started_in_place(&self) -> anyhow::Result<()> {
        let mut s = self.state()?;
        if s.trial_starts == Some(0) {
            s.trial_starts = Some(1);
            self.write_state(&s)?;
        }
        Ok(())
    }

    /// The whole configuration text of a generation: `base` with each bundle's settings merged.
    pub fn text(&self, base: &str, applied: &[u64]) -> anyhow::Result<String> {
        let mut table: toml::Table = toml::from_str(base)?;
        for serial in applied {
            let path = self.bundle_path(*serial);
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let (_, settings) = bundle::read(&bytes).map_err(|e| anyhow::anyhow!("bundle {serial}: {e}"))?;
            table = bundle::merge_settings(&table, &settings).map_err(|e| anyhow::anyhow!("bundle {serial}: {e}"))?;
        }
        Ok(toml::to_string(&table)?)
    }

    /// The configuration the booth runs now, read only (no start counted on a trial): for the
    /// tools that look at a booth rather than run it.
    pub fn current(&self, base: &str, backend: Option<Backend>) -> anyhow::Result<Settings> {
        let text = self.text(base, &self.state()?.applied)?;
        Ok(Settings::parse_on(&text, backend)?)
    }

    /// The settings to start on, and what to audit: the current generation (one more start on
    /// trial), or the previous one when the trial never confirmed or the current is refused.
    pub fn start(&self, base: &str, backend: Option<Backend>) -> anyhow::Result<(Settings, String, Vec<Note>)> {
        let mut s = self.state()?;
        let mut notes = Vec::new();
        if s.applied.is_empty() && s.previous.is_none() {
            let settings = Settings::parse_on(base, backend)?;
            return Ok((settings, base.to_owned(), notes));
        }
        if s.trial_starts.is_some_and(|n| n >= 1) {
            let why = format!("generation {:?} on trial started before and was never confirmed", s.applied);
            self.roll_back(&mut s, &why, &mut notes)?;
        } else if let Some(n) = s.trial_starts {
            s.trial_starts = Some(n + 1);
            self.write_state(&s)?;
        }
        match self.text(base, &s.applied).and_then(|t| Ok((Settings::parse_on(&t, backend)?, t))) {
            Ok((settings, text)) => Ok((settings, text, notes)),
            Err(e) if s.previous.is_some() => {
                let why = format!("generation {:?} refused: {e:#}", s.applied);
                self.roll_back(&mut s, &why, &mut notes)?;
                let text = self.text(base, &s.applied)?;
                Ok((Settings::parse_on(&text, backend)?, text, notes))
            }
            Err(e) => Err(e),
        }
    }

    fn roll_back(&self, s: &mut State, why: &str, notes: &mut Vec<Note>) -> anyhow::Result<()> {
        tracing::error!(reason = why, "configuration rolled back to the previous generation");
        s.applied = s.previous.take().unwrap_or_default();
        s.trial_starts = None;
        self.write_state(s)?;
        notes.push(Note { action: "config_rolled_back", detail: why.to_owned() });
        Ok(())
    }

    /// Makes a verified bundle current (on trial from the next start): its bytes kept, then
    /// the state switched in one rename.
    pub fn apply(&self, verified: &Verified, bytes: &[u8]) -> anyhow::Result<State> {
        let mut s = self.state()?;
        anyhow::ensure!(verified.header.serial > s.floor, "serial {} is not above {}", verified.header.serial, s.floor);
        let dir = self.dir.join("bundles");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        crate::journal::storage::write_durably(&dir, &format!("{}.toml", verified.header.serial), bytes)?;
        let previous = std::mem::take(&mut s.applied);
        s.applied = previous.clone();
        s.applied.push(verified.header.serial);
        s.previous = Some(previous);
        s.trial_starts = Some(0);
        s.floor = s.floor.max(verified.header.serial);
        self.write_state(&s)?;
        Ok(s)
    }

    /// The generation on trial has proved itself: it stays.
    pub fn confirm(&self) -> anyhow::Result<bool> {
        let mut s = self.state()?;
        if s.trial_starts.is_none() {
            return Ok(false);
        }
        s.trial_starts = None;
        s.previous = None;
        self.write_state(&s)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
