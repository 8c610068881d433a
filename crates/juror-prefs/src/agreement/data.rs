//! Reliability data: the values coders gave each unit, with missing values, as the agreement
//! coefficients read them.

use std::collections::BTreeMap;

use crate::error::PrefsError;
use crate::judgment::Judgment;
use crate::pair_judgment::Outcome;
use crate::resolve::votes::collect;

/// The values given to each unit by whichever coders coded it; all finite.
///
/// The coefficients here depend only on which values share a unit, not on which coder gave them,
/// so a unit is just its list of values. Units with fewer than two values are kept but cannot be
/// paired, and the coefficients skip them (Krippendorff's rule).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReliabilityData {
    units: Vec<Vec<f64>>,
    /// How many times each unit occurs: 1 each, until [`ReliabilityData::compacted`] merges
    /// units with the same values.
    repeats: Vec<usize>,
}

impl ReliabilityData {
    /// From Krippendorff's layout: one row per coder, one column per unit, `None` where missing.
    pub fn from_coder_rows(rows: &[Vec<Option<f64>>]) -> Result<Self, PrefsError> {
        let expected = rows.first().map_or(0, Vec::len);
        if let Some((row, found)) = rows.iter().map(Vec::len).enumerate().find(|(_, len)| *len != expected) {
            return Err(PrefsError::RaggedRows { row, found, expected });
        }
        Self::from_units((0..expected).map(|unit| rows.iter().filter_map(move |row| row[unit])))
    }

    /// From each unit's values.
    pub fn from_units<U: IntoIterator<Item = f64>>(units: impl IntoIterator<Item = U>) -> Result<Self, PrefsError> {
        let units: Vec<Vec<f64>> = units.into_iter().map(|unit| unit.into_iter().collect()).collect();
        if let Some(value) = units.iter().flatten().find(|value| !value.is_finite()) {
            return Err(PrefsError::NonFinite { value: *value });
        }
        Ok(Self::once_each(units))
    }

    fn once_each(units: Vec<Vec<f64>>) -> Self {
        let repeats = vec![1; units.len()];
        Self { units, repeats }
    }

    /// One unit per (item, option), valued by the rank each judgment gave it: the data for
    /// agreement on rankings, usually read at the ordinal level.
    pub fn from_ranks(judgments: &[Judgment]) -> Self {
        let mut units: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
        for judgment in judgments {
            for (option, rank) in judgment.ranks() {
                units.entry((judgment.item(), option.as_str())).or_default().push(f64::from(*rank));
            }
        }
        Self::once_each(units.into_values().collect())
    }

    /// Adds the units of `other` after these: reliability data gathered a part of the items at a
    /// time (every unit whole in one part) is the same as gathered at once, in another order,
    /// which no coefficient depends on.
    pub fn append(&mut self, mut other: Self) {
        self.units.append(&mut other.units);
        self.repeats.append(&mut other.repeats);
    }

    /// The same data with every set of units holding the same values (in any order) stored once,
    /// with its count. No coefficient depends on the order of a unit's values or of the units,
    /// and verdicts on pairs take few distinct shapes (two labelers give at most six), so a
    /// dataset's agreement data shrinks to a handful of entries.
    pub fn compacted(self) -> Self {
        let mut merged: BTreeMap<Vec<u64>, (Vec<f64>, usize)> = BTreeMap::new();
        for (mut unit, repeat) in self.units.into_iter().zip(self.repeats) {
            unit.sort_by(f64::total_cmp);
            let key = unit.iter().map(|value| value.to_bits()).collect();
            merged.entry(key).or_insert_with(|| (unit, 0)).1 += repeat;
        }
        let (units, repeats) = merged.into_values().unzip();
        Self { units, repeats }
    }

