//! A device opened on first use, and again on later calls while it cannot be: a booth whose
//! GPIO cannot be opened at start-up (wrong permissions, not a Pi) starts out of service with
//! the device's fault on screen, and comes into service once the device opens — it does not
//! refuse to start. The runtime's back-off paces the attempts.

use std::time::Duration;

use tracing::info;

use crate::{Chair, ChairReport, DeviceError, LightLevels, Lights, Motion};

pub struct Opening<D, F> {
    open: F,
    device: Option<D>,
}

impl<D, F: FnMut() -> Result<D, DeviceError>> Opening<D, F> {
    pub fn new(open: F) -> Self {
        Opening { open, device: None }
    }

    fn get(&mut self) -> Result<&mut D, DeviceError> {
        if self.device.is_none() {
            let d = (self.open)()?;
            info!("device opened");
            self.device = Some(d);
        }
        Ok(self.device.as_mut().expect("opened above"))
    }
}

impl<D: Chair, F: FnMut() -> Result<D, DeviceError> + Send> Chair for Opening<D, F> {
    fn drive(&mut self, motion: Motion) -> Result<(), DeviceError> {
        match (motion, self.device.as_mut()) {
            // Nothing to stop on a chair that never opened (its outputs were never driven).
            (Motion::Stop, None) => Ok(()),
            _ => self.get()?.drive(motion),
        }
    }
    fn poll(&mut self, timeout: Duration) -> Result<ChairReport, DeviceError> {
        self.get()?.poll(timeout)
    }
}

impl<D: Lights, F: FnMut() -> Result<D, DeviceError> + Send> Lights for Opening<D, F> {
    fn apply(&mut self, levels: &LightLevels) -> Result<(), DeviceError> {
        self.get()?.apply(levels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeviceKind;
    use crate::sim::{ChairModel, SimChair, SimControls};

    #[test]
    fn a_device_that_cannot_open_reports_it_and_opens_when_it_can() {
        let mut tries = 0;
        let controls = SimControls::new();
        let c = controls.clone();
        let mut chair = Opening::new(move || {
            tries += 1;
            if tries < 3 {
                Err(DeviceError::Disconnected { device: DeviceKind::Chair, detail: format!("try {tries}") })
            } else {
                Ok(SimChair::new(c.clone(), ChairModel::default()))
            }
        });
        assert!(chair.drive(Motion::Stop).is_ok(), "stopping a chair that never opened is safe");
        assert!(chair.poll(Duration::from_millis(1)).unwrap_err().to_string().contains("try 1"));
        assert!(chair.drive(Motion::Up).unwrap_err().to_string().contains("try 2"));
        chair.drive(Motion::Up).unwrap();
        assert_eq!(controls.chair_motion(), Motion::Up);
        chair.drive(Motion::Stop).unwrap();
        assert_eq!(controls.chair_motion(), Motion::Stop);
    }
}
