//! The server's configuration file (TOML). Paths are as written, or relative to the file's folder.

use crate::rate::RateLimit;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on, e.g. "0.0.0.0:8443".
    pub listen: SocketAddr,
    /// The server's certificate chain (PEM), leaf first.
    pub certificate: PathBuf,
    /// The server's private key (PEM, PKCS#8). Readable by the service account only.
    pub private_key: PathBuf,
    /// The partner's database (SQLite): its identity, the paired clinics and what they sent.
    pub database: PathBuf,
    /// Pass each clinic's records on to the other paired clinics (two laptops of one office). Leave it off for a
    /// hospital or registry that only collects: clinics then never see each other's patients.
    #[serde(default)]
    pub relay: bool,
    /// Requests (pushes and pulls) each paired clinic may make at once; beyond its budget it gets HTTP 429.
    #[serde(default = "default_burst")]
    pub rate_limit_burst: u32,
    /// Requests per second that refill each clinic's budget.
    #[serde(default = "default_per_second")]
    pub rate_limit_per_second: f64,
    /// Days refused envelopes are kept in the `rejections` table for the operator to look into.
    #[serde(default = "default_keep_rejections_days")]
    pub keep_rejections_days: u32,
}

fn default_keep_rejections_days() -> u32 {
    crate::store::KEEP_REJECTIONS.whole_days() as u32
}

fn default_burst() -> u32 {
    RateLimit::DEFAULT.burst
}

fn default_per_second() -> f64 {
    RateLimit::DEFAULT.per_second
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid configuration: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let mut config: Config =
            toml::from_str(&text).map_err(|e| ConfigError::Invalid { path: path.to_owned(), reason: e.to_string() })?;
        if let Some(reason) = config.rate_limit().problem() {
            return Err(ConfigError::Invalid { path: path.to_owned(), reason: reason.into() });
        }
        if config.keep_rejections_days == 0 {
            let reason = "keep_rejections_days must be at least 1".into();
            return Err(ConfigError::Invalid { path: path.to_owned(), reason });
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut config.certificate, &mut config.private_key, &mut config.database] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(config)
    }

    /// Each paired clinic's request budget.
    pub fn rate_limit(&self) -> RateLimit {
        RateLimit { burst: self.rate_limit_burst, per_second: self.rate_limit_per_second }
    }

    /// How long refused envelopes are kept.
    pub fn keep_rejections(&self) -> time::Duration {
        time::Duration::days(self.keep_rejections_days.into())
    }

    /// Reads the server's certificate chain and private key.
    pub fn read_pems(&self) -> Result<Pems, ConfigError> {
        let read = |p: &Path| std::fs::read(p).map_err(|source| ConfigError::Read { path: p.to_owned(), source });
        Ok(Pems { certificate: read(&self.certificate)?, private_key: read(&self.private_key)? })
    }
}

/// The PEM files a configuration names, read.
pub struct Pems {
    pub certificate: Vec<u8>,
    pub private_key: Vec<u8>,
}

impl std::fmt::Debug for Pems {
    // The private key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pems").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_file_and_mistakes_are_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("partner.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:8443\"\ncertificate = \"server.pem\"\nprivate_key = \"/srv/k.pem\"\ndatabase = \"p.db\"\n",
        )
        .expect("write");
        let c = Config::load(&path).expect("valid");
        assert_eq!(c.certificate, dir.path().join("server.pem"));
        assert_eq!(c.private_key, PathBuf::from("/srv/k.pem"));
        assert_eq!(c.database, dir.path().join("p.db"));
        assert!(!c.relay, "relaying between clinics is off unless asked for");
        assert_eq!(c.rate_limit(), RateLimit::DEFAULT, "a sensible budget unless set");
        assert_eq!(c.keep_rejections(), time::Duration::days(90), "refusals are kept 90 days unless set");

        let budget = "rate_limit_burst = 10\nrate_limit_per_second = 1\n";
        std::fs::write(&path, format!("{}{budget}", std::fs::read_to_string(&path).expect("read"))).expect("write");
        let c = Config::load(&path).expect("valid");
        assert_eq!(c.rate_limit(), RateLimit { burst: 10, per_second: 1.0 }, "an integer rate is read as a number");
        let zero = format!("{}rate_limit_burst = 0\n", "listen = \"127.0.0.1:1\"\ncertificate = \"c\"\nprivate_key = \"k\"\ndatabase = \"d\"\n");
        std::fs::write(&path, zero).expect("write");
        let err = Config::load(&path).expect_err("no budget at all").to_string();
        assert!(err.contains("rate_limit_burst must be at least 1"), "{err}");
        let base = "listen = \"127.0.0.1:1\"\ncertificate = \"c\"\nprivate_key = \"k\"\ndatabase = \"d\"\n";
        std::fs::write(&path, format!("{base}keep_rejections_days = 0\n")).expect("write");
        let err = Config::load(&path).expect_err("refusals forgotten at once").to_string();
        assert!(err.contains("keep_rejections_days must be at least 1"), "{err}");

        std::fs::write(&path, "listen = \"127.0.0.1:8443\"\ncertificat = \"typo.pem\"\n").expect("write");
        let err = Config::load(&path).expect_err("a misspelt key").to_string();
        assert!(err.contains("partner.toml is not a valid configuration") && err.contains("certificat"), "{err}");
        std::fs::write(&path, "listen = \"not an address\"\n").expect("write");
        assert!(Config::load(&path).is_err());
        let missing = Config::load(&dir.path().join("nope.toml")).expect_err("no file").to_string();
        assert!(missing.starts_with("cannot read"), "{missing}");
    }
}
