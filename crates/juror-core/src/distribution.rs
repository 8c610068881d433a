//! Workload distribution rules: how records are shared among labelers.

use std::cmp::Reverse;

use crate::error::{ensure, ValidationError};
use crate::ids::RecordId;
use crate::record::RecordStatus;

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
    /// The labeler is paused by their gold answers (`juror_core::quality::GoldSettings::pause`).
    pub paused: bool,
}

/// Why an answer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefusal {
    #[error("the record is assigned to other labelers")]
    AssignedToOthers,
    #[error("the labeler's quota of {0} submitted records in this dataset is reached")]
    QuotaReached(u32),
    #[error("the labeler is paused in this dataset by their answers to gold records, until an owner lets them go on")]
    Paused,
}

impl AnswerLimits {
    /// Whether the answer may be stored: never by a paused labeler, never on a record assigned to
    /// others (drafts neither),
    /// and a submission only while the labeler's other submissions are under their quota, so
    /// editing an answer already submitted is always allowed.
    pub fn check(&self, submitting: bool) -> Result<(), AnswerRefusal> {
        if self.paused {
            return Err(AnswerRefusal::Paused);
        }
        if self.assigned_to_others {
            return Err(AnswerRefusal::AssignedToOthers);
        }
        match self.quota {
            Some(quota) if submitting && self.submitted_elsewhere >= u64::from(quota) => Err(AnswerRefusal::QuotaReached(quota)),
            _ => Ok(()),
        }
    }
}

/// A record's answers and holds, counted: its status and claims follow from these alone.
///
/// Every backend recounts a record after any change to its responses or leases and stores what
/// [`RecordTally::status`] and [`RecordTally::claims`] say, so the rule lives here once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordTally {
    /// Responses with status `submitted`.
    pub submitted: u64,
    /// Leases held on the record (unexpired, or expired and not yet reclaimed).
    pub leases: u64,
}

impl RecordTally {
    /// A record is completed once `target` labelers submitted (the dataset's `min_submitted`, or
    /// what adaptive overlap asks for: `juror_core::quality`); drafts and discards count for
    /// nothing.
    pub fn status(self, target: u32) -> RecordStatus {
        RecordStatus::from_submissions(self.submitted, target)
    }

    /// What a record's claims are: a submitted response or a lease each take one of its
    /// `target` places. A labeler who submits gives up their lease, so nobody counts twice.
    pub fn claims(self) -> u64 {
        self.submitted + self.leases
    }
}

/// Whether a record with `claims` may go to one more labeler, when it needs `target` judgments.
pub fn is_open(claims: u64, target: u32) -> bool {
    claims < u64::from(target)
}

/// What the next-record decision knows of one record, from one labeler's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub record: RecordId,
    /// The record's place in its dataset's insertion order.
    pub sequence: i64,
    pub claims: u64,
    /// The judgments the record needs now (`RecordTally::status`).
    pub target: u32,
    /// The labeler already has a response to it (of any status).
    pub answered: bool,
    /// The labeler passed it over before.
    pub skipped: bool,
    /// It is assigned to named labelers, and this one is not among them.
    pub assigned_to_others: bool,
}

impl Candidate {
    /// Whether the labeler may be handed this record at all.
    pub fn is_eligible(&self) -> bool {
        is_open(self.claims, self.target) && !self.answered && !self.assigned_to_others
    }

    /// The order among eligible records: not skipped before skipped, the fullest first (a record
    /// closer to done is finished before a new one is started), then insertion order.
    pub fn priority(&self) -> (bool, Reverse<u64>, i64) {
        (self.skipped, Reverse(self.claims), self.sequence)
    }
}

/// What a labeler has in a dataset when they ask for the next record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Asker {
    /// The record they hold a lease on, if any.
    pub held: Option<RecordId>,
    /// Their quota of submitted records in the dataset, if limited.
    pub quota: Option<u32>,
    /// Records of the dataset they have submitted.
    pub submitted: u64,
    /// Paused by their gold answers (`juror_core::quality::GoldSettings::pause`).
    pub paused: bool,
}

/// The next-record decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOut {
    /// The labeler keeps the record they hold; its lease is extended.
    Keep(RecordId),
    /// The labeler takes this record under a new lease (a skip of it is forgotten).
    Take(RecordId),
    /// The labeler's quota is used up.
    QuotaReached,
    /// The labeler is paused by their gold answers until an owner lets them go on.
    Paused,
    /// No record is left for this labeler.
    NothingLeft,
}

impl Asker {
    /// Whether the labeler may take one more record.
    pub fn within_quota(&self) -> bool {
        self.quota.is_none_or(|quota| self.submitted < u64::from(quota))
    }

