//! Request signing and verification.
//!
//! Three schemes, all HMAC-SHA256 over the exact body bytes sent:
//! - `X-Phlix-Signature: sha256=<hex HMAC(secret, body)>` ([`sign`], [`verify`]);
//! - `X-Phlix-Signature-V2: t=<unix>,v1=<hex HMAC(secret, "<t>.<body>")>`, which
//!   binds a timestamp so receivers can refuse replays ([`sign_v2`], [`verify_v2`]);
//! - [Standard Webhooks](https://www.standardwebhooks.com/):
//!   `webhook-signature: v1,<base64 HMAC(key, "<id>.<t>.<body>")>` with a
//!   `whsec_<base64 key>` secret ([`StandardSecret`]).
//!
//! Verification is constant-time ([`hmac::Mac::verify_slice`]).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the body signature.
pub const SIGNATURE_HEADER: &str = "X-Phlix-Signature";
/// Header carrying the timestamped signature.
pub const SIGNATURE_V2_HEADER: &str = "X-Phlix-Signature-V2";
/// Header carrying the event id (stable across retries).
pub const WEBHOOK_ID_HEADER: &str = "X-Webhook-ID";
/// Header carrying the send time in unix seconds.
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "X-Webhook-Timestamp";
/// Standard Webhooks id header.
pub const STANDARD_ID_HEADER: &str = "webhook-id";
/// Standard Webhooks timestamp header.
pub const STANDARD_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// Standard Webhooks signature header.
pub const STANDARD_SIGNATURE_HEADER: &str = "webhook-signature";
/// How far a signed timestamp may be from the receiver's clock.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// `sha256=<lowercase hex HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a `sha256=<hex>` header against `body` in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn sign_v2(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Why a timestamped signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The header is not `t=…,v1=…`.
    Malformed,
    /// The timestamp is further from `now` than the tolerance.
    Expired,
    /// No signature matches.
    Mismatch,
}

/// Checks an `X-Phlix-Signature-V2` header: the timestamp must be within
/// `tolerance_secs` of `now` and one `v1` signature must match.
pub fn verify_v2(
    secret: &[u8],
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_secs: i64,
) -> std::result::Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.push(sig),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now - timestamp).abs() > tolerance_secs {
        return Err(VerifyError::Expired);
    }
    let matches = signatures.iter().any(|sig| {
        let Ok(expected) = hex::decode(sig) else {
            return false;
        };
        let mut mac = mac(secret);
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// A Standard Webhooks secret: `whsec_` followed by the base64 key.
#[derive(Clone)]
pub struct StandardSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for StandardSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StandardSecret(<redacted>)")
    }
}

impl StandardSecret {
    /// Parses `whsec_<base64>`; the prefix is required so a plain secret is
    /// never silently used as if it were base64.
    pub fn parse(secret: &str) -> Result<StandardSecret> {
        let encoded = secret.strip_prefix("whsec_").ok_or_else(|| {
            Error::InvalidSecret("a Standard Webhooks secret starts with `whsec_`".into())
        })?;
        let key = BASE64
            .decode(encoded)
            .map_err(|_| Error::InvalidSecret("the part after `whsec_` is not base64".into()))?;
        if key.len() < 16 || key.len() > 64 {
            return Err(Error::InvalidSecret(
                "the key must be between 16 and 64 bytes (24 to 88 base64 characters)".into(),
            ));
        }
        Ok(StandardSecret { key })
    }

    /// A fresh random 32-byte secret, as `whsec_<base64>`.
    pub fn generate() -> String {
        let key: [u8; 32] = rand::random();
        format!("whsec_{}", BASE64.encode(key))
    }

    /// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = mac(&self.key);
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }

    /// Checks a `webhook-signature` header (space-separated `v1,<sig>` list)
    /// with the same timestamp tolerance as [`verify_v2`].
    pub fn verify(
        &self,
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
        header: &str,
        now: i64,
        tolerance_secs: i64,
    ) -> std::result::Result<(), VerifyError> {
        if (now - timestamp).abs() > tolerance_secs {
            return Err(VerifyError::Expired);
        }
        let matches = header
            .split_whitespace()
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|s| BASE64.decode(s).ok())
            .any(|expected| {
                let mut mac = mac(&self.key);
                mac.update(msg_id.as_bytes());
                mac.update(b".");
                mac.update(timestamp.to_string().as_bytes());
                mac.update(b".");
                mac.update(body);
                mac.verify_slice(&expected).is_ok()
            });
        if matches {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }
}

/// A fresh random secret for the `X-Phlix-Signature` scheme: 32 random bytes
/// as 64 hex characters.
pub fn generate_secret() -> String {
    let key: [u8; 32] = rand::random();
    hex::encode(key)
}
