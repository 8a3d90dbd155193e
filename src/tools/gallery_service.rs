//! The gallery's diagnostics screens: the service code screen, each page of the mode with
//! lines as a technician would find them (a dead lamp, a test capture, a failed self-test),
//! the way out, and the out of service screen a failed exit self-test leaves.

use std::time::Duration;

use gradbooth_hal::Motion;

use crate::bus::{Mark, Panel, Row};
use crate::visit::*;

/// One picture: a name, the booth state, and the page's lines.
pub struct ServiceExample {
    pub name: String,
    pub booth: Booth,
    pub panel: Option<Panel>,
    /// The moment it is shown at.
    pub now: Instant,
}

fn mode(page: ServicePage, last_touch: Instant) -> Booth {
    let pass = ServicePass {
        technician: "T-0042".into(),
        code_id: "0102030405060708".into(),
        expires_at: Instant(7 * 3600 * 1000),
    };
    let s = Service { pass, page, last_touch, chair: Motion::Stop, held_at: Instant(0) };
    Booth { phase: Phase::Service(Box::new(s)), ..Booth::default() }
}

fn ok(zh: &str, en: &str, v: &str) -> Row {
    Row::new(zh, en, v, Mark::Ok)
}

fn channel(name: &str, value: &str) -> Row {
    Row { channel: name.into(), ..Row::info(name, name, value) }
}

fn rows(page: ServicePage) -> Vec<Row> {
    match page {
        ServicePage::Status => vec![
            ok("相机", "Camera", "正常 / OK"),
            ok("扫码器", "QR scanner", "正常 / OK"),
            ok("座椅", "Chair", "正常 / OK"),
            Row::new("灯光", "Lights", "故障 / fault", Mark::Fail),
            ok("照片审核", "Photo review", "正常 / OK"),
            Row::info("本机编号", "Booth id", "fengxian-d108"),
            Row::info("软件版本", "Software", concat!("gradbooth ", env!("CARGO_PKG_VERSION"))),
            Row::info("配置校验", "Config SHA-256", "3f9a1c07d2e84b55…"),
            Row::info(
                "模型校验",
                "Models",
                "face_detection_short_range 9ac1f2b0 · face_landmark 52e0d4aa · iris_landmark 0b7c9e13 · selfie_segmentation 7d11fe42",
            ),
            Row::info("拍摄码密钥", "Ticket keys", "vendor-2025"),
            Row::info("维修码密钥", "Service keys", "field-2025"),
            Row::info("运行时间", "Uptime", "26h 14m 09s"),
            Row::info("启动次数（含看门狗重启）", "Starts (watchdog restarts included)", "7"),
        ],
        ServicePage::Camera => vec![
            ok("亮度", "Brightness", "112 / 255"),
            Row::info("清晰度", "Sharpness", "905"),
            Row::info("曝光", "Exposure", "150 × 100 µs"),
            Row::info("白平衡", "White balance", "5200 K"),
            Row::info("帧率", "Frames per second", "29.8"),
            Row::new("丢帧", "Dropped frames", "3 / 48211", Mark::Warn),
            ok("审核结果", "Verdict", "通过 / pass"),
            ok("face_too_small", "face_too_small", "0.412 (≥ 0.3)"),
            ok("head_tilted", "head_tilted", "2.100 (≤ 8)"),
            ok("blurry", "blurry", "61.000 (≥ 15)"),
        ],
        ServicePage::Lights => vec![
            channel("key_left", "0% · 212.40 h on"),
            channel("key_right", "100% · 214.02 h on"),
            channel("fill", "0% · 198.77 h on"),
            channel("background", "0% · 220.51 h on"),
            Row::new("灯光", "Light", "lights.key_left · key_left: no change in the picture (31 → 31)", Mark::Fail),
            ok("灯光", "Light", "lights.key_right · picture luma 31 → 110"),
            ok("灯光", "Light", "lights.fill · picture luma 31 → 110"),
            ok("灯光", "Light", "lights.background · picture luma 31 → 110"),
        ],
        ServicePage::Chair => vec![
            Row::info("电机", "Motor", "停止 / stopped"),
            Row::info("上限位", "Top limit", "断开 / open"),
            Row::info("下限位", "Bottom limit", "闭合 / closed"),
            Row::info("座椅按钮", "Seat button", "未按 / released"),
            Row::info("高度", "Height", "0%"),
            Row::info("运行时间", "Run time", "6120 / 15000 ms"),
            Row::info("运行次数", "Runs", "4"),
            ok("驱动", "Driver", "正常 / OK"),
        ],
        ServicePage::Scanner => vec![
            ok("拍摄码", "Shooting code", "有效 / valid ticket for 李**"),
            Row::info("学号", "Student no.", "2022****56"),
            Row::info("长度", "Length", "231 bytes"),
        ],
        ServicePage::Storage => vec![
            ok("可用空间", "Free space", "storage.free · 21840 MB free (warns below 1024 MB)"),
            ok("日志数据库", "Journal", "journal · PRAGMA integrity_check: ok"),
            ok("日志大小", "Journal size", "storage.info · journal 1840 KiB, WAL 412 KiB"),
            Row::info("待上传", "Outbox", "2 (oldest 0h 14m 02s)"),
            Row::info("未结订单", "Unsettled orders", "0"),
            Row::info("争议订单", "Disputed orders", "0"),
        ],
        ServicePage::Network => vec![
            ok("微信支付", "WeChat Pay", "payment · signed query answered: order does not exist (verified)"),
            Row::new(
                "照片上传",
                "Upload",
                "upload · s3 https://oss.example.edu.cn bucket photos: connection refused",
                Mark::Fail,
            ),
            ok("时钟", "Clock", "clock · +1 s against the payment service (at most ±60 s)"),
            ok("时间同步", "NTP", "clock.ntp · synchronised"),
        ],
        ServicePage::Counters => vec![
            Row::info("来访", "Visits", "38 today · 1204 total"),
            Row::info("拍摄次数", "Attempts", "61 today · 1893 total"),
            Row::info("审核通过率", "Pass rate", "64% today · 67% total"),
            Row::info("blurry", "blurry", "4 today · 96 total"),
            Row::info("eyes_closed", "eyes_closed", "6 today · 211 total"),
            Row::info("已支付", "Paid orders", "36 today · 1151 total"),
            Row::info("收入（元）", "Takings (yuan)", "1080.00 today · 34530.00 total"),
            Row::info("待上传", "Uploads waiting", "2"),
            Row::info("座椅运行（本次开机）", "Chair runs (since start)", "57"),
        ],
        ServicePage::SelfTest => vec![
            Row::new("自检结果", "Result", "未通过 / failed: lights.key_left, chair.top", Mark::Fail),
            ok("相机", "Camera", "camera · 1920×1080, mean luma 110 of 255, sharpness 907"),
            ok("照片审核", "Photo review", "review · models loaded and run"),
            Row::new("灯光", "Light", "lights.key_left · key_left: no change in the picture (31 → 31)", Mark::Fail),
            Row::new(
                "座椅",
                "Chair",
                "chair.top · the driver stopped the motor: ran longer than 15 s without reaching a limit",
                Mark::Fail,
            ),
            ok("座椅", "Chair", "chair.bottom · limit reached in 6.1 s"),
            ok("日志数据库", "Journal", "journal · PRAGMA integrity_check: ok"),
            ok("微信支付", "WeChat Pay", "payment · signed query answered: order does not exist (verified)"),
        ],
    }
}

