//! Writes `crates/kubesim/data/explain.json`: for each kind the simulation
//! serves, its group, version and schema, and every schema definition they
//! reach, reduced to what `kubectl explain` prints (description, type,
//! properties, required, items, additionalProperties, enum, $ref).

use k8s_openapi::api::{
    apps::v1 as apps, authentication::v1 as authentication, authorization::v1 as authorization,
    batch::v1 as batch, certificates::v1 as certificates, coordination::v1 as coordination,
    core::v1 as core, discovery::v1 as discovery, events::v1 as events, policy::v1 as policy,
    rbac::v1 as rbac, scheduling::v1 as scheduling,
};
use k8s_openapi::Resource;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

struct Kinds {
    generator: SchemaGenerator,
    kinds: Vec<Value>,
}

impl Kinds {
    fn add<T: JsonSchema + Resource>(&mut self) {
        let schema = self.generator.subschema_for::<T>();
        let reference = schema
            .get("$ref")
            .and_then(Value::as_str)
            .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
            .unwrap_or_default();
        self.kinds.push(json!({
            "group": T::GROUP, "version": T::VERSION, "kind": T::KIND,
            "schema": reference,
        }));
    }
}

/// Keeps the keys `kubectl explain`'s template reads.
fn reduce(schema: &Value) -> Value {
    let Some(o) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in o {
        match k.as_str() {
            "description" | "type" | "required" | "enum" => {
                out.insert(k.clone(), v.clone());
            }
            "$ref" => {
                let r = v.as_str().unwrap_or_default();
                out.insert(k.clone(), Value::from(r.rsplit('/').next().unwrap_or(r)));
            }
            "items" | "additionalProperties" => {
                out.insert(k.clone(), reduce(v));
            }
            "allOf" => {
                out.insert(k.clone(), Value::Array(v.as_array().into_iter().flatten().map(reduce).collect()));
            }
            "properties" => {
                let props: Map<String, Value> = v
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, s)| (name.clone(), reduce(s)))
                    .collect();
                out.insert(k.clone(), Value::Object(props));
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn main() {
    let mut k = Kinds { generator: SchemaGenerator::default(), kinds: Vec::new() };
    k.add::<core::Namespace>();
    k.add::<core::Node>();
    k.add::<core::Pod>();
    k.add::<core::Service>();
    k.add::<core::ConfigMap>();
    k.add::<core::Secret>();
    k.add::<core::ServiceAccount>();
    k.add::<core::Event>();
    k.add::<discovery::EndpointSlice>();
    k.add::<events::Event>();
    k.add::<coordination::Lease>();
    k.add::<rbac::Role>();
    k.add::<rbac::ClusterRole>();
    k.add::<rbac::RoleBinding>();
    k.add::<rbac::ClusterRoleBinding>();
    k.add::<apps::Deployment>();
    k.add::<apps::ReplicaSet>();
    k.add::<apps::StatefulSet>();
    k.add::<apps::DaemonSet>();
    k.add::<apps::ControllerRevision>();
    k.add::<batch::Job>();
    k.add::<batch::CronJob>();
    k.add::<scheduling::PriorityClass>();
    k.add::<certificates::CertificateSigningRequest>();
    k.add::<policy::PodDisruptionBudget>();
    k.add::<authorization::SubjectAccessReview>();
    k.add::<authentication::TokenRequest>();
    let mut defs: Map<String, Value> = k
        .generator
        .definitions()
        .iter()
        .map(|(name, s)| (name.clone(), reduce(s)))
        .collect();
    // k8s-openapi marks a field required when its Rust type is not an
    // Option: every kind's `metadata`, and some kinds' `spec`. The API
    // server's OpenAPI document lists what the Go types require (fields
    // without `omitempty`); for the kinds themselves, that is this table.
    let upstream_required: &[(&str, &[&str])] = &[
        ("io.k8s.api.core.v1.Event", &["metadata", "involvedObject"]),
        ("io.k8s.api.events.v1.Event", &["eventTime"]),
        ("io.k8s.api.discovery.v1.EndpointSlice", &["addressType", "endpoints"]),
        ("io.k8s.api.rbac.v1.RoleBinding", &["roleRef"]),
        ("io.k8s.api.rbac.v1.ClusterRoleBinding", &["roleRef"]),
        ("io.k8s.api.apps.v1.ControllerRevision", &["revision"]),
        ("io.k8s.api.scheduling.v1.PriorityClass", &["value"]),
        ("io.k8s.api.certificates.v1.CertificateSigningRequest", &["spec"]),
        ("io.k8s.api.authorization.v1.SubjectAccessReview", &["spec"]),
        ("io.k8s.api.authentication.v1.TokenRequest", &["spec"]),
    ];
    for kind in &k.kinds {
        let name = kind["schema"].as_str().unwrap_or_default();
        let required = upstream_required.iter().find(|(n, _)| *n == name).map_or(&[][..], |(_, r)| *r);
        if let Some(Value::Object(def)) = defs.get_mut(name) {
            def.remove("required");
            if !required.is_empty() {
                def.insert("required".into(), json!(required));
            }
        }
    }
    let doc = json!({
        "source": "k8s-openapi 0.29 (Kubernetes 1.37) JSON schemas, reduced to what kubectl explain prints",
        "kinds": k.kinds,
        "definitions": defs,
    });
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../../crates/kubesim/data/explain.json");
    let text = serde_json::to_string(&doc).unwrap_or_default();
    if let Err(e) = std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../crates/kubesim/data"))
        .and_then(|()| std::fs::write(out, text.as_bytes()))
    {
        eprintln!("explain-schema: {out}: {e}");
        std::process::exit(1);
    }
    println!("wrote {out} ({} bytes, {} definitions)", text.len(), doc["definitions"].as_object().map_or(0, Map::len));
}
