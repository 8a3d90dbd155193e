//! The booth's two queues, which every part may use: events to the loop (`Events`, what the
//! devices, the review and the payment found) and messages to the screen (`UiSink`, the view
//! and the camera's images).

use std::sync::Arc;

use gradbooth_hal::RgbImage;
use slint::{Rgb8Pixel, SharedPixelBuffer};

use crate::visit::{Event, GlassesPolicy, View};

/// Where the devices and services send what they find: the loop's event queue.
pub type Events = tokio::sync::mpsc::UnboundedSender<Event>;

/// What the runtime sends to the UI thread.
#[derive(Clone)]
pub enum UiMsg {
    View(Box<View>),
    /// A live preview frame, already cropped and scaled.
    Preview(SharedPixelBuffer<Rgb8Pixel>),
    /// The photo just captured (full resolution) or its standard version after a passing
    /// review, or `None` to clear it when a visit ends.
    Photo(Option<Arc<RgbImage>>),
    /// The live hint (a code for `Texts.hint`), empty to clear.
    Hint(&'static str),
    Chair {
        height_percent: Option<u8>,
        fault: Option<String>,
    },
    /// What the diagnostics mode's current page shows (`diagnostics::panel`).
    Panel(Box<Panel>),
    /// The staffed studios open today (sent at start and when the day changes).
    Studios(Vec<Place>),
    /// The configuration's facts, anew: the booth switched to a new generation.
    Facts(Box<Facts>),
    /// What is on an operator's stick, for the desk (`None`: the desk closed, forget it).
    Desk(Option<Box<DeskReport>>),
}

/// What the desk shows of an operator's stick (`operators::desk`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskReport {
    /// The stick could not be read (code, detail): nothing on it is used.
    pub stick_error: Option<(String, String)>,
    pub bundles: Vec<DeskBundle>,
}

/// One bundle on the stick: valid (its changes) or refused (why).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskBundle {
    pub name: String,
    pub serial: Option<u64>,
    /// Why it is refused (code, detail); `None`: valid.
    pub refusal: Option<(String, String)>,
    /// The one the apply button applies.
    pub applicable: bool,
    pub signers: Vec<String>,
    /// The first 16 hex digits of its SHA-256, to compare with the office's printout.
    pub short_hash: String,
    pub comment: String,
    pub changes: Vec<DeskChange>,
    /// (code, detail) of what an operator should look at twice.
    pub warnings: Vec<(String, String)>,
}

/// One setting, before → after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskChange {
    /// The section it is in (`service`, `payment`, `lights.glasses`).
    pub group: String,
    pub key: String,
    pub before: String,
    pub after: String,
    /// "everyday", "money" or "trust".
    pub kind: &'static str,
}

/// Facts from the configuration that every screen may show.
#[derive(Debug, Clone)]
pub struct Facts {
    pub photo_type: String,
    pub location: String,
    pub location_en: String,
    /// "09:00–16:30".
    pub hours: String,
    pub period: String,
    pub help_phone: String,
    pub data_phone: String,
    pub price_fen: u32,
    pub attempts_max: u8,
    pub kept_minutes: u32,
    pub codes_by_camera: bool,
    pub glasses: GlassesPolicy,
}

/// A place a graduate can go to instead, as the screen names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub name: String,
    pub name_en: String,
    pub address: String,
    pub address_en: String,
    /// "09:00–16:30".
    pub hours: String,
}

/// One page of the diagnostics mode: its lines, and whether a check on it is running.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    pub page: Option<crate::visit::ServicePage>,
    pub rows: Vec<Row>,
    /// A check or action of this page is running (its button waits).
    pub busy: bool,
    /// The face the last test capture found, as fractions of the live picture: x, y, width,
    /// height (the camera page draws it).
    pub face: Option<[f32; 4]>,
}

/// One line of a diagnostics page: what, in Chinese and English, its value, and its mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: String,
    pub label_en: String,
    pub value: String,
    pub mark: Mark,
    /// A light channel this line controls (the lights page's buttons), else empty.
    pub channel: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Warn,
    Fail,
    Info,
}

impl Row {
    pub fn new(label: &str, label_en: &str, value: impl Into<String>, mark: Mark) -> Row {
        Row { label: label.into(), label_en: label_en.into(), value: value.into(), mark, channel: String::new() }
    }
    pub fn info(label: &str, label_en: &str, value: impl Into<String>) -> Row {
        Row::new(label, label_en, value, Mark::Info)
    }
    /// Ok or Fail by `ok`.
    pub fn check(label: &str, label_en: &str, value: impl Into<String>, ok: bool) -> Row {
        Row::new(label, label_en, value, if ok { Mark::Ok } else { Mark::Fail })
    }
}

/// Where the runtime sends UI messages: the Slint event loop, or a channel (demo, tests).
pub trait UiSink: Send + Sync + 'static {
    fn send(&self, msg: UiMsg);
}

impl UiSink for std::sync::mpsc::Sender<UiMsg> {
    fn send(&self, msg: UiMsg) {
        // The receiver is gone only while shutting down; nothing to show then.
        let _ = std::sync::mpsc::Sender::send(self, msg);
    }
}
