//! The Raspberry Pi's GPIO through `rppal`: real pins for the chair and light drivers, set up
//! from `[hardware.chair]` and `[hardware.lights]`. Outputs start in their *off* level (an
//! active-low relay starts high), so opening the pins never twitches a relay.

use std::time::Instant;

use embedded_hal::pwm::{ErrorKind, ErrorType, SetDutyCycle};
use rppal::gpio::{Gpio, InputPin, OutputPin};

use crate::gpio_chair::{ChairConfig, ChairInputs, GpioChair};
use crate::gpio_lights::{Channel, GpioLights, LightsWiring};
use crate::{DeviceError, DeviceKind};

fn gpio_error(device: DeviceKind, what: &str, e: rppal::gpio::Error) -> DeviceError {
    DeviceError::Disconnected { device, detail: format!("{what}: {e}") }
}

fn output(gpio: &Gpio, device: DeviceKind, pin: u8, active_low: bool) -> Result<OutputPin, DeviceError> {
    let p = gpio.get(pin).map_err(|e| gpio_error(device, &format!("GPIO {pin}"), e))?;
    Ok(if active_low { p.into_output_high() } else { p.into_output_low() })
}

fn input(gpio: &Gpio, pin: u8, active_low: bool) -> Result<InputPin, DeviceError> {
    let p = gpio.get(pin).map_err(|e| gpio_error(DeviceKind::Chair, &format!("GPIO {pin}"), e))?;
    Ok(if active_low { p.into_input_pullup() } else { p.into_input_pulldown() })
}

/// The chair on the Pi's pins, timed by the real clock.
pub type PiChair = GpioChair<OutputPin, InputPin, fn() -> Instant>;

/// The chair on the configured pins.
pub fn chair(c: &ChairConfig) -> Result<PiChair, DeviceError> {
    let gpio = Gpio::new().map_err(|e| gpio_error(DeviceKind::Chair, "opening the GPIO", e))?;
    let inputs = ChairInputs {
        button_up: input(&gpio, c.button_up_pin, c.inputs_active_low)?,
        button_down: input(&gpio, c.button_down_pin, c.inputs_active_low)?,
        top_limit: input(&gpio, c.top_limit_pin, c.inputs_active_low)?,
        bottom_limit: input(&gpio, c.bottom_limit_pin, c.inputs_active_low)?,
    };
    GpioChair::new(
        output(&gpio, DeviceKind::Chair, c.up_pin, c.outputs_active_low)?,
        output(&gpio, DeviceKind::Chair, c.down_pin, c.outputs_active_low)?,
        c.outputs_active_low,
        inputs,
        c.inputs_active_low,
        c.timing(),
        Instant::now as fn() -> Instant,
    )
}

/// A dimmable channel: rppal's software PWM on an output pin, duty in thousandths.
pub struct SoftPwm {
    pin: OutputPin,
    hz: f64,
    active_low: bool,
}

#[derive(Debug)]
pub struct PwmError(pub rppal::gpio::Error);

impl embedded_hal::pwm::Error for PwmError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

impl ErrorType for SoftPwm {
    type Error = PwmError;
}

impl SetDutyCycle for SoftPwm {
    fn max_duty_cycle(&self) -> u16 {
        1000
    }
    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), PwmError> {
        let on = f64::from(duty.min(1000)) / 1000.0;
        let level = if self.active_low { 1.0 - on } else { on };
        if level <= 0.0 || level >= 1.0 {
            // Fully off or on: a steady level, no PWM thread.
            self.pin.clear_pwm().map_err(PwmError)?;
            if level >= 1.0 {
                self.pin.set_high()
            } else {
                self.pin.set_low()
            }
            Ok(())
        } else {
            self.pin.set_pwm_frequency(self.hz, level).map_err(PwmError)
        }
    }
}

/// The lights on the configured pins.
pub fn lights(w: &LightsWiring) -> Result<GpioLights<OutputPin, SoftPwm>, DeviceError> {
    let gpio = Gpio::new().map_err(|e| gpio_error(DeviceKind::Lights, "opening the GPIO", e))?;
    let mut channels = Vec::new();
    for (name, p) in &w.channels {
        let pin = output(&gpio, DeviceKind::Lights, p.pin, p.active_low)?;
        let channel = if p.pwm {
            Channel::Pwm(SoftPwm { pin, hz: w.pwm_hz, active_low: p.active_low })
        } else {
            Channel::Relay { pin, active_low: p.active_low }
        };
        channels.push((name.clone(), channel));
    }
    GpioLights::new(channels)
}

/// The service key switch on its pin (debounced 30 ms).
pub fn key_switch(
    c: &crate::key_switch::KeySwitchConfig,
) -> Result<crate::key_switch::GpioKeySwitch<InputPin>, crate::key_switch::KeySwitchError> {
    let err = |e: rppal::gpio::Error| crate::key_switch::KeySwitchError(format!("GPIO {}: {e}", c.key_pin));
    let p = Gpio::new().map_err(err)?.get(c.key_pin).map_err(err)?;
    let pin = if c.active_low { p.into_input_pullup() } else { p.into_input_pulldown() };
    Ok(crate::key_switch::GpioKeySwitch::new(pin, c.active_low, std::time::Duration::from_millis(30)))
}
