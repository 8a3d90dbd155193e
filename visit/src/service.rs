//! The technicians' diagnostics mode, as part of the same pure machine: how a signed service
//! code opens it (only from idle or out of service, never during a visit), the lock-out after
//! refused codes, the optional key switch, the pages, the chair's hold-to-run, and the ways out
//! — each of which stops the chair, idles the lights, puts the camera back to automatic and
//! runs a quick self-test before the booth serves graduates again.

use std::ops::ControlFlow::{self, Break, Continue};
use std::time::Duration;

use super::*;

/// The prefix of a technician's service code (`docs/service-code.md`). The machine reads only
/// this much of a code: which check it goes to. Everything else is the runtime's.
pub const SERVICE_PREFIX: &str = "GBS1:";

/// True when a scanned text claims to be a service code.
pub fn is_service_code(text: &str) -> bool {
    text.trim_start().get(..SERVICE_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(SERVICE_PREFIX))
}

/// How long the "scan your service code" screen waits.
pub const ENTRY_TIMEOUT: Duration = Duration::from_secs(30);
/// No touch for `timeouts.service_idle` ends the mode, after a warning this long before.
pub const INACTIVITY_WARNING: Duration = Duration::from_secs(30);
/// The chair runs only while its button is held: the screen renews the hold every 100 ms, and
/// the motor stops when no renewal came for this long (a lost touch, a frozen screen).
pub const CHAIR_DEADMAN: Duration = Duration::from_millis(300);
/// The self-test on the way out, at most.
pub const LEAVING_TIMEOUT: Duration = Duration::from_secs(90);
/// Refused service codes within `LOCKOUT_WINDOW` …
pub const LOCKOUT_REFUSALS: usize = 5;
pub const LOCKOUT_WINDOW: Duration = Duration::from_secs(600);
/// … lock entry for this long.
pub const LOCKOUT: Duration = Duration::from_secs(900);

/// One page of the mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServicePage {
    Status,
    Camera,
    Lights,
    Chair,
    Scanner,
    Storage,
    Network,
    Counters,
    SelfTest,
}

impl ServicePage {
    pub const ALL: [ServicePage; 9] = [
        ServicePage::Status,
        ServicePage::Camera,
        ServicePage::Lights,
        ServicePage::Chair,
        ServicePage::Scanner,
        ServicePage::Storage,
        ServicePage::Network,
        ServicePage::Counters,
        ServicePage::SelfTest,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ServicePage::Status => "status",
            ServicePage::Camera => "camera",
            ServicePage::Lights => "lights",
            ServicePage::Chair => "chair",
            ServicePage::Scanner => "scanner",
            ServicePage::Storage => "storage",
            ServicePage::Network => "network",
            ServicePage::Counters => "counters",
            ServicePage::SelfTest => "selftest",
        }
    }

    /// The pages that show the camera's live picture.
    fn shows_camera(self) -> bool {
        matches!(self, ServicePage::Camera | ServicePage::Lights)
    }
}

/// Why a code did not open the mode; each has its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceRefusal {
    /// A graduate's shooting code: it starts a visit, never the mode.
    GraduateTicket,
    /// The CHSI (学信网) capture code.
    ChsiCode,
    /// Neither a service code nor a ticket.
    NotAServiceCode,
    /// Damaged, altered, or signed by a key this booth does not trust for service.
    BadSignature,
    /// Good for other booths only.
    WrongSite,
    NotYetValid,
    Expired,
    /// Valid for longer than a day: never issued by our tool.
    TooLong,
    /// Its technician or the code itself is revoked.
    Revoked,
    /// Too many refused codes: entry is locked for a while.
    Locked,
    /// The booth has a service key switch, and it is off.
    KeyOff,
}

impl ServiceRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::GraduateTicket => "graduate_ticket",
            Self::ChsiCode => "chsi_code",
            Self::NotAServiceCode => "not_a_service_code",
            Self::BadSignature => "bad_signature",
            Self::WrongSite => "wrong_site",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::TooLong => "too_long",
            Self::Revoked => "revoked",
            Self::Locked => "locked",
            Self::KeyOff => "key_off",
        }
    }

    /// A refused service code (not a code of another kind held up by mistake, not the booth's
    /// own state) counts towards the lock-out.
    pub fn counts(self) -> bool {
        !matches!(self, Self::GraduateTicket | Self::ChsiCode | Self::NotAServiceCode | Self::Locked | Self::KeyOff)
    }
}

/// A service code that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePass {
    /// The technician's staff id (audited, shown on the status page).
    pub technician: String,
    /// Names this code in the audit log (its nonce).
    pub code_id: String,
    /// When the code runs out, in booth time.
    pub expires_at: Instant,
}

/// What a technician asks the booth for on a page; the runtime carries it out and audits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAction {
    /// One light channel at this level (0 = off), the others as they are.
    Light { channel: String, level: u8 },
    /// A lighting scene of the visit, as a graduate would get it.
    Scene(LightScene),
    /// A capture judged by the real review, in memory only: never journaled, stored or sent.
    TestCapture,
    /// Every check that needs no person.
    SelfTest,
    /// Each light channel alone, seen by the camera.
    TestLamps,
    /// The network and payment checks.
    CheckNetwork,
    /// The data directory's space and the journal's integrity.
    CheckStorage,
    /// The journal that cannot be opened: set aside (kept), a fresh one started.
    SetAsideJournal,
}

