//! The operators' desk's glue: its stage from the `View`, the stick's report (`bus::DeskReport`)
//! onto `BoothAdapter`, and the operator's touches back as `DeskIntent`s.

use slint::{ModelRc, SharedString, VecModel};

use crate::bus::DeskReport;
use crate::ui::{BoothAdapter, DeskChange, DeskNote};
use crate::visit::{DeskIntent, DeskStage, View};

pub(super) fn apply_view(a: &BoothAdapter<'_>, v: &View) {
    let Some(stage) = &v.desk else {
        a.set_desk_stage("".into());
        return;
    };
    a.set_desk_stage(stage.code().into());
    match stage {
        DeskStage::Exporting { done, total } => {
            a.set_desk_progress(if *total == 0 { 0.0 } else { *done as f32 / *total as f32 })
        }
        DeskStage::Exported { folder } => a.set_desk_folder(folder.as_str().into()),
        DeskStage::ApplyFailed { why } | DeskStage::ExportFailed { why } => a.set_desk_why(why.as_str().into()),
        _ => {}
    }
}

fn note(name: &str, (code, detail): &(String, String)) -> DeskNote {
    DeskNote { name: name.into(), code: code.as_str().into(), detail: detail.as_str().into() }
}

/// What is on the stick (`None`: the desk closed; nothing of it stays on the screen).
pub(super) fn apply_report(a: &BoothAdapter<'_>, report: Option<&DeskReport>) {
    let empty = DeskReport::default();
    let r = report.unwrap_or(&empty);
    let (code, detail) = r.stick_error.clone().unwrap_or_default();
    a.set_desk_stick_error(code.into());
    a.set_desk_stick_detail(detail.into());
    let shown = r.bundles.iter().find(|b| b.applicable);
    let s = |v: Option<&str>| SharedString::from(v.unwrap_or(""));
    a.set_desk_serial(shown.and_then(|b| b.serial).map(|n| n.to_string()).unwrap_or_default().into());
    a.set_desk_name(s(shown.map(|b| b.name.as_str())));
    a.set_desk_signers(shown.map(|b| b.signers.join(" + ")).unwrap_or_default().into());
    a.set_desk_hash(s(shown.map(|b| b.short_hash.as_str())));
    a.set_desk_comment(s(shown.map(|b| b.comment.as_str())));
    let changes: Vec<DeskChange> = shown
        .map(|b| {
            b.changes
                .iter()
                .map(|c| DeskChange {
                    group: c.group.as_str().into(),
                    key: c.key.as_str().into(),
                    before: c.before.as_str().into(),
                    after: c.after.as_str().into(),
                    kind: c.kind.into(),
                })
                .collect()
        })
        .unwrap_or_default();
    a.set_desk_changes(ModelRc::new(VecModel::from(changes)));
    let warnings: Vec<DeskNote> = shown.map(|b| b.warnings.iter().map(|w| note("", w)).collect()).unwrap_or_default();
    a.set_desk_warnings(ModelRc::new(VecModel::from(warnings)));
    let refused: Vec<DeskNote> =
        r.bundles.iter().filter_map(|b| b.refusal.as_ref().map(|why| note(&b.name, why))).collect();
    a.set_desk_refused(ModelRc::new(VecModel::from(refused)));
    a.set_desk_later(r.bundles.iter().filter(|b| b.refusal.is_none() && !b.applicable).count() as i32);
}

/// The desk's touch names (`ui/pages/desk.slint`).
pub fn intent(name: &str) -> Option<DeskIntent> {
    Some(match name {
        "apply" => DeskIntent::Apply,
        "export" => DeskIntent::Export,
        "close" => DeskIntent::Close,
        "touch" => DeskIntent::Touch,
        _ => return None,
    })
}

pub(super) fn connect(a: &BoothAdapter<'_>, booth: std::rc::Rc<dyn super::Controls>) {
    a.on_desk(move |name| match intent(&name) {
        Some(i) => booth.desk(i),
        None => tracing::error!(touch = %name, "unknown desk touch from the UI"),
    });
}
