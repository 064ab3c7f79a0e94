//! Per-site rate limits: each paired site has a token bucket of `burst` requests, refilled at `per_second`.
//! A request to the envelope routes spends one token; a site with none left is answered 429 with how long to
//! wait, so one site's flood (a bug, or a stolen certificate) cannot starve the others. In memory: a restart
//! gives every site a full bucket, which is fine for a budget measured in seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A site's request budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests a site may make at once, with a full bucket.
    pub burst: u32,
    /// Requests per second that refill the bucket.
    pub per_second: f64,
}

impl RateLimit {
    /// A first sync of a large clinic sends a few hundred batches, each taking the partner a fraction of a
    /// second: 120 at once, then 2 a second, slows no real clinic and bounds a runaway one.
    pub const DEFAULT: RateLimit = RateLimit { burst: 120, per_second: 2.0 };

    /// Why this budget cannot work, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        if self.burst == 0 {
            Some("rate_limit_burst must be at least 1")
        } else if !(self.per_second.is_finite() && self.per_second >= 0.001) {
            Some("rate_limit_per_second must be a number of at least 0.001")
        } else {
            None
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit::DEFAULT
    }
}

/// The buckets of every site that has called, by site id.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// Requests refused since the last one served (the first refusal of a run is logged, not every one).
    refused: u64,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// Spends one request of `site`'s budget, or says how long until it has one.
    pub fn admit(&self, site: i64) -> Result<(), Duration> {
        let now = Instant::now();
        let burst = f64::from(self.limit.burst);
        // Nothing can be left half-updated by a panic here, so a poisoned lock is still good.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(site).or_insert(Bucket { tokens: burst, at: now, refused: 0 });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.limit.per_second;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.refused = 0;
            return Ok(());
        }
        if bucket.refused == 0 {
            tracing::warn!(site, burst = self.limit.burst, per_second = self.limit.per_second, "rate limited");
        }
        bucket.refused += 1;
        let wait = (1.0 - bucket.tokens) / self.limit.per_second;
        Err(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_serves_its_burst_then_refuses_with_the_wait_and_sites_do_not_share() {
        let limiter = Limiter::new(RateLimit { burst: 3, per_second: 0.5 });
        for _ in 0..3 {
            assert!(limiter.admit(1).is_ok(), "the burst is served");
        }
        let wait = limiter.admit(1).expect_err("the fourth at once is refused");
        assert!(wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2), "one token takes 2 s: {wait:?}");
        assert!(limiter.admit(2).is_ok(), "another site has its own bucket");
        assert!(RateLimit::DEFAULT.problem().is_none());
        assert!(RateLimit { burst: 0, per_second: 1.0 }.problem().is_some());
        assert!(RateLimit { burst: 1, per_second: f64::NAN }.problem().is_some());
    }
}
