//! The optional service key switch (`[hardware.service] key_pin`): a lock on the booth's
//! cabinet that a technician turns to open the diagnostics mode, read as a GPIO input through
//! `embedded-hal` 1.0 (rppal on the Pi, `embedded-hal-mock` in the tests). A reading counts only
//! when two reads `debounce` apart agree, so a bouncing contact never opens or ends the mode.

use std::time::Duration;

use embedded_hal::digital::{Error as _, InputPin};
use serde::Deserialize;

/// `[hardware.service]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySwitchConfig {
    /// BCM GPIO number of the key switch.
    pub key_pin: u8,
    /// The switch closes to ground (internal pull-up): on = low.
    #[serde(default = "yes")]
    pub active_low: bool,
}

fn yes() -> bool {
    true
}

/// Why the switch could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service key switch: {0}")]
pub struct KeySwitchError(pub String);

/// The key switch: on or off.
pub trait KeySwitch: Send {
    fn is_on(&mut self) -> Result<bool, KeySwitchError>;
}

/// The switch on a GPIO input.
pub struct GpioKeySwitch<P> {
    pin: P,
    active_low: bool,
    debounce: Duration,
    /// The last reading that held.
    settled: Option<bool>,
}

impl<P: InputPin> GpioKeySwitch<P> {
    pub fn new(pin: P, active_low: bool, debounce: Duration) -> Self {
        GpioKeySwitch { pin, active_low, debounce, settled: None }
    }

    fn read(&mut self) -> Result<bool, KeySwitchError> {
        let high = self.pin.is_high().map_err(|e| KeySwitchError(format!("{:?}", e.kind())))?;
        Ok(high != self.active_low)
    }
}

impl<P: InputPin + Send> KeySwitch for GpioKeySwitch<P> {
    fn is_on(&mut self) -> Result<bool, KeySwitchError> {
        let first = self.read()?;
        if Some(first) != self.settled {
            // A change: believed only if it is still there a moment later.
            std::thread::sleep(self.debounce);
            if self.read()? != first {
                return Ok(self.settled.unwrap_or(false));
            }
            self.settled = Some(first);
        }
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as T};

    use super::*;

    const D: Duration = Duration::from_millis(1);

    #[test]
    fn an_active_low_switch_is_on_when_its_pin_is_low_and_a_bounce_changes_nothing() {
        let pin = Pin::new(&[
            // Off at start-up (high): read twice, settled.
            T::get(State::High),
            T::get(State::High),
            // Steady: read once.
            T::get(State::High),
            // A bounce: low, then high again a moment later — still off.
            T::get(State::Low),
            T::get(State::High),
            // Turned on: low twice.
            T::get(State::Low),
            T::get(State::Low),
            T::get(State::Low),
        ]);
        let mut key = GpioKeySwitch::new(pin, true, D);
        assert!(!key.is_on().unwrap());
        assert!(!key.is_on().unwrap());
        assert!(!key.is_on().unwrap(), "a bounce is not a turn");
        assert!(key.is_on().unwrap());
        assert!(key.is_on().unwrap());
        key.pin.done();
    }

    #[test]
    fn an_active_high_switch_is_on_when_its_pin_is_high() {
        let pin = Pin::new(&[T::get(State::High), T::get(State::High)]);
        let mut key = GpioKeySwitch::new(pin, false, D);
        assert!(key.is_on().unwrap());
        key.pin.done();
    }
}
