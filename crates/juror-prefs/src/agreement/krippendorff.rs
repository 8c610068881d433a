//! Krippendorff's alpha: agreement beyond chance for any number of coders, with missing values.
//!
//! Computed from the coincidence matrix as in Krippendorff, "Computing Krippendorff's
//! Alpha-Reliability" (2011): every ordered pair of values from different coders in a unit with
//! m values adds 1/(m-1) to o[c][k]; n_c are the row sums and n their total; then
//! alpha = 1 - D_o / D_e with D_o = Σ o[c][k] δ²(c,k) / n and
//! D_e = Σ n_c n_k δ²(c,k) / (n (n-1)).

use crate::agreement::ReliabilityData;
use crate::error::PrefsError;

/// The level of measurement, which picks the difference function δ².
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Categories: δ² = 0 when equal, else 1.
    Nominal,
    /// Ordered categories: δ²(c,k) = (Σ_{g from c to k} n_g - (n_c + n_k) / 2)², so a gap is as
    /// wide as the number of values observed in it.
    Ordinal,
    /// Numbers with a meaningful difference: δ² = (c - k)².
    Interval,
    /// Non-negative numbers with a meaningful ratio: δ² = ((c - k) / (c + k))².
    Ratio,
}

/// Krippendorff's alpha of `data` at `level`: 1 is perfect agreement, 0 is chance, below 0 is
/// systematic disagreement. Fails when fewer than two values are pairable or all values are equal.
pub fn krippendorff_alpha(data: &ReliabilityData, level: Level) -> Result<f64, PrefsError> {
    let units: Vec<(&[f64], usize)> = data.pairable_units().collect();
    let pairable: usize = units.iter().map(|(unit, repeat)| unit.len() * repeat).sum();
    if pairable < 2 {
        return Err(PrefsError::NotEnoughData { needed: 2, found: pairable });
    }
    let mut values: Vec<f64> = units.iter().flat_map(|(unit, _)| unit.iter().copied()).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    if level == Level::Ratio && values[0] < 0.0 {
        return Err(PrefsError::NegativeRatioValue { value: values[0] });
    }
    let index = |value: f64| values.binary_search_by(|probe| probe.total_cmp(&value)).expect("value was collected");
    let size = values.len();
    let mut coincidences = vec![0.0; size * size];
    for (unit, repeat) in &units {
        let weight = *repeat as f64 / (unit.len() - 1) as f64;
        for (i, c) in unit.iter().enumerate() {
            for (j, k) in unit.iter().enumerate() {
                if i != j {
                    coincidences[index(*c) * size + index(*k)] += weight;
                }
            }
        }
    }
    let marginals: Vec<f64> = coincidences.chunks(size).map(|row| row.iter().sum()).collect();
    let n: f64 = marginals.iter().sum();
    let delta = distance(level, &values, &marginals);
    let (mut observed, mut expected) = (0.0, 0.0);
    for c in 0..size {
        for k in 0..size {
            let delta = delta(c, k);
            observed += coincidences[c * size + k] * delta;
            expected += marginals[c] * marginals[k] * delta;
        }
    }
    let (observed, expected) = (observed / n, expected / (n * (n - 1.0)));
    if expected == 0.0 {
        return Err(PrefsError::NoVariation);
    }
    Ok(1.0 - observed / expected)
}

