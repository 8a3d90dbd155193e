//! WeChat Pay API v3 signatures (`WECHATPAY2-SHA256-RSA2048`).
//!
//! Requests: the five-line message `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`, signed
//! RSA-SHA256 PKCS#1 v1.5 with the merchant's private key (ring: constant-time, unlike the
//! `rsa` crate's signing), base64, in the `Authorization` header with the merchant id, nonce,
//! timestamp and the API certificate's serial.
//!
//! Responses: `Wechatpay-Timestamp\nWechatpay-Nonce\nBODY\n` verified with the WeChat Pay
//! public key (`PUB_KEY_ID_…`). A response is refused when unsigned, signed by another key,
//! more than five minutes off the booth's clock, or signed `WECHATPAY/SIGNTEST/…` (WeChat's
//! probe signatures: a genuine response never carries one).

use data_encoding::BASE64;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};

/// How far a response's timestamp may be from the booth's clock.
pub const MAX_SKEW_S: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the merchant private key is not a PKCS#8 RSA key in PEM: {0}")]
    BadPrivateKey(String),
    #[error("the WeChat Pay public key is not an RSA public key in PEM: {0}")]
    BadPublicKey(String),
    #[error("signing failed")]
    Signing,
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forged {
    #[error("the response is not signed")]
    Unsigned,
    #[error("the response is signed with key {0:?}, not the configured WeChat Pay public key")]
    OtherKey(String),
    #[error("the response carries a WECHATPAY/SIGNTEST signature")]
    SignTest,
    #[error("the response's time is {0} s off the booth's clock")]
    Stale(i64),
    #[error("the response's signature does not verify")]
    BadSignature,
}

/// The merchant's request signer.
pub struct Signer {
    key: RsaKeyPair,
    mchid: String,
    serial_no: String,
    rng: SystemRandom,
}

impl Signer {
    /// From the merchant private key (`apiclient_key.pem`, PKCS#8).
    pub fn from_pem(pem: &str, mchid: &str, serial_no: &str) -> Result<Self, SignError> {
        let (label, der) =
            pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| SignError::BadPrivateKey(e.to_string()))?;
        if label != "PRIVATE KEY" {
            return Err(SignError::BadPrivateKey(format!("a {label} block")));
        }
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|e| SignError::BadPrivateKey(e.to_string()))?;
        Ok(Signer { key, mchid: mchid.into(), serial_no: serial_no.into(), rng: SystemRandom::new() })
    }

    /// RSA-SHA256 PKCS#1 v1.5 of `message`, base64.
    pub fn sign(&self, message: &[u8]) -> Result<String, SignError> {
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut sig).map_err(|_| SignError::Signing)?;
        Ok(BASE64.encode(&sig))
    }

    /// The `Authorization` header of a request.
    pub fn authorization(
        &self,
        method: &str,
        path_and_query: &str,
        timestamp: i64,
        nonce: &str,
        body: &str,
    ) -> Result<String, SignError> {
        let signature = self.sign(request_message(method, path_and_query, timestamp, nonce, body).as_bytes())?;
        Ok(format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.serial_no
        ))
    }

    /// The public half, as the sandbox server needs it to check the booth (PKCS#1 DER).
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key.public().as_ref().to_vec()
    }
}

/// The five-line message a request's signature covers.
pub fn request_message(method: &str, path_and_query: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n")
}

/// A fresh request nonce: 32 random hex digits.
pub fn nonce() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source");
    data_encoding::HEXUPPER.encode(&b)
}

/// Checks WeChat Pay's responses (and, in the sandbox, the booth's requests).
pub struct Verifier {
    /// RSAPublicKey (PKCS#1) DER.
    key: Vec<u8>,
    key_id: String,
}

/// The signature headers of a response.
pub struct SignedResponse<'a> {
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
    /// `Wechatpay-Serial`: the public key id (`PUB_KEY_ID_…`).
    pub serial: Option<&'a str>,
    pub body: &'a str,
}

