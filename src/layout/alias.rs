//! Walker/Vose alias table: O(1) draws from a discrete distribution (triangles by area).

/// One entry per outcome: (acceptance threshold in 2^-32 units, alias). Kept together so a
/// draw touches one cache line.
pub(crate) struct AliasTable {
    entries: Vec<(u32, u32)>,
}

impl AliasTable {
    /// `weights` must be non-negative with a positive sum.
    pub(crate) fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut entries = vec![(u32::MAX, 0u32); n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            entries[s] = (threshold(scaled[s]), l as u32);
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers are 1 up to rounding: always keep.
        for i in small.into_iter().chain(large) {
            entries[i] = (u32::MAX, i as u32);
        }
        Self { entries }
    }

    /// Draws an outcome from 64 random bits: the high half picks the column, the low half
    /// the coin.
    #[inline]
    pub(crate) fn sample(&self, bits: u64) -> usize {
        let i = (((bits >> 32) * self.entries.len() as u64) >> 32) as usize;
        let (thresh, alias) = self.entries[i];
        if (bits as u32) <= thresh {
            i
        } else {
            alias as usize
        }
    }
}

fn threshold(p: f64) -> u32 {
    (p * 4_294_967_296.0).clamp(0.0, u32::MAX as f64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn frequencies_match_weights() {
        let w = [1.0, 0.0, 3.0, 0.5, 5.5];
        let table = AliasTable::new(&w);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut hist = [0usize; 5];
        let n = 1_000_000;
        for _ in 0..n {
            hist[table.sample(rng.next_u64())] += 1;
        }
        for (h, w) in hist.iter().zip(w) {
            let expect = w / 10.0 * n as f64;
            assert!(
                (*h as f64 - expect).abs() < 5.0 * expect.sqrt() + 1.0,
                "{hist:?}"
            );
        }
    }
}
