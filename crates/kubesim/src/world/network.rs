//! The simulated network between components.
//!
//! Every message between two components crosses it: it draws a latency from
//! the run's seeded RNG, drops messages by a configured loss rate, and drops
//! everything across a partition. Faults are a small vocabulary, as in
//! turmoil: isolate a host, cut the link between two hosts, set the loss rate,
//! repair. Components live on hosts (the nodes of the cluster, plus hosts for
//! things outside it such as the API load balancer and the user's kubectl);
//! messages between components on the same host never cross a partition.

use super::{SimDuration, SimRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drop {
    /// One of the two hosts is isolated, or the link between them is cut.
    Partition,
    /// Lost at random (the configured loss rate).
    Loss,
}

/// Latency and loss of the network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Latency between two hosts, drawn uniformly in `min..=max` ms.
    pub min_latency_ms: u64,
    pub max_latency_ms: u64,
    /// Latency between two components on the same host.
    pub local_latency_ms: u64,
    /// Probability that a message between two hosts is lost.
    pub loss: f64,
}

impl Default for NetworkConfig {
    /// A data-center network: 1–3 ms between machines, no loss.
    fn default() -> Self {
        NetworkConfig {
            min_latency_ms: 1,
            max_latency_ms: 3,
            local_latency_ms: 0,
            loss: 0.0,
        }
    }
}

/// The network's faults and settings. Hosts are named by strings (node names).
#[derive(Clone, Debug, Default)]
pub struct Network {
    config: NetworkConfig,
    isolated: BTreeSet<String>,
    cut: BTreeSet<(String, String)>,
}

fn ordered(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

impl Network {
    pub fn new(config: NetworkConfig) -> Self {
        Network {
            config,
            ..Default::default()
        }
    }

    pub fn config(&self) -> NetworkConfig {
        self.config
    }

    /// Sets the loss rate (clamped to 0..=1).
    pub fn set_loss(&mut self, loss: f64) {
        self.config.loss = loss.clamp(0.0, 1.0);
    }

    /// Cuts `host` off from every other host.
    pub fn isolate(&mut self, host: &str) {
        self.isolated.insert(host.to_string());
    }

    /// Cuts the link between two hosts, both ways.
    pub fn cut(&mut self, a: &str, b: &str) {
        if a != b {
            self.cut.insert(ordered(a, b));
        }
    }

    /// Undoes every fault that involves `host`.
    pub fn repair_host(&mut self, host: &str) {
        self.isolated.remove(host);
        self.cut.retain(|(a, b)| a != host && b != host);
    }

    /// Undoes every fault and sets the loss back to zero.
    pub fn repair_all(&mut self) {
        self.isolated.clear();
        self.cut.clear();
        self.config.loss = 0.0;
    }

    pub fn is_isolated(&self, host: &str) -> bool {
        self.isolated.contains(host)
    }

    /// Hosts that are cut off, for the status view.
    pub fn isolated_hosts(&self) -> impl Iterator<Item = &str> {
        self.isolated.iter().map(String::as_str)
    }

    /// Whether a message from host `a` can reach host `b` right now.
    pub fn connected(&self, a: &str, b: &str) -> bool {
        // Nothing isolated or cut (the usual case): no lookups.
        (self.isolated.is_empty() && self.cut.is_empty())
            || a == b
            || (!self.isolated.contains(a) && !self.isolated.contains(b) && !self.is_cut(a, b))
    }

    /// Whether the link between `a` and `b` is cut (without allocating the
    /// ordered pair: this runs for every message).
    fn is_cut(&self, a: &str, b: &str) -> bool {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        self.cut.iter().any(|(x, y)| x == lo && y == hi)
    }

    /// Decides the fate of one message from host `from` to host `to`: its
    /// latency, or why it is dropped. Draws from `rng` only for messages
    /// between hosts, so a run's random stream does not depend on local chatter.
    pub fn route(&self, rng: &mut SimRng, from: &str, to: &str) -> Result<SimDuration, Drop> {
        if from == to {
            return Ok(SimDuration::from_millis(self.config.local_latency_ms));
        }
        if !self.connected(from, to) {
            return Err(Drop::Partition);
        }
        if self.config.loss > 0.0 && rng.chance(self.config.loss) {
            return Err(Drop::Loss);
        }
        Ok(SimDuration::from_millis(rng.between(
            self.config.min_latency_ms,
            self.config.max_latency_ms,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_between_hosts_stays_within_the_configured_range() {
        let net = Network::new(NetworkConfig::default());
        let mut rng = SimRng::new(3);
        for _ in 0..1000 {
            let d = net.route(&mut rng, "a", "b").unwrap().as_millis();
            assert!((1..=3).contains(&d));
        }
        assert_eq!(net.route(&mut rng, "a", "a"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn an_isolated_host_neither_sends_nor_receives_but_talks_to_itself() {
        let mut net = Network::default();
        let mut rng = SimRng::new(1);
        net.isolate("worker-1");
        assert_eq!(net.route(&mut rng, "worker-1", "cp"), Err(Drop::Partition));
        assert_eq!(net.route(&mut rng, "cp", "worker-1"), Err(Drop::Partition));
        assert!(net.route(&mut rng, "worker-1", "worker-1").is_ok());
        assert!(net.route(&mut rng, "cp", "worker-2").is_ok());
        net.repair_host("worker-1");
        assert!(net.route(&mut rng, "cp", "worker-1").is_ok());
    }

    #[test]
    fn a_cut_link_drops_both_directions_only_between_its_two_hosts() {
        let mut net = Network::default();
        let mut rng = SimRng::new(1);
        net.cut("a", "b");
        assert_eq!(net.route(&mut rng, "a", "b"), Err(Drop::Partition));
        assert_eq!(net.route(&mut rng, "b", "a"), Err(Drop::Partition));
        assert!(net.route(&mut rng, "a", "c").is_ok());
        net.repair_all();
        assert!(net.route(&mut rng, "b", "a").is_ok());
    }

    #[test]
    fn the_loss_rate_drops_about_that_share_of_messages() {
        let mut net = Network::default();
        net.set_loss(0.25);
        let mut rng = SimRng::new(8);
        let lost = (0..10_000)
            .filter(|_| net.route(&mut rng, "a", "b") == Err(Drop::Loss))
            .count();
        assert!((2_200..2_800).contains(&lost), "{lost}");
    }
}
