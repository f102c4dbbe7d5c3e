//! Access tokens: JWTs signed with Ed25519 (EdDSA), verifiable by anyone
//! holding the JWKS and never by a database lookup. Expiry is checked
//! against the injected clock (jsonwebtoken's own `exp` check would read the
//! system clock), with no leeway: a token is refused from `exp` on.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use ed25519_dalek::{Signer as _, SigningKey};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::keys::{KeyError, KeyRing, SigningKeyEntry};
use crate::verified::{Verified, VerifiedTokens};

/// The claims authjar puts in an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    /// The user's e-mail.
    pub email: String,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// Issuer: the server's `public_url`.
    pub iss: String,
}

/// Why an access token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or not one of ours (wrong algorithm, issuer, claims).
    #[error("malformed access token")]
    Malformed,
    /// Signed by a key this server does not know.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// Past `exp`.
    #[error("expired")]
    Expired,
}

/// Why an access token cannot be signed (a broken signing key): a server
/// fault, never the caller's.
#[derive(Debug, thiserror::Error)]
#[error("signing an access token: {0}")]
pub struct SigningError(#[source] jsonwebtoken::errors::Error);

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct AccessTokens {
    issuer: String,
    ttl_secs: i64,
    /// `base64url(header).`, the same for every token this process signs.
    header_b64: Arc<str>,
    signing_kid: String,
    signing: Arc<SigningKey>,
    decoding: Arc<HashMap<String, DecodingKey>>,
    jwks: Arc<serde_json::Value>,
    validation: Arc<Validation>,
    verified: Arc<VerifiedTokens>,
}

impl AccessTokens {
    /// Tokens for `issuer` living `ttl_secs`, with the keys of `ring`; an
    /// error when the signing key does not parse, or a key's public half is
    /// not a valid Ed25519 key (no key is silently left out of verification).
    pub fn new(ring: &KeyRing, issuer: String, ttl_secs: i64) -> Result<AccessTokens, KeyError> {
        let all: Vec<&SigningKeyEntry> = std::iter::once(&ring.signing)
            .chain(&ring.retired)
            .collect();
        let decoding = all
            .iter()
            .map(|k| {
                DecodingKey::from_ed_components(&k.public_x)
                    .map(|d| (k.kid.clone(), d))
                    .map_err(|source| KeyError::PublicKey {
                        kid: k.kid.clone(),
                        source,
                    })
            })
            .collect::<Result<_, _>>()?;
        let keys: Vec<serde_json::Value> = all
            .iter()
            .map(|k| serde_json::json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.kid, "x": k.public_x}))
            .collect();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer.as_str()]);
        let signing =
            SigningKey::from_pkcs8_der(&ring.signing.pkcs8_der).map_err(KeyError::Pkcs8)?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(ring.signing.kid.clone());
        let header_json = serde_json::to_vec(&header).map_err(KeyError::Header)?;
        Ok(AccessTokens {
            issuer,
            ttl_secs,
            header_b64: format!("{}.", URL_SAFE_NO_PAD.encode(header_json)).into(),
            signing_kid: ring.signing.kid.clone(),
            signing: Arc::new(signing),
            decoding: Arc::new(decoding),
            jwks: Arc::new(serde_json::json!({ "keys": keys })),
            validation: Arc::new(validation),
            verified: Arc::new(VerifiedTokens::new()),
        })
    }

    /// Lifetime of new tokens, in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs a token for a session.
    ///
    /// Assembled here rather than by `jsonwebtoken::encode`, which parses
    /// the PKCS#8 key again and derives its public half on every call: two
    /// scalar multiplications per token instead of one, a fifth of a
    /// refresh's CPU. The header is serialised once, from jsonwebtoken's
    /// own `Header`; the key is expanded once; verification stays with
    /// jsonwebtoken, and the tests hold every issued token to it.
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        email: &str,
        now: UnixTime,
    ) -> Result<String, SigningError> {
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            email: email.to_owned(),
            iat: now,
            exp: now + self.ttl_secs,
            iss: self.issuer.clone(),
        };
        let payload = serde_json::to_vec(&claims)
            .map_err(|e| SigningError(jsonwebtoken::errors::Error::from(e)))?;
        let mut token = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 90);
        token.push_str(&self.header_b64);
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = self.signing.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        // Signed here with the current key, these claims: what the full
        // check would find, so its first use needs no signature check.
        self.verified.insert(
            &token,
            Verified {
                kid: self.signing_kid.clone(),
                claims,
            },
        );
        Ok(token)
    }

    /// Verifies signature, issuer and expiry. The signature of a token is
    /// checked once; later calls with exactly the same token text check its
    /// expiry and key against a cached result (see `verified.rs` for why
    /// that accepts nothing the full check would refuse).
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<AccessClaims, TokenError> {
        if let Some(v) = self.verified.get(token) {
            if !self.decoding.contains_key(&v.kid) {
                return Err(TokenError::UnknownKey);
            }
            if now >= v.claims.exp {
                return Err(TokenError::Expired);
            }
            return Ok(v.claims.clone());
        }
        let (kid, claims) = self.verify_fully(token, now)?;
        self.verified.insert(
            token,
            Verified {
                kid,
                claims: claims.clone(),
            },
        );
        Ok(claims)
    }

    /// The full check: header, key id, signature, algorithm, issuer, expiry.
    fn verify_fully(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<(String, AccessClaims), TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::Malformed)?;
        let key = self.decoding.get(&kid).ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
                _ => TokenError::Malformed,
            },
        )?;
        if now >= data.claims.exp {
            return Err(TokenError::Expired);
        }
        Ok((kid, data.claims))
    }

    /// The JSON Web Key Set: the signing key and every retired key.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn tokens(secret: &str, previous: &[&str]) -> AccessTokens {
        let prev: Vec<SecretString> = previous
            .iter()
            .map(|p| SecretString::from((*p).to_owned()))
            .collect();
        let ring = KeyRing::derive(&SecretString::from(secret.to_owned()), &prev).unwrap();
        AccessTokens::new(&ring, "https://api.hub.test".into(), 1800).unwrap()
    }

    const A: &str = "first secret, at least 32 characters";
    const B: &str = "second secret, at least 32 characters";

    #[test]
    fn issued_tokens_verify_until_exp_and_not_from_exp_on() {
        let t = tokens(A, &[]);
        let jwt = t.issue("u1", "s1", "a@b.com", 1000).unwrap();
        let c = t.verify(&jwt, 1000 + 1799).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.sid.as_str(), c.iss.as_str()),
            ("u1", "s1", "https://api.hub.test")
        );
        assert_eq!(t.verify(&jwt, 1000 + 1800), Err(TokenError::Expired));
    }

    /// The token assembled by hand is byte for byte what jsonwebtoken
    /// itself encodes (Ed25519 signatures are deterministic), with a
    /// user-controlled e-mail that needs JSON escaping.
    #[test]
    fn issued_tokens_are_exactly_what_jsonwebtoken_encodes() {
        let secret = SecretString::from(A.to_owned());
        let ring = KeyRing::derive(&secret, &[]).unwrap();
        let t = AccessTokens::new(&ring, "https://api.hub.test".into(), 1800).unwrap();
        let email = "o'neil+\"quoted\"\\@b.com\u{e9}";
        let ours = t.issue("u1", "s1", email, 1000).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(ring.signing.kid.clone());
        let claims = AccessClaims {
            sub: "u1".into(),
            sid: "s1".into(),
            email: email.into(),
            iat: 1000,
            exp: 2800,
            iss: "https://api.hub.test".into(),
        };
        let theirs = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_ed_der(&ring.signing.pkcs8_der),
        )
        .unwrap();
        assert_eq!(ours, theirs);
        assert!(
            t.verified.get(&ours).is_some(),
            "remembered as verified when signed"
        );
        assert_eq!(t.verify(&ours, 1001).unwrap(), claims);
        let fresh = tokens(A, &[]);
        assert_eq!(
            fresh.verify(&ours, 1001).unwrap(),
            claims,
            "and the full check of another process agrees"
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_verifiable_and_foreign_keys_are_refused() {
        let old = tokens(A, &[]);
        let jwt = old.issue("u1", "s1", "a@b.com", 1000).unwrap();
        let rotated = tokens(B, &[A]);
        assert!(rotated.verify(&jwt, 1001).is_ok());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        assert_eq!(
            tokens(B, &[]).verify(&jwt, 1001),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn tampered_and_garbage_tokens_are_refused() {
        let t = tokens(A, &[]);
        let jwt = t.issue("u1", "s1", "a@b.com", 1000).unwrap();
        let mut parts: Vec<&str> = jwt.split('.').collect();
        let forged = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"sub":"admin","sid":"s1","email":"x","iat":1,"exp":99999999999,"iss":"https://api.hub.test"}"#);
        parts[1] = &forged;
        assert_eq!(
            t.verify(&parts.join("."), 1001),
            Err(TokenError::BadSignature)
        );
        assert_eq!(t.verify("not.a.jwt", 1001), Err(TokenError::Malformed));
        assert_eq!(t.verify("", 1001), Err(TokenError::Malformed));
    }

    /// The verified-token cache accepts nothing the full check refuses: a
    /// token verified once (so cached) still expires on time; a token that
    /// shares everything but its last signature byte, or carries other claims
    /// under the same header, is checked in full and refused; a key that is
    /// not in this verifier's set is refused whatever was cached elsewhere.
    #[test]
    fn a_cached_verification_refuses_what_the_full_check_refuses() {
        let t = tokens(A, &[]);
        let jwt = t.issue("u1", "s1", "a@b.com", 1000).unwrap();
        assert!(t.verify(&jwt, 1001).is_ok());
        assert!(t.verify(&jwt, 1002).is_ok(), "cached");
        assert_eq!(t.verify(&jwt, 1000 + 1800), Err(TokenError::Expired));
        assert_eq!(t.verify(&jwt, 1000 + 99_999), Err(TokenError::Expired));

        let fresh = t.issue("u1", "s1", "a@b.com", 5000).unwrap();
        assert!(t.verify(&fresh, 5001).is_ok());
        let (body, sig) = fresh.rsplit_once('.').unwrap();
        let mut sig = sig.to_owned();
        let last = sig.pop().unwrap();
        sig.push(if last == 'A' { 'B' } else { 'A' });
        let same_prefix = format!("{body}.{sig}");
        assert!(matches!(
            t.verify(&same_prefix, 5001),
            Err(TokenError::BadSignature | TokenError::Malformed)
        ));
        let mut parts: Vec<&str> = fresh.split('.').collect();
        let other = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"sub":"admin","sid":"s1","email":"x","iat":1,"exp":99999999999,"iss":"https://api.hub.test"}"#);
        parts[1] = &other;
        assert_eq!(
            t.verify(&parts.join("."), 5001),
            Err(TokenError::BadSignature)
        );
        assert!(
            t.verify(&fresh, 5002).is_ok(),
            "the genuine token is unaffected"
        );

        // A verifier whose key set no longer holds A (A retired for good:
        // a restart with A out of previous_secrets) refuses A's tokens.
        let without_a = tokens(B, &[]);
        assert_eq!(without_a.verify(&fresh, 5001), Err(TokenError::UnknownKey));
        assert_eq!(without_a.verify(&fresh, 5002), Err(TokenError::UnknownKey));
    }

    /// A signing key that cannot sign is refused when the server starts,
    /// never found at the first login (nor turned into an empty token).
    #[test]
    fn a_broken_signing_key_is_refused_at_start() {
        let mut ring = KeyRing::derive(&SecretString::from(A.to_owned()), &[]).unwrap();
        ring.signing.pkcs8_der = vec![0x30, 0x00];
        let r = AccessTokens::new(&ring, "https://api.hub.test".into(), 1800);
        assert!(matches!(r, Err(KeyError::Pkcs8(_))), "{:?}", r.err());
    }

    #[test]
    fn a_key_with_an_invalid_public_half_is_refused_not_left_out() {
        let mut ring = KeyRing::derive(
            &SecretString::from(B.to_owned()),
            &[SecretString::from(A.to_owned())],
        )
        .unwrap();
        ring.retired[0].public_x = "not base64url!".into();
        let err = AccessTokens::new(&ring, "https://api.hub.test".into(), 1800)
            .err()
            .unwrap();
        assert!(
            matches!(&err, KeyError::PublicKey { kid, .. } if *kid == ring.retired[0].kid),
            "{err}"
        );
    }
}
