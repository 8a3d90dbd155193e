//! The vocabulary of a visit: what the machine knows, hears and asks for.

use std::time::Duration;

pub use gradbooth_vocab::{DeviceKind, Motion, SeatButton};

use crate::Closed;

/// A part of the booth whose failure takes it out of service: one of its devices, or the photo
/// review (face models that cannot be loaded, a reviewer failing for the booth's own reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Device(DeviceKind),
    Review,
    /// The journal could not be opened: the booth runs on a scratch one until a technician
    /// sets it aside (the diagnostics mode's storage page).
    Journal,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Device(DeviceKind::Camera),
        Part::Device(DeviceKind::QrScanner),
        Part::Device(DeviceKind::Chair),
        Part::Device(DeviceKind::Lights),
        Part::Review,
        Part::Journal,
    ];

    /// Stable code for logs and the UI's texts (a device's own code, or "review").
    pub fn code(self) -> &'static str {
        match self {
            Part::Device(d) => d.code(),
            Part::Review => "review",
            Part::Journal => "journal",
        }
    }
}

impl From<DeviceKind> for Part {
    fn from(d: DeviceKind) -> Self {
        Part::Device(d)
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Monotonic booth time in milliseconds since start-up. The machine never reads a clock:
/// the runtime hands it `now` with every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Instant(pub u64);

impl Instant {
    pub fn after(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.as_millis() as u64))
    }
    pub fn since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// Whether a school lets graduates wear glasses in the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GlassesPolicy {
    Allowed,
    Discouraged,
    Forbidden,
}

/// How long each screen waits for an abandoned visit before returning to idle.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeouts {
    pub scan: Duration,
    pub confirm: Duration,
    pub lighting: Duration,
    pub rules: Duration,
    pub seat: Duration,
    pub attempt_shown: Duration,
    pub review: Duration,
    pub review_result: Duration,
    pub payment: Duration,
    pub done: Duration,
    pub notice: Duration,
    pub capture: Duration,
    /// No touch for this long ends the diagnostics mode (after a 30 s warning).
    pub service_idle: Duration,
}

/// The rules of a visit that come from configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub max_attempts: u8,
    pub glasses: GlassesPolicy,
    pub countdown: Duration,
    pub timeouts: Timeouts,
    pub price_fen: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LightingMode {
    Glasses,
    NoGlasses,
}

/// What the lights should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LightScene {
    Idle,
    Preview(LightingMode),
    Capture(LightingMode),
}

/// The personal data a ticket carries. Lives only as long as the visit.
#[derive(Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    pub name: String,
    pub student_no_masked: String,
    pub school: String,
}

impl std::fmt::Debug for Ticket {
    // Never print personal data, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A ticket that checked out, with the attempts it has already used at this booth.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketGrant {
    pub ticket: Ticket,
    pub attempts_used: u8,
    /// A standard photo of this ticket that passed review and was not paid for, still kept
    /// (`unpaid_retention_minutes`): it can be paid for without a retake.
    pub kept_photo: Option<PhotoId>,
}

/// Why a scanned code does not open a visit. Each has its own message on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketRefusal {
    /// Not a gradbooth code at all.
    NotATicket,
    /// The CHSI (学信网) capture code instead of the personal shooting code.
    ChsiCaptureCode,
    BadSignature,
    Expired,
    NotYetValid,
    WrongSite,
    AlreadyFinished,
    NoAttemptsLeft,
    /// The booth could not look the ticket up in its journal (a fault of the booth, not the code).
    CannotCheck,
}

impl TicketRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotATicket => "not_a_ticket",
            Self::ChsiCaptureCode => "chsi_capture_code",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongSite => "wrong_site",
            Self::AlreadyFinished => "already_finished",
            Self::NoAttemptsLeft => "no_attempts_left",
            Self::CannotCheck => "cannot_check",
        }
    }
}

/// A captured photo, held by the runtime; the machine only passes its id around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PhotoId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Blocks,
    Warns,
}

/// One problem the reviewer found, with a stable code the UI turns into advice.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub measured: f32,
    pub limit: f32,
}

