//! The chair-height motor on GPIO, written against `embedded-hal` 1.0 (rppal's pins on the
//! Pi, `embedded-hal-mock` in the tests).
//!
//! Two outputs drive a relay pair or an H-bridge (up, down); four inputs read the seat's own
//! up/down button (lower right of the seat) and the top and bottom limit switches. The
//! driver owns the safety rules, whatever it is told:
//! - never both outputs on: the other direction is switched off before one is switched on,
//!   and reversing waits `dead_time` with both off;
//! - a limit switch stops the motor, and a drive towards a reached limit does not start;
//! - a run longer than `max_run` (a stall, a stuck button, a broken limit switch) stops the
//!   motor and is reported as a fault;
//! - dropping the driver (the process exits, the thread ends) switches both outputs off.
//!
//! Inputs are debounced: a level counts once it has held for `debounce`.

use std::time::{Duration, Instant};

use embedded_hal::digital::{InputPin, OutputPin};
use serde::Deserialize;

use crate::{Chair, ChairReport, DeviceError, DeviceKind, Motion, SeatButton};

/// Timing of the chair's safety rules (`[hardware.chair]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChairTiming {
    pub debounce: Duration,
    pub dead_time: Duration,
    pub max_run: Duration,
}

/// Pins and polarity as the configuration gives them (BCM numbers).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChairConfig {
    pub up_pin: u8,
    pub down_pin: u8,
    /// A relay board that switches on a low level.
    #[serde(default)]
    pub outputs_active_low: bool,
    pub button_up_pin: u8,
    pub button_down_pin: u8,
    pub top_limit_pin: u8,
    pub bottom_limit_pin: u8,
    /// Buttons and limit switches that pull the input low when closed (with the pull-up on).
    #[serde(default = "yes")]
    pub inputs_active_low: bool,
    #[serde(default = "debounce_ms")]
    pub debounce_ms: u64,
    #[serde(default = "dead_time_ms")]
    pub dead_time_ms: u64,
    /// The longest the motor may run without stopping, from one end to the other and a margin.
    #[serde(default = "max_run_ms")]
    pub max_run_ms: u64,
}

fn yes() -> bool {
    true
}
fn debounce_ms() -> u64 {
    30
}
fn dead_time_ms() -> u64 {
    300
}
fn max_run_ms() -> u64 {
    15_000
}

impl ChairConfig {
    pub fn timing(&self) -> ChairTiming {
        ChairTiming {
            debounce: Duration::from_millis(self.debounce_ms),
            dead_time: Duration::from_millis(self.dead_time_ms),
            max_run: Duration::from_millis(self.max_run_ms),
        }
    }
}

/// The four inputs.
pub struct ChairInputs<I> {
    pub button_up: I,
    pub button_down: I,
    pub top_limit: I,
    pub bottom_limit: I,
}

/// An input's level after debouncing.
#[derive(Debug, Clone, Copy)]
struct Debounced {
    stable: bool,
    candidate: bool,
    since: Instant,
}

impl Debounced {
    fn new(now: Instant) -> Self {
        Debounced { stable: false, candidate: false, since: now }
    }
    fn sample(&mut self, level: bool, now: Instant, debounce: Duration) -> bool {
        if level != self.candidate {
            self.candidate = level;
            self.since = now;
        }
        if self.candidate != self.stable && now.duration_since(self.since) >= debounce {
            self.stable = self.candidate;
        }
        self.stable
    }
}

/// The chair's motor and switches. `C` tells the time (the real clock, or a test's).
pub struct GpioChair<O: OutputPin, I: InputPin, C: Fn() -> Instant> {
    up: O,
    down: O,
    outputs_active_low: bool,
    inputs: ChairInputs<I>,
    inputs_active_low: bool,
    timing: ChairTiming,
    clock: C,
    /// What the outputs do now.
    running: Motion,
    run_started: Instant,
    /// A reversal waiting out the dead time: the direction and when it may start.
    reversal: Option<(Motion, Instant)>,
    /// Debounced inputs: button up, button down, top, bottom.
    levels: [Debounced; 4],
    button: Option<SeatButton>,
}

fn fault(detail: impl Into<String>) -> DeviceError {
    DeviceError::Fault { device: DeviceKind::Chair, detail: detail.into() }
}

impl<O: OutputPin, I: InputPin, C: Fn() -> Instant> GpioChair<O, I, C> {
    /// Takes the pins and switches both outputs off at once.
    pub fn new(
        up: O,
        down: O,
        outputs_active_low: bool,
        inputs: ChairInputs<I>,
        inputs_active_low: bool,
        timing: ChairTiming,
        clock: C,
    ) -> Result<Self, DeviceError> {
        let now = clock();
        let mut chair = GpioChair {
            up,
            down,
            outputs_active_low,
            inputs,
            inputs_active_low,
            timing,
            clock,
            running: Motion::Stop,
            run_started: now,
            reversal: None,
            levels: [Debounced::new(now); 4],
            button: None,
        };
        chair.outputs(Motion::Stop)?;
        Ok(chair)
    }