/// δ² between the c-th and k-th smallest distinct values.
fn distance<'a>(level: Level, values: &'a [f64], marginals: &'a [f64]) -> impl Fn(usize, usize) -> f64 + 'a {
    // cumulative[i] = n_0 + ... + n_{i-1}, for the ordinal sums.
    let cumulative: Vec<f64> = std::iter::once(0.0)
        .chain(marginals.iter().scan(0.0, |sum, n| {
            *sum += n;
            Some(*sum)
        }))
        .collect();
    move |c, k| match level {
        Level::Nominal => f64::from(u8::from(c != k)),
        Level::Interval => (values[c] - values[k]).powi(2),
        Level::Ratio if values[c] + values[k] == 0.0 => 0.0,
        Level::Ratio => ((values[c] - values[k]) / (values[c] + values[k])).powi(2),
        Level::Ordinal => {
            let (low, high) = (c.min(k), c.max(k));
            (cumulative[high + 1] - cumulative[low] - (marginals[c] + marginals[k]) / 2.0).powi(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Option<f64> = None;

    fn coded(rows: &[&[Option<f64>]]) -> ReliabilityData {
        ReliabilityData::from_coder_rows(&rows.iter().map(|row| row.to_vec()).collect::<Vec<_>>()).unwrap()
    }

    /// Checks the data as given and compacted (units with the same values counted once).
    fn check(data: &ReliabilityData, level: Level, expected: f64) {
        for data in [data.clone(), data.clone().compacted()] {
            let alpha = krippendorff_alpha(&data, level).unwrap();
            assert!((alpha - expected).abs() < 1e-9, "{level:?}: got {alpha}, expected {expected}");
        }
    }

    /// Krippendorff (2011), section C: 4 observers, 12 units, missing values. Unit 12 has one
    /// value and drops out, leaving n = 40 pairable values: n_1 = 9, n_2 = 13, n_3 = 10, n_4 = 5,
    /// n_5 = 3.
    fn four_coders_with_missing_values() -> ReliabilityData {
        let s = |v: f64| Some(v);
        coded(&[
            &[s(1.), s(2.), s(3.), s(3.), s(2.), s(1.), s(4.), s(1.), s(2.), M, M, M],
            &[s(1.), s(2.), s(3.), s(3.), s(2.), s(2.), s(4.), s(1.), s(2.), s(5.), M, s(3.)],
            &[M, s(3.), s(3.), s(3.), s(2.), s(3.), s(4.), s(2.), s(2.), s(5.), s(1.), M],
            &[s(1.), s(2.), s(3.), s(3.), s(2.), s(4.), s(4.), s(1.), s(2.), s(5.), s(1.), M],
        ])
    }

    #[test]
    fn the_published_four_coder_example_at_every_level() {
        let data = four_coders_with_missing_values();
        // Nominal, by hand: the off-diagonal coincidences are unit 2 (2,3,2,2: 6 ordered
        // disagreeing pairs x 1/3 = 2), unit 6 (1,2,3,4: 12 x 1/3 = 4) and unit 8 (2), so
        // D_o = 8/40 = 1/5; D_e = (40² - (81+169+100+25+9)) / (40·39) = 1216/1560 = 152/195;
        // alpha = 1 - 39/152 = 113/152 = 0.743 (the paper's value).
        check(&data, Level::Nominal, 113.0 / 152.0);
        // Interval, by hand: D_o = (2·1 + 2·1 + (1/3)·40) / 40 = 13/30 (unit 6's ordered pairs sum
        // to 2(1+4+9+1+4+1) = 40); D_e = 2·Σ_{c<k} n_c n_k (c-k)² / 1560 = 2·2240/1560 = 112/39;
        // alpha = 1 - (13·39)/(30·112) = 951/1120 = 0.849 (the paper's value).
        check(&data, Level::Interval, 951.0 / 1120.0);
        // Ordinal and ratio: the paper's 0.815 and 0.797; exact fractions from an independent
        // pairwise (not coincidence-matrix) computation in rational arithmetic:
        // D_o = 1891/40, D_e = 3329/13 (ordinal) and 59357/2646000, 4570493/41277600 (ratio).
        check(&data, Level::Ordinal, 108_577.0 / 133_160.0);
        check(&data, Level::Ratio, 18_222_619.0 / 22_852_465.0);
    }

    #[test]
    fn the_published_two_coder_examples() {
        // Krippendorff (2011), section A: binary data, two observers, 10 units; alpha = 0.095.
        // n = 20 (n_0 = 14, n_1 = 6), D_o = 8/20, D_e = 2·14·6/380 = 168/380; 1 - (2/5)(380/168) = 2/21.
        let z = |v: f64| Some(v);
        let binary = coded(&[
            &[z(0.), z(1.), z(0.), z(0.), z(0.), z(0.), z(0.), z(0.), z(1.), z(0.)],
            &[z(1.), z(1.), z(1.), z(0.), z(0.), z(1.), z(0.), z(0.), z(0.), z(0.)],
        ]);
        check(&binary, Level::Nominal, 2.0 / 21.0);
        // Section B: nominal data, two observers, 12 units (a..e coded 1..5); alpha = 0.692.
        let a = [1., 1., 2., 2., 4., 3., 3., 3., 5., 4., 4., 1.].map(Some);
        let b = [2., 1., 2., 2., 2., 3., 3., 3., 5., 4., 4., 4.].map(Some);
        check(&coded(&[&a, &b]), Level::Nominal, 155.0 / 224.0);
    }

    #[test]
    fn perfect_agreement_is_one_and_degenerate_data_fails() {
        let perfect = ReliabilityData::from_units([vec![1.0, 1.0], vec![2.0, 2.0, 2.0], vec![3.0]]).unwrap();
        for level in [Level::Nominal, Level::Ordinal, Level::Interval, Level::Ratio] {
            check(&perfect, level, 1.0);
        }
        let single = ReliabilityData::from_units([vec![1.0], vec![2.0]]).unwrap();
        assert_eq!(krippendorff_alpha(&single, Level::Nominal), Err(PrefsError::NotEnoughData { needed: 2, found: 0 }));
        let constant = ReliabilityData::from_units([vec![4.0, 4.0], vec![4.0, 4.0]]).unwrap();
        assert_eq!(krippendorff_alpha(&constant, Level::Interval), Err(PrefsError::NoVariation));
        let negative = ReliabilityData::from_units([vec![-1.0, 1.0]]).unwrap();
        assert_eq!(krippendorff_alpha(&negative, Level::Ratio), Err(PrefsError::NegativeRatioValue { value: -1.0 }));
    }
}
