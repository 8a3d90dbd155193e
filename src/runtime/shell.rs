//! The shell's hands: `Shell::run` carries out one `Command` of the visit machine, handing it
//! to the capability that does it (the device threads, the ticket check and the journal, the
//! review job, the payment orders). It runs on the loop's own thread (`runtime::start`'s
//! `block_on`), never on a tokio worker, so its fsync'd journal writes hold up no task.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use gradbooth_hal::CameraControls;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::bus::{Events, UiMsg, UiSink};
use crate::clock::WallClock;
use crate::config::Settings;
use crate::devices::workers::{CameraCmd, Links};
use crate::diagnostics::bench::Bench;
use crate::journal::storage::Storage;
use crate::payment::payer::Orders;
use crate::review::Reviewer;
use crate::review::job::{PhotoStore, ReviewJob};
use crate::ticket;
use crate::visit::{Command, Event, LightingMode, PhotoId, TicketGrant, TicketRefusal, VisitOutcome};

pub(super) struct Shell {
    pub(super) settings: Settings,
    /// Calendar time, for ticket validity.
    pub(super) wall_clock: WallClock,
    pub(super) events: Events,
    pub(super) ui: Arc<dyn UiSink>,
    pub(super) devices: Links,
    pub(super) photos: PhotoStore,
    /// Files of the standard photos made from passing captures: what a payment pays for.
    pub(super) standards: Arc<Mutex<BTreeMap<PhotoId, String>>>,
    pub(super) reviewer: Arc<dyn Reviewer>,
    pub(super) orders: Orders,
    pub(super) storage: Arc<Storage>,
    /// The journal could not record an attempt: the shutter must not fire for it.
    pub(super) attempt_unrecorded: bool,
    /// The exposure and white balance last sent to the camera.
    pub(super) camera_controls: Option<CameraControls>,
    /// Where photo ids come from (shared with the camera worker).
    pub(super) photo_ids: Arc<AtomicU32>,
    /// Counts the visits that ended; a review that finishes in another visit than it began in
    /// is dropped (`ReviewJob`). Its lock is held while a review's result is kept.
    pub(super) visit_epoch: Arc<Mutex<u64>>,
    /// Reviews that failed for the booth's own reason, to the review's keeper.
    pub(super) review_failures: mpsc::UnboundedSender<String>,
    /// The diagnostics mode's hands.
    pub(super) bench: Bench,
    /// The operators' desk's hands.
    pub(super) desk: crate::operators::desk::Desk,
    /// The machine's time of the step whose commands run now.
    pub(super) now: crate::visit::Instant,
}

impl Shell {
    fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    fn now_s(&self) -> i64 {
        self.wall_clock.now_s()
    }

    /// Deletes the photos whose time is up (see `Storage::sweep`).
    pub(super) fn sweep(&self) {
        match self.storage.sweep(self.now_s()) {
            Ok(0) => {}
            Ok(n) => info!(deleted = n, "photos deleted"),
            Err(e) => error!(error = %e, "photos could not be swept; will try again"),
        }
    }

