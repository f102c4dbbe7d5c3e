//! A TLS handshake of its own with the API, to read what reqwest does not
//! expose: whether the certificate verifies for the host (and if not, why),
//! and the leaf's notAfter. The verifier records webpki's verdict and lets
//! the handshake finish so the certificate can be read; nothing is sent
//! over the connection.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::client::ProbeOptions;
use super::ProbeError;
use crate::observe::TlsObservation;

/// The public roots plus `--ca-file`'s certificates.
pub fn root_store(extra_pem: Option<&[u8]>) -> Result<RootCertStore, ProbeError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let Some(pem) = extra_pem else {
        return Ok(roots);
    };
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| ProbeError::CaFile(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| ProbeError::CaFile(e.to_string()))?;
        added += 1;
    }
    if added == 0 {
        return Err(ProbeError::CaFile("no PEM certificate in the file".into()));
    }
    Ok(roots)
}

/// Records webpki's verdict; always lets the handshake complete.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Mutex<Option<String>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if let (Err(e), Ok(mut v)) = (result, self.verdict.lock()) {
            *v = Some(e.to_string());
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Where to connect for `host:port`: the `--resolve` mapping or the system resolver.
async fn address(options: &ProbeOptions, host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Some(a) = options.mapped(host, port) {
        return Ok(a);
    }
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    if !options.system_dns {
        return Err(format!("{host}:{port} is not mapped with --resolve"));
    }
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| format!("{host} has no address"))
}

/// Connects to `host:port`, completes a handshake and reads the leaf.
pub async fn inspect(
    host: &str,
    port: u16,
    roots: RootCertStore,
    options: &ProbeOptions,
) -> TlsObservation {
    let mut obs = TlsObservation {
        host: host.to_owned(),
        port,
        handshake_error: None,
        verification_error: None,
        not_after: None,
        names: Vec::new(),
        issuer: None,
    };
    match handshake(host, port, roots, options).await {
        Ok((verdict, leaf)) => {
            obs.verification_error = verdict;
            if let Some(der) = leaf {
                read_leaf(&der, &mut obs);
            }
        }
        Err(e) => obs.handshake_error = Some(e),
    }
    obs
}

type Handshake = (Option<String>, Option<CertificateDer<'static>>);

/// A client config whose verifier records webpki's verdict instead of failing.
fn recording_config(roots: RootCertStore) -> Result<(rustls::ClientConfig, Arc<Recorder>), String> {
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| e.to_string())?;
    let recorder = Arc::new(Recorder {
        inner,
        verdict: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    Ok((config, recorder))
}

async fn handshake(
    host: &str,
    port: u16,
    roots: RootCertStore,
    options: &ProbeOptions,
) -> Result<Handshake, String> {
    let (config, recorder) = recording_config(roots)?;
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
        .map_err(|e| e.to_string())?;
    let addr = address(options, host, port).await?;
    let connect = async {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("could not connect to {addr}: {e}"))?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))
    };
    let limit = options.timeout.max(Duration::from_secs(1));
    let stream = tokio::time::timeout(limit, connect)
        .await
        .map_err(|_| "timed out".to_owned())??;
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.clone().into_owned());
    let verdict = recorder.verdict.lock().ok().and_then(|v| v.clone());
    Ok((verdict, leaf))
}

fn read_leaf(der: &CertificateDer<'_>, obs: &mut TlsObservation) {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return;
    };
    obs.not_after = Some(cert.validity().not_after.timestamp());
    obs.issuer = Some(cert.issuer().to_string());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        obs.names = san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                x509_parser::extensions::GeneralName::IPAddress(ip) => ip_string(ip),
                _ => None,
            })
            .collect();
    }
}

fn ip_string(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}
