//! Standard Webhooks signatures: `v1,` and the base64 of HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the secret's decoded bytes.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `webhook-signature` header's value, or why the secret cannot sign.
pub fn signature(secret: &str, message_id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|error| format!("the webhook's secret is not base64: {error}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|error| format!("the webhook's secret cannot key a signature: {error}"))?;
    mac.update(format!("{message_id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_reference_implementation_does() {
        // Computed with the `standardwebhooks` Python package (which the argilla SDK verifies with).
        let signed = signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#);
        assert_eq!(signed.unwrap(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn any_change_changes_the_signature() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let base = signature(secret, "msg_1", 10, "{}").unwrap();
        assert_ne!(signature(secret, "msg_2", 10, "{}").unwrap(), base);
        assert_ne!(signature(secret, "msg_1", 11, "{}").unwrap(), base);
        assert_ne!(signature(secret, "msg_1", 10, "{ }").unwrap(), base);
        assert_ne!(signature("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "msg_1", 10, "{}").unwrap(), base);
        assert!(signature("whsec_not base64!", "msg_1", 10, "{}").is_err());
    }
}
