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
