//! The chair's safety rules against `embedded-hal-mock` pins: every output change and every
//! input read is an expectation, so an extra or missing pin write fails the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as T};

use super::*;

const TIMING: ChairTiming = ChairTiming {
    debounce: Duration::from_millis(30),
    dead_time: Duration::from_millis(300),
    max_run: Duration::from_millis(15_000),
};

/// A test's clock: milliseconds set by hand.
#[derive(Clone)]
struct Clock {
    base: Instant,
    ms: Arc<AtomicU64>,
}

impl Clock {
    fn new() -> Self {
        Clock { base: Instant::now(), ms: Arc::default() }
    }
    fn set(&self, ms: u64) {
        self.ms.store(ms, Ordering::SeqCst);
    }
    fn f(&self) -> impl Fn() -> Instant + Send + use<> {
        let c = self.clone();
        move || c.base + Duration::from_millis(c.ms.load(Ordering::SeqCst))
    }
}

/// Output writes, for relays that switch on a high level.
fn on() -> T {
    T::set(State::High)
}
fn off() -> T {
    T::set(State::Low)
}

/// The inputs' mocks for a run of polls: per poll, which of (button up, button down, top,
/// bottom) are closed. Closed pulls the (active-low) input low.
fn inputs(polls: &[[bool; 4]]) -> (ChairInputs<Pin>, [Pin; 4]) {
    let pin = |i: usize| {
        Pin::new(&polls.iter().map(|p| T::get(if p[i] { State::Low } else { State::High })).collect::<Vec<_>>())
    };
    let pins = [pin(0), pin(1), pin(2), pin(3)];
    let [a, b, c, d] = pins.clone();
    (ChairInputs { button_up: a, button_down: b, top_limit: c, bottom_limit: d }, pins)
}

struct Rig {
    chair: GpioChair<Pin, Pin, Box<dyn Fn() -> Instant + Send>>,
    pins: Vec<Pin>,
    clock: Clock,
}

impl Rig {
    fn new(up: &[T], down: &[T], polls: &[[bool; 4]]) -> Rig {
        let clock = Clock::new();
        let (up, down) = (Pin::new(up), Pin::new(down));
        let (inputs, input_pins) = inputs(polls);
        let chair =
            GpioChair::new(up.clone(), down.clone(), false, inputs, true, TIMING, Box::new(clock.f()) as Box<_>)
                .unwrap();
        let mut pins = vec![up, down];
        pins.extend(input_pins);
        Rig { chair, pins, clock }
    }
    fn poll_at(&mut self, ms: u64) -> Result<ChairReport, DeviceError> {
        self.clock.set(ms);
        self.chair.poll(Duration::ZERO)
    }
    /// Drops the chair (its outputs go off) and checks every expectation was met.
    fn done(self) {
        let Rig { chair, pins, .. } = self;
        drop(chair);
        for mut p in pins {
            p.done();
        }
    }
}

const IDLE: [bool; 4] = [false; 4];
const TOP: [bool; 4] = [false, false, true, false];

#[test]
fn starting_switches_off_first_and_dropping_switches_everything_off() {
    // new: up off, down off; drive Up: down off, up on; drop: up off, down off.
    let mut rig = Rig::new(&[off(), on(), off()], &[off(), off(), off()], &[]);
    rig.chair.drive(Motion::Up).unwrap();
    rig.done();
}

#[test]
fn reversing_waits_the_dead_time_with_both_outputs_off() {
    let mut rig = Rig::new(
        // new, Up, stop for the reversal, (Down: up off first), drop
        &[off(), on(), off(), off(), off()],
        &[off(), off(), off(), on(), off()],
        &[IDLE, IDLE],
    );
    rig.chair.drive(Motion::Up).unwrap();
    rig.clock.set(1000);
    rig.chair.drive(Motion::Down).unwrap();
    assert_eq!(rig.poll_at(1299).unwrap().motion, Motion::Stop, "still in the dead time");
    assert_eq!(rig.poll_at(1300).unwrap().motion, Motion::Down);
    rig.done();
}

#[test]
fn the_top_limit_stops_the_motor_and_a_drive_towards_it_does_not_start() {
    let mut rig = Rig::new(
        // new, Up, stopped by the limit, drive Up at the limit (stop again), drop
        &[off(), on(), off(), off(), off()],
        &[off(), off(), off(), off(), off()],
        &[TOP, TOP],
    );
    rig.chair.drive(Motion::Up).unwrap();
    let first = rig.poll_at(100).unwrap();
    assert_eq!((first.motion, first.at_top), (Motion::Up, false), "a 0 ms contact is not yet a limit");
    let held = rig.poll_at(130).unwrap();
    assert_eq!((held.motion, held.at_top), (Motion::Stop, true));
    rig.chair.drive(Motion::Up).unwrap();
    rig.done();
}

#[test]
fn a_run_longer_than_the_maximum_stops_and_reports_a_fault() {
    let mut rig = Rig::new(&[off(), on(), off(), off()], &[off(), off(), off(), off()], &[IDLE, IDLE]);
    rig.chair.drive(Motion::Up).unwrap();
    assert_eq!(rig.poll_at(14_999).unwrap().motion, Motion::Up);
    let err = rig.poll_at(15_000).unwrap_err();
    assert!(matches!(err, DeviceError::Fault { device: DeviceKind::Chair, .. }), "{err}");
    assert!(err.to_string().contains("stopped"), "{err}");
    rig.done();
}

#[test]
fn button_presses_are_debounced_and_reported_once() {
    const UP: [bool; 4] = [true, false, false, false];
    const BOTH: [bool; 4] = [true, true, false, false];
    let mut rig = Rig::new(&[off(), off()], &[off(), off()], &[UP, IDLE, UP, UP, UP, BOTH, BOTH, IDLE]);
    let buttons = |r: Result<ChairReport, DeviceError>| r.unwrap().buttons;
    // A 10 ms bounce is nothing.
    assert!(buttons(rig.poll_at(0)).is_empty());
    assert!(buttons(rig.poll_at(10)).is_empty());
    assert!(buttons(rig.poll_at(20)).is_empty());
    // Held for 30 ms: pressed, once.
    assert_eq!(buttons(rig.poll_at(50)), [SeatButton::UpPressed]);
    assert!(buttons(rig.poll_at(80)).is_empty());
    // Both halves pressed at once: never both directions — it counts as released.
    assert!(buttons(rig.poll_at(90)).is_empty());
    assert_eq!(buttons(rig.poll_at(120)), [SeatButton::Released]);
    // Let go: the debounced level was already "released", nothing more.
    assert!(buttons(rig.poll_at(200)).is_empty());
    rig.done();
}

#[test]
fn relays_that_switch_on_low_get_inverted_levels() {
    let clock = Clock::new();
    let up = Pin::new(&[on(), off(), on()]);
    let down = Pin::new(&[on(), on(), on()]);
    let (inputs, input_pins) = inputs(&[]);
    let mut chair = GpioChair::new(up.clone(), down.clone(), true, inputs, true, TIMING, clock.f()).unwrap();
    chair.drive(Motion::Up).unwrap();
    drop(chair);
    for mut p in [up, down].into_iter().chain(input_pins) {
        p.done();
    }
}
