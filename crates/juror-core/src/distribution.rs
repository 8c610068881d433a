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

/// What bounds one labeler's answer to one record: the record's assignment and the labeler's
/// quota in its dataset. Hand-outs respect both; an answer sent without a hand-out (the SDKs,
/// bulk responses) is held to the same rules by [`AnswerLimits::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnswerLimits {
    /// The record is assigned to named labelers, and this labeler is not one of them.
    pub assigned_to_others: bool,
    /// The most records the labeler may submit in the dataset, if limited.
    pub quota: Option<u32>,
    /// Records of the dataset other than this one that the labeler has submitted.
    pub submitted_elsewhere: u64,
}

/// Why an answer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefusal {
    #[error("the record is assigned to other labelers")]
    AssignedToOthers,
    #[error("the labeler's quota of {0} submitted records in this dataset is reached")]
    QuotaReached(u32),
}

impl AnswerLimits {
    /// Whether the answer may be stored: never on a record assigned to others (drafts neither),
    /// and a submission only while the labeler's other submissions are under their quota, so
    /// editing an answer already submitted is always allowed.
    pub fn check(&self, submitting: bool) -> Result<(), AnswerRefusal> {
        if self.assigned_to_others {
            return Err(AnswerRefusal::AssignedToOthers);
        }
        match self.quota {
            Some(quota) if submitting && self.submitted_elsewhere >= u64::from(quota) => Err(AnswerRefusal::QuotaReached(quota)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_records_assigned_to_others_are_refused_whatever_their_status() {
        let limits = AnswerLimits { assigned_to_others: true, ..AnswerLimits::default() };
        assert_eq!(limits.check(true), Err(AnswerRefusal::AssignedToOthers));
        assert_eq!(limits.check(false), Err(AnswerRefusal::AssignedToOthers));
        assert_eq!(AnswerLimits::default().check(true), Ok(()));
    }

    #[test]
    fn a_quota_bounds_submissions_but_not_drafts() {
        let at = |submitted_elsewhere| AnswerLimits { quota: Some(2), submitted_elsewhere, ..AnswerLimits::default() };
        assert_eq!(at(1).check(true), Ok(()));
        assert_eq!(at(2).check(true), Err(AnswerRefusal::QuotaReached(2)));
        assert_eq!(at(2).check(false), Ok(()));
        let no_quota = AnswerLimits { submitted_elsewhere: 1_000, ..AnswerLimits::default() };
        assert_eq!(no_quota.check(true), Ok(()));
    }

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
