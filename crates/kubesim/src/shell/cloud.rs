//! `sim cloud ...` and `sim node add|remove`: the simulated cloud provider
//! from the command line.
//!
//! - `sim cloud` / `sim cloud vms`: the VMs (name, zone, machine type,
//!   internal IP, status, node group, age) and the node group's settings
//! - `sim cloud routes`, `sim cloud lbs`: the VPC's routes, the load balancers
//! - `sim cloud operations`: what the provider did (VMs created and deleted,
//!   auto-repairs, scale-ups and scale-downs)
//! - `sim cloud logs`: the cloud-controller-manager instances' logs
//! - `sim cloud autorepair on|off [--after 10m]`
//! - `sim cloud autoscaler on|off [--min N] [--max N]`
//! - `sim cloud delete-vm <name>` (also `sim fault <node> delete-vm`)
//! - `sim node add [<name>] [--zone Z] [--type T]`, `sim node remove <name>`

use super::command::{ParseError, Sim};
use crate::api::print;
use crate::cluster::Cluster;
use crate::world::SimDuration;

/// A `sim cloud` (or `sim node add|remove`) command.
#[derive(Clone, Debug, PartialEq)]
pub enum CloudCommand {
    Vms,
    Routes,
    LoadBalancers,
    Operations,
    Logs,
    AutoRepair {
        on: bool,
        after: Option<SimDuration>,
    },
    Autoscaler {
        on: bool,
        min: Option<usize>,
        max: Option<usize>,
    },
    DeleteVm(String),
    NodeAdd {
        name: Option<String>,
        zone: Option<String>,
        instance_type: Option<String>,
    },
    NodeRemove(String),
}

const USAGE: &str = "usage: sim cloud [vms|routes|lbs|operations|logs] | sim cloud autorepair on|off [--after 10m] | sim cloud autoscaler on|off [--min N] [--max N] | sim cloud delete-vm <name>";
const NODE_USAGE: &str =
    "usage: sim node add [<name>] [--zone Z] [--type T] | sim node remove <name>";

fn usage(m: &str) -> ParseError {
    ParseError::Usage(m.to_string())
}

/// Positional words and `(flag, value)` pairs.
type Split<'a> = (Vec<&'a str>, Vec<(String, String)>);

/// Splits `--flag value` / `--flag=value` pairs from positional words.
fn flags<'a>(words: &'a [&'a str], known: &[&str]) -> Result<Split<'a>, String> {
    let mut positional = Vec::new();
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if let Some(flag) = w.strip_prefix("--") {
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n, v.to_string()),
                None => {
                    i += 1;
                    match words.get(i) {
                        Some(v) => (flag, v.to_string()),
                        None => return Err(format!("flag needs an argument: --{flag}")),
                    }
                }
            };
            if !known.contains(&name) {
                return Err(format!("unknown flag: --{name}"));
            }
            found.push((name.to_string(), value));
        } else {
            positional.push(w);
        }
        i += 1;
    }
    Ok((positional, found))
}

fn on_off(w: &str) -> Result<bool, ParseError> {
    match w {
        "on" | "true" | "enable" => Ok(true),
        "off" | "false" | "disable" => Ok(false),
        _ => Err(usage(USAGE)),
    }
}

fn count(v: &str) -> Result<usize, ParseError> {
    v.parse()
        .map_err(|_| ParseError::Usage(format!("invalid count {v:?}: use a non-negative integer")))
}

/// `sim cloud ...` (the words after `cloud`).
pub fn parse(words: &[String]) -> Result<Sim, ParseError> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let c = match w.as_slice() {
        [] | ["vms"] => CloudCommand::Vms,
        ["routes"] => CloudCommand::Routes,
        ["lbs" | "loadbalancers" | "load-balancers"] => CloudCommand::LoadBalancers,
        ["operations" | "ops"] => CloudCommand::Operations,
        ["logs"] => CloudCommand::Logs,
        ["delete-vm", name] => CloudCommand::DeleteVm(name.to_string()),
        ["autorepair" | "auto-repair", rest @ ..] => {
            let (pos, f) = flags(rest, &["after"]).map_err(ParseError::Usage)?;
            let [state] = pos.as_slice() else {
                return Err(usage(USAGE));
            };
            let mut after = None;
            for (_, v) in f {
                after = Some(SimDuration::parse(&v).map_err(ParseError::Usage)?);
            }
            CloudCommand::AutoRepair {
                on: on_off(state)?,
                after,
            }
        }
        ["autoscaler", rest @ ..] => {
            let (pos, f) = flags(rest, &["min", "max"]).map_err(ParseError::Usage)?;
            let [state] = pos.as_slice() else {
                return Err(usage(USAGE));
            };
            let (mut min, mut max) = (None, None);
            for (n, v) in f {
                if n == "min" {
                    min = Some(count(&v)?);
                } else {
                    max = Some(count(&v)?);
                }
            }
            CloudCommand::Autoscaler {
                on: on_off(state)?,
                min,
                max,
            }
        }
        _ => return Err(usage(USAGE)),
    };
    Ok(Sim::Cloud(c))
}