    /// Sets the outputs for `motion`; the one being switched off always goes first.
    fn outputs(&mut self, motion: Motion) -> Result<(), DeviceError> {
        let low = self.outputs_active_low;
        let set = |pin: &mut O, on: bool| {
            if on != low { pin.set_high() } else { pin.set_low() }.map_err(|e| fault(format!("motor output: {e:?}")))
        };
        match motion {
            Motion::Stop => {
                // Both, even if the first fails.
                let a = set(&mut self.up, false);
                let b = set(&mut self.down, false);
                a.and(b)?;
            }
            Motion::Up => {
                set(&mut self.down, false)?;
                set(&mut self.up, true)?;
            }
            Motion::Down => {
                set(&mut self.up, false)?;
                set(&mut self.down, true)?;
            }
        }
        if motion != Motion::Stop && self.running == Motion::Stop {
            self.run_started = (self.clock)();
        }
        self.running = motion;
        Ok(())
    }

    /// Reads and debounces the inputs: (button up, button down, at top, at bottom).
    fn sample(&mut self, now: Instant) -> Result<[bool; 4], DeviceError> {
        let low = self.inputs_active_low;
        let ChairInputs { button_up, button_down, top_limit, bottom_limit } = &mut self.inputs;
        let mut out = [false; 4];
        for (i, pin) in [button_up, button_down, top_limit, bottom_limit].into_iter().enumerate() {
            let high = pin.is_high().map_err(|e| fault(format!("chair input: {e:?}")))?;
            out[i] = self.levels[i].sample(high != low, now, self.timing.debounce);
        }
        Ok(out)
    }

    fn at_limit(&self, motion: Motion) -> bool {
        match motion {
            Motion::Up => self.levels[2].stable,
            Motion::Down => self.levels[3].stable,
            Motion::Stop => false,
        }
    }

    /// One look at the switches and the clock: limits, the run-time guard, a pending reversal.
    fn step(&mut self, report: &mut ChairReport) -> Result<(), DeviceError> {
        let now = (self.clock)();
        let [up, down, top, bottom] = self.sample(now)?;
        report.at_top = top;
        report.at_bottom = bottom;
        let button = match (up, down) {
            (true, false) => Some(SeatButton::UpPressed),
            (false, true) => Some(SeatButton::DownPressed),
            // Both at once or neither: released (never both directions).
            _ => None,
        };
        if button != self.button {
            report.buttons.push(button.unwrap_or(SeatButton::Released));
            self.button = button;
        }
        if self.running != Motion::Stop && self.at_limit(self.running) {
            self.outputs(Motion::Stop)?;
        }
        if self.running != Motion::Stop && now.duration_since(self.run_started) >= self.timing.max_run {
            self.outputs(Motion::Stop)?;
            self.reversal = None;
            return Err(fault(format!(
                "the motor ran {} s without reaching a stop: stalled, stuck button or limit switch; stopped",
                self.timing.max_run.as_secs()
            )));
        }
        if let Some((motion, at)) = self.reversal
            && now >= at
        {
            self.reversal = None;
            if !self.at_limit(motion) {
                self.outputs(motion)?;
            }
        }
        Ok(())
    }
}

impl<O: OutputPin + Send, I: InputPin + Send, C: Fn() -> Instant + Send> Chair for GpioChair<O, I, C> {
    fn drive(&mut self, motion: Motion) -> Result<(), DeviceError> {
        self.reversal = None;
        match motion {
            Motion::Stop => self.outputs(Motion::Stop),
            _ if motion == self.running => Ok(()),
            // Towards a limit already reached: nothing to do.
            _ if self.at_limit(motion) => self.outputs(Motion::Stop),
            _ if self.running != Motion::Stop => {
                // Reversing: both off, then the dead time, then the other way (in `poll`).
                self.outputs(Motion::Stop)?;
                self.reversal = Some((motion, (self.clock)() + self.timing.dead_time));
                Ok(())
            }
            _ => self.outputs(motion),
        }
    }

    fn poll(&mut self, timeout: Duration) -> Result<ChairReport, DeviceError> {
        let deadline = (self.clock)() + timeout;
        let mut report = ChairReport::default();
        loop {
            self.step(&mut report)?;
            let now = (self.clock)();
            if !report.buttons.is_empty() || now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
        }
        report.motion = self.running;
        Ok(report)
    }
}

impl<O: OutputPin, I: InputPin, C: Fn() -> Instant> Drop for GpioChair<O, I, C> {
    fn drop(&mut self) {
        let _ = self.outputs(Motion::Stop);
    }
}

#[cfg(test)]
mod tests;
