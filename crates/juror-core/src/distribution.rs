//! Workload distribution rules: how records are shared among labelers.

use crate::error::{ensure, ValidationError};

/// Splits `records` records among `labelers` labelers so that each record goes to `overlap` of
/// them and every labeler gets the same number of records, give or take one.
///
/// Returns, for each record in order, the indices of its labelers. Record `i` goes to the
/// labelers `i * overlap .. i * overlap + overlap`, counted round the circle, so consecutive
/// records go to different people and the load stays even whatever the counts.
pub fn balanced_assignment(records: usize, labelers: usize, overlap: usize) -> Result<Vec<Vec<usize>>, ValidationError> {
    ensure(labelers > 0, || "at least one labeler is needed".into())?;
    ensure(overlap >= 1, || "overlap must be at least 1".into())?;
    ensure(overlap <= labelers, || format!("overlap {overlap} is more than the {labelers} labelers"))?;
    Ok((0..records).map(|record| (0..overlap).map(|slot| (record * overlap + slot) % labelers).collect()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loads(assignment: &[Vec<usize>], labelers: usize) -> Vec<usize> {
        let mut loads = vec![0; labelers];
        for labeler in assignment.iter().flatten() {
            loads[*labeler] += 1;
        }
        loads
    }

    #[test]
    fn every_record_gets_distinct_labelers_and_loads_differ_by_at_most_one() {
        for (records, labelers, overlap) in [(10, 4, 1), (10, 4, 2), (7, 3, 3), (1001, 7, 2), (5, 8, 3)] {
            let assignment = balanced_assignment(records, labelers, overlap).unwrap();
            assert_eq!(assignment.len(), records);
            for labelers_of_record in &assignment {
                let mut distinct = labelers_of_record.clone();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len(), overlap, "{labelers_of_record:?}");
            }
            let loads = loads(&assignment, labelers);
            let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
            assert!(max - min <= 1, "{records} records, {labelers} labelers, overlap {overlap}: {loads:?}");
            assert_eq!(loads.iter().sum::<usize>(), records * overlap);
        }
    }

    #[test]
    fn impossible_splits_are_refused() {
        assert!(balanced_assignment(10, 0, 1).is_err());
        assert!(balanced_assignment(10, 2, 3).is_err());
        assert!(balanced_assignment(10, 2, 0).is_err());
    }
}
