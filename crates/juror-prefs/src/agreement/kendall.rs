//! Kendall's tau-b: rank correlation that allows ties, between two sequences or two labelers.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use crate::error::PrefsError;
use crate::judgment::Judgment;

/// Kendall's tau-b of paired observations: (C - D) / sqrt((n0 - n1)(n0 - n2)), where C and D
/// count concordant and discordant pairs, n0 all pairs and n1, n2 the pairs tied in x and in y.
/// Fails on different lengths, non-finite values, fewer than two observations, or a constant
/// sequence (tau-b is then 0/0).
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<f64, PrefsError> {
    if x.len() != y.len() {
        return Err(PrefsError::LengthMismatch { left: x.len(), right: y.len() });
    }
    if let Some(value) = x.iter().chain(y).find(|value| !value.is_finite()) {
        return Err(PrefsError::NonFinite { value: *value });
    }
    if x.len() < 2 {
        return Err(PrefsError::NotEnoughData { needed: 2, found: x.len() });
    }
    let mut counts = PairCounts::default();
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            counts.add(x[i].total_cmp(&x[j]), y[i].total_cmp(&y[j]));
        }
    }
    counts.tau_b().ok_or(PrefsError::NoVariation)
}

/// Kendall's tau-b between two labelers' rankings.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerTau {
    /// The labeler whose id sorts first.
    pub a: String,
    /// The other labeler.
    pub b: String,
    /// How many items both ranked.
    pub items: usize,
    /// How many option pairs were compared across those items.
    pub pairs: usize,
    /// Tau-b, or `None` when one of them tied every compared pair.
    pub tau: Option<f64>,
}

/// Tau-b for every two labelers who ranked a common item, sorted by their ids. Options of
/// different items are never compared: each item contributes the pairs of options both labelers
/// ranked, and the counts are pooled across items before taking tau-b (a within-item, or
/// stratified, tau). Two-option items each give one concordant, discordant or tied pair.
pub fn labeler_taus(judgments: &[Judgment]) -> Vec<LabelerTau> {
    let mut by_item: HashMap<&str, Vec<&Judgment>> = HashMap::new();
    for judgment in judgments {
        by_item.entry(judgment.item()).or_default().push(judgment);
    }
    let mut pooled: BTreeMap<(&str, &str), (usize, PairCounts)> = BTreeMap::new();
    for judgments in by_item.values() {
        for (i, first) in judgments.iter().enumerate() {
            for second in &judgments[i + 1..] {
                if first.labeler() == second.labeler() {
                    continue;
                }
                let (x, y) = if first.labeler() < second.labeler() { (first, second) } else { (second, first) };
                let entry = pooled.entry((x.labeler(), y.labeler())).or_default();
                entry.0 += 1;
                let common: Vec<(u32, u32)> =
                    x.ranks().iter().filter_map(|(option, rank)| y.rank_of(option).map(|other| (*rank, other))).collect();
                for (i, (x_i, y_i)) in common.iter().enumerate() {
                    for (x_j, y_j) in &common[i + 1..] {
                        entry.1.add(x_i.cmp(x_j), y_i.cmp(y_j));
                    }
                }
            }
        }
    }
    pooled
        .into_iter()
        .map(|((a, b), (items, counts))| LabelerTau {
            a: a.to_owned(),
            b: b.to_owned(),
            items,
            pairs: counts.total(),
            tau: counts.tau_b(),
        })
        .collect()
}

#[derive(Debug, Default, Clone, Copy)]
struct PairCounts {
    concordant: usize,
    discordant: usize,
    tied_x_only: usize,
    tied_y_only: usize,
    tied_both: usize,
}

impl PairCounts {
    fn add(&mut self, x: Ordering, y: Ordering) {
        match (x, y) {
            (Ordering::Equal, Ordering::Equal) => self.tied_both += 1,
            (Ordering::Equal, _) => self.tied_x_only += 1,
            (_, Ordering::Equal) => self.tied_y_only += 1,
            (x, y) if x == y => self.concordant += 1,
            _ => self.discordant += 1,
        }
    }

    fn total(&self) -> usize {
        self.concordant + self.discordant + self.tied_x_only + self.tied_y_only + self.tied_both
    }

    fn tau_b(&self) -> Option<f64> {
        let strict = (self.concordant + self.discordant) as f64;
        let untied_x = strict + self.tied_y_only as f64;
        let untied_y = strict + self.tied_x_only as f64;
        let denominator = (untied_x * untied_y).sqrt();
        (denominator > 0.0).then(|| (self.concordant as f64 - self.discordant as f64) / denominator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(x: &[f64], y: &[f64], expected: f64) {
        let tau = kendall_tau_b(x, y).unwrap();
        assert!((tau - expected).abs() < 1e-12, "{x:?} {y:?}: got {tau}, expected {expected}");
    }

    #[test]
    fn tau_b_of_worked_examples() {
        check(&[1., 2., 3., 4.], &[10., 20., 30., 40.], 1.0);
        check(&[1., 2., 3., 4.], &[4., 3., 2., 1.], -1.0);
        // SciPy's `kendalltau` documentation example (-0.47140452079103173). By hand, over the
        // 10 pairs: C = 2 ((0,4), (3,4)), D = 6, tied in x: (0,3), (1,4); tied in y: (0,3).
        // tau-b = (2 - 6) / sqrt((10 - 2)(10 - 1)) = -4 / sqrt(72).
        check(&[12., 2., 1., 12., 2.], &[1., 4., 7., 1., 0.], -4.0 / 72f64.sqrt());
    }

    #[test]
    fn degenerate_sequences_are_errors() {
        assert_eq!(kendall_tau_b(&[1.0], &[1.0, 2.0]), Err(PrefsError::LengthMismatch { left: 1, right: 2 }));
        assert_eq!(kendall_tau_b(&[1.0], &[1.0]), Err(PrefsError::NotEnoughData { needed: 2, found: 1 }));
        assert_eq!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]), Err(PrefsError::NoVariation));
    }

    #[test]
    fn labelers_are_compared_within_items_and_pooled() {
        // q1: ann a<b<c, bob a<c<b: (a,b) C, (a,c) C, (b,c) D. q2: bob ties x and y: tied in y.
        // tau-b = (2 - 1) / sqrt((3 + 1)(3 + 0)) = 1/sqrt(12). cid shares no item with anyone.
        let judgments = [
            Judgment::new("q1", "bob", [("a", 1), ("b", 3), ("c", 2)]).unwrap(),
            Judgment::new("q1", "ann", [("a", 1), ("b", 2), ("c", 3)]).unwrap(),
            Judgment::new("q2", "ann", [("x", 1), ("y", 2)]).unwrap(),
            Judgment::new("q2", "bob", [("x", 1), ("y", 1)]).unwrap(),
            Judgment::new("q3", "cid", [("x", 1), ("y", 2)]).unwrap(),
        ];
        let taus = labeler_taus(&judgments);
        assert_eq!(taus.len(), 1);
        let tau = &taus[0];
        assert_eq!((tau.a.as_str(), tau.b.as_str(), tau.items, tau.pairs), ("ann", "bob", 2, 4));
        assert!((tau.tau.unwrap() - 1.0 / 12f64.sqrt()).abs() < 1e-12);
    }
}
