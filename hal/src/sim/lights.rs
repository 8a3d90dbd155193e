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

    /// The light that actually shines: the levels applied, a dead lamp's channel dark.
    pub fn lit(&self) -> LightLevels {
        let mut lit = self.levels();
        for (channel, level) in lit.0.iter_mut() {
            if self.controls.lamp_dead(channel) {
                *level = 0;
            }
        }
        lit
    }
}

impl Lights for SimLights {
    fn apply(&mut self, levels: &LightLevels) -> Result<(), DeviceError> {
        self.controls.check_plugged(DeviceKind::Lights)?;
        *self.levels.lock().unwrap_or_else(|e| e.into_inner()) = levels.clone();
        self.controls.set_light_levels(levels);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_lamp_takes_its_level_but_gives_no_light_until_it_is_replaced() {
        let controls = SimControls::new();
        let mut lights = SimLights::new(controls.clone());
        let levels = LightLevels([("fill".to_owned(), 60), ("key_left".to_owned(), 80)].into());
        controls.set_lamp_alive("key_left", false);
        lights.apply(&levels).unwrap();
        assert_eq!(lights.levels(), levels, "the driver accepted the level");
        assert_eq!(lights.lit().0.get("key_left"), Some(&0));
        assert_eq!(lights.lit().0.get("fill"), Some(&60), "the other lamps shine");
        controls.set_lamp_alive("key_left", true);
        assert_eq!(lights.lit(), levels);
    }
}
