//! The lines of each diagnostics page, from what the devices last saw (`devices::seen`), the
//! journal, and what the page's checks found (`bench::Found`). Chinese and English labels;
//! values as measured. No graduate's data appears here: counts only.

use std::time::Duration;

use super::bench::{Bench, lock};
use crate::bus::{Mark, Row};
use crate::visit::{Part, ServicePage};

pub(super) fn rows(b: &Bench, page: ServicePage) -> Vec<Row> {
    match page {
        ServicePage::Status => status(b),
        ServicePage::Camera => camera(b),
        ServicePage::Lights => lights(b),
        ServicePage::Chair => chair(b),
        ServicePage::Scanner => scanned(b),
        ServicePage::Storage => storage(b),
        ServicePage::Network => lock(&b.found).network.clone(),
        ServicePage::Counters => counters(b),
        ServicePage::SelfTest => selftest(b),
    }
}

fn part_label(p: Part) -> (&'static str, &'static str) {
    match p {
        Part::Device(d) => match d {
            crate::visit::DeviceKind::Camera => ("相机", "Camera"),
            crate::visit::DeviceKind::QrScanner => ("扫码器", "QR scanner"),
            crate::visit::DeviceKind::Chair => ("座椅", "Chair"),
            crate::visit::DeviceKind::Lights => ("灯光", "Lights"),
        },
        Part::Review => ("照片审核", "Photo review"),
        Part::Journal => ("日志数据库", "Journal"),
    }
}

fn duration(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60)
}

fn status(b: &Bench) -> Vec<Row> {
    let faults = lock(&b.found).faults.clone();
    let mut rows: Vec<Row> = Part::ALL
        .iter()
        .map(|p| {
            let (zh, en) = part_label(*p);
            let bad = faults.contains(p);
            Row::check(zh, en, if bad { "故障 / fault" } else { "正常 / OK" }, !bad)
        })
        .collect();
    if let Some(r) = b.last_report() {
        let value = if r.passed {
            "通过 / passed".to_owned()
        } else {
            format!("未通过 / failed: {}", r.failed().join(", "))
        };
        rows.push(Row::check("上次自检", "Last self-test", value, r.passed));
    }
    let c = b.cfg();
    rows.push(Row::info("本机编号", "Booth id", &c.booth_id));
    rows.push(Row::info("软件版本", "Software", concat!("gradbooth ", env!("CARGO_PKG_VERSION"))));
    rows.push(Row::info("配置校验", "Config SHA-256", short(&c.config_sha256)));
    rows.push(Row::info("模型校验", "Models", b.model_hashes()));
    rows.push(Row::info("拍摄码密钥", "Ticket keys", c.ticket_keys.ids().collect::<Vec<_>>().join(", ")));
    rows.push(Row::info("维修码密钥", "Service keys", c.diagnostics.issuers.ids().collect::<Vec<_>>().join(", ")));
    rows.push(Row::info("运行时间", "Uptime", duration(b.started.elapsed())));
    let starts = b.storage.journal().counters(0).map(|c| c.starts.to_string()).unwrap_or_else(|e| e.to_string());
    rows.push(Row::info("启动次数（含看门狗重启）", "Starts (watchdog restarts included)", starts));
    rows
}

fn short(hash: &str) -> String {
    hash.get(..16).map_or_else(|| hash.to_owned(), |h| format!("{h}…"))
}