/// `sim node add|remove ...` (the words after `node`), if it is one.
pub fn parse_node(words: &[String]) -> Option<Result<Sim, ParseError>> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["add", rest @ ..] => Some(parse_node_add(rest)),
        ["remove" | "rm" | "delete", name] => {
            Some(Ok(Sim::Cloud(CloudCommand::NodeRemove(name.to_string()))))
        }
        ["remove" | "rm" | "delete", ..] => Some(Err(usage(NODE_USAGE))),
        _ => None,
    }
}

fn parse_node_add(rest: &[&str]) -> Result<Sim, ParseError> {
    let (pos, f) = flags(rest, &["zone", "type"]).map_err(ParseError::Usage)?;
    let name = match pos.as_slice() {
        [] => None,
        [n] => Some(n.to_string()),
        _ => return Err(usage(NODE_USAGE)),
    };
    let (mut zone, mut instance_type) = (None, None);
    for (n, v) in f {
        if n == "zone" {
            zone = Some(v);
        } else {
            instance_type = Some(v);
        }
    }
    Ok(Sim::Cloud(CloudCommand::NodeAdd {
        name,
        zone,
        instance_type,
    }))
}

/// Runs a cloud command.
pub fn run(cluster: &mut Cluster, c: &CloudCommand) -> Result<String, String> {
    match c {
        CloudCommand::Vms => Ok(vms(cluster)),
        CloudCommand::Routes => {
            let mut rows = vec![vec![
                "NAME".to_string(),
                "DESTINATION".into(),
                "NEXT HOP".into(),
            ]];
            for r in cluster.cloud().routes() {
                rows.push(vec![
                    r.name.clone(),
                    r.destination.clone(),
                    format!("instance {}", r.target),
                ]);
            }
            if rows.len() == 1 {
                return Ok("no routes".into());
            }
            Ok(print::tabwrite(&rows).trim_end().to_string())
        }
        CloudCommand::LoadBalancers => {
            let mut rows = vec![vec![
                "NAME".to_string(),
                "SERVICE".into(),
                "IP".into(),
                "PORTS".into(),
                "NODES".into(),
            ]];
            for lb in cluster.cloud().load_balancers() {
                rows.push(vec![
                    lb.name.clone(),
                    lb.service.clone(),
                    lb.ip.clone(),
                    lb.ports.join(","),
                    lb.nodes.join(","),
                ]);
            }
            if rows.len() == 1 {
                return Ok("no load balancers".into());
            }
            Ok(print::tabwrite(&rows).trim_end().to_string())
        }
        CloudCommand::Operations => {
            let ops = &cluster.cloud().operations;
            if ops.is_empty() {
                return Ok("no operations yet".into());
            }
            Ok(ops
                .iter()
                .map(|(t, what)| format!("{t}  {what}"))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        CloudCommand::Logs => {
            let mut out = Vec::new();
            for (name, m) in cluster.cloud_controller_managers() {
                out.push(format!("==> {name} <=="));
                match m {
                    None => out.push("(not running)".into()),
                    Some(m) => {
                        for (t, line) in m.log_lines() {
                            out.push(format!("{t}  {line}"));
                        }
                    }
                }
            }
            Ok(out.join("\n"))
        }
        CloudCommand::AutoRepair { on, after } => {
            let g = &mut cluster.cloud_mut().group;
            g.autorepair = *on;
            if let Some(a) = after {
                g.repair_after = *a;
            }
            Ok(if *on {
                format!(
                    "auto-repair on for {}: a node NotReady for {} gets a new VM",
                    g.name, g.repair_after
                )
            } else {
                format!("auto-repair off for {}", g.name)
            })
        }
        CloudCommand::Autoscaler { on, min, max } => {
            let g = &mut cluster.cloud_mut().group;
            if let Some(m) = min {
                g.min = *m;
            }
            if let Some(m) = max {
                g.max = *m;
            }
            if g.min > g.max {
                return Err(format!(
                    "error: the minimum ({}) is above the maximum ({})",
                    g.min, g.max
                ));
            }
            g.autoscaler = *on;
            Ok(if *on {
                format!(
                    "cluster autoscaler on for {}: {} to {} nodes (scale up for unschedulable pods every 10s, scale down after 10m unneeded)",
                    g.name, g.min, g.max
                )
            } else {
                format!("cluster autoscaler off for {}", g.name)
            })
        }
        CloudCommand::DeleteVm(name) | CloudCommand::NodeRemove(name) => cluster.delete_vm(name),
        CloudCommand::NodeAdd {
            name,
            zone,
            instance_type,
        } => cluster.add_node(name.as_deref(), zone.as_deref(), instance_type.as_deref()),
    }
}

fn vms(cluster: &Cluster) -> String {
    let now = cluster.now();
    let mut rows = vec![vec![
        "NAME".to_string(),
        "ZONE".into(),
        "MACHINE TYPE".into(),
        "INTERNAL IP".into(),
        "STATUS".into(),
        "GROUP".into(),
        "AGE".into(),
    ]];
    let snapshot_off: std::collections::BTreeSet<String> = cluster
        .snapshot()
        .nodes
        .iter()
        .filter(|n| n.powered_off)
        .map(|n| n.name.clone())
        .collect();
    for vm in cluster.cloud().vms() {
        let status = match vm.status {
            crate::cloud::VmStatus::Provisioning => "PROVISIONING".to_string(),
            _ if snapshot_off.contains(&vm.name) => "TERMINATED".into(),
            _ => "RUNNING".into(),
        };
        rows.push(vec![
            vm.name.clone(),
            vm.zone.clone(),
            vm.instance_type.clone(),
            vm.internal_ip.clone(),
            status,
            vm.group.clone().unwrap_or_else(|| "-".into()),
            print::age(Some(&crate::api::time::to_time(vm.created)), now),
        ]);
    }
    let g = &cluster.cloud().group;
    let switch = |b: bool| if b { "on" } else { "off" };
    format!(
        "{}\nnode group {}: {} · auto-repair {} (after {}) · autoscaler {} ({}..{} nodes)",
        print::tabwrite(&rows).trim_end(),
        g.name,
        g.instance_type,
        switch(g.autorepair),
        g.repair_after,
        switch(g.autoscaler),
        g.min,
        g.max
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse_line;
    use crate::shell::Command;

    fn sim(line: &str) -> Sim {
        match parse_line(line) {
            Ok(Some(Command::Sim(s))) => s,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn cloud_commands_parse_with_their_flags() {
        assert_eq!(sim("sim cloud"), Sim::Cloud(CloudCommand::Vms));
        assert_eq!(
            sim("sim cloud autorepair on --after 2m"),
            Sim::Cloud(CloudCommand::AutoRepair {
                on: true,
                after: Some(SimDuration::from_secs(120))
            })
        );
        assert_eq!(
            sim("sim cloud autoscaler on --max=6"),
            Sim::Cloud(CloudCommand::Autoscaler {
                on: true,
                min: None,
                max: Some(6)
            })
        );
        assert_eq!(
            sim("sim node add worker-9 --zone zone-b --type e2-standard-8"),
            Sim::Cloud(CloudCommand::NodeAdd {
                name: Some("worker-9".into()),
                zone: Some("zone-b".into()),
                instance_type: Some("e2-standard-8".into())
            })
        );
        assert_eq!(
            sim("sim node remove worker-9"),
            Sim::Cloud(CloudCommand::NodeRemove("worker-9".into()))
        );
    }

    #[test]
    fn bad_cloud_commands_say_how_to_use_them() {
        for line in [
            "sim cloud autorepair maybe",
            "sim cloud autoscaler on --max",
            "sim cloud autoscaler on --max=lots",
            "sim cloud autoscaler on --color red",
            "sim cloud teleport",
            "sim node add a b",
            "sim node remove",
        ] {
            assert!(parse_line(line).is_err(), "{line}");
        }
    }
}
