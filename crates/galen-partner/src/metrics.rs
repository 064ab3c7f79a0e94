//! What an operator watches, in Prometheus' text format: requests by route and status, refusals by reason,
//! envelopes stored, and how long requests took. Served on its own port (`metrics_listen`, loopback only: the
//! counts name no clinic, but nobody outside the machine needs them), never on the clinics' HTTPS port.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The counters, shared by every request.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (route, status) → requests. Routes are the API's own paths (or `unmatched`), so the set stays small.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Refusal code → envelopes and anchors refused.
    rejections: Mutex<BTreeMap<String, u64>>,
    stored: AtomicU64,
    /// Requests per bucket of `LATENCY_BUCKETS` (not cumulative), and a last one for longer.
    latency: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_micros: AtomicU64,
}

fn count_one<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    // Counting cannot leave a map half-changed, so a poisoned lock is still a good one.
    *map.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default() += 1;
}

impl Metrics {
    /// One request answered.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        count_one(&self.requests, (route.to_owned(), status));
        let seconds = took.as_secs_f64();
        let bucket = LATENCY_BUCKETS.iter().position(|&le| seconds <= le).unwrap_or(LATENCY_BUCKETS.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Something refused, by its code.
    pub fn rejected(&self, code: &str) {
        count_one(&self.rejections, code.to_owned());
    }

    /// Envelopes newly stored.
    pub fn stored(&self, n: u64) {
        self.stored.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters as Prometheus text (exposition format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        out += "# HELP galen_partner_requests_total Requests answered, by route and HTTP status.\n";
        out += "# TYPE galen_partner_requests_total counter\n";
        for ((route, status), n) in self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "galen_partner_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out += "# HELP galen_partner_rejections_total Envelopes and audit anchors refused, by reason.\n";
        out += "# TYPE galen_partner_rejections_total counter\n";
        for (reason, n) in self.rejections.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "galen_partner_rejections_total{{reason=\"{reason}\"}} {n}");
        }
        out += "# HELP galen_partner_records_stored_total Envelopes stored (re-sends not counted).\n";
        out += "# TYPE galen_partner_records_stored_total counter\n";
        let _ = writeln!(out, "galen_partner_records_stored_total {}", self.stored.load(Ordering::Relaxed));
        out += "# HELP galen_partner_request_seconds Time to answer a request.\n";
        out += "# TYPE galen_partner_request_seconds histogram\n";
        let mut cumulative = 0;
        for (i, le) in LATENCY_BUCKETS.iter().map(|b| b.to_string()).chain(["+Inf".to_owned()]).enumerate() {
            cumulative += self.latency[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "galen_partner_request_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let seconds = self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "galen_partner_request_seconds_sum {seconds}");
        let _ = writeln!(out, "galen_partner_request_seconds_count {cumulative}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text_with_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request("/api/v1/envelopes", 200, Duration::from_millis(3));
        m.request("/api/v1/envelopes", 200, Duration::from_millis(30));
        m.request("unmatched", 404, Duration::from_secs(20));
        m.rejected("replay");
        m.stored(5);
        let text = m.render();
        for line in [
            "galen_partner_requests_total{route=\"/api/v1/envelopes\",status=\"200\"} 2",
            "galen_partner_requests_total{route=\"unmatched\",status=\"404\"} 1",
            "galen_partner_rejections_total{reason=\"replay\"} 1",
            "galen_partner_records_stored_total 5",
            "galen_partner_request_seconds_bucket{le=\"0.005\"} 1",
            "galen_partner_request_seconds_bucket{le=\"0.05\"} 2",
            "galen_partner_request_seconds_bucket{le=\"10\"} 2",
            "galen_partner_request_seconds_bucket{le=\"+Inf\"} 3",
            "galen_partner_request_seconds_count 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
        }
    }
}
