//! The clinic's side of the partner API: HTTPS where the only trusted root is the partner's CA (from pairing) and
//! this site's client certificate is presented. Blocking; `run` calls it outside any database step.

use super::context::{keys, Context};
use crate::error::{Error, SyncFailure};
use galen_proto::wire::{encode_envelope, PullResponse, PushRequest, PushResponse, PushResult};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::time::Duration;

pub(super) struct Transport {
    http: reqwest::blocking::Client,
    base: String,
}

fn unreachable(base: &str, e: reqwest::Error) -> Error {
    // reqwest's own text names the cause (refused, timed out, certificate) without any secret.
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = format!("{cause}: {s}");
        source = s.source();
    }
    Error::Sync(SyncFailure::Unreachable { url: base.to_owned(), cause })
}

impl Transport {
    pub(super) fn new(ctx: &Context) -> Result<Transport, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(ctx.partner_ca.as_bytes()) {
            roots.add(ca.map_err(keys)?).map_err(keys)?;
        }
        let chain =
            CertificateDer::pem_slice_iter(ctx.client_cert.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(keys)?;
        let key = PrivateKeyDer::from_pem_slice(ctx.client_key.as_bytes()).map_err(keys)?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(keys)?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(keys)?;
        let http = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(keys)?;
        Ok(Transport { http, base: format!("{}/api/v1", ctx.url) })
    }

    fn answer<T: serde::de::DeserializeOwned>(
        &self,
        response: Result<reqwest::blocking::Response, reqwest::Error>,
    ) -> Result<T, Error> {
        let response = response.map_err(|e| unreachable(&self.base, e))?;
        let status = response.status();
        if !status.is_success() {
            let body: serde_json::Value = response.json().unwrap_or_default();
            let message = body.get("message").and_then(|m| m.as_str()).unwrap_or("no explanation");
            return Err(Error::Sync(SyncFailure::Refused { status: status.to_string(), message: message.to_owned() }));
        }
        response.json().map_err(|e| unreachable(&self.base, e))
    }

    pub(super) fn push(&self, sealed: &[Vec<u8>]) -> Result<Vec<PushResult>, Error> {
        let body = PushRequest { envelopes: sealed.iter().map(|e| encode_envelope(e)).collect() };
        let response: PushResponse =
            self.answer(self.http.post(format!("{}/envelopes", self.base)).json(&body).send())?;
        Ok(response.results)
    }

    pub(super) fn pull(&self, after: i64, limit: usize) -> Result<PullResponse, Error> {
        let url = format!("{}/envelopes?after={after}&limit={limit}", self.base);
        self.answer(self.http.get(url).send())
    }
}
