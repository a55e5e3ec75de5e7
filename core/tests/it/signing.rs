use herald_core::signing::{self, StandardSecret, VerifyError};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../fixtures/signing_vectors.json")).unwrap()
}

#[test]
fn matches_openssl_vectors() {
    let vectors = vectors();
    for v in vectors["x_phlix_signature"].as_array().unwrap() {
        let (secret, body, expected) = (
            v["secret"].as_str().unwrap(),
            v["body"].as_str().unwrap(),
            v["signature"].as_str().unwrap(),
        );
        assert_eq!(signing::sign(secret.as_bytes(), body.as_bytes()), expected);
        assert!(signing::verify(
            secret.as_bytes(),
            body.as_bytes(),
            expected
        ));
    }
}

#[test]
fn verify_rejects_tampering() {
    let sig = signing::sign(b"k", b"body");
    assert!(!signing::verify(b"k", b"body!", &sig));
    assert!(!signing::verify(b"other", b"body", &sig));
    assert!(!signing::verify(
        b"k",
        b"body",
        &sig.replace("sha256=", "sha1=")
    ));
    assert!(!signing::verify(b"k", b"body", "sha256=zz"));
    assert!(!signing::verify(b"k", b"body", &sig[..sig.len() - 2]));
}

#[test]
fn v2_matches_vectors_and_enforces_tolerance() {
    for v in vectors()["x_phlix_signature_v2"].as_array().unwrap() {
        let (secret, body, t, header) = (
            v["secret"].as_str().unwrap().as_bytes(),
            v["body"].as_str().unwrap().as_bytes(),
            v["timestamp"].as_i64().unwrap(),
            v["header"].as_str().unwrap(),
        );
        assert_eq!(signing::sign_v2(secret, t, body), header);
        assert_eq!(
            signing::verify_v2(secret, body, header, t + 299, 300),
            Ok(())
        );
        assert_eq!(
            signing::verify_v2(secret, body, header, t + 301, 300),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            signing::verify_v2(secret, b"x", header, t, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            signing::verify_v2(secret, body, "garbage", t, 300),
            Err(VerifyError::Malformed)
        );
    }
}

#[test]
fn standard_webhooks_spec_example() {
    for v in vectors()["standard_webhooks"].as_array().unwrap() {
        let secret = StandardSecret::parse(v["secret"].as_str().unwrap()).unwrap();
        let (id, t, body) = (
            v["msg_id"].as_str().unwrap(),
            v["timestamp"].as_i64().unwrap(),
            v["body"].as_str().unwrap().as_bytes(),
        );
        let header = secret.sign(id, t, body);
        assert_eq!(header, v["signature"].as_str().unwrap());
        assert_eq!(secret.verify(id, t, body, &header, t, 300), Ok(()));
        // Several signatures (key rotation): any one matching is enough.
        let rotated = format!("v1,bm90IGl0 {header}");
        assert_eq!(secret.verify(id, t, body, &rotated, t, 300), Ok(()));
        assert_eq!(
            secret.verify(id, t, b"tampered", &header, t, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            secret.verify(id, t, body, &header, t + 1000, 300),
            Err(VerifyError::Expired)
        );
    }
}

#[test]
fn standard_secrets_are_validated() {
    assert!(StandardSecret::parse("no-prefix").is_err());
    assert!(StandardSecret::parse("whsec_!!!").is_err());
    assert!(StandardSecret::parse("whsec_c2hvcnQ=").is_err());
    let generated = StandardSecret::generate();
    assert!(StandardSecret::parse(&generated).is_ok());
    assert_eq!(signing::generate_secret().len(), 64);
}
