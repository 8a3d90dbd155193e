//! The few words the booth's visit and its devices share: which device, which way the chair
//! runs, what the seat's button did. Pure data, so the visit machine can use them without
//! depending on any driver.

use std::fmt;

/// Which device a fault or status belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Camera,
    QrScanner,
    Chair,
    Lights,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 4] = [Self::Camera, Self::QrScanner, Self::Chair, Self::Lights];

    /// Stable code used in logs and by the UI to pick its text.
    pub fn code(self) -> &'static str {
        match self {
            Self::Camera => "camera",
            Self::QrScanner => "qr_scanner",
            Self::Chair => "chair",
            Self::Lights => "lights",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Which way the chair motor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    Up,
    Down,
    #[default]
    Stop,
}

/// The seat's own button (lower right of the seat), as the graduate presses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatButton {
    UpPressed,
    DownPressed,
    Released,
}
