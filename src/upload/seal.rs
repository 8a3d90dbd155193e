//! A paid photo on its way to the collection centre: the standard photo and its manifest,
//! each encrypted with age to the centre's X25519 recipient (`age1…`). What leaves the booth
//! (and what rests in its outbox) is only ever the sealed form; `age -d -i centre.key` opens
//! the photo file to the standard JPEG.

use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("not an age X25519 recipient (age1…): {0}")]
    BadRecipient(String),
    #[error("encrypting failed: {0}")]
    Encrypt(String),
}

pub use crate::journal::storage::Manifest;

/// The collection centre's public key, from `age1…` text.
#[derive(Clone, PartialEq, Eq)]
pub struct Centre(age::x25519::Recipient);

impl std::fmt::Debug for Centre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Centre({})", self.0)
    }
}

impl FromStr for Centre {
    type Err = SealError;
    fn from_str(s: &str) -> Result<Self, SealError> {
        age::x25519::Recipient::from_str(s.trim()).map(Centre).map_err(|e| SealError::BadRecipient(e.to_string()))
    }
}

impl Centre {
    /// `bytes` encrypted to the centre (binary age format).
    pub fn seal(&self, bytes: &[u8]) -> Result<Vec<u8>, SealError> {
        age::encrypt(&self.0, bytes).map_err(|e| SealError::Encrypt(e.to_string()))
    }

    /// The photo and its manifest, sealed: (`….jpg.age`, `….json.age`).
    pub fn seal_photo(&self, jpeg: &[u8], manifest: &Manifest) -> Result<(Vec<u8>, Vec<u8>), SealError> {
        let json = serde_json::to_vec_pretty(manifest).map_err(|e| SealError::Encrypt(e.to_string()))?;
        Ok((self.seal(jpeg)?, self.seal(&json)?))
    }
}

impl crate::journal::storage::Sealer for Centre {
    fn seal_photo(&self, jpeg: &[u8], manifest: &Manifest) -> Result<(Vec<u8>, Vec<u8>), String> {
        Centre::seal_photo(self, jpeg, manifest).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            ticket_id: "T-2025-0001".into(),
            booth_id: "fengxian-d108".into(),
            captured_at: 1_748_916_000,
            paid_at: 1_748_916_120,
            out_trade_no: "fengxiand1-T20250001-1".into(),
            transaction_id: "4200000001202506030000000001".into(),
            measures: [("face_width".to_owned(), 0.41)].into(),
        }
    }

    #[test]
    fn the_centre_opens_the_photo_and_its_manifest_and_nobody_else_can() {
        let identity = age::x25519::Identity::generate();
        let centre: Centre = identity.to_public().to_string().parse().unwrap();
        let jpeg = b"\xFF\xD8\xFF\xE0 a standard photo \xFF\xD9";
        let (photo, json) = centre.seal_photo(jpeg, &manifest()).unwrap();
        assert!(photo.starts_with(b"age-encryption.org/v1\n"), "binary age format");
        assert!(!photo.windows(16).any(|w| w == &b" a standard photo"[..16]), "no plaintext in the sealed file");
        assert_eq!(age::decrypt(&identity, &photo).unwrap(), jpeg);
        let back: Manifest = serde_json::from_slice(&age::decrypt(&identity, &json).unwrap()).unwrap();
        assert_eq!(back, manifest());
        let stranger = age::x25519::Identity::generate();
        assert!(age::decrypt(&stranger, &photo).is_err());
    }

    #[test]
    fn a_recipient_that_is_not_an_age_key_is_named() {
        for bad in ["", "age1notakey", "ssh-ed25519 AAAA"] {
            assert!(matches!(bad.parse::<Centre>(), Err(SealError::BadRecipient(_))), "{bad:?}");
        }
    }
}