pub fn examples(policy: &Policy) -> Vec<ServiceExample> {
    let t0 = Instant(0);
    let entry =
        |refusal| Booth { phase: Phase::ServiceEntry { since: t0, checking: false, refusal }, ..Booth::default() };
    let mut locked = entry(Some(ServiceRefusal::Locked));
    locked.guard.locked_until = Some(t0.after(Duration::from_secs(900)));
    let mut failed = Booth { phase: Phase::OutOfService, ..Booth::default() };
    failed.guard.failed = vec!["lights.key_left".into(), "chair.top".into()];
    failed.guard.key = Some(true);
    let checking =
        Booth { phase: Phase::ServiceEntry { since: t0, checking: true, refusal: None }, ..Booth::default() };
    let plain = |name: &str, booth| ServiceExample { name: name.into(), booth, panel: None, now: t0 };
    let mut out = vec![
        plain("service_entry-checking", checking),
        plain("service_entry-bad_signature", entry(Some(ServiceRefusal::BadSignature))),
        plain("service_entry-graduate_ticket", entry(Some(ServiceRefusal::GraduateTicket))),
        plain("service_entry-locked", locked),
    ];
    for page in ServicePage::ALL {
        out.push(ServiceExample {
            name: format!("service-{}", page.code()),
            booth: mode(page, t0),
            panel: Some(Panel {
                page: Some(page),
                rows: rows(page),
                busy: false,
                face: (page == ServicePage::Camera).then_some([0.31, 0.24, 0.38, 0.37]),
            }),
            now: t0,
        });
    }
    // A journal overwritten by garbage: the storage page offers to set it aside.
    let mut broken = mode(ServicePage::Storage, t0);
    broken.faults.insert(Part::Journal);
    let mut broken_rows = vec![
        Row::new(
            "日志数据库无法打开",
            "Journal cannot be opened",
            "journal var/gradbooth/journal.sqlite3: file is not a database",
            Mark::Fail,
        ),
        Row::info("现在", "Now", "临时日志，暂停服务 / a scratch journal, out of service"),
    ];
    broken_rows.extend(rows(ServicePage::Storage).into_iter().skip(3));
    out.push(ServiceExample {
        name: "service-storage-journal_broken".into(),
        booth: broken,
        panel: Some(Panel { page: Some(ServicePage::Storage), rows: broken_rows, busy: false, face: None }),
        now: t0,
    });
    // The status page 20 s before the mode ends for want of a touch.
    out.push(ServiceExample {
        name: "service-status-inactive".into(),
        booth: mode(ServicePage::Status, t0),
        panel: Some(Panel {
            page: Some(ServicePage::Status),
            rows: rows(ServicePage::Status),
            busy: false,
            face: None,
        }),
        now: Instant((policy.timeouts.service_idle.as_millis() as u64).saturating_sub(20_000)),
    });
    let leaving = Booth { phase: Phase::ServiceLeaving { since: t0, why: Leaving::Inactive }, ..Booth::default() };
    out.push(ServiceExample { name: "service_leaving".into(), booth: leaving, panel: None, now: t0 });
    out.push(ServiceExample { name: "out_of_service-selftest_failed".into(), booth: failed, panel: None, now: t0 });
    out
}