impl ServiceAction {
    /// For the audit log: the action with its parameters.
    pub fn describe(&self) -> String {
        match self {
            ServiceAction::Light { channel, level } => format!("light {channel} {level}%"),
            ServiceAction::Scene(scene) => format!("scene {scene:?}"),
            other => other.code().to_owned(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ServiceAction::Light { .. } => "light",
            ServiceAction::Scene(_) => "scene",
            ServiceAction::TestCapture => "test_capture",
            ServiceAction::SelfTest => "selftest",
            ServiceAction::TestLamps => "test_lamps",
            ServiceAction::CheckNetwork => "check_network",
            ServiceAction::CheckStorage => "check_storage",
            ServiceAction::SetAsideJournal => "set_aside_journal",
        }
    }
}

/// A technician's touch in the mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceIntent {
    Open(ServicePage),
    /// The chair's up or down button is held (renewed while it stays held).
    ChairHold(Motion),
    /// The chair's button was let go, or the finger slid off it.
    ChairRelease,
    /// Any other touch: the mode stays open.
    Touch,
    Act(ServiceAction),
    Exit,
}

/// Why the mode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leaving {
    Exit,
    Inactive,
    CodeExpired,
    KeyOff,
}

impl Leaving {
    pub fn code(self) -> &'static str {
        match self {
            Leaving::Exit => "exit",
            Leaving::Inactive => "inactive",
            Leaving::CodeExpired => "code_expired",
            Leaving::KeyOff => "key_off",
        }
    }
}

/// The diagnostics mode while it is open.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub pass: ServicePass,
    pub page: ServicePage,
    pub last_touch: Instant,
    pub chair: Motion,
    /// When the chair's button was last renewed.
    pub held_at: Instant,
}

/// What the booth remembers about the mode between entries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceGuard {
    /// When recent service codes were refused (within `LOCKOUT_WINDOW`).
    pub refusals: Vec<Instant>,
    pub locked_until: Option<Instant>,
    /// The key switch: `None` when the booth has none.
    pub key: Option<bool>,
    /// The checks the last self-test on the way out failed: out of service until one passes.
    pub failed: Vec<String>,
}

impl ServiceGuard {
    pub fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }
}

/// What a self-test found, as the machine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfTestOutcome {
    /// The checks that failed (their names, e.g. `lights.key_left`); empty = passed.
    pub failed: Vec<String>,
    /// The quick one run on the way out of the mode (only it decides the booth's service).
    pub on_exit: bool,
}

/// The phases of the mode and their events: `Break` with the next phase, or `Continue` when
/// the event is not the mode's business (the visit's `transition` goes on with it).
pub(crate) fn transition(
    policy: &Policy,
    booth: &mut Booth,
    phase: Phase,
    event: Event,
    now: Instant,
    cmds: &mut Vec<Command>,
) -> ControlFlow<Phase, (Phase, Event)> {
    use Event as E;
    match (phase, event) {
        (phase, E::KeySwitch(on)) => {
            booth.guard.key = Some(on);
            Break(match phase {
                Phase::Service(s) if !on => leave(s.pass.technician, Leaving::KeyOff, now, cmds),
                Phase::Idle | Phase::OutOfService => booth.resting_phase(),
                other => other,
            })
        }
        // A service code held up at idle or on the scan screen, or any code while out of
        // service (graduates' tickets are not taken then): to the service code check.
        (Phase::Idle | Phase::Scan { checking: false, .. }, E::QrScanned(text)) if is_service_code(&text) => {
            Break(check_code(booth, text, now, cmds))
        }
        (Phase::OutOfService | Phase::ServiceEntry { checking: false, .. }, E::QrScanned(text)) => {
            Break(check_code(booth, text, now, cmds))
        }
        (Phase::ServiceEntry { checking: true, .. }, E::ServiceChecked(result)) => Break(match result {
            Ok(_) if booth.guard.key == Some(false) => refused(ServiceRefusal::KeyOff, now),
            Ok(pass) => {
                cmds.push(audit(&pass.technician, "service_entered", format!("code {}", pass.code_id)));
                cmds.push(Command::Preview(false));
                let service =
                    Service { pass, page: ServicePage::Status, last_touch: now, chair: Motion::Stop, held_at: now };
                Phase::Service(Box::new(service))
            }
            Err(r) => {
                cmds.push(audit("-", "service_refused", r.code().to_owned()));
                let g = &mut booth.guard;
                let mut shown = r;
                if r.counts() {
                    g.refusals.retain(|t| now.since(*t) < LOCKOUT_WINDOW);
                    g.refusals.push(now);
                    if g.refusals.len() >= LOCKOUT_REFUSALS {
                        g.refusals.clear();
                        g.locked_until = Some(now.after(LOCKOUT));
                        cmds.push(audit("-", "service_locked", format!("{} s", LOCKOUT.as_secs())));
                        shown = ServiceRefusal::Locked;
                    }
                }
                refused(shown, now)
            }
        }),
        (Phase::ServiceEntry { since, .. }, E::Tick) if now >= since.after(ENTRY_TIMEOUT) => {
            Break(booth.resting_phase())
        }
        (Phase::ServiceEntry { checking: false, .. }, E::Intent(Intent::Exit | Intent::Finish)) => {
            Break(booth.resting_phase())
        }
        (Phase::Service(s), event) => Break(in_service(policy, *s, event, now, cmds)),
        (Phase::ServiceLeaving { .. }, E::SelfTested(outcome)) if outcome.on_exit => {
            Break(left(booth, outcome.failed, cmds))
        }
        (Phase::ServiceLeaving { since, .. }, E::Tick) if now >= since.after(LEAVING_TIMEOUT) => {
            Break(left(booth, vec!["selftest.timeout".into()], cmds))
        }
        (
            phase @ (Phase::ServiceEntry { .. } | Phase::ServiceLeaving { .. }),
            E::Tick | E::Intent(_) | E::QrScanned(_),
        ) => Break(phase),
        (phase, event) => Continue((phase, event)),
    }
}

