//! `kubectl rollout status|history|undo|restart|pause|resume` and
//! `kubectl set image`, for Deployments, as kubectl implements them
//! client-side (`k8s.io/kubectl/pkg/cmd/rollout`,
//! `k8s.io/kubectl/pkg/polymorphichelpers`): reads of the Deployment and its
//! ReplicaSets, and updates of the Deployment that the Deployment
//! controller then acts on. For StatefulSets and DaemonSets `status`,
//! `history`, `undo` and `restart` read their ControllerRevisions
//! (`StatefulSetHistoryViewer`, `DaemonSetRollbacker`, the status
//! viewers); `pause` and `resume` are not supported for them, as
//! upstream.

use super::{err, qualified_name, Result, Session};
use crate::api::{Kind, KindId, Object};
use crate::apiserver::{ApiResponse, Verb};
use crate::cluster::Cluster;
use crate::shell::command::Kubectl;
use crate::world::SimDuration;
use k8s_openapi::api::apps::v1::Deployment;
use std::rc::Rc;

/// `deployment.kubernetes.io/revision`.
const REVISION: &str = "deployment.kubernetes.io/revision";
/// How long `rollout status` waits by default (kubectl waits forever; a
/// script should not).
const STATUS_TIMEOUT: SimDuration = SimDuration::from_secs(600);

impl Session {
    fn deployment_target(&self, k: &Kubectl, args: &[String]) -> Result<(&'static Kind, String)> {
        let targets = Self::targets(args)?;
        let Some((kind, names)) = targets.into_iter().next() else {
            return Err(format!(
                "error: required resource not specified\nSee 'kubectl rollout {} -h' for help and examples",
                k.args.first().cloned().unwrap_or_default()
            ));
        };
        if !matches!(
            kind.id,
            KindId::Deployment | KindId::StatefulSet | KindId::DaemonSet
        ) {
            return Err(format!(
                "error: no {} has been implemented for \"{}\"",
                match k.args.first().map(String::as_str) {
                    Some("history") => "history viewer",
                    Some("status") => "status viewer",
                    _ => "rollbacker",
                },
                kind.group_kind()
            ));
        }
        let Some(name) = names.into_iter().next() else {
            return Err("error: resource(s) were provided, but no name was specified".into());
        };
        Ok((kind, name))
    }

    fn get_deployment(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        name: &str,
    ) -> Result<(Rc<Object>, Deployment)> {
        match cluster.call(self.request(k, Verb::Get, KindId::Deployment).named(name)) {
            ApiResponse::Object(o) => match &*o {
                Object::Deployment(d) => {
                    let d = d.clone();
                    Ok((o, *d))
                }
                _ => Err("error: not a deployment".into()),
            },
            ApiResponse::Error(e) => Err(err(&e)),
            other => Err(other.summary()),
        }
    }

    fn put_deployment(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        name: &str,
        d: Deployment,
    ) -> Result<()> {
        match cluster.call(
            self.request(k, Verb::Update, KindId::Deployment)
                .named(name)
                .with_body(Object::Deployment(Box::new(d))),
        ) {
            ApiResponse::Object(_) => Ok(()),
            ApiResponse::Error(e) => Err(err(&e)),
            other => Err(other.summary()),
        }
    }

    /// The ReplicaSets a Deployment controls, with their revisions.
    fn revisions(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        deployment: &Object,
    ) -> Result<Vec<(i64, k8s_openapi::api::apps::v1::ReplicaSet)>> {
        let uid = deployment.uid().unwrap_or_default().to_string();
        let items = match cluster.call(self.request(k, Verb::List, KindId::ReplicaSet)) {
            ApiResponse::List { items, .. } => items,
            ApiResponse::Error(e) => return Err(err(&e)),
            other => return Err(other.summary()),
        };
        let mut out: Vec<(i64, k8s_openapi::api::apps::v1::ReplicaSet)> = items
            .iter()
            .filter(|o| o.controller_ref().is_some_and(|r| r.uid == uid))
            .filter_map(|o| match &**o {
                Object::ReplicaSet(rs) => {
                    let rev = o
                        .annotations()
                        .get(REVISION)
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(0);
                    Some((rev, (**rs).clone()))
                }
                _ => None,
            })
            .collect();
        out.sort_by_key(|(rev, _)| *rev);
        Ok(out)
    }

