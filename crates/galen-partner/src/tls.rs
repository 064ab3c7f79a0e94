//! TLS with client certificates required. The server trusts exactly the paired clinics' site CAs ([`ClientCas`],
//! which the running server replaces when a clinic is paired or unpaired); a connection without a certificate,
//! with one from another CA, or with an expired one fails in the handshake, before any HTTP. The verified
//! certificate's SHA-256 reaches handlers as [`Peer`].

use axum::middleware::AddExtension;
use axum::{Extension, Router};
use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use futures_util::future::BoxFuture;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::UnixTime;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tower::Layer;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the {what} is not valid PEM: {reason}")]
    Pem { what: &'static str, reason: String },
    #[error("the {what} holds no certificate")]
    Empty { what: &'static str },
    #[error("the TLS settings were refused: {0}")]
    Rustls(String),
}

fn certificates(pem: &[u8], what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem { what, reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::Empty { what });
    }
    Ok(certs)
}

/// The CAs whose client certificates the server accepts, replaceable while it runs: each handshake asks the set
/// current then, so a clinic paired a moment ago is let in and one unpaired is refused, without a restart. With
/// no CA at all, every client is refused.
#[derive(Debug, Clone)]
pub struct ClientCas(Arc<RwLock<Option<Arc<dyn ClientCertVerifier>>>>);

fn verifier(client_ca_pem: &[u8]) -> Result<Option<Arc<dyn ClientCertVerifier>>, TlsError> {
    if client_ca_pem.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut roots = RootCertStore::empty();
    for ca in certificates(client_ca_pem, "paired clinics' CA certificates")? {
        roots.add(ca).map_err(|e| TlsError::Rustls(e.to_string()))?;
    }
    // No `allow_unauthenticated()`: a client without a certificate is refused.
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    Ok(Some(verifier))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl ClientCas {
    /// Trusting the CAs in this PEM (none, for an empty one).
    pub fn new(client_ca_pem: &[u8]) -> Result<ClientCas, TlsError> {
        Ok(ClientCas(Arc::new(RwLock::new(verifier(client_ca_pem)?))))
    }

    /// Trusts these CAs from the next handshake on; a bad PEM changes nothing.
    pub fn replace(&self, client_ca_pem: &[u8]) -> Result<(), TlsError> {
        let next = verifier(client_ca_pem)?;
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(())
    }

    fn current(&self) -> Result<Arc<dyn ClientCertVerifier>, rustls::Error> {
        let current = self.0.read().unwrap_or_else(|e| e.into_inner()).clone();
        current.ok_or_else(|| rustls::Error::General("no clinic is paired with this partner".into()))
    }
}

impl ClientCertVerifier for ClientCas {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    // No hints: a Galen clinic has one certificate and sends it anyway.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.current()?.verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.current()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.current()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}

/// The server's rustls configuration: its certificate chain and key, and the CAs whose client certificates it
/// accepts. Client authentication is mandatory.
pub fn server_config(chain_pem: &[u8], key_pem: &[u8], clients: &ClientCas) -> Result<Arc<ServerConfig>, TlsError> {
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError::Pem { what: "private key", reason: e.to_string() })?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rustls(e.to_string()))?
        .with_client_cert_verifier(Arc::new(clients.clone()))
        .with_single_cert(certificates(chain_pem, "certificate file")?, key)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The client behind a connection, as its verified certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// SHA-256 of the client certificate (DER), lower-case hex.
    pub certificate_sha256: String,
    /// The client certificate (DER), to find which paired site's CA issued it.
    pub certificate: Arc<[u8]>,
}

/// Rustls, then the verified client certificate's fingerprint as a request extension.
#[derive(Debug, Clone)]
struct PeerAcceptor(RustlsAcceptor);

impl<I, S> Accept<I, S> for PeerAcceptor
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
{
    type Stream = TlsStream<I>;
    type Service = AddExtension<S, Peer>;
    type Future = BoxFuture<'static, std::io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move {
            let (stream, service) = inner.accept(stream, service).await?;
            // The verifier refused any connection without a certificate, so there is one here.
            let der =
                stream.get_ref().1.peer_certificates().and_then(|c| c.first()).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no client certificate")
                })?;
            let peer = Peer {
                certificate_sha256: data_encoding::HEXLOWER.encode(&Sha256::digest(der)),
                certificate: Arc::from(der.as_ref()),
            };
            Ok((stream, Extension(peer).layer(service)))
        })
    }
}

/// Serves `app` on `listener` behind TLS with client certificates required, until the process ends.
pub async fn serve(listener: std::net::TcpListener, config: Arc<ServerConfig>, app: Router) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let acceptor = PeerAcceptor(RustlsAcceptor::new(RustlsConfig::from_config(config)));
    axum_server::from_tcp(listener).acceptor(acceptor).serve(app.into_make_service()).await
}
