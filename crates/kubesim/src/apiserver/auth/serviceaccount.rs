//! Bound service-account tokens: the JWTs that TokenRequest issues and the
//! service-account token authenticator checks.
//!
//! In Kubernetes, `POST .../serviceaccounts/<name>/token` (TokenRequest)
//! has kube-apiserver sign a JWT with the key of `--service-account-signing-key-file`
//! (kubeadm: `/etc/kubernetes/pki/sa.key`, RS256). Its claims
//! (`pkg/serviceaccount/claims.go` `Claims`) are the issuer
//! (`--service-account-issuer`, kubeadm's `https://kubernetes.default.svc.cluster.local`),
//! the subject `system:serviceaccount:<ns>:<name>`, the audiences, `exp`,
//! `iat`, `nbf`, a `jti`, and the private claim `kubernetes.io` naming the
//! namespace, the service account and the object the token is bound to (a
//! pod, and the node it runs on). Every API server holds the public key, so
//! any of them verifies a token another issued
//! (`pkg/serviceaccount/jwt.go` `Validate`), then `claims.go`'s
//! `validator.Validate` checks it: not expired, not before `nbf`, and, with
//! `--service-account-lookup` (on by default), the service account and the
//! bound pod still exist with the uids the token names (a pod deleted more
//! than 60 s ago invalidates its tokens).
//!
//! The simulation keeps the JWT's shape: base64url header, payload and
//! signature joined by dots, the payload the real claims as JSON, so a token
//! pasted into a JWT decoder reads like a real one. The "signature" is a
//! keyed hash of `header.payload` under key material derived from the run's
//! seed (standing in for `sa.key`), stretched to an RS256 signature's 256
//! bytes: a token with a changed payload or from another cluster fails to
//! verify. No RSA, and no OIDC discovery documents.

use super::user::service_account_username;
use crate::world::{SimDuration, SimTime};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// kubeadm's `--service-account-issuer` (and so the API audience).
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// The default `spec.expirationSeconds` of a TokenRequest
/// (`SetDefaults_TokenRequestSpec`): one hour.
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest token a TokenRequest may ask for (`ValidateTokenRequest`):
/// ten minutes.
pub const MIN_EXPIRATION_SECONDS: i64 = 600;
/// What the kubelet asks for its projected tokens
/// (`WarnOnlyBoundTokenExpirationSeconds`, 1 h + 7 s).
pub const KUBELET_EXPIRATION_SECONDS: i64 = 3607;
/// `--service-account-extend-token-expiration` (on by default): a token
/// requested for 3607 s and bound to a pod is issued for a year
/// (`ExpirationExtensionSeconds`), with `warnafter` at the 3607 s mark.
pub const EXTENDED_EXPIRATION_SECONDS: i64 = 365 * 24 * 3600;
/// A bound pod whose deletionTimestamp is further in the past than this
/// invalidates its tokens (`claims.go` `Validate`: `invalidIfDeletedBefore`,
/// 60 s before now).
pub const DELETED_POD_GRACE: SimDuration = SimDuration::from_secs(60);

/// The object a token is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub name: String,
    pub uid: String,
}

/// A bound token's claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub namespace: String,
    pub service_account: ObjectRef,
    pub pod: Option<ObjectRef>,
    pub node: Option<ObjectRef>,
    pub audiences: Vec<String>,
    /// Seconds since the Unix epoch.
    pub issued_at: i64,
    pub expires_at: i64,
    /// `kubernetes.io.warnafter`, for extended kubelet tokens.
    pub warn_after: Option<i64>,
    pub id: String,
}

impl Claims {
    /// `system:serviceaccount:<ns>:<name>`.
    pub fn subject(&self) -> String {
        service_account_username(&self.namespace, &self.service_account.name)
    }

    fn to_json(&self) -> Value {
        let r = |o: &ObjectRef| json!({ "name": o.name, "uid": o.uid });
        let mut k8s = json!({
            "namespace": self.namespace,
            "serviceaccount": r(&self.service_account),
        });
        if let Some(p) = &self.pod {
            k8s["pod"] = r(p);
        }
        if let Some(n) = &self.node {
            k8s["node"] = r(n);
        }
        if let Some(w) = self.warn_after {
            k8s["warnafter"] = json!(w);
        }
        // go-jose marshals the merged claims as a map: keys in order.
        json!({
            "aud": self.audiences,
            "exp": self.expires_at,
            "iat": self.issued_at,
            "iss": ISSUER,
            "jti": self.id,
            "kubernetes.io": k8s,
            "nbf": self.issued_at,
            "sub": self.subject(),
        })
    }

