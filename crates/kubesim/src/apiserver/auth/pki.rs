//! Certificates and certificate requests as the simulation writes them:
//! readable stand-ins for PEM.
//!
//! A real CertificateSigningRequest carries a PKCS#10 request in PEM
//! (`-----BEGIN CERTIFICATE REQUEST-----`, base64 DER) and a signer answers
//! with an X.509 certificate in PEM. Here the blocks keep their armour but
//! hold the fields as `openssl req -text` / `openssl x509 -text` would show
//! them (subject, issuer, validity, key usage), so `kubectl get csr -o yaml`
//! shows base64 that decodes to something a person can read, and the
//! kubelet, approver and signer parse exactly those fields. No key material
//! and no signatures: a certificate is trusted when its issuer is the cluster
//! CA (see [`super::authn`]).

use super::authn::ClientCertificate;
use crate::api::time::{parse_millis, to_micro_time};
use crate::world::SimTime;

/// The signer of kubelet client certificates.
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The key usages a kubelet asks for with its ECDSA key
/// (`certificate_manager.go`: no key encipherment for ECDSA keys).
pub const KUBELET_CLIENT_USAGES: [&str; 2] = ["digital signature", "client auth"];

const REQUEST_BEGIN: &str = "-----BEGIN CERTIFICATE REQUEST-----";
const REQUEST_END: &str = "-----END CERTIFICATE REQUEST-----";
const CERT_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const CERT_END: &str = "-----END CERTIFICATE-----";

/// What a certificate request asks for: its subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    pub common_name: String,
    pub organizations: Vec<String>,
}

fn subject_line(common_name: &str, organizations: &[String]) -> String {
    let mut parts: Vec<String> = organizations.iter().map(|o| format!("O = {o}")).collect();
    parts.push(format!("CN = {common_name}"));
    parts.join(", ")
}

fn parse_subject(line: &str) -> (String, Vec<String>) {
    let mut cn = String::new();
    let mut orgs = Vec::new();
    for part in line.split(", ") {
        if let Some(o) = part.strip_prefix("O = ") {
            orgs.push(o.to_string());
        } else if let Some(c) = part.strip_prefix("CN = ") {
            cn = c.to_string();
        }
    }
    (cn, orgs)
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
}

impl CertificateRequest {
    /// A kubelet's request: `CN=system:node:<name>, O=system:nodes`.
    pub fn for_node(node: &str) -> Self {
        CertificateRequest {
            common_name: format!("{}{node}", super::user::NODE_USER_NAME_PREFIX),
            organizations: vec![super::user::NODES_GROUP.to_string()],
        }
    }

    /// The request in its PEM stand-in.
    pub fn to_pem(&self) -> String {
        format!(
            "{REQUEST_BEGIN}\nCertificate Request:\n    Subject: {}\n    Subject Public Key Info: id-ecPublicKey, NIST CURVE: P-256\n    (simulated: no key material)\n{REQUEST_END}\n",
            subject_line(&self.common_name, &self.organizations)
        )
    }

    /// Parses a request; `None` if it is not one
    /// (`certificates.ParseCSR`: "PEM block type must be CERTIFICATE REQUEST").
    pub fn parse(pem: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(pem).ok()?;
        let body = text
            .split(REQUEST_BEGIN)
            .nth(1)?
            .split(REQUEST_END)
            .next()?;
        let (common_name, organizations) = parse_subject(field(body, "Subject:")?);
        Some(CertificateRequest {
            common_name,
            organizations,
        })
    }
}

/// A certificate in its PEM stand-in.
pub fn certificate_pem(cert: &ClientCertificate, serial: u64) -> String {
    format!(
        "{CERT_BEGIN}\nCertificate:\n    Serial Number: {serial:x}\n    Issuer: CN = {}\n    Validity\n        Not Before: {}\n        Not After : {}\n    Subject: {}\n    X509v3 Key Usage: critical, Digital Signature\n    X509v3 Extended Key Usage: TLS Web Client Authentication\n    (simulated: no key material, no signature)\n{CERT_END}\n",
        cert.issuer,
        to_micro_time(cert.not_before).0,
        to_micro_time(cert.not_after).0,
        subject_line(&cert.common_name, &cert.organizations),
    )
}