    /// A standard photo of this ticket that passed review and is kept unpaid: read back,
    /// shown, and ready to be paid for (its visit reopened in the journal, so nothing deletes
    /// it while the graduate is here).
    fn kept_photo(&self, ticket_id: &str, now: i64) -> Option<PhotoId> {
        let retention = self.settings.unpaid_retention.as_secs() as i64;
        let kept = match self.storage.journal().kept_photo(ticket_id, now, retention) {
            Ok(k) => k?,
            Err(e) => {
                error!(ticket = %ticket_id, error = %e, "kept photos could not be looked up");
                return None;
            }
        };
        let path = self.storage.photo_path(&kept.file);
        let image = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| image::load_from_memory(&b).map(|i| i.to_rgb8()).map_err(|e| e.to_string()))
        {
            Ok(i) => i,
            Err(e) => {
                warn!(ticket = %ticket_id, error = %e, "kept photo unreadable; a new one must be taken");
                return None;
            }
        };
        if let Err(e) = self.storage.journal().visit_resumed(ticket_id, now) {
            error!(ticket = %ticket_id, error = %e, "resumed visit not recorded; the kept photo is not offered");
            return None;
        }
        let id = PhotoId(self.photo_ids.fetch_add(1, Ordering::Relaxed));
        self.standards.lock().unwrap_or_else(|e| e.into_inner()).insert(id, kept.file);
        self.ui.send(UiMsg::Photo(Some(Arc::new(image))));
        info!(ticket = %ticket_id, attempt = kept.attempt, "a kept photo can be paid for");
        Some(id)
    }

    /// A technician's or operator's action, in the journal's audit log.
    pub(super) fn audit(&self, actor: &str, action: &str, detail: &str) {
        if let Err(e) = self.storage.journal().audit(actor, action, detail, self.now_s()) {
            error!(actor, action, error = %e, "audit entry not recorded");
        }
    }

    /// A scanned code: verified as a ticket, then looked up in the journal (finished? a kept
    /// photo?); the machine hears the grant or the refusal.
    fn check_ticket(&self, text: &str) {
        let at = ticket::Checkpoint {
            keys: &self.settings.issuers,
            site: &self.settings.file.tickets.site,
            now: self.wall_clock.now_s(),
        };
        let now = at.now;
        let result = ticket::verify(text, &at).map(ticket::to_ticket).and_then(|t| {
            let state = self.storage.journal().ticket_seen(&t.id, now).map_err(|e| {
                error!(error = %e, "journal unavailable; ticket cannot be checked");
                TicketRefusal::CannotCheck
            })?;
            if state.finished {
                return Err(TicketRefusal::AlreadyFinished);
            }
            let kept_photo = self.kept_photo(&t.id, now);
            Ok(TicketGrant { ticket: t, attempts_used: state.attempts_used, kept_photo })
        });
        match &result {
            Ok(g) => info!(
                ticket = %g.ticket.id,
                attempts_used = g.attempts_used,
                kept_photo = g.kept_photo.is_some(),
                "ticket accepted"
            ),
            Err(r) => info!(refusal = r.code(), "ticket refused"),
        }
        self.emit(Event::TicketChecked(result));
    }

    /// The photo under review on a blocking thread (about a second of CPU); its result
    /// counts only in this visit (`visit_epoch`).
    fn review(&self, photo: PhotoId, mode: LightingMode) {
        let captured = self.photos.lock().unwrap_or_else(|e| e.into_inner()).get(&photo).cloned();
        let job = ReviewJob {
            photo,
            mode,
            reviewer: self.reviewer.clone(),
            events: self.events.clone(),
            review_failures: self.review_failures.clone(),
            ui: self.ui.clone(),
            standards: self.standards.clone(),
            storage: self.storage.clone(),
            wall_clock: self.wall_clock,
            epoch: self.visit_epoch.clone(),
            visit: *self.visit_epoch.lock().unwrap_or_else(|e| e.into_inner()),
        };
        tokio::task::spawn_blocking(move || job.run(captured));
    }

    /// The visit is over: journaled, its order given up, its photos out of memory and off the
    /// disk unless paid for.
    fn visit_ended(&mut self, ticket_id: Option<String>, outcome: VisitOutcome, paid_photo: Option<PhotoId>) {
        // From here on, a review still running belongs to no visit.
        *self.visit_epoch.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.orders.stop();
        if let Some(id) = &ticket_id {
            let paid = outcome == VisitOutcome::Paid;
            if let Err(e) = self.storage.journal().visit_ended(id, outcome.code(), paid, self.now_s()) {
                error!(ticket = %id, error = %e, "end of visit not recorded");
            }
        }
        // Photos leave memory with the visit, and the disk too unless paid for (the
        // paid standard photo waits in the outbox to leave the booth).
        self.sweep();
        self.photos.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.standards.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.ui.send(UiMsg::Photo(None));
        info!(ticket = ticket_id.as_deref().unwrap_or("-"), ?outcome, paid_photo = ?paid_photo.map(|p| p.0), "visit ended");
    }

    pub(super) fn run(&mut self, cmd: Command) {
        match cmd {
            Command::Lights(scene) => {
                let (levels, controls) = self.settings.file.lights.scene(scene);
                let _ = self.devices.lights.send(levels.clone());
                if self.camera_controls != Some(controls) {
                    self.camera_controls = Some(controls);
                    let _ = self.devices.camera.send(CameraCmd::Controls(controls));
                }
            }
            Command::Chair(motion) => {
                let _ = self.devices.chair.send(motion);
            }
            Command::Preview(on) => {
                let _ = self.devices.camera.send(CameraCmd::Preview(on));
            }
            Command::CheckTicket(text) => self.check_ticket(&text),
            Command::AttemptStarted { ticket_id, attempt } => {
                // Committed before the shutter fires: a crash can never hand out a fourth attempt.
                let now = self.now_s();
                match self.storage.journal().attempt_started(&ticket_id, attempt, now) {
                    Ok(()) => {
                        self.attempt_unrecorded = false;
                        info!(ticket = %ticket_id, attempt, "attempt started");
                    }
                    Err(e) => {
                        self.attempt_unrecorded = true;
                        error!(ticket = %ticket_id, attempt, error = %e, "attempt could not be recorded; no capture");
                    }
                }
            }
            Command::AttemptVoided { ticket_id, attempt } => {
                info!(ticket = %ticket_id, attempt, "attempt voided");
                if let Err(e) = self.storage.journal().attempt_voided(&ticket_id, attempt) {
                    error!(ticket = %ticket_id, attempt, error = %e, "voided attempt not recorded; it stays counted");
                }
            }
            Command::Capture { .. } if self.attempt_unrecorded => {
                self.emit(Event::PhotoCaptured(Err("the journal could not record the attempt".into())));
            }
            Command::Capture { ticket_id, attempt } => {
                let _ = self.devices.camera.send(CameraCmd::Capture { ticket_id, attempt });
            }
            Command::Review { photo, mode } => self.review(photo, mode),
            Command::CreateOrder { ticket_id, photo, amount_fen } => {
                // What is paid for: the standard photo (the capture itself when none was made).
                let file =
                    self.standards.lock().unwrap_or_else(|e| e.into_inner()).get(&photo).cloned().or_else(|| {
                        self.photos.lock().unwrap_or_else(|e| e.into_inner()).get(&photo).map(|c| c.file.clone())
                    });
                let shown_for = self.settings.policy.timeouts.payment;
                self.orders.create(ticket_id, file, amount_fen, shown_for);
            }
            Command::CloseOrder { out_trade_no } => self.orders.close(out_trade_no),
            Command::VisitEnded { ticket_id, outcome, paid_photo } => self.visit_ended(ticket_id, outcome, paid_photo),
            Command::CheckServiceCode(text) => self.bench.check_code(&text, self.now),
            Command::InspectCode(text) => self.bench.inspect(&text),
            // The bench sets lights and camera controls of its own: the next scene is sent afresh.
            Command::Service(action) => {
                self.camera_controls = None;
                self.bench.act(action);
            }
            Command::SelfTest { quick } => {
                self.camera_controls = None;
                self.bench.self_test(quick);
            }
            Command::ServiceEnded => {
                self.camera_controls = None;
                self.bench.ended();
            }
            Command::ReadStick => self.desk.read(&self.settings),
            Command::ApplyBundle { serial } => {
                let result = self.desk.apply(serial, &self.settings);
                self.emit(Event::Stick(crate::visit::StickEvent::Applied(result)));
            }
            Command::ExportToStick => self.desk.export(&self.settings),
            Command::DeskClosed => self.desk.close(),
            Command::Audit { actor, action, detail } => self.audit(&actor, action, &detail),
        }
    }
}