/// The face models' SHA-256, shortened (read once, off the loop: `Bench::new`).
pub(super) fn model_hashes(dir: &std::path::Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "onnx")).collect()
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        return format!("none in {}", dir.display());
    }
    names
        .iter()
        .map(|p| {
            let hash = std::fs::read(p).map(|b| crate::journal::storage::sha256_hex(&b)).unwrap_or_default();
            format!("{} {}", p.file_stem().unwrap_or_default().to_string_lossy(), hash.get(..8).unwrap_or("?"))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn camera(b: &Bench) -> Vec<Row> {
    let c = b.links.seen.camera();
    let auto = |v: Option<u32>, unit: &str| v.map_or_else(|| "自动 / auto".to_owned(), |v| format!("{v} {unit}"));
    let mut rows = vec![
        Row::check("亮度", "Brightness", format!("{:.0} / 255", c.luma), c.luma >= 10.0),
        Row::info("清晰度", "Sharpness", format!("{:.0}", c.sharpness)),
        Row::info("曝光", "Exposure", auto(c.controls.exposure_100us, "× 100 µs")),
        Row::info("白平衡", "White balance", auto(c.controls.white_balance_k, "K")),
        Row::info("帧率", "Frames per second", format!("{:.1}", c.fps)),
        Row::new(
            "丢帧",
            "Dropped frames",
            format!("{} / {}", c.dropped, c.frames + c.dropped),
            if c.dropped > 0 { Mark::Warn } else { Mark::Ok },
        ),
        Row::info("分辨率", "Frame size", format!("{}×{}", c.size.0, c.size.1)),
    ];
    rows.extend(lock(&b.found).test_capture.iter().cloned());
    rows
}

fn lights(b: &Bench) -> Vec<Row> {
    let seen = b.links.seen.lights();
    let mut rows: Vec<Row> = b
        .cfg()
        .lights
        .channels
        .iter()
        .map(|ch| {
            let level = seen.levels.get(ch);
            let hours = seen.on_seconds.get(ch).copied().unwrap_or(0.0) / 3600.0;
            Row { channel: ch.clone(), ..Row::info(ch, ch, format!("{level}% · {hours:.2} h on")) }
        })
        .collect();
    rows.extend(lock(&b.found).lamps.iter().cloned());
    rows
}

fn chair(b: &Bench) -> Vec<Row> {
    let c = b.links.seen.chair();
    let max = b.cfg().chair_max_run.as_millis() as u64;
    let limit = |closed: bool| if closed { "闭合 / closed" } else { "断开 / open" };
    let motion = match c.motion {
        gradbooth_hal::Motion::Up => "上升 / up",
        gradbooth_hal::Motion::Down => "下降 / down",
        gradbooth_hal::Motion::Stop => "停止 / stopped",
    };
    let button = match c.button {
        None | Some(gradbooth_hal::SeatButton::Released) => "未按 / released",
        Some(gradbooth_hal::SeatButton::UpPressed) => "按住上 / up held",
        Some(gradbooth_hal::SeatButton::DownPressed) => "按住下 / down held",
    };
    vec![
        Row::info("电机", "Motor", motion),
        Row::info("上限位", "Top limit", limit(c.at_top)),
        Row::info("下限位", "Bottom limit", limit(c.at_bottom)),
        Row::info("座椅按钮", "Seat button", button),
        Row::info("高度", "Height", c.height_percent.map_or_else(|| "—".to_owned(), |h| format!("{h}%"))),
        Row::new(
            "运行时间",
            "Run time",
            format!("{} / {max} ms", c.run_ms),
            if c.run_ms > max { Mark::Fail } else { Mark::Info },
        ),
        Row::info("运行次数", "Runs", c.runs.to_string()),
        Row::check("驱动", "Driver", c.fault.clone().unwrap_or_else(|| "正常 / OK".into()), c.fault.is_none()),
    ]
}

fn scanned(b: &Bench) -> Vec<Row> {
    let rows = lock(&b.found).inspected.clone();
    if rows.is_empty() {
        return vec![Row::info("扫码", "Scan", "请出示任意二维码 / hold up any code")];
    }
    rows
}

fn storage(b: &Bench) -> Vec<Row> {
    let mut rows = Vec::new();
    if let Some(why) = b.storage.broken() {
        rows.push(Row::check("日志数据库无法打开", "Journal cannot be opened", why, false));
        rows.push(Row::info("现在", "Now", "临时日志，暂停服务 / a scratch journal, out of service"));
    }
    rows.extend(lock(&b.found).storage.iter().cloned());
    let now = b.wall_clock.now_s();
    match b.storage.upload_health() {
        Ok(h) => {
            let age = h
                .oldest_paid_at
                .map_or_else(|| "—".to_owned(), |t| duration(Duration::from_secs((now - t).max(0) as u64)));
            rows.push(Row::new(
                "待上传",
                "Outbox",
                format!("{} (oldest {age})", h.waiting),
                if h.refused.is_empty() { Mark::Info } else { Mark::Warn },
            ));
            for (no, why) in h.refused {
                rows.push(Row::new("上传被拒", "Refused upload", format!("{no}: {why}"), Mark::Fail));
            }
        }
        Err(e) => rows.push(Row::check("待上传", "Outbox", e.to_string(), false)),
    }
    match b.storage.journal().unsettled_orders(None) {
        Ok(o) => rows.push(Row::info("未结订单", "Unsettled orders", o.len().to_string())),
        Err(e) => rows.push(Row::check("未结订单", "Unsettled orders", e.to_string(), false)),
    }
    if let Ok(c) = b.storage.journal().counters(0) {
        rows.push(Row::new(
            "争议订单",
            "Disputed orders",
            c.orders_disputed.to_string(),
            if c.orders_disputed > 0 { Mark::Warn } else { Mark::Info },
        ));
    }
    rows
}

fn counters(b: &Bench) -> Vec<Row> {
    let today = b.wall_clock.start_of_day();
    let j = b.storage.journal();
    let (all, day) = match (j.counters(0), j.counters(today)) {
        (Ok(a), Ok(d)) => (a, d),
        (Err(e), _) | (_, Err(e)) => return vec![Row::check("统计", "Counters", e.to_string(), false)],
    };
    drop(j);
    let pair = |a: i64, d: i64| format!("{d} today · {a} total");
    let rate = |c: &crate::journal::Counters| {
        if c.reviews == 0 {
            "—".to_owned()
        } else {
            format!("{:.0}%", c.reviews_passed as f64 * 100.0 / c.reviews as f64)
        }
    };
    let mut rows = vec![
        Row::info("来访", "Visits", pair(all.visits, day.visits)),
        Row::info("拍摄次数", "Attempts", pair(all.attempts, day.attempts)),
        Row::info("审核通过率", "Pass rate", format!("{} today · {} total", rate(&day), rate(&all))),
    ];
    for (code, n) in &all.reasons {
        rows.push(Row::info(code, code, pair(*n, day.reasons.get(code).copied().unwrap_or(0))));
    }
    rows.extend([
        Row::info("已支付", "Paid orders", pair(all.orders_paid, day.orders_paid)),
        Row::info("已关闭", "Closed orders", pair(all.orders_closed, day.orders_closed)),
        Row::info("争议", "Disputed orders", pair(all.orders_disputed, day.orders_disputed)),
        Row::info(
            "收入（元）",
            "Takings (yuan)",
            format!(
                "{} today · {} total",
                crate::screen::yuan(day.takings_fen as u32),
                crate::screen::yuan(all.takings_fen as u32)
            ),
        ),
        Row::info("待上传", "Uploads waiting", all.uploads_waiting.to_string()),
        Row::info("座椅运行（本次开机）", "Chair runs (since start)", b.links.seen.chair().runs.to_string()),
    ]);
    for (ch, s) in b.links.seen.lights().on_seconds {
        rows.push(Row::info(&ch, &ch, format!("{:.2} h on since start", s / 3600.0)));
    }
    rows
}

fn selftest(b: &Bench) -> Vec<Row> {
    match b.last_report() {
        None => vec![Row::info("自检", "Self-test", "尚未运行 / not run yet")],
        Some(r) => {
            let mut rows = vec![Row::check(
                "自检结果",
                "Result",
                if r.passed {
                    "通过 / passed".to_owned()
                } else {
                    format!("未通过 / failed: {}", r.failed().join(", "))
                },
                r.passed,
            )];
            rows.extend(r.checks.iter().map(|c| c.row()));
            rows
        }
    }
}