    /// The whole rule, stated over every candidate: keep a held record; otherwise, within the
    /// quota, the eligible record first in [`Candidate::priority`] order.
    ///
    /// Backends run the same rule as an indexed query that stops at the first record (see each
    /// backend's hand-out); the store's conformance story checks them against this function.
    pub fn next_record<'a>(&self, candidates: impl IntoIterator<Item = &'a Candidate>) -> HandOut {
        let (skipped, fresh): (Vec<&Candidate>, Vec<&Candidate>) = candidates.into_iter().filter(|candidate| candidate.is_eligible()).partition(|candidate| candidate.skipped);
        let first = |list: Vec<&Candidate>| list.into_iter().min_by_key(|candidate| candidate.priority()).map(|candidate| candidate.record);
        self.decide(None, first(fresh), first(skipped))
    }

    /// The same decision when the backend has already found the gold record due to the labeler
    /// (`gold`, only when one is due: `juror_core::quality::gold_is_due`), the first eligible
    /// record that is not skipped (`fresh`) and, only when there is none, the first skipped one
    /// (`skipped`). A paused labeler gets nothing, not even the record they held.
    pub fn decide(&self, gold: Option<RecordId>, fresh: Option<RecordId>, skipped: Option<RecordId>) -> HandOut {
        if self.paused {
            return HandOut::Paused;
        }
        if let Some(held) = self.held {
            return HandOut::Keep(held);
        }
        if !self.within_quota() {
            return HandOut::QuotaReached;
        }
        gold.or(fresh).or(skipped).map_or(HandOut::NothingLeft, HandOut::Take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(sequence: i64, claims: u64) -> Candidate {
        Candidate { record: RecordId::new(), sequence, claims, target: 2, answered: false, skipped: false, assigned_to_others: false }
    }

    #[test]
    fn status_and_claims_follow_the_counts() {
        let tally = RecordTally { submitted: 1, leases: 1 };
        assert_eq!(tally.status(2), RecordStatus::Pending);
        assert_eq!(tally.claims(), 2);
        assert!(!is_open(tally.claims(), 2));
        assert_eq!(RecordTally { submitted: 2, leases: 0 }.status(2), RecordStatus::Completed);
        assert_eq!(RecordTally::default().status(1), RecordStatus::Pending);
        assert!(is_open(RecordTally::default().claims(), 1));
    }

    #[test]
    fn the_fullest_eligible_record_comes_first_then_insertion_order_and_skipped_ones_last() {
        let empty = candidate(1, 0);
        let half = candidate(2, 1);
        let later_half = candidate(3, 1);
        let full = candidate(4, 2);
        let skipped_half = Candidate { skipped: true, ..candidate(0, 1) };
        let answered = Candidate { answered: true, ..candidate(0, 1) };
        let assigned_elsewhere = Candidate { assigned_to_others: true, ..candidate(0, 1) };
        let asker = Asker::default();
        let all = [empty, later_half, full, skipped_half, answered, assigned_elsewhere, half];
        assert_eq!(asker.next_record(&all), HandOut::Take(half.record));
        assert_eq!(asker.next_record(&[empty, skipped_half]), HandOut::Take(empty.record));
        assert_eq!(asker.next_record(&[skipped_half, full]), HandOut::Take(skipped_half.record));
        assert_eq!(asker.next_record(&[full, answered, assigned_elsewhere]), HandOut::NothingLeft);
    }

    #[test]
    fn a_held_record_is_kept_and_a_used_up_quota_gets_nothing() {
        let open = Candidate { target: 1, ..candidate(1, 0) };
        let held = RecordId::new();
        let holding = Asker { held: Some(held), quota: Some(1), submitted: 5, paused: false };
        assert_eq!(holding.next_record(&[open]), HandOut::Keep(held));
        assert_eq!(holding.decide(None, Some(open.record), None), HandOut::Keep(held));
        let spent = Asker { held: None, quota: Some(2), submitted: 2, paused: false };
        assert_eq!(spent.next_record(&[open]), HandOut::QuotaReached);
        assert_eq!(spent.decide(None, Some(open.record), None), HandOut::QuotaReached);
        let within = Asker { submitted: 1, ..spent };
        assert_eq!(within.next_record(&[open]), HandOut::Take(open.record));
    }

    #[test]
    fn deciding_from_the_first_fresh_and_skipped_records_agrees_with_the_whole_rule() {
        let fresh = candidate(5, 0);
        let skipped = Candidate { skipped: true, ..candidate(1, 1) };
        let asker = Asker::default();
        assert_eq!(asker.decide(None, Some(fresh.record), Some(skipped.record)), asker.next_record(&[fresh, skipped]));
        assert_eq!(asker.decide(None, None, Some(skipped.record)), asker.next_record(&[skipped]));
        assert_eq!(asker.decide(None, None, None), asker.next_record(&[]));
    }

    #[test]
    fn a_due_gold_record_comes_first_and_a_paused_labeler_gets_nothing() {
        let (gold, fresh) = (RecordId::new(), RecordId::new());
        let asker = Asker::default();
        assert_eq!(asker.decide(Some(gold), Some(fresh), None), HandOut::Take(gold));
        assert_eq!(asker.decide(None, Some(fresh), None), HandOut::Take(fresh));
        let paused = Asker { paused: true, held: Some(fresh), ..Asker::default() };
        assert_eq!(paused.decide(Some(gold), Some(fresh), None), HandOut::Paused);
        let spent = Asker { quota: Some(1), submitted: 1, ..Asker::default() };
        assert_eq!(spent.decide(Some(gold), None, None), HandOut::QuotaReached, "gold counts within the quota");
    }

    #[test]
    fn a_record_is_open_below_its_own_target() {
        let settled = Candidate { target: 1, ..candidate(1, 1) };
        let unsettled = Candidate { target: 3, ..candidate(2, 2) };
        let gold = Candidate { target: 0, ..candidate(0, 0) };
        assert_eq!(Asker::default().next_record(&[settled, gold, unsettled]), HandOut::Take(unsettled.record));
    }

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
        let paused = AnswerLimits { paused: true, ..AnswerLimits::default() };
        assert_eq!((paused.check(true), paused.check(false)), (Err(AnswerRefusal::Paused), Err(AnswerRefusal::Paused)));
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
