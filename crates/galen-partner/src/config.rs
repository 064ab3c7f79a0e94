//! The server's configuration file (TOML). Paths are as written, or relative to the file's folder.

use crate::key::KeyError;
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
    /// The partner's database (SQLCipher): its identity, the paired clinics and what they sent.
    pub database: PathBuf,
    /// The file holding the database's key (32 random bytes), made by `galen-partner init`, readable by the
    /// service account only. Default: the database's path with `.key` added.
    #[serde(default)]
    pub database_key: Option<PathBuf>,
    /// Instead of `database_key`: the name of a systemd credential holding the key (`LoadCredential=` or
    /// `LoadCredentialEncrypted=` in the unit), read from `$CREDENTIALS_DIRECTORY/<name>`.
    #[serde(default)]
    pub database_key_credential: Option<String>,
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
    /// A loopback address and port where `GET /metrics` answers in Prometheus text (plain HTTP), e.g.
    /// "127.0.0.1:9464"; none by default.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
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
        let invalid = |reason: &str| ConfigError::Invalid { path: path.to_owned(), reason: reason.into() };
        if config.metrics_listen.is_some_and(|at| !at.ip().is_loopback()) {
            return Err(invalid(
                "metrics_listen must be a loopback address (127.0.0.1 or [::1]): the metrics are plain HTTP for this \
                 machine's monitoring; let a local agent (Prometheus, node exporter) forward them",
            ));
        }
        match (&config.database_key, &config.database_key_credential) {
            (Some(_), Some(_)) => return Err(invalid("set database_key or database_key_credential, not both")),
            (None, Some(name)) if !is_file_name(name) => {
                return Err(invalid("database_key_credential must be a credential's name, not a path"))
            }
            (None, None) => config.database_key = Some(with_suffix(&config.database, ".key")),
            _ => {}
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let paths = [&mut config.certificate, &mut config.private_key, &mut config.database];
        for p in paths.into_iter().chain(config.database_key.as_mut()) {
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

    /// The file the database key is read from: `database_key`, or the systemd credential of that name.
    pub fn database_key_file(&self) -> Result<PathBuf, KeyError> {
        match (&self.database_key, &self.database_key_credential) {
            (_, Some(name)) => match std::env::var_os("CREDENTIALS_DIRECTORY") {
                Some(dir) => Ok(Path::new(&dir).join(name)),
                None => Err(KeyError::NoCredentials { name: name.clone() }),
            },
            (Some(file), None) => Ok(file.clone()),
            (None, None) => Ok(with_suffix(&self.database, ".key")),
        }
    }

    /// Whether `galen-partner init` should make the key file (it never makes a credential).
    pub fn makes_its_key_file(&self) -> bool {
        self.database_key_credential.is_none()
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

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn is_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/')
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
        assert_eq!(c.database_key_file().expect("a file"), dir.path().join("p.db.key"), "the key beside it by default");
        assert!(!c.relay, "relaying between clinics is off unless asked for");
        assert_eq!(c.rate_limit(), RateLimit::DEFAULT, "a sensible budget unless set");
        assert_eq!(c.keep_rejections(), time::Duration::days(90), "refusals are kept 90 days unless set");

        let budget = "rate_limit_burst = 10\nrate_limit_per_second = 1\n";
        std::fs::write(&path, format!("{}{budget}", std::fs::read_to_string(&path).expect("read"))).expect("write");
        let c = Config::load(&path).expect("valid");
        assert_eq!(c.rate_limit(), RateLimit { burst: 10, per_second: 1.0 }, "an integer rate is read as a number");
        let zero = format!(
            "{}rate_limit_burst = 0\n",
            "listen = \"127.0.0.1:1\"\ncertificate = \"c\"\nprivate_key = \"k\"\ndatabase = \"d\"\n"
        );
        std::fs::write(&path, zero).expect("write");
        let err = Config::load(&path).expect_err("no budget at all").to_string();
        assert!(err.contains("rate_limit_burst must be at least 1"), "{err}");
        let base = "listen = \"127.0.0.1:1\"\ncertificate = \"c\"\nprivate_key = \"k\"\ndatabase = \"d\"\n";
        std::fs::write(&path, format!("{base}database_key = \"keys/d.key\"\n")).expect("write");
        let c = Config::load(&path).expect("valid");
        assert_eq!(c.database_key_file().expect("a file"), dir.path().join("keys/d.key"), "relative to the file");
        std::fs::write(&path, format!("{base}database_key_credential = \"galen-partner-db-key\"\n")).expect("write");
        let c = Config::load(&path).expect("valid");
        assert!(!c.makes_its_key_file(), "a credential is made by the operator, with systemd-creds");
        std::fs::write(&path, format!("{base}database_key_credential = \"../etc/shadow\"\n")).expect("write");
        assert!(Config::load(&path).is_err(), "a credential is a name, not a path");
        let both = format!("{base}database_key = \"k\"\ndatabase_key_credential = \"c\"\n");
        std::fs::write(&path, both).expect("write");
        let err = Config::load(&path).expect_err("two keys").to_string();
        assert!(err.contains("not both"), "{err}");
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
