//! The booth's lights on GPIO, written against `embedded-hal` 1.0: each named channel (key
//! left, key right, fill, background …) is a relay (on when its level is above 0) or a PWM
//! output (duty cycle = level in percent). The runtime applies the presets of
//! `[lights]` — idle, and preview/capture per lighting mode; the capture level is held until
//! the runtime applies the next one. Dropping the driver switches every channel off.

use embedded_hal::digital::OutputPin;
use embedded_hal::pwm::SetDutyCycle;

use crate::{DeviceError, DeviceKind, LightLevels, Lights};

/// How the light channels are wired (`[hardware.lights]`).
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LightsWiring {
    /// PWM frequency of dimmable channels, Hz (high enough not to flicker on camera).
    #[serde(default = "pwm_hz")]
    pub pwm_hz: f64,
    /// Channel name (as in `[lights] channels`) → its pin.
    pub channels: std::collections::BTreeMap<String, LightPin>,
}

fn pwm_hz() -> f64 {
    1000.0
}

#[derive(Debug, Clone, Copy, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LightPin {
    /// BCM GPIO number.
    pub pin: u8,
    /// Dimmable (PWM); otherwise a relay, on above level 0.
    #[serde(default)]
    pub pwm: bool,
    /// The driver switches on at a low level.
    #[serde(default)]
    pub active_low: bool,
}

/// How a channel is wired.
pub enum Channel<O, P> {
    Relay { pin: O, active_low: bool },
    Pwm(P),
}

pub struct GpioLights<O: OutputPin, P: SetDutyCycle> {
    channels: Vec<(String, Channel<O, P>)>,
}

fn fault(channel: &str, e: impl std::fmt::Debug) -> DeviceError {
    DeviceError::Fault { device: DeviceKind::Lights, detail: format!("channel {channel}: {e:?}") }
}

impl<O: OutputPin, P: SetDutyCycle> GpioLights<O, P> {
    /// Takes the channels and switches them all off.
    pub fn new(channels: Vec<(String, Channel<O, P>)>) -> Result<Self, DeviceError> {
        let mut lights = GpioLights { channels };
        lights.all_off()?;
        Ok(lights)
    }

    fn set(name: &str, channel: &mut Channel<O, P>, level: u8) -> Result<(), DeviceError> {
        match channel {
            Channel::Relay { pin, active_low } => {
                let on = level > 0;
                if on != *active_low { pin.set_high() } else { pin.set_low() }.map_err(|e| fault(name, e))
            }
            Channel::Pwm(pwm) => pwm.set_duty_cycle_percent(level.min(100)).map_err(|e| fault(name, e)),
        }
    }

    /// Sets every channel to `level(name)`; tries them all even when one fails.
    fn set_all(&mut self, level: impl Fn(&str) -> u8) -> Result<(), DeviceError> {
        let mut first_error = None;
        for (name, channel) in &mut self.channels {
            if let Err(e) = Self::set(name, channel, level(name)) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    pub fn all_off(&mut self) -> Result<(), DeviceError> {
        self.set_all(|_| 0)
    }
}

impl<O: OutputPin + Send, P: SetDutyCycle + Send> Lights for GpioLights<O, P> {
    /// Channels the levels do not name go off.
    fn apply(&mut self, levels: &LightLevels) -> Result<(), DeviceError> {
        self.set_all(|name| levels.get(name))
    }
}

impl<O: OutputPin, P: SetDutyCycle> Drop for GpioLights<O, P> {
    fn drop(&mut self) {
        let _ = self.all_off();
    }
}

#[cfg(test)]
mod tests {
    use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as T};
    use embedded_hal_mock::eh1::pwm::{Mock as Pwm, Transaction as D};

    use super::*;

    /// `set_duty_cycle_percent(p)` on a 0..=1000 PWM: asks the maximum, then sets p × 10.
    fn duty(percent: u16) -> [D; 2] {
        [D::max_duty_cycle(1000), D::set_duty_cycle(percent * 10)]
    }

    fn levels(pairs: &[(&str, u8)]) -> LightLevels {
        LightLevels(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }

    #[test]
    fn presets_set_relays_and_duty_cycles_and_everything_goes_off_at_the_end() {
        // background: a relay that switches on low; key_left: PWM.
        let relay = Pin::new(&[
            T::set(State::High), // new: off
            T::set(State::Low),  // preview: on
            T::set(State::High), // capture without it: off
            T::set(State::High), // idle: off
            T::set(State::High), // drop: off
        ]);
        let pwm = Pwm::new(&[duty(0), duty(40), duty(100), duty(0), duty(0)].concat());
        let mut lights = GpioLights::new(vec![
            ("background".to_string(), Channel::Relay { pin: relay.clone(), active_low: true }),
            ("key_left".to_string(), Channel::<Pin, Pwm>::Pwm(pwm.clone())),
        ])
        .unwrap();
        lights.apply(&levels(&[("background", 80), ("key_left", 40)])).unwrap();
        // A capture preset that leaves the background out switches it off; levels cap at 100.
        lights.apply(&levels(&[("key_left", 255)])).unwrap();
        lights.apply(&levels(&[])).unwrap();
        drop(lights);
        let (mut relay, mut pwm) = (relay, pwm);
        relay.done();
        pwm.done();
    }
}
