//! The clinic's side of the partner API: HTTPS where the only trusted root is the partner's CA (from pairing) and
//! this site's client certificate is presented. Blocking; `run` calls it outside any database step. Even a paired
//! partner is not trusted with this clinic's memory: no answer is read past `MAX_BODY_BYTES`.

use super::context::{keys, Context};
use super::schedule::{BACKGROUND_EVERY, BACKGROUND_LONGEST};
use crate::error::{Error, SyncFailure};
use galen_proto::anchor::{Anchor, MAX_ANCHOR_BYTES};
use galen_proto::wire::{
    encode_envelope, AnchorResponse, PullResponse, PushRequest, PushResponse, PushResult, MAX_BODY_BYTES,
};
use reqwest::blocking::Response;
use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::Read;
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
    match invalid_certificate(&e) {
        // Not a network fault: whoever answered is not the partner this clinic paired with.
        Some(cause) => Error::Sync(SyncFailure::NotThePartner { url: base.to_owned(), cause }),
        None => Error::Sync(SyncFailure::Unreachable { url: base.to_owned(), cause }),
    }
}

/// Why TLS refused the server's certificate, if that is what failed. rustls's error sits inside io::Errors, whose
/// `source` skips the error they wrap, so each one is opened too.
fn invalid_certificate(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(why)) = e.downcast_ref::<rustls::Error>() {
            return Some(format!("{why:?}"));
        }
        next = match e.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
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

    fn answer<T: serde::de::DeserializeOwned>(&self, response: Result<Response, reqwest::Error>) -> Result<T, Error> {
        let response = response.map_err(|e| unreachable(&self.base, e))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Error::Sync(SyncFailure::Busy { retry_after_secs: retry_after(&response) }));
        }
        if !status.is_success() {
            let body = self.body(response).ok();
            let body: serde_json::Value = body.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
            let message = body.get("message").and_then(|m| m.as_str()).unwrap_or("no explanation");
            return Err(Error::Sync(SyncFailure::Refused { status: status.to_string(), message: message.to_owned() }));
        }
        let body = self.body(response)?;
        serde_json::from_slice(&body).map_err(|e| Error::Sync(SyncFailure::BadAnswer(e.to_string())))
    }

    /// The whole body of an answer, refused unread past [`MAX_BODY_BYTES`], the most a partner ever sends.
    fn body(&self, response: Response) -> Result<Vec<u8>, Error> {
        let too_large = Error::Sync(SyncFailure::AnswerTooLarge);
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large);
        }
        let mut body = Vec::new();
        let read = response.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body);
        read.map_err(|e| Error::Sync(SyncFailure::Unreachable { url: self.base.clone(), cause: e.to_string() }))?;
        if body.len() > MAX_BODY_BYTES {
            return Err(too_large);
        }
        Ok(body)
    }

    pub(super) fn push(&self, sealed: &[Vec<u8>]) -> Result<Vec<PushResult>, Error> {
        let body = PushRequest { envelopes: sealed.iter().map(|e| encode_envelope(e)).collect() };
        let response: PushResponse =
            self.answer(self.http.post(format!("{}/envelopes", self.base)).json(&body).send())?;
        Ok(response.results)
    }

    /// Sends this clinic's audit anchor; the answer is the anchor the partner keeps for it, or `None` from a partner
    /// that keeps none (one older than audit anchors, which does not know the route).
    pub(super) fn anchor(&self, anchor: &Anchor) -> Result<Option<AnchorResponse>, Error> {
        let response = self.http.post(format!("{}/audit-anchor", self.base)).json(anchor).send();
        if response.as_ref().is_ok_and(|r| r.status() == StatusCode::NOT_FOUND) {
            tracing::info!("the partner keeps no audit anchors");
            return Ok(None);
        }
        let answer: AnchorResponse = self.answer(response)?;
        // The kept anchor comes back whole; one far larger than any anchor is not one.
        let size = serde_json::to_vec(&answer.kept).map_or(usize::MAX, |b| b.len());
        if size > MAX_ANCHOR_BYTES {
            return Err(Error::Sync(SyncFailure::BadAnswer("an audit anchor larger than any anchor".into())));
        }
        Ok(Some(answer))
    }

    pub(super) fn pull(&self, after: i64, limit: usize) -> Result<PullResponse, Error> {
        let url = format!("{}/envelopes?after={after}&limit={limit}", self.base);
        self.answer(self.http.get(url).send())
    }
}

/// How long a busy partner asked this clinic to wait (`Retry-After`, in seconds, as galen-partner sends it), at
/// most [`BACKGROUND_LONGEST`] so a partner cannot silence sync for good; the usual interval if it did not say.
fn retry_after(response: &Response) -> u64 {
    let header = response.headers().get(reqwest::header::RETRY_AFTER);
    let seconds = header.and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    seconds.unwrap_or(BACKGROUND_EVERY.as_secs()).min(BACKGROUND_LONGEST.as_secs())
}
