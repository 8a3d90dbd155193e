//! Lights that remember their levels, so tests can ask what a real booth would show.

use std::sync::{Arc, Mutex};

use super::SimControls;
use crate::{DeviceError, DeviceKind, LightLevels, Lights};

#[derive(Clone)]
pub struct SimLights {
    controls: SimControls,
    levels: Arc<Mutex<LightLevels>>,
}

impl SimLights {
    pub fn new(controls: SimControls) -> Self {
        Self { controls, levels: Arc::default() }
    }

    /// The levels last applied.
    pub fn levels(&self) -> LightLevels {
        self.levels.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Lights for SimLights {
    fn apply(&mut self, levels: &LightLevels) -> Result<(), DeviceError> {
        self.controls.check_plugged(DeviceKind::Lights)?;
        *self.levels.lock().unwrap_or_else(|e| e.into_inner()) = levels.clone();
        Ok(())
    }
}
