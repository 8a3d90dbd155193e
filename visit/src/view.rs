//! What the screen shows, derived from the booth's state alone. The UI renders a `View`;
//! it never decides anything.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Screen {
    Idle,
    OutOfService,
    Scan,
    Confirm,
    Lighting,
    Rules,
    Seat,
    Countdown,
    Capturing,
    AttemptShown,
    Reviewing,
    ReviewResult,
    Payment,
    Done,
    Notice,
    ServiceEntry,
    Service,
    ServiceLeaving,
    Desk,
}

impl Screen {
    pub const ALL: [Screen; 19] = [
        Screen::Idle,
        Screen::OutOfService,
        Screen::Scan,
        Screen::Confirm,
        Screen::Lighting,
        Screen::Rules,
        Screen::Seat,
        Screen::Countdown,
        Screen::Capturing,
        Screen::AttemptShown,
        Screen::Reviewing,
        Screen::ReviewResult,
        Screen::Payment,
        Screen::Done,
        Screen::Notice,
        Screen::ServiceEntry,
        Screen::Service,
        Screen::ServiceLeaving,
        Screen::Desk,
    ];

    /// Its name in logs, screenshots and tests.
    pub fn code(self) -> &'static str {
        match self {
            Screen::Idle => "idle",
            Screen::OutOfService => "out_of_service",
            Screen::Scan => "scan",
            Screen::Confirm => "confirm",
            Screen::Lighting => "lighting",
            Screen::Rules => "rules",
            Screen::Seat => "seat",
            Screen::Countdown => "countdown",
            Screen::Capturing => "capturing",
            Screen::AttemptShown => "attempt_shown",
            Screen::Reviewing => "reviewing",
            Screen::ReviewResult => "review_result",
            Screen::Payment => "payment",
            Screen::Done => "done",
            Screen::Notice => "notice",
            Screen::ServiceEntry => "service_entry",
            Screen::Service => "service",
            Screen::ServiceLeaving => "service_leaving",
            Screen::Desk => "desk",
        }
    }
}

/// Where the payment stands, as the screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Creating,
    Waiting,
    Confirming,
    Expired,
    Failed,
    Unconfirmed,
    /// No code, and why.
    NoCode(NoCode),
}

