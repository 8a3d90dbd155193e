//! The diagnostics mode's glue: its part of the `View` and the pages' lines (`bus::Panel`) onto
//! `BoothAdapter`, and the technician's touches back as `ServiceIntent`s. Page and action
//! cross as the Slint enum `DiagPage` and fixed action names, matched here.

use slint::{ModelRc, SharedString, VecModel};

use crate::bus::{Mark, Panel};
use crate::ui::{BoothAdapter, DiagPage, DiagRow};
use crate::visit::{LightScene, LightingMode, Motion, ServiceAction, ServiceIntent, ServicePage, View};

pub fn diag_page(page: ServicePage) -> DiagPage {
    match page {
        ServicePage::Status => DiagPage::Status,
        ServicePage::Camera => DiagPage::Camera,
        ServicePage::Lights => DiagPage::Lights,
        ServicePage::Chair => DiagPage::Chair,
        ServicePage::Scanner => DiagPage::Scanner,
        ServicePage::Storage => DiagPage::Storage,
        ServicePage::Network => DiagPage::Network,
        ServicePage::Counters => DiagPage::Counters,
        ServicePage::SelfTest => DiagPage::Selftest,
    }
}

fn service_page(page: DiagPage) -> ServicePage {
    *ServicePage::ALL.iter().find(|p| diag_page(**p) == page).expect("every DiagPage is a ServicePage")
}

pub(super) fn apply_view(a: &BoothAdapter<'_>, v: &View) {
    match &v.service {
        Some(s) => {
            a.set_diag_page(diag_page(s.page));
            a.set_technician(s.technician.as_str().into());
            a.set_diag_chair_motion(
                match s.chair {
                    Motion::Up => "up",
                    Motion::Down => "down",
                    Motion::Stop => "stop",
                }
                .into(),
            );
            a.set_inactivity_warning(s.inactivity_warning.map_or(-1, |w| w.min(i32::MAX as u64) as i32));
            a.set_code_expires_in(s.expires_in_s.min(i32::MAX as u64) as i32);
        }
        None => {
            a.set_technician("".into());
            a.set_inactivity_warning(-1);
            a.set_code_expires_in(-1);
            a.set_diag_rows(ModelRc::default());
        }
    }
    a.set_checking_service(v.checking_service);
    a.set_service_refusal(v.service_refusal.map_or("", |r| r.code()).into());
    a.set_locked_for(v.locked_for_s.map_or(-1, |s| s.min(i32::MAX as u64) as i32));
    a.set_leaving(v.leaving.map_or("", |l| l.code()).into());
    a.set_key_left_on(v.key_left_on);
    a.set_journal_broken(v.faults.contains(&crate::visit::Part::Journal));
    let failed: Vec<SharedString> = v.selftest_failed.iter().map(|f| f.as_str().into()).collect();
    a.set_selftest_failed(ModelRc::new(VecModel::from(failed)));
}

/// A page's lines, if they are the page on show (a late panel of the page left is dropped).
pub(super) fn apply_panel(a: &BoothAdapter<'_>, p: &Panel) {
    if p.page.map(diag_page) != Some(a.get_diag_page()) {
        return;
    }
    let rows: Vec<DiagRow> = p
        .rows
        .iter()
        .map(|r| DiagRow {
            label: r.label.as_str().into(),
            label_en: r.label_en.as_str().into(),
            value: r.value.as_str().into(),
            mark: match r.mark {
                Mark::Ok => "ok",
                Mark::Warn => "warn",
                Mark::Fail => "fail",
                Mark::Info => "info",
            }
            .into(),
            channel: r.channel.as_str().into(),
        })
        .collect();
    a.set_diag_rows(ModelRc::new(VecModel::from(rows)));
    a.set_diag_busy(p.busy);
    let [x, y, w, h] = p.face.unwrap_or([0.0, 0.0, -1.0, 0.0]);
    a.set_face_x(x);
    a.set_face_y(y);
    a.set_face_w(w);
    a.set_face_h(h);
}

/// What a page's action button asks for (`ui/pages/service.slint`).
pub fn action(name: &str, arg: &str, level: i32) -> Option<ServiceAction> {
    Some(match name {
        "light" => ServiceAction::Light { channel: arg.to_owned(), level: level.clamp(0, 100) as u8 },
        "scene" => ServiceAction::Scene(match arg {
            "idle" => LightScene::Idle,
            "no_glasses" => LightScene::Capture(LightingMode::NoGlasses),
            "glasses" => LightScene::Capture(LightingMode::Glasses),
            _ => return None,
        }),
        "test-capture" => ServiceAction::TestCapture,
        "selftest" => ServiceAction::SelfTest,
        "test-lamps" => ServiceAction::TestLamps,
        "check-network" => ServiceAction::CheckNetwork,
        "check-storage" => ServiceAction::CheckStorage,
        "set-aside-journal" => ServiceAction::SetAsideJournal,
        _ => return None,
    })
}

/// Connect the mode's callbacks to a running booth.
pub(super) fn connect(a: &BoothAdapter<'_>, booth: std::rc::Rc<dyn super::Controls>) {
    let b = booth.clone();
    a.on_diag_open(move |page| b.service(ServiceIntent::Open(service_page(page))));
    let b = booth.clone();
    a.on_diag_chair(move |dir| {
        b.service(match dir.as_str() {
            "up" => ServiceIntent::ChairHold(Motion::Up),
            "down" => ServiceIntent::ChairHold(Motion::Down),
            _ => ServiceIntent::ChairRelease,
        })
    });
    let b = booth.clone();
    a.on_diag_act(move |name, arg, level| match action(&name, &arg, level) {
        Some(act) => b.service(ServiceIntent::Act(act)),
        None => tracing::error!(action = %name, "unknown diagnostics action from the UI"),
    });
    let b = booth.clone();
    a.on_diag_touch(move || b.service(ServiceIntent::Touch));
    a.on_diag_exit(move || booth.service(ServiceIntent::Exit));
}
