//! The gallery's operators' desk screens: a stick being read, a bundle's change list (money and
//! trust highlighted, warnings, a bundle refused beside it), every refusal with its message,
//! a stick that cannot be read, applying, and the export (progress, done, failed).

use crate::bus::{DeskBundle, DeskChange, DeskReport};
use crate::visit::*;

/// One picture: a name, the desk's stage and what the stick holds.
pub struct DeskExample {
    pub name: String,
    pub booth: Booth,
    pub report: Option<DeskReport>,
}

fn at(stage: DeskStage) -> Booth {
    Booth { phase: Phase::Desk(Box::new(Desk { stage, last_touch: Instant(0) })), ..Booth::default() }
}

fn change(key: &str, before: &str, after: &str, kind: &'static str) -> DeskChange {
    let group = key.rsplit_once('.').map_or("", |(g, _)| g).to_owned();
    DeskChange { group, key: key.into(), before: before.into(), after: after.into(), kind }
}

fn refused(name: &str, code: &str, detail: &str) -> DeskBundle {
    DeskBundle {
        name: name.into(),
        refusal: Some((code.into(), detail.into())),
        short_hash: "5be0c27d9a41f3e8".into(),
        ..DeskBundle::default()
    }
}

/// The winter round's bundle: new period and hours, a lower price, a new lighting level, and a
/// trust change (a technician revoked), signed by two operators.
fn winter() -> DeskBundle {
    DeskBundle {
        name: "winter-2026.toml".into(),
        serial: Some(12),
        refusal: None,
        applicable: true,
        signers: vec!["centre".into(), "office".into()],
        short_hash: "9f2c4e61b0a7d385".into(),
        comment: "2026 冬季补拍 / winter make-up round".into(),
        changes: vec![
            change("diagnostics.revoked", "[]", "[\"T-0042\"]", "trust"),
            change("payment.price_yuan", "30.00", "25.00", "money"),
            change("service.period_start", "2025-05-30", "2026-12-01", "everyday"),
            change("service.period_end", "2025-06-30", "2026-12-31", "everyday"),
            change("service.opens", "09:00", "08:30", "everyday"),
            change("service.holidays", "[\"2025-05-31\"]", "[\"2026-12-25\"]", "everyday"),
            change("lights.glasses.key_left", "70", "64", "everyday"),
        ],
        warnings: vec![],
    }
}

pub fn examples() -> Vec<DeskExample> {
    let shown = |applicable| at(DeskStage::Shown { applicable });
    let report = |bundles| Some(DeskReport { stick_error: None, bundles });
    let mut with_warnings = winter();
    with_warnings.warnings =
        vec![("period_already_ended".into(), String::new()), ("price_jump".into(), "30.00 → 12.00".into())];
    with_warnings.changes = vec![
        change("payment.price_yuan", "30.00", "12.00", "money"),
        change("service.period_end", "2025-06-30", "2025-06-15", "everyday"),
    ];
    with_warnings.signers = vec!["office".into()];
    let refusals = [
        refused("old.toml", "replay", "serial 11 is not above 12, the last applied: a replay or a downgrade"),
        refused("copy.toml", "alarm", "serial 12 is not above 12, the last applied: a replay or a downgrade"),
        refused("unsigned.toml", "unsigned", "unsigned: no .minisig beside it"),
        refused("altered.toml", "bad_signature", "a signature does not match the bundle (damaged or altered)"),
        refused("stranger.toml", "unknown_key", "signed by a key this booth does not trust ([operators] keys)"),
        refused("yangpu.toml", "not_for_this_booth", "not for this booth"),
        refused("late.toml", "expired", "expired (apply_before has passed)"),
        refused("future.toml", "not_yet_valid", "issued in the future (check the booth's clock)"),
        refused("keys.toml", "trust_needs_two", "a trust change needs the signatures of two different operator keys"),
        refused("id.toml", "not_changeable", "booth.id cannot be changed by a bundle"),
        refused("price.toml", "price_out_of_bounds", "price out of bounds: 99.00 is not within 20.00 – 40.00"),
        refused(
            "hours.toml",
            "invalid_setting",
            "the new configuration is refused: service.opens = \"25:00\": a time of day, \"HH:MM\"",
        ),
        refused("notes.toml", "unreadable", "unreadable: expected `=`"),
        refused("photo.toml", "too_large", "too large (a bundle at most 262144 bytes)"),
    ];
    let mut out = vec![
        DeskExample { name: "desk-reading".into(), booth: at(DeskStage::Reading), report: None },
        DeskExample {
            name: "desk-change_list".into(),
            booth: shown(Some(12)),
            report: report(vec![
                winter(),
                refused("old.toml", "replay", "serial 11 is not above 12, the last applied"),
            ]),
        },
        DeskExample { name: "desk-warnings".into(), booth: shown(Some(12)), report: report(vec![with_warnings]) },
    ];
    for (i, group) in refusals.chunks(4).enumerate() {
        out.push(DeskExample {
            name: format!("desk-refusals-{}", i + 1),
            booth: shown(None),
            report: report(group.to_vec()),
        });
    }
    for (code, detail) in [
        ("changed_while_read", "Changed(\"winter-2026.toml\")"),
        ("no_folder", "NoFolder"),
        ("symlink", "Symlink(\"evil.toml\")"),
    ] {
        out.push(DeskExample {
            name: format!("desk-stick-{code}"),
            booth: shown(None),
            report: Some(DeskReport { stick_error: Some((code.into(), detail.into())), bundles: vec![] }),
        });
    }
    out.push(DeskExample { name: "desk-empty".into(), booth: shown(None), report: report(vec![]) });
    let w = report(vec![winter()]);
    out.extend([
        DeskExample { name: "desk-applying".into(), booth: at(DeskStage::Applying { serial: 12 }), report: w.clone() },
        DeskExample { name: "desk-applied".into(), booth: at(DeskStage::Applied { serial: 12 }), report: w.clone() },
        DeskExample {
            name: "desk-apply_failed".into(),
            booth: at(DeskStage::ApplyFailed {
                why: "/var/lib/gradbooth/config/state.json: No space left on device (os error 28)".into(),
            }),
            report: w,
        },
        DeskExample {
            name: "desk-exporting".into(),
            booth: at(DeskStage::Exporting { done: 5, total: 9 }),
            report: report(vec![]),
        },
        DeskExample {
            name: "desk-exported".into(),
            booth: at(DeskStage::Exported { folder: "gradbooth/export/fengxian-d108-2026-12-01".into() }),
            report: report(vec![]),
        },
        DeskExample {
            name: "desk-export_failed".into(),
            booth: at(DeskStage::ExportFailed { why: "writing audit.csv: Read-only file system (os error 30)".into() }),
            report: report(vec![]),
        },
    ]);
    out
}