impl Stage {
    /// Its name in logs and tests ("waiting", or why there is no code: `NoCode::code`).
    pub fn code(self) -> &'static str {
        match self {
            Stage::Creating => "creating",
            Stage::Waiting => "waiting",
            Stage::Confirming => "confirming",
            Stage::Expired => "expired",
            Stage::Failed => "failed",
            Stage::Unconfirmed => "unconfirmed",
            Stage::NoCode(why) => why.code(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PaymentView {
    pub stage: Stage,
    pub amount_fen: u32,
    pub code_url: Option<String>,
    pub simulated: bool,
}

/// The diagnostics mode, as its screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceView {
    pub page: ServicePage,
    pub technician: String,
    pub chair: Motion,
    /// Seconds until the mode ends for want of a touch, once the warning is due.
    pub inactivity_warning: Option<u64>,
    /// Seconds until the service code runs out.
    pub expires_in_s: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub screen: Screen,
    /// Personal data: only on the confirm screen.
    pub name: String,
    pub student_no_masked: String,
    pub school: String,
    pub attempts_used: u8,
    pub attempts_max: u8,
    /// The confirm screen offers to pay for a photo kept from an earlier visit.
    pub kept_photo: bool,
    /// 3, 2, 1 during the countdown.
    pub countdown: u8,
    /// Seconds until this screen gives up (or the payment code expires).
    pub seconds_left: Option<u64>,
    pub checking_ticket: bool,
    pub refusal: Option<TicketRefusal>,
    pub notice: Option<Notice>,
    pub closed: Option<Closed>,
    pub faults: Vec<Part>,
    pub mode: Option<LightingMode>,
    pub chair: Motion,
    pub photo: Option<PhotoId>,
    pub verdict: Option<Verdict>,
    pub payment: Option<PaymentView>,
    pub glasses: GlassesPolicy,
    /// The diagnostics mode's page, while it is open.
    pub service: Option<ServiceView>,
    /// The service code screen: checking one, or why it was refused.
    pub checking_service: bool,
    pub service_refusal: Option<ServiceRefusal>,
    /// Entry is locked after refused codes: for this many more seconds.
    pub locked_for_s: Option<u64>,
    /// The mode is ending for this reason (its quick self-test is running).
    pub leaving: Option<Leaving>,
    /// Out of service because the service key switch is on.
    pub key_left_on: bool,
    /// Out of service because the last exit self-test failed these checks.
    pub selftest_failed: Vec<String>,
    /// The operators' desk: where it is (the report on the stick comes from the runtime).
    pub desk: Option<crate::DeskStage>,
}

impl View {
    pub fn can_retake(&self) -> bool {
        self.attempts_used < self.attempts_max
    }
}

pub fn view(policy: &Policy, booth: &Booth, now: Instant) -> View {
    let phase = &booth.phase;
    let visit = phase.visit();
    let screen = match phase {
        Phase::Idle => Screen::Idle,
        Phase::OutOfService => Screen::OutOfService,
        Phase::Scan { .. } => Screen::Scan,
        Phase::Confirm { .. } => Screen::Confirm,
        Phase::Lighting { .. } => Screen::Lighting,
        Phase::Rules { .. } => Screen::Rules,
        Phase::Seat { .. } => Screen::Seat,
        Phase::Countdown { .. } => Screen::Countdown,
        Phase::Capturing { .. } => Screen::Capturing,
        Phase::AttemptShown { .. } => Screen::AttemptShown,
        Phase::Reviewing { .. } => Screen::Reviewing,
        Phase::ReviewResult { .. } => Screen::ReviewResult,
        Phase::Payment { .. } => Screen::Payment,
        Phase::Done { .. } => Screen::Done,
        Phase::Notice { .. } => Screen::Notice,
        Phase::ServiceEntry { .. } => Screen::ServiceEntry,
        Phase::Service(_) => Screen::Service,
        Phase::ServiceLeaving { .. } => Screen::ServiceLeaving,
        Phase::Desk(_) => Screen::Desk,
    };
    let (name, student_no_masked, school) = match phase {
        Phase::Confirm { visit, .. } => {
            (visit.ticket.name.clone(), visit.ticket.student_no_masked.clone(), visit.ticket.school.clone())
        }
        _ => Default::default(),
    };
    let seconds_left =
        timeout_of(policy, phase).map(|(since, d)| since.after(d).since(now).as_millis().div_ceil(1000) as u64);
    let countdown = match phase {
        Phase::Countdown { .. } => seconds_left.unwrap_or(0).max(1) as u8,
        _ => 0,
    };
    let (checking_ticket, refusal) = match phase {
        Phase::Scan { checking, refusal, .. } => (*checking, *refusal),
        _ => (false, None),
    };
    let photo = match phase {
        Phase::AttemptShown { photo, .. }
        | Phase::Reviewing { photo, .. }
        | Phase::ReviewResult { photo, .. }
        | Phase::Payment { photo, .. } => Some(*photo),
        _ => None,
    };
    let payment = match phase {
        Phase::Payment { stage, .. } => {
            let stage_code = match stage {
                PaymentStage::Creating => Stage::Creating,
                PaymentStage::Waiting(_) => Stage::Waiting,
                PaymentStage::Confirming { .. } => Stage::Confirming,
                PaymentStage::Expired => Stage::Expired,
                PaymentStage::Failed => Stage::Failed,
                PaymentStage::NoCode(why) => Stage::NoCode(*why),
                PaymentStage::Unconfirmed { .. } => Stage::Unconfirmed,
            };
            // Only a code on show has its own amount and image; otherwise the configured price.
            Some(match stage {
                PaymentStage::Waiting(order) => PaymentView {
                    stage: stage_code,
                    amount_fen: order.amount_fen,
                    code_url: Some(order.code_url.clone()),
                    simulated: order.simulated,
                },
                _ => PaymentView { stage: stage_code, amount_fen: policy.price_fen, code_url: None, simulated: false },
            })
        }
        _ => None,
    };
    View {
        screen,
        name,
        student_no_masked,
        school,
        attempts_used: visit.map_or(0, |v| v.attempts_used),
        attempts_max: policy.max_attempts,
        kept_photo: matches!(phase, Phase::Confirm { visit: crate::Visit { kept: Some(_), .. }, .. }),
        countdown,
        seconds_left,
        checking_ticket,
        refusal,
        notice: match phase {
            Phase::Notice { notice, .. } => Some(*notice),
            _ => None,
        },
        closed: booth.closed,
        faults: booth.faults.iter().copied().collect(),
        mode: visit.map(|v| v.mode),
        chair: match phase {
            Phase::Seat { chair, .. } => *chair,
            _ => Motion::Stop,
        },
        photo,
        verdict: match phase {
            Phase::ReviewResult { verdict, .. } => Some(verdict.clone()),
            _ => None,
        },
        payment,
        glasses: policy.glasses,
        service: match phase {
            Phase::Service(s) => Some(ServiceView {
                page: s.page,
                technician: s.pass.technician.clone(),
                chair: s.chair,
                inactivity_warning: {
                    let ends = s.last_touch.after(policy.timeouts.service_idle);
                    (now.after(service::INACTIVITY_WARNING) >= ends)
                        .then(|| ends.since(now).as_millis().div_ceil(1000) as u64)
                },
                expires_in_s: s.pass.expires_at.since(now).as_secs(),
            }),
            _ => None,
        },
        checking_service: matches!(phase, Phase::ServiceEntry { checking: true, .. }),
        service_refusal: match phase {
            Phase::ServiceEntry { refusal, .. } => *refusal,
            _ => None,
        },
        locked_for_s: booth
            .guard
            .locked_until
            .filter(|_| booth.guard.locked(now))
            .map(|t| t.since(now).as_millis().div_ceil(1000) as u64),
        leaving: match phase {
            Phase::ServiceLeaving { why, .. } => Some(*why),
            _ => None,
        },
        key_left_on: booth.guard.key == Some(true),
        selftest_failed: booth.guard.failed.clone(),
        desk: match phase {
            Phase::Desk(d) => Some(d.stage.clone()),
            _ => None,
        },
    }
}
