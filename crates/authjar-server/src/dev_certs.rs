//! `authjar dev certs`: a local certificate authority (created once, key
//! mode 0600, reused next time) and a certificate for the given names — the
//! post's mkcert trick, built in.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Files written by [`make`].
#[derive(Debug, Clone)]
pub struct DevCerts {
    /// The CA certificate to trust.
    pub ca_cert: PathBuf,
    /// Whether the CA was created by this call (false: reused).
    pub ca_created: bool,
    /// The server certificate (chain: leaf then CA).
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
    /// The names it covers.
    pub names: Vec<String>,
}

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DevCertError {
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Certificate generation or an unusable existing CA.
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// No names given.
    #[error("name at least one domain, e.g. `authjar dev certs app.hub.test api.hub.test`")]
    NoNames,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DevCertError + '_ {
    move |source| DevCertError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn write_file(path: &Path, contents: &str, private: bool) -> Result<(), DevCertError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(contents.as_bytes()).map_err(io(path))
}

fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "authjar development CA");
    dn.push(DnType::OrganizationName, "authjar dev certs");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2036, 1, 1);
    Ok(p)
}

/// Creates (or reuses) the CA in `out` and issues a certificate for `names`.
pub fn make(names: &[String], out: &Path) -> Result<DevCerts, DevCertError> {
    let first = names.first().ok_or(DevCertError::NoNames)?;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let ca_cert_path = out.join("authjar-dev-ca.pem");
    let ca_key_path = out.join("authjar-dev-ca-key.pem");
    let ca_created = !(ca_cert_path.is_file() && ca_key_path.is_file());
    let (ca_key, ca_params) = if ca_created {
        (KeyPair::generate()?, ca_params()?)
    } else {
        let key_pem = std::fs::read_to_string(&ca_key_path).map_err(io(&ca_key_path))?;
        let cert_pem = std::fs::read_to_string(&ca_cert_path).map_err(io(&ca_cert_path))?;
        (
            KeyPair::from_pem(&key_pem)?,
            CertificateParams::from_ca_cert_pem(&cert_pem)?,
        )
    };
    let ca = ca_params.self_signed(&ca_key)?;
    if ca_created {
        write_file(&ca_key_path, &ca_key.serialize_pem(), true)?;
        write_file(&ca_cert_path, &ca.pem(), false)?;
    }
    let mut leaf = CertificateParams::new(names.to_vec())?;
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, first.as_str());
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.not_before = rcgen::date_time_ymd(2024, 1, 1);
    leaf.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca, &ca_key)?;
    let stem = first.replace('*', "_wildcard");
    let cert = out.join(format!("{stem}.pem"));
    let key = out.join(format!("{stem}-key.pem"));
    let ca_pem = std::fs::read_to_string(&ca_cert_path).map_err(io(&ca_cert_path))?;
    write_file(&cert, &format!("{}{}", leaf_cert.pem(), ca_pem), false)?;
    write_file(&key, &leaf_key.serialize_pem(), true)?;
    Ok(DevCerts {
        ca_cert: ca_cert_path,
        ca_created,
        cert,
        key,
        names: names.to_vec(),
    })
}

/// What to do next: trust the CA on each platform, point the names at this machine, configure TLS.
pub fn instructions(c: &DevCerts) -> String {
    let ca = c.ca_cert.display();
    let hosts: String = c
        .names
        .iter()
        .filter(|n| !n.starts_with('*'))
        .map(|n| format!("    127.0.0.1  {n}\n"))
        .collect();
    format!(
        "Certificate for {names}\n  certificate: {cert}\n  key:         {key} (mode 0600)\n  CA:          {ca}{created}\n\n\
Trust the CA once per machine:\n\
  Debian/Ubuntu:  sudo cp {ca} /usr/local/share/ca-certificates/authjar-dev-ca.crt && sudo update-ca-certificates\n\
  Chromium on Linux (NSS):  certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n authjar-dev-ca -i {ca}\n\
  macOS:          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}\n\
  Windows:        certutil -addstore -f Root {ca}\n\
Firefox does not read $HOME/.pki/nssdb: it trusts the CAs in its own profile.\n\
Once per profile, with Firefox closed (PROFILE is the \"Root Directory\" about:profiles shows):\n\
  Firefox (NSS, certutil from libnss3-tools):  certutil -d sql:PROFILE -A -t C,, -n authjar-dev-ca -i {ca}\n\n\
Point the names at this machine (/etc/hosts, or C:\\Windows\\System32\\drivers\\etc\\hosts):\n{hosts}\n\
Serve HTTPS:\n  AUTHJAR_TLS_CERT={cert} AUTHJAR_TLS_KEY={key} authjar serve\n",
        names = c.names.join(", "),
        cert = c.cert.display(),
        key = c.key.display(),
        created = if c.ca_created { " (new)" } else { " (reused)" },
    )
}