/// The reviewer's answer on one photo.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub findings: Vec<Finding>,
    /// A fixed outcome from `--scripted-review`; the screen says 模拟审核.
    pub scripted: bool,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Blocks)
    }
}

/// An order the payment service created, as the graduate sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentOrder {
    pub out_trade_no: String,
    pub code_url: String,
    pub amount_fen: u32,
    pub expires_at: Instant,
    /// A simulated gateway: the screen says 模拟支付.
    pub simulated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PaymentUpdate {
    Created(PaymentOrder),
    /// Paid (and journaled): this visit's order, or an earlier order of its ticket that turned
    /// out paid when settled before a new one was made.
    Paid {
        out_trade_no: String,
    },
    /// No code could be made, for this reason. Nothing was paid.
    NoCode(NoCode),
    /// The expired order is closed and was not paid.
    Closed {
        out_trade_no: String,
    },
    /// What became of the order cannot be told now (the network, a forged or contradicting
    /// answer); the booth keeps asking in the background.
    Unconfirmed {
        out_trade_no: String,
    },
}

/// Why no payment code could be shown. Nothing was paid in any case; what the graduate can do
/// differs, so each has its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoCode {
    /// The payment service did not answer, or was busy: try again in a moment.
    Unreachable,
    /// The payment service refused the booth's order, or its answer could not be trusted: a
    /// setting or key of the booth's is wrong, and trying again will not help — call for help.
    Refused,
    /// The booth could not record the order in its journal, and never shows a code it could
    /// not account for: its own fault — try again, or call for help.
    NotRecorded,
    /// An earlier code of this ticket may have been paid and is still being confirmed: no
    /// second code until it is, so nobody pays twice.
    EarlierUnsettled,
}

impl NoCode {
    /// The payment stage the UI shows for it.
    pub fn code(self) -> &'static str {
        match self {
            NoCode::Unreachable => "unreachable",
            NoCode::Refused => "refused",
            NoCode::NotRecorded => "not_recorded",
            NoCode::EarlierUnsettled => "earlier_unsettled",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PaymentStage {
    Creating,
    Waiting(PaymentOrder),
    /// The code expired: the order is being closed and asked about once more (a graduate may
    /// have paid at the last second).
    Confirming {
        out_trade_no: String,
    },
    /// Closed unpaid: a fresh code may be asked for.
    Expired,
    /// The order was closed while on show (the payment failed on the phone): nothing was paid.
    Failed,
    /// No code could be made; nothing was paid. Each reason has its own message and advice.
    NoCode(NoCode),
    /// A code was shown, but whether it was paid cannot be told now.
    Unconfirmed {
        out_trade_no: String,
    },
}

/// A visit ended early, with a message and no way back but idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// A part of the booth failed (the booth is out of service until it is back).
    Fault(Part),
    CaptureFailed,
    /// The review of this photo did not finish (it failed, or took too long).
    ReviewUnavailable,
}

/// What the graduate asks for by touching the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Prepare,
    Exit,
    ConfirmData,
    ChooseLighting(LightingMode),
    AcceptRules,
    ChairUp,
    ChairDown,
    ChairStop,
    StartCapture,
    UsePhoto,
    Retake,
    GoToPayment,
    /// Pay for the kept photo (the confirm screen, when the ticket has one).
    PayKeptPhoto,
    NewPaymentCode,
    Finish,
}

/// Everything the machine hears.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Time passed; timeouts and countdowns are decided on ticks.
    Tick,
    Intent(Intent),
    QrScanned(String),
    TicketChecked(Result<TicketGrant, TicketRefusal>),
    SeatButton(SeatButton),
    PhotoCaptured(Result<PhotoId, String>),
    Reviewed {
        photo: PhotoId,
        verdict: Verdict,
    },
    /// The booth could not judge the photo (its review failed, or its result could not be
    /// kept): the attempt is given back.
    ReviewFailed {
        photo: PhotoId,
    },
    Payment(PaymentUpdate),
    /// A part of the booth stopped working: out of service until it is `Restored`.
    Fault(Part),
    Restored(Part),
    /// Opening hours: `Some` while the booth is closed.
    Hours(Option<Closed>),
    /// A service code was checked.
    ServiceChecked(Result<crate::ServicePass, crate::ServiceRefusal>),
    /// A technician's touch in the diagnostics mode.
    Service(crate::ServiceIntent),
    /// The service key switch turned on (`true`) or off; sent at start-up when fitted.
    KeySwitch(bool),
    /// A self-test finished.
    SelfTested(crate::SelfTestOutcome),
    /// An operator's stick: put in, pulled out, read, applied from, exported to.
    Stick(crate::StickEvent),
    /// An operator's touch at the desk.
    Desk(crate::DeskIntent),
}