fn refused(refusal: ServiceRefusal, now: Instant) -> Phase {
    Phase::ServiceEntry { since: now, checking: false, refusal: Some(refusal) }
}

fn check_code(booth: &Booth, text: String, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    if booth.guard.locked(now) {
        cmds.push(audit("-", "service_refused", ServiceRefusal::Locked.code().to_owned()));
        return refused(ServiceRefusal::Locked, now);
    }
    cmds.push(Command::CheckServiceCode(text));
    Phase::ServiceEntry { since: now, checking: true, refusal: None }
}

fn audit(actor: &str, action: &'static str, detail: String) -> Command {
    Command::Audit { actor: actor.to_owned(), action, detail }
}

fn in_service(policy: &Policy, mut s: Service, event: Event, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    use Event as E;
    let who = s.pass.technician.clone();
    match event {
        E::Tick if now >= s.pass.expires_at => return leave(who, Leaving::CodeExpired, now, cmds),
        E::Tick if now >= s.last_touch.after(policy.timeouts.service_idle) => {
            return leave(who, Leaving::Inactive, now, cmds);
        }
        E::Tick if s.chair != Motion::Stop && now >= s.held_at.after(CHAIR_DEADMAN) => {
            s.chair = Motion::Stop;
            cmds.push(Command::Chair(Motion::Stop));
        }
        E::Service(intent) => {
            s.last_touch = now;
            match intent {
                ServiceIntent::Exit => return leave(who, Leaving::Exit, now, cmds),
                ServiceIntent::Open(page) if page != s.page => {
                    if s.chair != Motion::Stop {
                        s.chair = Motion::Stop;
                        cmds.push(Command::Chair(Motion::Stop));
                    }
                    if s.page == ServicePage::Lights {
                        cmds.push(Command::Lights(LightScene::Idle));
                    }
                    if s.page.shows_camera() != page.shows_camera() {
                        cmds.push(Command::Preview(page.shows_camera()));
                    }
                    s.page = page;
                }
                ServiceIntent::ChairHold(m) if s.page == ServicePage::Chair && m != Motion::Stop => {
                    s.held_at = now;
                    if s.chair != m {
                        s.chair = m;
                        cmds.push(Command::Chair(m));
                        cmds.push(audit(&who, "chair_run", format!("{m:?}").to_lowercase()));
                    }
                }
                ServiceIntent::ChairRelease if s.chair != Motion::Stop => {
                    s.chair = Motion::Stop;
                    cmds.push(Command::Chair(Motion::Stop));
                }
                ServiceIntent::Act(action) => {
                    cmds.push(audit(&who, "service_action", action.describe()));
                    cmds.push(Command::Service(action));
                }
                _ => {}
            }
        }
        E::QrScanned(text) if s.page == ServicePage::Scanner => cmds.push(Command::InspectCode(text)),
        _ => {}
    }
    Phase::Service(Box::new(s))
}

/// Every way out: the hardware safe, the test photos dropped, then a quick self-test decides
/// whether the booth serves again.
fn leave(technician: String, why: Leaving, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    cmds.push(Command::Chair(Motion::Stop));
    cmds.push(Command::Preview(false));
    cmds.push(Command::Lights(LightScene::Idle));
    cmds.push(Command::ServiceEnded);
    cmds.push(audit(&technician, "service_left", why.code().to_owned()));
    cmds.push(Command::SelfTest { quick: true });
    Phase::ServiceLeaving { since: now, why }
}

fn left(booth: &mut Booth, failed: Vec<String>, cmds: &mut Vec<Command>) -> Phase {
    let detail = if failed.is_empty() { "passed".to_owned() } else { format!("failed: {}", failed.join(", ")) };
    cmds.push(audit("booth", "exit_selftest", detail));
    booth.guard.failed = failed;
    booth.resting_phase()
}

#[cfg(test)]
mod tests;
