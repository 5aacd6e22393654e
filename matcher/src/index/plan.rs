//! Query plans: which slices to probe, how far, for a given radius.
//!
//! The PDQ index cuts a hash into 8 chunks of 32 bits, each into two 16-bit slices. The
//! generalised pigeonhole principle makes a probe exact: give chunk `c` a limit `T_c` (−1 = not
//! probed) with `Σ (T_c + 1) ≥ r + 1`; then every hash within `r` has some chunk within its limit
//! (otherwise the distance would be at least `Σ (T_c + 1) > r`). Inside that chunk, give the two
//! slices thresholds `t_hi`, `t_lo` with `(t_hi + 1) + (t_lo + 1) ≥ T_c + 1`; one of the slices is
//! then within its threshold. So probing every slice `s` at every key within `t_s` of the query's
//! slice, keeping postings whose whole chunk is within `T_c`, finds every match.
//!
//! Many plans are exact; this module picks the cheapest under a cost model of bucket visits,
//! postings scanned and candidates verified, and falls back to a linear scan when even the
//! cheapest plan would touch more than that (large radii).

/// Number of 16-bit slices in a PDQ hash.
pub const SLICES: usize = 16;
/// Number of 32-bit chunks (pairs of slices).
pub const CHUNKS: usize = 8;

/// One probe of a plan: visit every key of slice `slice` within `t` of the query's, keep postings
/// whose 32-bit chunk is within `limit` of the query's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The slice probed (0..16); its chunk is `slice / 2`, its partner `slice ^ 1`.
    pub slice: u8,
    /// Largest distance between a probed key and the query's slice.
    pub t: u8,
    /// Largest distance of the whole chunk (slice and partner) for a posting to be verified.
    pub limit: u8,
}

/// How a range query runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Probe these steps, in increasing slice order.
    Probe(Vec<Step>),
    /// Compare the query with every hash.
    Linear,
}

/// Relative costs, in units of one posting scanned; measured roughly on a 10M-entry index.
mod cost {
    /// Visiting one bucket (a directory read, usually a cache miss).
    pub const BUCKET: f64 = 12.0;
    /// Scanning one posting of a secondary table (2-byte partner slice).
    pub const POSTING: f64 = 1.0;
    /// Scanning one hash of the primary table (32 contiguous bytes, full distance).
    pub const PRIMARY: f64 = 2.5;
    /// Verifying a candidate found in a secondary table (random access to its hash).
    pub const VERIFY: f64 = 40.0;
    /// Comparing one hash in a linear scan.
    pub const LINEAR: f64 = 1.6;
}

fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// `ball[t]` = number of 16-bit keys within distance `t` (t = 0..=16).
fn ball16() -> [f64; 17] {
    let mut out = [0.0; 17];
    let mut sum = 0.0;
    for (t, slot) in out.iter_mut().enumerate() {
        sum += binomial(16, t as u32);
        *slot = sum;
    }
    out
}

/// Expected cost of probing one slice with threshold `t` and chunk limit `limit`, on `n` uniform
/// hashes; `primary` when the slice is the primary table's key.
fn slice_cost(n: f64, t: i32, limit: i32, primary: bool) -> f64 {
    if t < 0 {
        return 0.0;
    }
    let ball = ball16();
    let buckets = ball[t as usize];
    let postings = buckets * n / 65536.0;
    if primary {
        return buckets * cost::BUCKET + postings * cost::PRIMARY;
    }
    // Fraction of a bucket's postings whose partner slice passes the chunk limit.
    let mut pass = 0.0;
    for e in 0..=t {
        let rest = (limit - e).clamp(-1, 16);
        if rest >= 0 {
            pass += binomial(16, e as u32) * ball[rest as usize];
        }
    }
    let candidates = pass * n / (65536.0 * 65536.0);
    buckets * cost::BUCKET + postings * cost::POSTING + candidates * cost::VERIFY
}

/// The cheapest split of chunk `c`'s limit `limit` into its two slice thresholds.
fn chunk_option(n: f64, c: usize, limit: i32) -> (f64, i32, i32) {
    if limit < 0 {
        return (0.0, -1, -1);
    }
    let mut best = (f64::INFINITY, -1, -1);
    let cap = limit.min(16);
    for t_hi in -1..=cap {
        // Smallest t_lo with (t_hi + 1) + (t_lo + 1) >= limit + 1.
        let t_lo = (limit - 1 - t_hi).max(-1);
        if t_lo > cap {
            continue;
        }
        let cost = slice_cost(n, t_hi, limit, c == 0) + slice_cost(n, t_lo, limit, false);
        if cost < best.0 {
            best = (cost, t_hi, t_lo);
        }
    }
    best
}

