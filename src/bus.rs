//! The booth's two queues, which every part may use: events to the loop (`Events`, what the
//! devices, the review and the payment found) and messages to the screen (`UiSink`, the view
//! and the camera's images).

use std::sync::Arc;

use gradbooth_hal::RgbImage;
use slint::{Rgb8Pixel, SharedPixelBuffer};

use crate::visit::{Event, View};

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
