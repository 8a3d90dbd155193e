//! Prometheus metrics for a school that runs many booths: the counters, each part's health and
//! the last self-test, in the OpenMetrics text format (`prometheus-client`), read from the
//! journal and the devices at each scrape. Served at `http://<[diagnostics] metrics_listen>/metrics`
//! (loopback unless `metrics_public`); off in the shipped configuration. Counts only: no
//! graduate's data, no order number.

use std::net::SocketAddr;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use tracing::{error, info, warn};

use super::bench::{Bench, lock};
use crate::visit::Part;

pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Prometheus text format 0.0.4, for scrapers and tools that do not ask for OpenMetrics
/// (`curl`, `promtool check metrics`).
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

struct BoothCollector(Bench);

impl std::fmt::Debug for BoothCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoothCollector")
    }
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

/// A family: one metric, one label, a value per label value.
fn family<M: EncodeMetric>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    values: Vec<(String, M)>,
) -> Result<(), std::fmt::Error> {
    let Some(first) = values.first() else { return Ok(()) };
    let mut fam = e.encode_descriptor(name, help, None, first.1.metric_type())?;
    for (value, metric) in &values {
        metric.encode(fam.encode_family(&[(label, value.as_str())])?)?;
    }
    Ok(())
}

impl Collector for BoothCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let b = &self.0;
        let faults = lock(&b.found).faults.clone();
        let parts =
            Part::ALL.iter().map(|p| (p.code().to_owned(), ConstGauge::new(i64::from(!faults.contains(p))))).collect();
        family(
            &mut e,
            "gradbooth_part_ok",
            "1 while the part of the booth works, 0 while it is out of order",
            "part",
            parts,
        )?;
        gauge(
            &mut e,
            "gradbooth_uptime_seconds",
            "Seconds since the booth started",
            b.started.elapsed().as_secs_f64(),
        )?;
        let counters = b.storage.journal().counters(0);
        match counters {
            Ok(c) => {
                let u = |v: i64| v.max(0) as u64;
                counter(&mut e, "gradbooth_visits", "Visits ended", u(c.visits))?;
                counter(&mut e, "gradbooth_attempts", "Capture attempts counted", u(c.attempts))?;
                counter(&mut e, "gradbooth_reviews", "Photos reviewed", u(c.reviews))?;
                counter(&mut e, "gradbooth_reviews_passed", "Photos that passed review", u(c.reviews_passed))?;
                let reasons = c.reasons.iter().map(|(r, n)| (r.clone(), ConstCounter::new(u(*n)))).collect();
                family(&mut e, "gradbooth_review_reasons", "Reasons photos did not pass, by check", "reason", reasons)?;
                let orders = [("paid", c.orders_paid), ("closed", c.orders_closed), ("disputed", c.orders_disputed)]
                    .iter()
                    .map(|(s, n)| (s.to_string(), ConstCounter::new(u(*n))))
                    .collect();
                family(&mut e, "gradbooth_orders", "Payment orders, by how they ended", "state", orders)?;
                counter(&mut e, "gradbooth_takings_fen", "Money taken, in fen", u(c.takings_fen))?;
                gauge(
                    &mut e,
                    "gradbooth_uploads_waiting",
                    "Paid photos not yet confirmed by the store",
                    c.uploads_waiting as f64,
                )?;
                counter(&mut e, "gradbooth_starts", "Times the booth started", u(c.starts))?;
            }
            Err(err) => warn!(error = %err, "metrics: the journal's counters could not be read"),
        }
        let chair = b.links.seen.chair();
        counter(&mut e, "gradbooth_chair_runs", "Chair motor runs since start", chair.runs)?;
        let cam = b.links.seen.camera();
        counter(
            &mut e,
            "gradbooth_camera_dropped_frames",
            "Camera frames that did not come, since start",
            cam.dropped,
        )?;
        let lights = b.links.seen.lights().on_seconds.into_iter().map(|(c, s)| (c, ConstCounter::new(s))).collect();
        family(
            &mut e,
            "gradbooth_light_on_seconds",
            "Seconds each light channel was on, since start",
            "channel",
            lights,
        )?;
        if let Some(r) = b.last_report() {
            gauge(
                &mut e,
                "gradbooth_selftest_passed",
                "1 if the last self-test passed",
                f64::from(u8::from(r.passed)),
            )?;
            gauge(
                &mut e,
                "gradbooth_selftest_timestamp_seconds",
                "When the last self-test ran (unix seconds)",
                r.at as f64,
            )?;
            let checks = r.checks.iter().map(|c| (c.name.clone(), ConstGauge::new(i64::from(c.passed)))).collect();
            family(
                &mut e,
                "gradbooth_selftest_check_passed",
                "1 if this check of the last self-test passed",
                "check",
                checks,
            )?;
        }
        Ok(())
    }
}

/// The metrics page, as a scrape gets it.
pub fn render(bench: &Bench) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(BoothCollector(bench.clone())));
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        error!(error = %e, "metrics could not be encoded");
    }
    text
}

/// OpenMetrics text as the Prometheus text format 0.0.4: a counter family is named by its
/// samples (`x_total`) there, and there is no `# EOF` or `# UNIT`.
pub fn prometheus_text(openmetrics: &str) -> String {
    let counters: Vec<&str> =
        openmetrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters.contains(&name).then(|| format!("{p}{name}_total {tail}"))
        });
        out += renamed.as_deref().unwrap_or(line);
        out.push('\n');
    }
    out
}

/// Serves `GET /metrics` at `addr` until the booth stops (the task is aborted).
pub async fn serve(addr: SocketAddr, bench: Bench) {
    use http_body_util::Full;
    use hyper::{Response, StatusCode, body::Bytes};

    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            error!(%addr, error = %e, "metrics: cannot listen");
            return;
        }
    };
    info!(%addr, "metrics served at /metrics");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let bench = bench.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let bench = bench.clone();
                async move {
                    let resp = if req.uri().path() == "/metrics" && req.method() == hyper::Method::GET {
                        let openmetrics = req
                            .headers()
                            .get_all(hyper::header::ACCEPT)
                            .iter()
                            .any(|v| v.to_str().is_ok_and(|v| v.contains("application/openmetrics-text")));
                        // The journal's counters are SQLite reads: off the async workers.
                        let text = crate::journal::storage::off_worker(move || render(&bench)).await;
                        let (kind, text) =
                            if openmetrics { (OPENMETRICS, text) } else { (PROMETHEUS_TEXT, prometheus_text(&text)) };
                        Response::builder().header("content-type", kind).body(Full::new(Bytes::from(text)))
                    } else {
                        Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Full::new(Bytes::from_static(b"see /metrics\n")))
                    };
                    Ok::<_, std::convert::Infallible>(resp.expect("a plain response"))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                warn!(error = %e, "metrics: a connection failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_counter_family_takes_its_samples_name_and_the_rest_is_left_as_it_is() {
        let om = "# HELP a_visits Visits.\n# TYPE a_visits counter\na_visits_total 2\n# HELP a_up Up.\n# TYPE a_up gauge\na_up 1\n# EOF\n";
        assert_eq!(
            super::prometheus_text(om),
            "# HELP a_visits_total Visits.\n# TYPE a_visits_total counter\na_visits_total 2\n# HELP a_up Up.\n# TYPE a_up gauge\na_up 1\n"
        );
    }
}