/// The cheapest exact plan for radius `radius` on an index of `n` distinct hashes.
pub fn plan(n: usize, radius: u32) -> Plan {
    let n = n.max(1) as f64;
    let need = radius as usize + 1; // Σ (T_c + 1) must reach this.
    // Options per chunk: limit T = -1..=32 (T = 32 is vacuous: every chunk is within 32).
    let options: Vec<Vec<(f64, i32, i32)>> = (0..CHUNKS)
        .map(|c| (-1..=32).map(|t| chunk_option(n, c, t)).collect())
        .collect();
    // dp[b] = (cost, choices) reaching budget b (capped at `need`) over the chunks so far.
    let mut dp: Vec<Option<(f64, Vec<i32>)>> = vec![None; need + 1];
    dp[0] = Some((0.0, Vec::new()));
    for opts in &options {
        let mut next: Vec<Option<(f64, Vec<i32>)>> = vec![None; need + 1];
        for (b, state) in dp.iter().enumerate() {
            let Some((cost, limits)) = state else {
                continue;
            };
            for (i, (c_cost, _, _)) in opts.iter().enumerate() {
                let limit = i as i32 - 1;
                let nb = (b + (limit + 1) as usize).min(need);
                let total = cost + c_cost;
                if next[nb].as_ref().is_none_or(|(best, _)| total < *best) {
                    let mut l = limits.clone();
                    l.push(limit);
                    next[nb] = Some((total, l));
                }
            }
        }
        dp = next;
    }
    let Some((best, limits)) = dp[need].take() else {
        return Plan::Linear;
    };
    if best >= n * cost::LINEAR {
        return Plan::Linear;
    }
    let mut steps = Vec::new();
    for (c, &limit) in limits.iter().enumerate() {
        let (_, t_hi, t_lo) = options[c][(limit + 1) as usize];
        for (slice, t) in [(2 * c, t_hi), (2 * c + 1, t_lo)] {
            if t >= 0 {
                steps.push(Step {
                    slice: slice as u8,
                    t: t as u8,
                    limit: limit.min(32) as u8,
                });
            }
        }
    }
    Plan::Probe(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pigeonhole conditions that make a plan exact.
    fn assert_exact(plan: &Plan, radius: u32) {
        let Plan::Probe(steps) = plan else { return };
        let mut budget = 0i32;
        for c in 0..CHUNKS {
            let of_chunk: Vec<&Step> = steps.iter().filter(|s| s.slice as usize / 2 == c).collect();
            let Some(limit) = of_chunk.first().map(|s| i32::from(s.limit)) else {
                continue;
            };
            assert!(of_chunk.iter().all(|s| i32::from(s.limit) == limit));
            let slices: i32 = of_chunk.iter().map(|s| i32::from(s.t) + 1).sum();
            assert!(
                slices > limit,
                "chunk {c} slices do not cover limit {limit}"
            );
            budget += limit + 1;
        }
        assert!(
            budget > radius as i32,
            "budget {budget} for radius {radius}"
        );
    }

    #[test]
    fn radius_31_on_ten_million_probes_every_slice_at_one() {
        let Plan::Probe(steps) = plan(10_000_000, 31) else {
            panic!("expected a probe plan")
        };
        assert_eq!(steps.len(), 16);
        assert!(steps.iter().all(|s| s.t == 1 && s.limit == 3));
    }

    #[test]
    fn radius_0_probes_one_bucket() {
        let Plan::Probe(steps) = plan(10_000_000, 0) else {
            panic!("expected a probe plan")
        };
        assert_eq!(steps.len(), 1);
        assert_eq!((steps[0].t, steps[0].limit), (0, 0));
    }

    #[test]
    fn every_plan_is_exact() {
        for n in [10, 1_000, 100_000, 10_000_000] {
            for radius in 0..=256 {
                assert_exact(&plan(n, radius), radius);
            }
        }
    }

    #[test]
    fn tiny_indexes_and_huge_radii_scan() {
        assert_eq!(plan(10, 31), Plan::Linear);
        assert_eq!(plan(10_000_000, 200), Plan::Linear);
    }
}