impl Event {
    /// The event's kind, for the log (never its personal content).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Tick => "tick",
            Event::Intent(_) => "intent",
            Event::QrScanned(_) => "qr_scanned",
            Event::TicketChecked(_) => "ticket_checked",
            Event::SeatButton(_) => "seat_button",
            Event::PhotoCaptured(_) => "photo_captured",
            Event::Reviewed { .. } => "reviewed",
            Event::ReviewFailed { .. } => "review_failed",
            Event::Payment(_) => "payment",
            Event::Fault(_) => "fault",
            Event::Restored(_) => "restored",
            Event::Hours(_) => "hours",
            Event::ServiceChecked(_) => "service_checked",
            Event::Service(_) => "service",
            Event::KeySwitch(_) => "key_switch",
            Event::SelfTested(_) => "self_tested",
            Event::Stick(_) => "stick",
            Event::Desk(_) => "desk",
        }
    }
}

/// How a visit ended, for the journal and for what happens to its photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    Paid,
    Exited,
    Abandoned,
    Failed,
}

impl VisitOutcome {
    /// Its name in the journal (`visits.outcome`).
    pub fn code(self) -> &'static str {
        match self {
            VisitOutcome::Paid => "paid",
            VisitOutcome::Exited => "exited",
            VisitOutcome::Abandoned => "abandoned",
            VisitOutcome::Failed => "failed",
        }
    }
}

/// Everything the machine asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Lights(LightScene),
    Chair(Motion),
    Preview(bool),
    CheckTicket(String),
    /// Recorded before the shutter fires, so a crash cannot hand out an extra attempt.
    AttemptStarted {
        ticket_id: String,
        attempt: u8,
    },
    /// The attempt ended because the booth failed before its photo was judged (the capture,
    /// a device, the review): it is given back.
    AttemptVoided {
        ticket_id: String,
        attempt: u8,
    },
    /// Fire the shutter; the still is stored as this ticket's attempt.
    Capture {
        ticket_id: String,
        attempt: u8,
    },
    Review {
        photo: PhotoId,
        mode: LightingMode,
    },
    CreateOrder {
        ticket_id: String,
        photo: PhotoId,
        amount_fen: u32,
    },
    CloseOrder {
        out_trade_no: String,
    },
    /// The visit is over: forget its personal data and unpaid photos.
    VisitEnded {
        ticket_id: Option<String>,
        outcome: VisitOutcome,
        paid_photo: Option<PhotoId>,
    },
    /// Is this a technician's service code for this booth?
    CheckServiceCode(String),
    /// A technician's action on a page of the diagnostics mode.
    Service(crate::ServiceAction),
    /// The scanner page: show how the booth reads this code (personal data masked).
    InspectCode(String),
    /// Run the self-test (`quick`: on the way out of the mode, the chair left still).
    SelfTest {
        quick: bool,
    },
    /// The mode ended: test photos dropped, the camera automatic, the lights as the booth sets them.
    ServiceEnded,
    /// Read the stick's `gradbooth/` once into memory and verify its bundles; the report to
    /// the screen, `StickEvent::Read` back.
    ReadStick,
    /// Make the bundle with this serial (verified when the stick was read) current.
    ApplyBundle {
        serial: u64,
    },
    /// Write the booth's records onto the stick (read-write only for this), then sync it.
    ExportToStick,
    /// The desk closed: what was read from the stick leaves memory.
    DeskClosed,
    /// Into the journal's audit log.
    Audit {
        actor: String,
        action: &'static str,
        detail: String,
    },
}