    /// `kubectl rollout <subcommand> deployment/<name>`.
    pub(super) fn rollout(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let Some(sub) = k.args.first().cloned() else {
            return Err("error: Manage the rollout of one or many resources: kubectl rollout (history|pause|restart|resume|status|undo) TYPE NAME".into());
        };
        let rest = k.args[1..].to_vec();
        let (kind, name) = self.deployment_target(k, &rest)?;
        let qualified = qualified_name(kind, &name);
        if kind.id != KindId::Deployment {
            return self.rollout_revisioned(cluster, k, kind, &name, &sub);
        }
        match sub.as_str() {
            "status" => self.rollout_status(cluster, k, &name),
            "history" => {
                let (object, _) = self.get_deployment(cluster, k, &name)?;
                let revisions = self.revisions(cluster, k, &object)?;
                if let Some(wanted) = k.flags.get("revision") {
                    let Some((_, rs)) = revisions.iter().find(|(r, _)| r.to_string() == wanted)
                    else {
                        return Err(format!(
                            "error: unable to find the specified revision {wanted}"
                        ));
                    };
                    let template = rs.spec.template.clone().unwrap_or_default();
                    let yaml = crate::api::print::to_yaml(
                        &serde_json::to_value(&template).unwrap_or_default(),
                    );
                    return Ok(format!(
                        "{qualified} with revision #{wanted}\nPod Template:\n{}",
                        indent(&yaml)
                    ));
                }
                let mut out = format!("{qualified} \nREVISION  CHANGE-CAUSE\n");
                for (rev, rs) in &revisions {
                    let cause = rs
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get("kubernetes.io/change-cause").cloned())
                        .unwrap_or_else(|| "<none>".into());
                    out.push_str(&format!("{rev:<10}{cause}\n"));
                }
                Ok(out.trim_end().to_string())
            }
            "undo" => {
                let (object, mut d) = self.get_deployment(cluster, k, &name)?;
                let revisions = self.revisions(cluster, k, &object)?;
                let current: i64 = object
                    .annotations()
                    .get(REVISION)
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                let target = match k.flags.get("to-revision") {
                    Some(r) if r != "0" => {
                        let r: i64 = r.parse().map_err(|_| {
                            format!("error: invalid argument \"{r}\" for \"--to-revision\" flag")
                        })?;
                        revisions
                            .iter()
                            .find(|(rev, _)| *rev == r)
                            .cloned()
                            .ok_or_else(|| {
                                format!("error: unable to find specified revision {r} in history")
                            })?
                    }
                    _ => revisions
                        .iter()
                        .rev()
                        .find(|(rev, _)| *rev != current)
                        .cloned()
                        .ok_or_else(|| {
                            format!("error: no rollout history found for deployment \"{name}\"")
                        })?,
                };
                // `deploymentRollbacker.Rollback`: copy the ReplicaSet's
                // template, without its pod-template-hash label.
                let mut template = target.1.spec.template.clone().unwrap_or_default();
                if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
                    labels.remove("pod-template-hash");
                }
                if Some(&template) == Some(&d.spec.template) {
                    return Ok(format!("{qualified} skipped rollback (current template already matches revision {})", target.0));
                }
                d.spec.template = template;
                self.put_deployment(cluster, k, &name, d)?;
                Ok(format!("{qualified} rolled back"))
            }
            "restart" => {
                let (_, mut d) = self.get_deployment(cluster, k, &name)?;
                if d.spec.paused == Some(true) {
                    return Err(format!("error: {qualified} is paused, run 'kubectl rollout resume {qualified}' first"));
                }
                let stamp = serde_json::to_value(crate::api::time::to_time(cluster.now()))
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                d.spec
                    .template
                    .metadata
                    .get_or_insert_with(Default::default)
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert("kubectl.kubernetes.io/restartedAt".into(), stamp);
                self.put_deployment(cluster, k, &name, d)?;
                Ok(format!("{qualified} restarted"))
            }
            "pause" | "resume" => {
                let pause = sub == "pause";
                let (_, mut d) = self.get_deployment(cluster, k, &name)?;
                if d.spec.paused.unwrap_or(false) == pause {
                    return Err(format!(
                        "error: {qualified} is {}",
                        if pause {
                            "already paused"
                        } else {
                            "not paused"
                        }
                    ));
                }
                d.spec.paused = pause.then_some(true);
                self.put_deployment(cluster, k, &name, d)?;
                Ok(format!(
                    "{qualified} {}",
                    if pause { "paused" } else { "resumed" }
                ))
            }
            other => Err(format!(
                "error: unknown command \"{other}\" for \"kubectl rollout\""
            )),
        }
    }

    /// `kubectl rollout status`: waits, advancing the simulation, until the
    /// rollout is done (`DeploymentStatusViewer.Status`).
    fn rollout_status(&mut self, cluster: &mut Cluster, k: &Kubectl, name: &str) -> Result<String> {
        let timeout = k
            .flags
            .get("timeout")
            .and_then(|t| SimDuration::parse(t).ok())
            .filter(|t| *t > SimDuration::ZERO)
            .unwrap_or(STATUS_TIMEOUT);
        let watch = k.flags.get("watch").is_none_or(|w| w != "false");
        let deadline = cluster.now() + timeout;
        let mut lines: Vec<String> = Vec::new();
        loop {
            let (object, d) = self.get_deployment(cluster, k, name)?;
            let status = d.status.clone().unwrap_or_default();
            let message = if object.generation().unwrap_or(0)
                <= status.observed_generation.unwrap_or(0)
            {
                let progressing = status.conditions.as_ref().and_then(|cs| {
                    cs.iter()
                        .find(|c| c.type_.as_deref() == Some("Progressing"))
                });
                if progressing
                    .is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
                {
                    lines.push(format!(
                        "error: deployment \"{name}\" exceeded its progress deadline"
                    ));
                    return Err(lines.join("\n"));
                }
                let want = d.spec.replicas.unwrap_or(1);
                let updated = status.updated_replicas.unwrap_or(0);
                let replicas = status.replicas.unwrap_or(0);
                let available = status.available_replicas.unwrap_or(0);
                if updated < want {
                    format!("Waiting for deployment \"{name}\" rollout to finish: {updated} out of {want} new replicas have been updated...")
                } else if replicas > updated {
                    format!("Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...", replicas - updated)
                } else if available < updated {
                    format!("Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available...")
                } else {
                    lines.push(format!("deployment \"{name}\" successfully rolled out"));
                    return Ok(lines.join("\n"));
                }
            } else {
                "Waiting for deployment spec update to be observed...".to_string()
            };
            if lines.last() != Some(&message) {
                lines.push(message);
            }
            if !watch {
                return Ok(lines.join("\n"));
            }
            if cluster.now() >= deadline {
                lines.push("error: timed out waiting for the condition".into());
                return Err(lines.join("\n"));
            }
            cluster.advance(SimDuration::from_secs(1));
        }
    }

    /// `kubectl set image deployment/<name> <container>=<image> ...`.
    pub(super) fn set(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        if k.args.first().map(String::as_str) != Some("image") {
            return Err(format!(
                "error: `kubectl set {}` is not simulated; `kubectl set image` is",
                k.args.first().cloned().unwrap_or_default()
            ));
        }
        let (targets, changes): (Vec<String>, Vec<String>) =
            k.args[1..].iter().cloned().partition(|a| !a.contains('='));
        if changes.is_empty() {
            return Err("error: at least one image update is required".into());
        }
        let (kind, name) = {
            let t = Self::targets(&targets)?;
            let Some((kind, names)) = t.into_iter().next() else {
                return Err("error: one or more resources must be specified as <resource> <name> or <resource>/<name>".into());
            };
            if kind.id != KindId::Deployment {
                return Err(format!(
                    "error: `kubectl set image` is simulated for deployments, not {}",
                    kind.plural
                ));
            }
            (kind, names.into_iter().next().unwrap_or_default())
        };
        let (_, mut d) = self.get_deployment(cluster, k, &name)?;
        let spec = d.spec.template.spec.get_or_insert_with(Default::default);
        for change in &changes {
            let (container, image) = change.split_once('=').unwrap_or_default();
            let mut found = false;
            for c in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                if c.name == container || container == "*" {
                    c.image = Some(image.to_string());
                    found = true;
                }
            }
            if !found {
                return Err(format!(
                    "error: unable to find container named \"{container}\""
                ));
            }
        }
        self.put_deployment(cluster, k, &name, d)?;
        Ok(format!("{} image updated", qualified_name(kind, &name)))
    }
}