    /// One unit per (item, pair of options), valued 1 when the option whose id sorts first is
    /// better, 0 for a tie and -1 otherwise: nominal for "same verdict", ordinal or interval to
    /// count a tie as half-way between the two preferences.
    pub fn from_pair_verdicts(judgments: &[Judgment]) -> Self {
        let value = |outcome| match outcome {
            Outcome::AWins => 1.0,
            Outcome::Tie => 0.0,
            Outcome::BWins => -1.0,
        };
        let units = collect(judgments).iter().map(|pair| pair.votes.iter().map(|vote| value(vote.outcome)).collect()).collect();
        Self::once_each(units)
    }

    /// Each unit's values.
    pub fn units(&self) -> &[Vec<f64>] {
        &self.units
    }

    /// The units with at least two values, the only ones that say anything about agreement.
    /// Each with how many times it occurs.
    pub(crate) fn pairable_units(&self) -> impl Iterator<Item = (&[f64], usize)> {
        self.units.iter().zip(&self.repeats).filter(|(unit, _)| unit.len() >= 2).map(|(unit, repeat)| (unit.as_slice(), *repeat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_gathered_a_part_at_a_time_give_the_same_coefficients() {
        let judgments = [
            Judgment::new("q1", "ann", [("a", 1), ("b", 2), ("c", 3)]).unwrap(),
            Judgment::new("q1", "bob", [("a", 2), ("b", 1), ("c", 3)]).unwrap(),
            Judgment::new("q2", "ann", [("a", 1), ("b", 1)]).unwrap(),
            Judgment::new("q2", "bob", [("a", 1), ("b", 2)]).unwrap(),
        ];
        let whole = ReliabilityData::from_pair_verdicts(&judgments);
        let mut parts = ReliabilityData::from_pair_verdicts(&judgments[2..]);
        parts.append(ReliabilityData::from_pair_verdicts(&judgments[..2]));
        assert_eq!(parts.units().len(), 4);
        let alpha = |data: &ReliabilityData| crate::agreement::krippendorff_alpha(data, crate::agreement::Level::Ordinal).unwrap();
        assert!((alpha(&whole) - alpha(&parts)).abs() < 1e-12);
        assert_eq!(crate::agreement::percent_agreement(&whole).unwrap(), crate::agreement::percent_agreement(&parts).unwrap());
        // q1's pairs: (a, b) split 1/-1, (a, c) and (b, c) agreed 1/1; q2's (a, b) split 0/1.
        let compact = parts.compacted();
        let mut shapes = compact.units().to_vec();
        shapes.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert_eq!(shapes, [vec![-1.0, 1.0], vec![0.0, 1.0], vec![1.0, 1.0]]);
        assert!((alpha(&whole) - alpha(&compact)).abs() < 1e-12);
    }

    #[test]
    fn coder_rows_become_units_without_the_missing_values() {
        let data = ReliabilityData::from_coder_rows(&[vec![Some(1.0), None], vec![Some(2.0), Some(3.0)]]).unwrap();
        assert_eq!(data.units(), [vec![1.0, 2.0], vec![3.0]]);
        assert_eq!(data.pairable_units().count(), 1);
    }

    #[test]
    fn ragged_or_non_finite_input_is_rejected() {
        assert_eq!(
            ReliabilityData::from_coder_rows(&[vec![Some(1.0)], vec![Some(1.0), None]]),
            Err(PrefsError::RaggedRows { row: 1, found: 2, expected: 1 })
        );
        assert!(matches!(ReliabilityData::from_units([vec![1.0, f64::NAN]]), Err(PrefsError::NonFinite { .. })));
    }

    #[test]
    fn judgments_become_rank_units_and_verdict_units() {
        let judgments = [
            Judgment::new("q", "ann", [("y", 1), ("x", 2)]).unwrap(),
            Judgment::new("q", "bob", [("x", 1), ("y", 1)]).unwrap(),
        ];
        assert_eq!(ReliabilityData::from_ranks(&judgments).units(), [vec![2.0, 1.0], vec![1.0, 1.0]]);
        assert_eq!(ReliabilityData::from_pair_verdicts(&judgments).units(), [vec![-1.0, 0.0]]);
    }
}
