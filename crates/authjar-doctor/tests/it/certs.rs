//! A test certificate authority (made once per test binary) and leaf
//! certificates for the fixtures' fake names.

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

pub fn ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "doctor test CA");
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = rcgen::date_time_ymd(2024, 1, 1);
        p.not_after = rcgen::date_time_ymd(2040, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        TestCa { cert, key }
    })
}

impl TestCa {
    pub fn pem(&self) -> String {
        self.cert.pem()
    }
}

/// How long the leaf is valid.
#[derive(Clone, Copy, Debug)]
pub enum Validity {
    /// Until 2035.
    Long,
    /// A few days from now.
    Days(i64),
}

/// A certificate chain (leaf then CA) and key for `names`.
pub fn leaf(names: &[String], validity: Validity) -> (String, String) {
    let ca = ca();
    let mut p = CertificateParams::new(names.to_vec()).unwrap();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = match validity {
        Validity::Long => rcgen::date_time_ymd(2035, 1, 1),
        // The probe's TLS handshake and the doctor's expiry check both read
        // the real clock, so "a few days from now" must be anchored to it.
        #[allow(clippy::disallowed_methods)]
        Validity::Days(d) => time::OffsetDateTime::now_utc() + time::Duration::days(d),
    };
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (format!("{}{}", cert.pem(), ca.pem()), key.serialize_pem())
}
