//! A chair whose seat moves at a fixed speed between two limit switches, with a maximum
//! continuous run time, driven like the real motor.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{Limit, SimControls};
use crate::{Chair, ChairReport, DeviceError, DeviceKind, Motion};

/// The physical model: travel, speed and the safety limit on a continuous run.
#[derive(Debug, Clone, Copy)]
pub struct ChairModel {
    pub travel_mm: f32,
    pub speed_mm_s: f32,
    pub max_run: Duration,
}

impl Default for ChairModel {
    fn default() -> Self {
        Self { travel_mm: 150.0, speed_mm_s: 25.0, max_run: Duration::from_secs(10) }
    }
}

#[derive(Debug)]
struct State {
    position_mm: f32,
    motion: Motion,
    run_started: Option<Instant>,
    last_update: Instant,
}

pub struct SimChair {
    controls: SimControls,
    model: ChairModel,
    state: Arc<Mutex<State>>,
}

impl SimChair {
    pub fn new(controls: SimControls, model: ChairModel) -> Self {
        let state = State {
            position_mm: model.travel_mm / 2.0,
            motion: Motion::Stop,
            run_started: None,
            last_update: Instant::now(),
        };
        Self { controls, model, state: Arc::new(Mutex::new(state)) }
    }

    fn advance(&self, now: Instant) -> Result<ChairReport, DeviceError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let dt = now.saturating_duration_since(s.last_update).as_secs_f32();
        s.last_update = now;
        let delta = if self.controls.chair_jammed() { 0.0 } else { self.model.speed_mm_s * dt };
        match s.motion {
            Motion::Up => s.position_mm = (s.position_mm + delta).min(self.model.travel_mm),
            Motion::Down => s.position_mm = (s.position_mm - delta).max(0.0),
            Motion::Stop => {}
        }
        // A switch that never closes reports nothing at the end of the travel.
        let at_top = s.position_mm >= self.model.travel_mm && !self.controls.limit_stuck(Limit::Top);
        let at_bottom = s.position_mm <= 0.0 && !self.controls.limit_stuck(Limit::Bottom);
        let mut fault = None;
        if (s.motion == Motion::Up && at_top) || (s.motion == Motion::Down && at_bottom) {
            s.motion = Motion::Stop;
            s.run_started = None;
        }
        if let Some(start) = s.run_started
            && now.saturating_duration_since(start) > self.model.max_run
        {
            s.motion = Motion::Stop;
            s.run_started = None;
            fault = Some(format!("ran longer than {} s without reaching a limit", self.model.max_run.as_secs()));
        }
        self.controls.set_chair_motion(s.motion);
        if let Some(detail) = fault {
            return Err(DeviceError::Fault { device: DeviceKind::Chair, detail });
        }
        Ok(ChairReport {
            motion: s.motion,
            at_top,
            at_bottom,
            height_percent: Some((s.position_mm / self.model.travel_mm * 100.0).round() as u8),
            buttons: Vec::new(),
        })
    }
}

impl Chair for SimChair {
    fn drive(&mut self, motion: Motion) -> Result<(), DeviceError> {
        self.controls.check_plugged(DeviceKind::Chair)?;
        self.advance(Instant::now())?;
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.motion != motion {
            s.motion = motion;
            s.run_started = (motion != Motion::Stop).then(Instant::now);
            self.controls.set_chair_motion(motion);
        }
        Ok(())
    }

    fn poll(&mut self, timeout: Duration) -> Result<ChairReport, DeviceError> {
        self.controls.check_plugged(DeviceKind::Chair)?;
        let deadline = Instant::now() + timeout;
        loop {
            let buttons = self.controls.take_buttons();
            let now = Instant::now();
            if !buttons.is_empty() || now >= deadline {
                let mut report = self.advance(now)?;
                report.buttons = buttons;
                return Ok(report);
            }
            thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    }
}

impl Drop for SimChair {
    fn drop(&mut self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).motion = Motion::Stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeatButton;

    fn fast() -> ChairModel {
        ChairModel { travel_mm: 10.0, speed_mm_s: 200.0, max_run: Duration::from_secs(5) }
    }

    #[test]
    fn driving_up_stops_at_the_top_limit() {
        let mut chair = SimChair::new(SimControls::new(), fast());
        chair.drive(Motion::Up).unwrap();
        thread::sleep(Duration::from_millis(60));
        let r = chair.poll(Duration::ZERO).unwrap();
        assert!(r.at_top);
        assert_eq!(r.motion, Motion::Stop);
        assert_eq!(r.height_percent, Some(100));
    }

    #[test]
    fn a_run_longer_than_the_maximum_is_a_fault_and_stops_the_motor() {
        let model = ChairModel { travel_mm: 1000.0, speed_mm_s: 1.0, max_run: Duration::from_millis(30) };
        let mut chair = SimChair::new(SimControls::new(), model);
        chair.drive(Motion::Down).unwrap();
        thread::sleep(Duration::from_millis(50));
        assert!(matches!(chair.poll(Duration::ZERO), Err(DeviceError::Fault { device: DeviceKind::Chair, .. })));
        assert_eq!(chair.poll(Duration::ZERO).unwrap().motion, Motion::Stop);
    }

    #[test]
    fn a_top_limit_that_never_closes_leaves_only_the_run_time_guard_to_stop_the_seat() {
        let controls = SimControls::new();
        let model = ChairModel { travel_mm: 10.0, speed_mm_s: 200.0, max_run: Duration::from_millis(150) };
        let mut chair = SimChair::new(controls.clone(), model);
        controls.stick_limit(Limit::Top, true);
        chair.drive(Motion::Up).unwrap();
        thread::sleep(Duration::from_millis(60));
        let r = chair.poll(Duration::ZERO).unwrap();
        assert_eq!((r.at_top, r.motion, r.height_percent), (false, Motion::Up, Some(100)), "at the end, still running");
        thread::sleep(Duration::from_millis(120));
        assert!(matches!(chair.poll(Duration::ZERO), Err(DeviceError::Fault { device: DeviceKind::Chair, .. })));
        assert_eq!(controls.chair_motion(), Motion::Stop);
        // Mended, the same run stops at the limit.
        controls.stick_limit(Limit::Top, false);
        chair.drive(Motion::Up).unwrap();
        assert!(chair.poll(Duration::from_millis(20)).unwrap().at_top);
    }

    #[test]
    fn seat_button_presses_are_reported_once() {
        let controls = SimControls::new();
        let mut chair = SimChair::new(controls.clone(), fast());
        controls.seat_button(SeatButton::UpPressed);
        controls.seat_button(SeatButton::Released);
        let r = chair.poll(Duration::from_millis(20)).unwrap();
        assert_eq!(r.buttons, vec![SeatButton::UpPressed, SeatButton::Released]);
        assert!(chair.poll(Duration::ZERO).unwrap().buttons.is_empty());
    }
}