/// kubeadm's cluster CA (`/etc/kubernetes/pki/ca.crt`): self-signed,
/// `CN=kubernetes`, valid ten years from the run's start.
pub fn ca_certificate() -> ClientCertificate {
    ClientCertificate {
        common_name: super::authn::KUBEADM_CA_NAME.to_string(),
        organizations: Vec::new(),
        issuer: super::authn::KUBEADM_CA_NAME.to_string(),
        not_before: SimTime::ZERO,
        not_after: SimTime::ZERO + crate::world::SimDuration::from_secs(10 * 365 * 24 * 3600),
    }
}

/// The cluster CA's certificate in its PEM stand-in (what
/// `kube-root-ca.crt` publishes).
pub fn ca_certificate_pem() -> String {
    certificate_pem(&ca_certificate(), 0)
        .replace(
            "X509v3 Extended Key Usage: TLS Web Client Authentication",
            "X509v3 Basic Constraints: critical, CA:TRUE",
        )
        .replace(
            "X509v3 Key Usage: critical, Digital Signature",
            "X509v3 Key Usage: critical, Digital Signature, Key Encipherment, Certificate Sign",
        )
}

/// Parses a certificate; `None` if it is not one.
pub fn parse_certificate(pem: &[u8]) -> Option<ClientCertificate> {
    let text = std::str::from_utf8(pem).ok()?;
    let body = text.split(CERT_BEGIN).nth(1)?.split(CERT_END).next()?;
    let (common_name, organizations) = parse_subject(field(body, "Subject:")?);
    let issuer = field(body, "Issuer:")?.strip_prefix("CN = ")?.to_string();
    let not_before = SimTime(parse_millis(field(body, "Not Before:")?)?);
    let not_after = SimTime(parse_millis(field(body, "Not After :")?)?);
    Some(ClientCertificate {
        common_name,
        organizations,
        issuer,
        not_before,
        not_after,
    })
}

/// `IsKubeletClientCSR` (pkg/apis/certificates/helpers.go): a kubelet
/// client request names `system:node:<name>` in exactly `system:nodes`, with
/// the client usages.
pub fn is_kubelet_client_request(req: &CertificateRequest, usages: &[String]) -> bool {
    let usages_ok = usages.iter().all(|u| {
        matches!(
            u.as_str(),
            "digital signature" | "key encipherment" | "client auth"
        )
    }) && usages.iter().any(|u| u == "client auth");
    req.organizations == [super::user::NODES_GROUP]
        && req
            .common_name
            .strip_prefix(super::user::NODE_USER_NAME_PREFIX)
            .is_some_and(|n| !n.is_empty())
        && usages_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimDuration;

    #[test]
    fn a_request_and_a_certificate_survive_their_pem_stand_ins() {
        let req = CertificateRequest::for_node("worker-4");
        let pem = req.to_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        assert!(pem.contains("Subject: O = system:nodes, CN = system:node:worker-4"));
        assert_eq!(CertificateRequest::parse(pem.as_bytes()), Some(req));
        let mut cert = ClientCertificate::node("worker-4", SimTime(61_500));
        cert.not_after = cert.not_before + SimDuration::from_secs(3600);
        let pem = certificate_pem(&cert, 0xbeef);
        assert_eq!(parse_certificate(pem.as_bytes()), Some(cert));
        assert_eq!(CertificateRequest::parse(pem.as_bytes()), None);
        assert_eq!(parse_certificate(b"garbage"), None);
    }

    #[test]
    fn only_a_node_subject_with_client_usages_is_a_kubelet_client_request() {
        let usages: Vec<String> = KUBELET_CLIENT_USAGES
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert!(is_kubelet_client_request(
            &CertificateRequest::for_node("w"),
            &usages
        ));
        let admin = CertificateRequest {
            common_name: "system:node:w".into(),
            organizations: vec!["system:masters".into()],
        };
        assert!(!is_kubelet_client_request(&admin, &usages));
        assert!(!is_kubelet_client_request(
            &CertificateRequest::for_node("w"),
            &["server auth".to_string()]
        ));
    }
}