impl Verifier {
    /// From the WeChat Pay public key (`pub_key.pem`, SubjectPublicKeyInfo) and its id.
    pub fn from_pem(pem: &str, key_id: &str) -> Result<Self, SignError> {
        let (label, der) =
            pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| SignError::BadPublicKey(e.to_string()))?;
        if label != "PUBLIC KEY" {
            return Err(SignError::BadPublicKey(format!("a {label} block")));
        }
        let spki = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice())
            .map_err(|e| SignError::BadPublicKey(e.to_string()))?;
        let key = spki.subject_public_key.raw_bytes().to_vec();
        Ok(Self::from_der(key, key_id))
    }

    /// From an RSAPublicKey (PKCS#1) DER.
    pub fn from_der(key: Vec<u8>, key_id: &str) -> Self {
        Verifier { key, key_id: key_id.into() }
    }

    /// Whether `signature` (base64) is this key's over `message`.
    pub fn verify(&self, message: &[u8], signature_b64: &str) -> bool {
        let Ok(sig) = BASE64.decode(signature_b64.as_bytes()) else { return false };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.key).verify(message, &sig).is_ok()
    }

    /// Checks a response's signature headers against its body, at `now` (unix seconds).
    pub fn check_response(&self, r: &SignedResponse<'_>, now: i64) -> Result<(), Forged> {
        let (Some(ts), Some(nonce), Some(sig), Some(serial)) = (r.timestamp, r.nonce, r.signature, r.serial) else {
            return Err(Forged::Unsigned);
        };
        if sig.starts_with("WECHATPAY/SIGNTEST/") {
            return Err(Forged::SignTest);
        }
        if serial != self.key_id {
            return Err(Forged::OtherKey(serial.into()));
        }
        let t: i64 = ts.trim().parse().map_err(|_| Forged::BadSignature)?;
        // Any i64 may arrive in the header: a difference that cannot overflow.
        if t.abs_diff(now) > MAX_SKEW_S.unsigned_abs() {
            return Err(Forged::Stale(t.saturating_sub(now)));
        }
        let message = format!("{ts}\n{nonce}\n{}\n", r.body);
        if self.verify(message.as_bytes(), sig) { Ok(()) } else { Err(Forged::BadSignature) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The test key of WeChat Pay's Go SDK (`core/auth/signers/sha256withrsa_signer_test.go`),
    /// labelled TESTING KEY there and here so secret scanners leave it alone.
    const SDK_KEY: &str = include_str!("testdata/wechatpay-go-signer-test.pem");
    /// Its expected signature of "source".
    const SDK_SIGNATURE: &str = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6\
pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOh\
uH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwf\
LpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";

    fn signer() -> Signer {
        Signer::from_pem(&SDK_KEY.replace("TESTING KEY", "PRIVATE KEY"), "1234567890", "F5765756002FDD77").unwrap()
    }

    #[test]
    fn signs_the_go_sdk_test_vector_byte_for_byte() {
        assert_eq!(signer().sign(b"source").unwrap(), SDK_SIGNATURE);
    }

    #[test]
    fn the_go_sdk_signature_verifies_with_the_public_key_pem() {
        // The SDK key's public half as WeChat hands out public keys (SubjectPublicKeyInfo PEM,
        // made with `openssl pkey -pubout`).
        let v = Verifier::from_pem(include_str!("testdata/wechatpay-go-signer-test.pub.pem"), "K").unwrap();
        assert!(v.verify(b"source", SDK_SIGNATURE));
        assert!(!v.verify(b"sourcE", SDK_SIGNATURE));
        assert!(!v.verify(b"source", "not base64!"));
    }

    #[test]
    fn the_authorization_header_names_the_merchant_and_signs_the_five_lines() {
        let s = signer();
        let body = r#"{"mchid":"1234567890"}"#;
        let path = "/v3/pay/transactions/native";
        let h = s.authorization("POST", path, 1_700_000_000, "NONCE1", body).unwrap();
        assert!(h.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1234567890\",nonce_str=\"NONCE1\","), "{h}");
        assert!(h.ends_with("timestamp=\"1700000000\",serial_no=\"F5765756002FDD77\""), "{h}");
        let sig = h.split("signature=\"").nth(1).unwrap().split('"').next().unwrap();
        let v = Verifier::from_der(s.public_key_der(), "x");
        assert!(v.verify(request_message("POST", path, 1_700_000_000, "NONCE1", body).as_bytes(), sig));
        assert!(!v.verify(request_message("POST", path, 1_700_000_001, "NONCE1", body).as_bytes(), sig));
    }

    #[test]
    fn responses_are_refused_unless_signed_now_by_the_configured_key() {
        let s = signer();
        let v = Verifier::from_der(s.public_key_der(), "PUB_KEY_ID_TEST");
        let now = 1_700_000_000;
        let body = r#"{"trade_state":"SUCCESS"}"#;
        let sign = |ts: i64, body: &str| s.sign(format!("{ts}\nN\n{body}\n").as_bytes()).unwrap();
        let good_sig = sign(now, body);
        let ts = now.to_string();
        let r = |ts: &str, sig: Option<&str>, serial: &str, body: &str| -> Result<(), Forged> {
            v.check_response(
                &SignedResponse { timestamp: Some(ts), nonce: Some("N"), signature: sig, serial: Some(serial), body },
                now,
            )
        };
        assert_eq!(r(&ts, Some(&good_sig), "PUB_KEY_ID_TEST", body), Ok(()));
        assert_eq!(r(&ts, None, "PUB_KEY_ID_TEST", body), Err(Forged::Unsigned));
        assert_eq!(r(&ts, Some("WECHATPAY/SIGNTEST/abc"), "PUB_KEY_ID_TEST", body), Err(Forged::SignTest));
        assert_eq!(r(&ts, Some(&good_sig), "PUB_KEY_ID_OTHER", body), Err(Forged::OtherKey("PUB_KEY_ID_OTHER".into())));
        assert_eq!(
            r(&ts, Some(&good_sig), "PUB_KEY_ID_TEST", r#"{"trade_state":"NOTPAY"}"#),
            Err(Forged::BadSignature),
            "a body changed after signing"
        );
        let old = now - 301;
        assert_eq!(r(&old.to_string(), Some(&sign(old, body)), "PUB_KEY_ID_TEST", body), Err(Forged::Stale(-301)));
        let late = now + 300;
        assert_eq!(r(&late.to_string(), Some(&sign(late, body)), "PUB_KEY_ID_TEST", body), Ok(()), "5 min is allowed");
    }

    #[test]
    fn a_timestamp_at_either_end_of_the_range_is_stale_not_a_crash() {
        let s = signer();
        let v = Verifier::from_der(s.public_key_der(), "K");
        for ts in [i64::MAX, i64::MIN, i64::MIN + 1] {
            let t = ts.to_string();
            let sig = s.sign(format!("{t}\nN\n{{}}\n").as_bytes()).unwrap();
            let r = SignedResponse {
                timestamp: Some(&t),
                nonce: Some("N"),
                signature: Some(&sig),
                serial: Some("K"),
                body: "{}",
            };
            for now in [0, 1_700_000_000, i64::MAX, i64::MIN] {
                if ts.abs_diff(now) <= 300 {
                    continue;
                }
                assert!(matches!(v.check_response(&r, now), Err(Forged::Stale(_))), "ts {ts}, now {now}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the headers hold, the checker answers (no panic), and it accepts only a
        /// response signed by the key, for its body, within five minutes of now.
        #[test]
        fn the_response_checker_takes_any_header_values(
            ts in proptest::option::of(prop_oneof![
                any::<i64>().prop_map(|t| t.to_string()),
                (-400i64..400).prop_map(|d| (1_700_000_000 + d).to_string()),
                ".{0,24}",
            ]),
            nonce in proptest::option::of(".{0,40}"),
            sig in proptest::option::of(prop_oneof![".{0,80}", "WECHATPAY/SIGNTEST/.{0,20}"]),
            serial in proptest::option::of(prop_oneof![Just("K".to_string()), ".{0,12}"]),
            body in ".{0,64}",
            signed in any::<bool>(),
            now in prop_oneof![Just(1_700_000_000i64), any::<i64>()],
        ) {
            let s = signer();
            let v = Verifier::from_der(s.public_key_der(), "K");
            // Half the time a genuine signature over these very headers, so acceptance is reached.
            let genuine = match (&ts, &nonce) {
                (Some(t), Some(n)) if signed => Some(s.sign(format!("{t}\n{n}\n{body}\n").as_bytes()).unwrap()),
                _ => None,
            };
            let sig = genuine.clone().or(sig);
            let r = SignedResponse {
                timestamp: ts.as_deref(),
                nonce: nonce.as_deref(),
                signature: sig.as_deref(),
                serial: serial.as_deref(),
                body: &body,
            };
            if v.check_response(&r, now).is_ok() {
                let t: i64 = ts.as_deref().unwrap().trim().parse().unwrap();
                prop_assert!(t.abs_diff(now) <= 300);
                prop_assert_eq!(serial.as_deref(), Some("K"));
                prop_assert!(genuine.is_some() && genuine == sig, "accepted without the key's signature");
            }
        }
    }

    #[test]
    fn keys_in_the_wrong_form_are_named() {
        assert!(matches!(Signer::from_pem("not a key", "1", "S"), Err(SignError::BadPrivateKey(_))));
        assert!(matches!(Signer::from_pem(SDK_KEY, "1", "S"), Err(SignError::BadPrivateKey(_))), "a TESTING KEY block");
        let private = SDK_KEY.replace("TESTING KEY", "PRIVATE KEY");
        assert!(matches!(Verifier::from_pem(&private, "K"), Err(SignError::BadPublicKey(_))));
    }
}
