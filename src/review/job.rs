//! The photo review at work in the booth: one photo under review on a blocking thread
//! (`ReviewJob`: journaled, the standard photo of a pass stored crash-safe and shown, the
//! result dropped when its visit ended meanwhile), and the review kept as a part of the booth
//! (`review_keeper`: checked at start-up and while failing, `Fault(Part::Review)` once,
//! `Restored` once).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gradbooth_hal::RgbImage;
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::bus::{Events, UiMsg, UiSink};
use crate::clock::WallClock;
use crate::journal::PhotoKind;
use crate::journal::storage::Storage;
use crate::review::Reviewer;
use crate::visit::{Event, LightingMode, Part, PhotoId};

/// How often a photo review that cannot judge photos (models missing or failing) is checked again.
const REVIEW_RECHECK: Duration = Duration::from_secs(30);

/// A capture of this visit: in memory for the review, on disk (crash-safe) for the journal.
pub struct Captured {
    pub image: Arc<RgbImage>,
    pub ticket_id: String,
    pub attempt: u8,
    pub file: String,
}

/// The captures of this visit, by id.
pub type PhotoStore = Arc<Mutex<BTreeMap<PhotoId, Arc<Captured>>>>;

/// One photo under review, on a blocking thread (a review takes about a second of CPU).
pub struct ReviewJob {
    pub photo: PhotoId,
    pub mode: LightingMode,
    pub reviewer: Arc<dyn Reviewer>,
    pub events: Events,
    /// Tells the review's keeper that the reviewer failed (the booth goes out of service).
    pub review_failures: mpsc::UnboundedSender<String>,
    pub ui: Arc<dyn UiSink>,
    pub standards: Arc<Mutex<BTreeMap<PhotoId, String>>>,
    pub storage: Arc<Storage>,
    pub wall_clock: WallClock,
    /// The visit counter (`Shell::visit_epoch`) and its value when the review began.
    pub epoch: Arc<Mutex<u64>>,
    pub visit: u64,
}

impl ReviewJob {
    pub fn run(self, captured: Option<Arc<Captured>>) {
        let photo = self.photo;
        let Some(captured) = captured else {
            error!(?photo, "photo to review is gone");
            let _ = self.events.send(Event::ReviewFailed { photo });
            return;
        };
        let Captured { image, ticket_id, attempt, file } = &*captured;
        if let Err(e) = self.storage.journal().photo_chosen(file, self.wall_clock.now_s()) {
            warn!(ticket = %ticket_id, attempt, error = %e, "choice of photo not recorded");
        }
        let started = std::time::Instant::now();
        let review = match self.reviewer.review(image, self.mode) {
            Ok(r) => r,
            Err(e) => {
                // The booth's own failure: the review's keeper takes it out of service, and the
                // visit ends with the attempt given back.
                error!(?photo, error = %e, "photo could not be reviewed");
                let _ = self.review_failures.send(e.to_string());
                return;
            }
        };
        let ms = started.elapsed().as_millis() as u64;
        // The visit may have ended meanwhile (the review's timeout, a device fault): then the
        // result is nobody's. Checked and acted on under the lock the end of a visit takes, so
        // a result is either wholly in its visit or wholly dropped.
        let current = self.epoch.lock().unwrap_or_else(|e| e.into_inner());
        if *current != self.visit {
            info!(?photo, ms, "review finished after its visit ended; result dropped");
            return;
        }
        self.keep(ticket_id, *attempt, review, ms);
        drop(current);
    }

    /// Journals the result, stores the standard photo of a pass and shows it, and tells the machine.
    fn keep(&self, ticket_id: &str, attempt: u8, review: crate::review::Review, ms: u64) {
        let photo = self.photo;
        let verdict = review.verdict;
        let codes: Vec<_> = verdict.findings.iter().map(|f| f.code).collect();
        let now = self.wall_clock.now_s();
        // Numbers only (no NaN): they go into the paid photo's manifest.
        let measures: BTreeMap<&str, f32> =
            review.measures.iter().filter(|(_, v)| v.is_finite()).map(|(k, v)| (*k, *v)).collect();
        let measures = serde_json::to_string(&measures).unwrap_or_else(|_| "{}".into());
        if let Err(e) = self.storage.journal().review(ticket_id, attempt, verdict.passed(), &codes, &measures, now) {
            error!(ticket = %ticket_id, attempt, error = %e, "review result not recorded");
        }
        info!(?photo, passed = verdict.passed(), ?codes, ms, "photo reviewed");
        if let Some(std) = review.standard {
            info!(?photo, bytes = std.jpeg.bytes.len(), quality = std.jpeg.quality, "standard photo made");
            if !std.jpeg.size_in_range {
                warn!(?photo, bytes = std.jpeg.bytes.len(), "standard photo outside the configured size range");
            }
            // Kept (crash-safe) as what a payment pays for; without it there is nothing to pay for.
            match self.storage.save_photo(ticket_id, attempt, PhotoKind::Standard, &std.jpeg.bytes, now) {
                Ok(file) => {
                    self.standards.lock().unwrap_or_else(|e| e.into_inner()).insert(photo, file);
                }
                Err(e) => {
                    error!(ticket = %ticket_id, attempt, error = %e, "standard photo could not be stored");
                    let _ = self.events.send(Event::ReviewFailed { photo });
                    return;
                }
            }
            // The graduate sees the standard photo before paying.
            self.ui.send(UiMsg::Photo(Some(Arc::new(std.image))));
        }
        let _ = self.events.send(Event::Reviewed { photo, verdict });
    }
}

/// The photo review as a part of the booth, like a device: checked at start-up and, while it
/// cannot judge photos, every `REVIEW_RECHECK`; a review that failed for the booth's own
/// reason counts as a failed check. `Fault(Part::Review)` is reported once, `Restored` once.
pub async fn review_keeper(reviewer: Arc<dyn Reviewer>, events: Events, mut failures: mpsc::UnboundedReceiver<String>) {
    let report = |faulted: bool| {
        let event = if faulted { Event::Fault(Part::Review) } else { Event::Restored(Part::Review) };
        let _ = events.send(event);
    };
    let mut faulted = false;
    let mut check = true;
    loop {
        if check {
            let r = reviewer.clone();
            let result = tokio::task::spawn_blocking(move || r.check()).await;
            match result.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                Ok(()) if faulted => {
                    faulted = false;
                    info!("photo review is back");
                    report(false);
                }
                Ok(()) => {}
                Err(e) => {
                    if !faulted {
                        faulted = true;
                        error!(error = %e, "photo review unavailable; out of service");
                        report(true);
                    } else {
                        debug!(error = %e, "photo review still unavailable");
                    }
                }
            }
        }
        tokio::select! {
            failure = failures.recv() => {
                let Some(reason) = failure else { return };
                if !faulted {
                    faulted = true;
                    error!(reason, "a photo review failed; out of service until the review answers again");
                    report(true);
                }
                check = false;
            }
            _ = tokio::time::sleep(REVIEW_RECHECK), if faulted => check = true,
        }
    }
}
