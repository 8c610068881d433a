//! Pairwise percent agreement: the share of coder pairs that gave a unit the same value.

use crate::agreement::ReliabilityData;
use crate::error::PrefsError;

/// The mean over pairable units of the share of their unordered value pairs that are equal, so
/// every unit counts once however many coders it had. No correction for chance: two coders who
/// flip coins on a binary question agree half the time, which is what alpha corrects for.
pub fn percent_agreement(data: &ReliabilityData) -> Result<f64, PrefsError> {
    let (mut total, mut units) = (0.0, 0usize);
    for (unit, repeat) in data.pairable_units() {
        let mut agreeing = 0usize;
        for (i, value) in unit.iter().enumerate() {
            agreeing += unit[i + 1..].iter().filter(|other| *other == value).count();
        }
        total += repeat as f64 * agreeing as f64 / (unit.len() * (unit.len() - 1) / 2) as f64;
        units += repeat;
    }
    if units == 0 {
        return Err(PrefsError::NotEnoughData { needed: 2, found: 0 });
    }
    Ok(total / units as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(units: &[&[f64]], expected: f64) {
        let data = ReliabilityData::from_units(units.iter().map(|unit| unit.to_vec())).unwrap();
        for data in [data.clone(), data.compacted()] {
            let got = percent_agreement(&data).unwrap();
            assert!((got - expected).abs() < 1e-12, "{units:?}: got {got}, expected {expected}");
        }
    }

    #[test]
    fn each_unit_counts_its_agreeing_pairs() {
        // [1,1,1]: 3 of 3 pairs; [1,1,2]: 1 of 3; [1,2]: 0 of 1; [7]: not pairable.
        check(&[&[1.0, 1.0, 1.0], &[1.0, 1.0, 2.0], &[1.0, 2.0], &[7.0]], (1.0 + 1.0 / 3.0 + 0.0) / 3.0);
        // Krippendorff's (2011) four-coder data: units 2 and 8 agree on 3 of 6 pairs, unit 6 on
        // none, the other 8 pairable units fully: (8 + 0.5 + 0.5 + 0) / 11 = 9/11.
        check(
            &[
                &[1., 1., 1.], &[2., 2., 3., 2.], &[3., 3., 3., 3.], &[3., 3., 3., 3.], &[2., 2., 2., 2.], &[1., 2., 3., 4.],
                &[4., 4., 4., 4.], &[1., 1., 2., 1.], &[2., 2., 2., 2.], &[5., 5., 5.], &[1., 1.], &[3.],
            ],
            9.0 / 11.0,
        );
    }

    #[test]
    fn no_pairable_unit_is_an_error() {
        let data = ReliabilityData::from_units([vec![1.0]]).unwrap();
        assert_eq!(percent_agreement(&data), Err(PrefsError::NotEnoughData { needed: 2, found: 0 }));
    }
}