    fn from_json(v: &Value) -> Option<Claims> {
        let k8s = v.get("kubernetes.io")?;
        let r = |o: Option<&Value>| -> Option<ObjectRef> {
            let o = o?;
            Some(ObjectRef {
                name: o.get("name")?.as_str()?.to_string(),
                uid: o.get("uid")?.as_str()?.to_string(),
            })
        };
        let audiences = match v.get("aud")? {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => return None,
        };
        Some(Claims {
            namespace: k8s.get("namespace")?.as_str()?.to_string(),
            service_account: r(k8s.get("serviceaccount"))?,
            pod: r(k8s.get("pod")),
            node: r(k8s.get("node")),
            audiences,
            issued_at: v.get("iat")?.as_i64()?,
            expires_at: v.get("exp")?.as_i64()?,
            warn_after: k8s.get("warnafter").and_then(Value::as_i64),
            id: v
                .get("jti")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        })
    }
}

/// Seconds since the Unix epoch at a virtual time.
pub fn unix_seconds(t: SimTime) -> i64 {
    (crate::api::time::EPOCH_UNIX_MILLIS + t.as_millis().min(i64::MAX as u64 / 2) as i64) / 1000
}

/// The cluster's service-account signing key (kubeadm's `sa.key`), derived
/// from the run's seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SigningKey(pub u64);

impl SigningKey {
    /// The key of the cluster started with `seed`.
    pub fn for_seed(seed: u64) -> Self {
        SigningKey(seed ^ 0x7361_2e6b_6579_0000)
    }

    /// The key id in the JWT header (upstream: a hash of the public key).
    pub fn key_id(&self) -> String {
        let mut b = [0u8; 32];
        self.stretch(b"kid", &mut b);
        URL_SAFE_NO_PAD.encode(b)
    }

    /// A keyed FNV-1a over `data`, then splitmix64 to fill `out`.
    fn stretch(&self, data: &[u8], out: &mut [u8]) {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ self.0;
        for b in data {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let mut state = h ^ self.0.rotate_left(29);
        for chunk in out.chunks_mut(8) {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let bytes = z.to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn signature(&self, signing_input: &str) -> String {
        let mut sig = [0u8; 256];
        self.stretch(signing_input.as_bytes(), &mut sig);
        URL_SAFE_NO_PAD.encode(sig)
    }

    /// The signed token (`jwtTokenGenerator.GenerateToken`).
    pub fn sign(&self, claims: &Claims) -> String {
        let header = json!({ "alg": "RS256", "kid": self.key_id() });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_json().to_string())
        );
        let sig = self.signature(&input);
        format!("{input}.{sig}")
    }

    /// The claims of a token this key signed and issued by [`ISSUER`];
    /// `None` for anything else (`jwtTokenAuthenticator`: a token from
    /// another issuer is left to the next authenticator, a bad signature
    /// fails).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (header, payload, sig) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        if self.signature(&format!("{header}.{payload}")) != sig {
            return None;
        }
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let v: Value = serde_json::from_slice(&payload).ok()?;
        if v.get("iss").and_then(Value::as_str) != Some(ISSUER) {
            return None;
        }
        Claims::from_json(&v)
    }
}

/// Whether a bearer token looks like a JWT (three base64url parts, a JSON
/// header): the service-account authenticator's first check.
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.split('.').count() == 3
}

/// The payload of a JWT as JSON, unverified (what `jwt.io` shows).
pub fn decode_payload(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            namespace: "default".into(),
            service_account: ObjectRef {
                name: "default".into(),
                uid: "sa-uid".into(),
            },
            pod: Some(ObjectRef {
                name: "client".into(),
                uid: "pod-uid".into(),
            }),
            node: None,
            audiences: vec![ISSUER.into()],
            issued_at: 1_767_225_600,
            expires_at: 1_767_229_200,
            warn_after: None,
            id: "jti-1".into(),
        }
    }

    #[test]
    fn a_signed_token_is_a_jwt_whose_payload_holds_the_claims() {
        let key = SigningKey::for_seed(1);
        let token = key.sign(&claims());
        assert!(looks_like_jwt(&token), "{token}");
        let payload = decode_payload(&token).expect("the payload decodes");
        assert_eq!(payload["sub"], "system:serviceaccount:default:default");
        assert_eq!(payload["iss"], ISSUER);
        assert_eq!(payload["kubernetes.io"]["pod"]["name"], "client");
        assert_eq!(payload["exp"], 1_767_229_200);
        assert_eq!(key.verify(&token), Some(claims()));
        // An RS256 signature is 256 bytes: 342 base64url characters.
        assert_eq!(token.rsplit('.').next().map(str::len), Some(342));
    }

    #[test]
    fn a_changed_payload_or_another_clusters_key_fails_to_verify() {
        let key = SigningKey::for_seed(1);
        let token = key.sign(&claims());
        assert_eq!(SigningKey::for_seed(2).verify(&token), None);
        let mut forged = claims();
        forged.service_account.name = "admin".into();
        let other = key.sign(&forged);
        let parts: Vec<&str> = token.split('.').collect();
        let other_parts: Vec<&str> = other.split('.').collect();
        let spliced = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
        assert_eq!(key.verify(&spliced), None);
        assert_eq!(key.verify("not.a.token"), None);
        assert_eq!(key.verify(""), None);
    }
}
