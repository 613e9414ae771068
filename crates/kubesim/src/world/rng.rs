//! The run's one source of randomness.
//!
//! Every random choice in the simulation (network latency, message loss, raft
//! election timeouts, pod name suffixes, uids) is drawn from this seeded
//! generator, passed explicitly to whoever needs it. The same seed and the same
//! commands give the same run. ChaCha8 is portable: a seed gives the same
//! stream natively and in the browser.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seeded random number generator of a run.
#[derive(Clone, Debug)]
pub struct SimRng {
    seed: u64,
    inner: ChaCha8Rng,
}

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng {
            seed,
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The seed this generator started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A uniform integer in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if low >= high {
            return low;
        }
        self.inner.gen_range(low..=high)
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.inner.gen_bool(p)
    }

    /// `n` lowercase alphanumeric characters, as Kubernetes' `generateName`
    /// suffixes use (`k8s.io/apimachinery/pkg/util/rand.String`: consonants
    /// and digits without vowels, so that no words are spelled).
    pub fn k8s_suffix(&mut self, n: usize) -> String {
        const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n)
            .map(|_| ALPHANUMS[self.inner.gen_range(0..ALPHANUMS.len())] as char)
            .collect()
    }

    /// A version-4-shaped UUID drawn from the seeded stream (not the OS).
    pub fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.inner.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        // 8-4-4-4-12 lowercase hex digits (written directly: a uid is drawn
        // for every object created).
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut u = String::with_capacity(36);
        for (i, x) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                u.push('-');
            }
            u.push(HEX[usize::from(x >> 4)] as char);
            u.push(HEX[usize::from(x & 0x0f)] as char);
        }
        u
    }

    /// Raw access for crates that take an `RngCore` (raft's election timeouts
    /// are overridden from here).
    pub fn core(&mut self) -> &mut impl RngCore {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let mut a = SimRng::new(42);
        let mut b = SimRng::new(42);
        let xs: Vec<u64> = (0..50).map(|_| a.between(0, 1_000_000)).collect();
        let ys: Vec<u64> = (0..50).map(|_| b.between(0, 1_000_000)).collect();
        assert_eq!(xs, ys);
        assert_eq!(a.uuid(), b.uuid());
    }

    #[test]
    fn different_seeds_give_different_streams() {
        let mut a = SimRng::new(1);
        let mut b = SimRng::new(2);
        assert_ne!(a.uuid(), b.uuid());
    }

    #[test]
    fn suffixes_use_the_kubernetes_alphabet() {
        let mut r = SimRng::new(7);
        let s = r.k8s_suffix(5);
        assert_eq!(s.len(), 5);
        assert!(s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }

    #[test]
    fn uuids_are_the_drawn_bytes_in_lowercase_hex_groups() {
        let mut a = SimRng::new(11);
        let mut b = SimRng::new(11);
        let mut bytes = [0u8; 16];
        b.inner.fill_bytes(&mut bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|x| format!("{x:02x}")).collect();
        let expected = format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        assert_eq!(a.uuid(), expected);
    }

    #[test]
    fn uuids_have_the_version_4_shape() {
        let u = SimRng::new(9).uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
    }
}
