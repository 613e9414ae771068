//! The API clients the cluster hosts: every component that is a client-go
//! program (kubelets now; kube-proxy, the scheduler and the controller
//! managers as they gain behaviour), each a [`Process`] driven by the world.

use crate::apiserver::server::Addr;
use crate::apiserver::ApiResponse;
use crate::client::process::{Agent, Output, Process};
use crate::world::{SimRng, SimTime};
use std::any::Any;

/// A running client process, whatever its agent.
pub(crate) trait Running: RunningClone {
    fn start(&mut self, now: SimTime, rng: &mut SimRng) -> Vec<Output>;
    fn on_reply(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        id: u64,
        response: ApiResponse,
    ) -> Vec<Output>;
    fn on_wake(&mut self, now: SimTime, rng: &mut SimRng) -> Vec<Output>;
    fn next_wakeup(&self) -> Option<SimTime>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Copies a running process (a cluster checkpoint copies every process).
pub(crate) trait RunningClone {
    fn clone_box(&self) -> Box<dyn Running>;
}

impl<T: Running + Clone + 'static> RunningClone for T {
    fn clone_box(&self) -> Box<dyn Running> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Running> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl<A: Agent + Clone + 'static> Running for Process<A> {
    fn start(&mut self, now: SimTime, rng: &mut SimRng) -> Vec<Output> {
        Process::start(self, now, rng)
    }
    fn on_reply(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        id: u64,
        response: ApiResponse,
    ) -> Vec<Output> {
        Process::on_reply(self, now, rng, id, response)
    }
    fn on_wake(&mut self, now: SimTime, rng: &mut SimRng) -> Vec<Output> {
        Process::on_wake(self, now, rng)
    }
    fn next_wakeup(&self) -> Option<SimTime> {
        Process::next_wakeup(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Builds a fresh process (at start, and on every restart: a restarted
/// program remembers nothing). Shared between copies of a cluster: every
/// factory only clones the values it captured, so it holds no state.
pub(crate) type Factory = std::rc::Rc<dyn Fn(SimTime) -> Option<Box<dyn Running>>>;

/// One hosted client.
#[derive(Clone)]
pub(crate) struct ClientSlot {
    /// `None` while stopped (crashed, powered off, `kubelet-stop`).
    pub process: Option<Box<dyn Running>>,
    pub make: Factory,
    /// Where its requests go: the API load balancer, or (for control-plane
    /// components, as kubeadm configures them) the local API server.
    pub target: Addr,
    /// The tick already scheduled for it.
    pub wake: Option<SimTime>,
    /// Whether it should run (false while a fault keeps it stopped).
    pub up: bool,
    /// A kubelet's containerd while the kubelet is not running (it is
    /// handed to the kubelet when it starts).
    pub runtime: Option<crate::runtime::Containerd>,
    /// A kubelet's manifest directory while the kubelet is not running.
    pub manifests: Option<crate::kubelet::config::ManifestDir>,
}

impl ClientSlot {
    /// A client that starts at time zero, with no runtime or manifests of
    /// its own.
    pub fn new(make: Factory, target: Addr) -> Self {
        ClientSlot {
            process: None,
            make,
            target,
            wake: Some(SimTime::ZERO),
            up: true,
            runtime: None,
            manifests: None,
        }
    }

    /// The process's agent, if it runs and is an `A`.
    pub fn agent<A: Agent + 'static>(&self) -> Option<&A> {
        self.process
            .as_ref()
            .and_then(|p| p.as_any().downcast_ref::<Process<A>>())
            .map(Process::agent)
    }

    /// The process's agent, mutably.
    pub fn agent_mut<A: Agent + 'static>(&mut self) -> Option<&mut A> {
        self.process
            .as_mut()
            .and_then(|p| p.as_any_mut().downcast_mut::<Process<A>>())
            .map(Process::agent_mut)
    }
}