impl Session {
    pub(super) fn get_object(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        kind: KindId,
        name: &str,
    ) -> Result<Rc<Object>> {
        match cluster.call(self.request(k, Verb::Get, kind).named(name)) {
            ApiResponse::Object(o) => Ok(o),
            ApiResponse::Error(e) => Err(err(&e)),
            other => Err(other.summary()),
        }
    }

    /// The ControllerRevisions `owner` controls, oldest first.
    fn controller_revisions(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        owner: &Object,
    ) -> Result<Vec<k8s_openapi::api::apps::v1::ControllerRevision>> {
        let uid = owner.uid().unwrap_or_default().to_string();
        let items = match cluster.call(self.request(k, Verb::List, KindId::ControllerRevision)) {
            ApiResponse::List { items, .. } => items,
            ApiResponse::Error(e) => return Err(err(&e)),
            other => return Err(other.summary()),
        };
        let mut out: Vec<_> = items
            .iter()
            .filter(|o| o.controller_ref().is_some_and(|r| r.uid == uid))
            .filter_map(|o| match &**o {
                Object::ControllerRevision(r) => Some((**r).clone()),
                _ => None,
            })
            .collect();
        crate::controllers::history::sort(&mut out);
        Ok(out)
    }

    /// `kubectl rollout status|history|undo|restart` for a StatefulSet or
    /// DaemonSet.
    fn rollout_revisioned(
        &mut self,
        cluster: &mut Cluster,
        k: &Kubectl,
        kind: &'static Kind,
        name: &str,
        sub: &str,
    ) -> Result<String> {
        use crate::controllers::history;
        let qualified = qualified_name(kind, name);
        match sub {
            "status" => self.revisioned_status(cluster, k, kind, name),
            "history" => {
                let object = self.get_object(cluster, k, kind.id, name)?;
                let revisions = self.controller_revisions(cluster, k, &object)?;
                if let Some(wanted) = k.flags.get("revision").filter(|r| *r != "0") {
                    let Some(r) = revisions
                        .iter()
                        .find(|r| r.revision.unwrap_or(0).to_string() == *wanted)
                    else {
                        return Err(format!(
                            "error: unable to find the specified revision {wanted}"
                        ));
                    };
                    let template = history::template_of(r).unwrap_or_default();
                    let yaml = crate::api::print::to_yaml(
                        &serde_json::to_value(&template).unwrap_or_default(),
                    );
                    return Ok(format!(
                        "{qualified} with revision #{wanted}\nPod Template:\n{}",
                        indent(&yaml)
                    ));
                }
                let mut out = format!("{qualified} \nREVISION  CHANGE-CAUSE\n");
                for r in &revisions {
                    let cause = r
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get("kubernetes.io/change-cause").cloned())
                        .unwrap_or_else(|| "<none>".into());
                    out.push_str(&format!("{:<10}{cause}\n", r.revision.unwrap_or(0)));
                }
                Ok(out.trim_end().to_string())
            }
            "undo" => {
                let object = self.get_object(cluster, k, kind.id, name)?;
                let revisions = self.controller_revisions(cluster, k, &object)?;
                // `statefulSetRollbacker.Rollback` / `DaemonSetRollbacker`:
                // the revision asked for, else the one before the newest.
                let target = match k.flags.get("to-revision").filter(|r| *r != "0") {
                    Some(r) => {
                        let n: i64 = r.parse().map_err(|_| {
                            format!("error: invalid argument \"{r}\" for \"--to-revision\" flag")
                        })?;
                        revisions
                            .iter()
                            .find(|x| x.revision == Some(n))
                            .ok_or_else(|| {
                                format!("error: unable to find specified revision {n} in history")
                            })?
                    }
                    None if revisions.len() >= 2 => &revisions[revisions.len() - 2],
                    None => return Err("error: no last revision to roll back to".into()),
                };
                let template =
                    serde_json::to_value(history::template_of(target).unwrap_or_default())
                        .unwrap_or_default();
                let mut value = object.to_value();
                if value.pointer("/spec/template") == Some(&template) {
                    return Ok(format!(
                        "{qualified} skipped rollback (current template already matches revision {})",
                        target.revision.unwrap_or(0)
                    ));
                }
                value["spec"]["template"] = template;
                self.put_value(cluster, k, kind, name, &value)?;
                Ok(format!("{qualified} rolled back"))
            }
            "restart" => {
                let object = self.get_object(cluster, k, kind.id, name)?;
                let stamp = serde_json::to_value(crate::api::time::to_time(cluster.now()))
                    .unwrap_or_default();
                let mut value = object.to_value();
                if let Some(template) = value.pointer_mut("/spec/template") {
                    if !template["metadata"].is_object() {
                        template["metadata"] = serde_json::json!({});
                    }
                    let annotations = &mut template["metadata"]["annotations"];
                    if !annotations.is_object() {
                        *annotations = serde_json::json!({});
                    }
                    annotations["kubectl.kubernetes.io/restartedAt"] = stamp;
                }
                self.put_value(cluster, k, kind, name, &value)?;
                Ok(format!("{qualified} restarted"))
            }
            "pause" | "resume" => Err(format!(
                "error: {} {:?} {} is not supported",
                kind.group_resource(),
                name,
                if sub == "pause" {
                    "pausing"
                } else {
                    "resuming"
                }
            )),
            other => Err(format!(
                "error: unknown command \"{other}\" for \"kubectl rollout\""
            )),
        }
    }

    fn put_value(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        kind: &'static Kind,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<()> {
        let body = Object::from_value_of(kind.id, value).map_err(|e| format!("error: {e}"))?;
        match cluster.call(
            self.request(k, Verb::Update, kind.id)
                .named(name)
                .with_body(body),
        ) {
            ApiResponse::Object(_) => Ok(()),
            ApiResponse::Error(e) => Err(err(&e)),
            other => Err(other.summary()),
        }
    }

    /// `StatefulSetStatusViewer` / `DaemonSetStatusViewer`, waiting as
    /// `rollout status` does.
    fn revisioned_status(
        &mut self,
        cluster: &mut Cluster,
        k: &Kubectl,
        kind: &'static Kind,
        name: &str,
    ) -> Result<String> {
        let timeout = k
            .flags
            .get("timeout")
            .and_then(|t| SimDuration::parse(t).ok())
            .filter(|t| *t > SimDuration::ZERO)
            .unwrap_or(STATUS_TIMEOUT);
        let watch = k.flags.get("watch").is_none_or(|w| w != "false");
        let deadline = cluster.now() + timeout;
        let mut lines: Vec<String> = Vec::new();
        loop {
            let object = self.get_object(cluster, k, kind.id, name)?;
            let v = object.to_value();
            let int = |p: &str| v.pointer(p).and_then(serde_json::Value::as_i64);
            let text = |p: &str| {
                v.pointer(p)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let generation = object.generation().unwrap_or(0);
            let observed = int("/status/observedGeneration").unwrap_or(0);
            if text("/spec/updateStrategy/type") != "RollingUpdate" {
                return Err(
                    "error: rollout status is only available for RollingUpdate strategy type"
                        .into(),
                );
            }
            let (message, done) = if kind.id == KindId::StatefulSet {
                let replicas = int("/spec/replicas").unwrap_or(1);
                let ready = int("/status/readyReplicas").unwrap_or(0);
                let updated = int("/status/updatedReplicas").unwrap_or(0);
                let partition = int("/spec/updateStrategy/rollingUpdate/partition");
                if observed == 0 || generation > observed {
                    (
                        "Waiting for statefulset spec update to be observed...".to_string(),
                        false,
                    )
                } else if ready < replicas {
                    (
                        format!("Waiting for {} pods to be ready...", replicas - ready),
                        false,
                    )
                } else if let Some(p) = partition {
                    if updated < replicas - p {
                        (format!("Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...", replicas - p), false)
                    } else {
                        (
                            format!(
                                "partitioned roll out complete: {updated} new pods have been updated..."
                            ),
                            true,
                        )
                    }
                } else if text("/status/updateRevision") != text("/status/currentRevision") {
                    (format!("waiting for statefulset rolling update to complete {updated} pods at revision {}...", text("/status/updateRevision")), false)
                } else {
                    (
                        format!(
                            "statefulset rolling update complete {} pods at revision {}...",
                            int("/status/currentReplicas").unwrap_or(0),
                            text("/status/currentRevision")
                        ),
                        true,
                    )
                }
            } else if generation <= observed {
                let desired = int("/status/desiredNumberScheduled").unwrap_or(0);
                let updated = int("/status/updatedNumberScheduled").unwrap_or(0);
                let available = int("/status/numberAvailable").unwrap_or(0);
                if updated < desired {
                    (format!("Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."), false)
                } else if available < desired {
                    (format!("Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."), false)
                } else {
                    (format!("daemon set {name:?} successfully rolled out"), true)
                }
            } else {
                (
                    "Waiting for daemon set spec update to be observed...".to_string(),
                    false,
                )
            };
            if lines.last() != Some(&message) {
                lines.push(message);
            }
            if done || !watch {
                return Ok(lines.join("\n"));
            }
            if cluster.now() >= deadline {
                lines.push("error: timed out waiting for the condition".into());
                return Err(lines.join("\n"));
            }
            cluster.advance(SimDuration::from_secs(1));
        }
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
