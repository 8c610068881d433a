//! The quality part of the story: a dataset's settings, adaptive overlap's targets (checked
//! against `juror_prefs::quality::AdaptiveOverlap` over the stored answers), gold records (out of
//! the overlap hand-out, served when due, a labeler paused by them and let go on), and labelers
//! racing through a dataset under adaptive overlap without any record passing `max`, and swapped
//! repeats kept apart from the answers they repeat.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use juror_core::ids::{DatasetId, RecordId, ResponseId, UserId};
use juror_core::quality::{AdaptiveSettings, GoldSettings, GoldVerdict, QualitySettings};
use juror_core::record::RecordStatus;
use juror_core::response::{Response, ResponseStatus};
use juror_core::time::Timestamp;
use serde_json::json;

use super::distribution::{setting, work_to_the_end};
use crate::{LeaseRequest, Store, StoreError};

const SECOND: i64 = 1_000_000;

/// A submitted ranking of two options, `a` first when `a_wins`.
fn ranking(record: RecordId, user: UserId, a_wins: bool) -> Response {
    let (a, b) = if a_wins { (1, 2) } else { (2, 1) };
    let values = json!({"preference": {"value": [{"value": "a", "rank": a}, {"value": "b", "rank": b}]}}).as_object().unwrap().clone();
    let now = Timestamp::now();
    Response { id: ResponseId::new(), record_id: record, user_id: user, values: Some(values), status: ResponseStatus::Submitted, presentation: None, inserted_at: now, updated_at: now }
}

fn lease_request(dataset: DatasetId, user: UserId) -> LeaseRequest {
    let now = Timestamp::now();
    LeaseRequest { dataset, user, now, expires_at: Timestamp::from_micros(now.micros() + 600 * SECOND) }
}

fn adaptive(min: u32, max: u32) -> QualitySettings {
    QualitySettings { adaptive: Some(AdaptiveSettings { question: "preference".into(), min, max, confidence: 0.85 }), ..QualitySettings::default() }
}

/// Settings, adaptive targets, gold records and pauses, step by step.
pub async fn quality_controls(store: &dyn Store) {
    let (dataset, ids, users) = setting(store, "quality", 4, 1, 6).await;
    assert_eq!(store.dataset_quality(dataset).await.unwrap(), QualitySettings::default());
    assert!(matches!(store.dataset_quality(DatasetId::new()).await, Err(StoreError::NotFound)));

    // Adaptive overlap: every record needs `min` judgments at first, so two labelers can hold it.
    store.set_dataset_quality(dataset, &adaptive(2, 4)).await.unwrap();
    assert_eq!(store.dataset_quality(dataset).await.unwrap(), adaptive(2, 4));
    let record = ids[0];
    for user in &users[..2] {
        let (lease, _, _) = store.lease_next_record(&lease_request(dataset, *user)).await.unwrap().unwrap();
        assert_eq!(lease.record_id, record, "the fullest open record first");
        store.create_response(&ranking(record, *user, true)).await.unwrap();
    }
    // Two agreeing votes from labelers of unknown accuracy (2/3 each) give odds of 4 to 1: 0.8,
    // below 0.85, so the record asks for a third judgment and is the next one handed out.
    assert_eq!(store.get_record(record).await.unwrap().unwrap().status, RecordStatus::Pending);
    let (lease, _, _) = store.lease_next_record(&lease_request(dataset, users[2])).await.unwrap().unwrap();
    assert_eq!(lease.record_id, record, "an unsettled record gets one more labeler");
    store.create_response(&ranking(record, users[2], true)).await.unwrap();
    assert_eq!(store.get_record(record).await.unwrap().unwrap().status, RecordStatus::Completed, "three agreeing votes settle it (8 to 1)");

    // A split record goes on to `max` and stops there, unsettled.
    let split = ids[1];
    for (index, user) in users[..4].iter().enumerate() {
        store.create_response(&ranking(split, *user, index % 2 == 0)).await.unwrap();
    }
    assert_eq!(store.get_record(split).await.unwrap().unwrap().status, RecordStatus::Completed, "max reached");
    let fifth = store.lease_next_record(&lease_request(dataset, users[4])).await.unwrap().unwrap();
    assert_ne!(fifth.0.record_id, split, "nobody past max");

    // Turning adaptive overlap off gives the records back to `min_submitted` (1).
    store.release_lease(fifth.0.record_id, users[4], false).await.unwrap();
    store.set_dataset_quality(dataset, &QualitySettings::default()).await.unwrap();
    assert_eq!(store.get_record(record).await.unwrap().unwrap().status, RecordStatus::Completed);

    // Gold: records of another dataset are refused and nothing is stored.
    let verdict = GoldVerdict::Prefers { question: "preference".into(), chosen: "a".into(), rejected: "b".into() };
    let (dataset, ids, users) = setting(store, "quality-gold", 30, 1, 3).await;
    let (other, other_ids, _) = setting(store, "quality-other", 1, 1, 0).await;
    assert!(matches!(store.set_gold(dataset, &[(ids[0], verdict.clone()), (other_ids[0], verdict.clone())]).await, Err(StoreError::NotFound)));
    assert!(store.list_gold(dataset).await.unwrap().is_empty());
    store.set_gold(dataset, &[(ids[0], verdict.clone()), (ids[1], verdict.clone())]).await.unwrap();
    assert_eq!(store.list_gold(dataset).await.unwrap(), vec![(ids[0], verdict.clone()), (ids[1], verdict.clone())]);
    assert!(store.list_gold(other).await.unwrap().is_empty());
    // Gold records are never handed out by overlap: with gold serving off, a labeler goes
    // through the 28 ordinary records only.
    let (gold_records, ordinary) = work_through(store, dataset, users[0], &ids[..2]).await;
    assert_eq!((gold_records, ordinary), (0, 28));

    // With gold on at the highest rate, a labeler meets gold records when the draw says so, in
    // among the ordinary ones, and never a gold record twice.
    let gold = GoldSettings { rate: 0.5, threshold: 0.7, min_answers: 1, certainty: 0.5, pause: true };
    let (dataset, ids, users) = {
        let (dataset, ids, users) = setting(store, "quality-gold-on", 30, 1, 3).await;
        store.set_dataset_quality(dataset, &QualitySettings { gold: Some(gold.clone()), ..QualitySettings::default() }).await.unwrap();
        store.set_gold(dataset, &[(ids[0], verdict.clone()), (ids[1], verdict.clone())]).await.unwrap();
        (dataset, ids, users)
    };
    let (gold_records, ordinary) = work_through(store, dataset, users[0], &ids[..2]).await;
    assert_eq!((gold_records, ordinary), (2, 28), "both gold records were served, each once");

    // One wrong gold answer flags a labeler under this rule (min 1, certainty 0.5), and `pause`
    // stops them: no record, no answer.
    let wrong = users[1];
    store.create_response(&ranking(ids[0], wrong, false)).await.unwrap();
    let standings: HashMap<UserId, _> = store.gold_standings(dataset).await.unwrap().into_iter().collect();
    assert_eq!((standings[&wrong].all.correct, standings[&wrong].all.answered), (0, 1));
    assert_eq!((standings[&users[0]].all.correct, standings[&users[0]].all.answered), (2, 2));
    assert!(standings[&wrong].is_paused(&gold));
    assert!(!standings[&users[0]].is_paused(&gold));
    assert_eq!(store.gold_standing(dataset, wrong).await.unwrap(), standings[&wrong]);
    assert_eq!(store.gold_standing(dataset, users[2]).await.unwrap(), crate::GoldStanding::default(), "no gold answers yet");
    assert!(store.lease_next_record(&lease_request(dataset, wrong)).await.unwrap().is_none());
    let refused = store.create_response(&ranking(ids[1], wrong, true)).await;
    assert!(matches!(refused, Err(StoreError::Refused(juror_core::distribution::AnswerRefusal::Paused))), "{refused:?}");
    assert!(store.answer_limits(dataset, ids[1], wrong).await.unwrap().paused);

    // Let go on: only answers after the resume count, so they can answer again.
    store.resume_labeler(dataset, wrong, Timestamp::now()).await.unwrap();
    let standings: HashMap<UserId, _> = store.gold_standings(dataset).await.unwrap().into_iter().collect();
    assert!(!standings[&wrong].is_paused(&gold));
    assert_eq!(standings[&wrong].all.answered, 1, "the record of earlier answers is kept");
    assert!(!store.answer_limits(dataset, ids[1], wrong).await.unwrap().paused);
    store.create_response(&ranking(ids[1], wrong, true)).await.unwrap();

    // Ordinary again: a record that is no longer gold goes back to overlap.
    assert_eq!(store.unset_gold(dataset, &[ids[0], ids[0]]).await.unwrap(), 1);
    assert_eq!(store.list_gold(dataset).await.unwrap(), vec![(ids[1], verdict.clone())]);
    store.set_gold(dataset, &[(ids[2], verdict.clone())]).await.unwrap();
    assert_eq!(store.get_record(ids[2]).await.unwrap().unwrap().status, RecordStatus::Completed, "a gold record needs no judgments");
    let answer = store.list_user_responses(dataset, users[0], None, 100).await.unwrap().into_iter().find(|response| response.record_id == ids[2]).unwrap();
    store.delete_response(answer.id).await.unwrap();
    store.unset_gold(dataset, &[ids[2]]).await.unwrap();
    // Gold serving off, so the next hand-out is overlap's alone.
    store.set_dataset_quality(dataset, &QualitySettings::default()).await.unwrap();
    assert_eq!(store.get_record(ids[2]).await.unwrap().unwrap().status, RecordStatus::Pending);
    let (lease, _, _) = store.lease_next_record(&lease_request(dataset, users[2])).await.unwrap().unwrap();
    assert_eq!(lease.record_id, ids[2], "no longer gold and unanswered, it is open again");
}

/// Swapped repeats: one starts only on a record answered at least `REPEAT_GAP` answers back, never
/// on a gold record or while the labeler holds a lease; it stays open until answered, once.
pub async fn swapped_repeats(store: &dyn Store) {
    let (dataset, ids, users) = setting(store, "repeats", 8, 1, 1).await;
    let user = users[0];
    let at = |step: i64| Timestamp::from_micros(Timestamp::now().micros() + step);
    for record in &ids[..3] {
        store.create_response(&ranking(*record, user, true)).await.unwrap();
    }
    assert_eq!(store.repeat_for(dataset, user, Some(1.0), at(0)).await.unwrap(), None, "no answer has three later ones yet");
    store.create_response(&ranking(ids[3], user, false)).await.unwrap();
    // The oldest answer is gold: it is never repeated, so nothing qualifies yet.
    let verdict = GoldVerdict::Prefers { question: "preference".into(), chosen: "a".into(), rejected: "b".into() };
    store.set_gold(dataset, &[(ids[0], verdict)]).await.unwrap();
    assert_eq!(store.repeat_for(dataset, user, Some(1.0), at(0)).await.unwrap(), None);
    store.create_response(&ranking(ids[4], user, true)).await.unwrap();
    // Holding a lease, no repeat starts.
    let (lease, _, _) = store.lease_next_record(&lease_request(dataset, user)).await.unwrap().unwrap();
    assert_eq!(store.repeat_for(dataset, user, Some(1.0), at(0)).await.unwrap(), None);
    store.release_lease(lease.record_id, user, false).await.unwrap();
    assert_eq!(store.repeat_for(dataset, user, None, at(0)).await.unwrap(), None, "without a rate, only an open repeat");
    assert_eq!(store.repeat_for(dataset, user, Some(1e-12), at(0)).await.unwrap(), None, "not due by the draw");
    assert_eq!(store.repeat_for(dataset, user, Some(1.0), at(0)).await.unwrap(), Some(ids[1]), "the oldest ordinary answer with three after it");
    assert_eq!(store.repeat_for(dataset, user, None, at(1)).await.unwrap(), Some(ids[1]), "open until answered");
    let open = store.find_repeat(ids[1], user).await.unwrap().unwrap();
    assert!(open.is_open() && open.status.is_none() && open.values.is_none());

    let second = ranking(ids[1], user, false);
    let presentation = juror_core::presentation::Presentation { shown_order: [("preference".to_owned(), vec!["b".to_owned(), "a".to_owned()])].into(), time_on_task_ms: Some(1_500) };
    let answered = crate::Repeat { status: Some(ResponseStatus::Submitted), values: second.values.clone(), presentation: Some(presentation.clone()), answered_at: Some(at(2)), ..open };
    store.answer_repeat(&answered).await.unwrap();
    assert!(matches!(store.answer_repeat(&answered).await, Err(StoreError::NotFound)), "a repeat is answered once");
    assert_eq!(store.find_repeat(ids[1], user).await.unwrap(), Some(answered.clone()));
    let listed = store.list_repeats(dataset).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, answered);
    assert_eq!(listed[0].1, ranking(ids[1], user, true).values, "beside the first answer, which is unchanged");
    assert_eq!(store.get_record(ids[1]).await.unwrap().unwrap().status, RecordStatus::Completed);
    assert_eq!(store.list_user_responses(dataset, user, None, 100).await.unwrap().len(), 5, "the repeat is not a response");
    assert_eq!(store.repeat_for(dataset, user, None, at(3)).await.unwrap(), None);
}

/// Reviewers and their final verdicts: the right given and taken back, a verdict replaced by a
/// later one, the labelers' answers untouched, and verdicts gone with their record.
pub async fn reviews(store: &dyn Store) {
    let (dataset, ids, users) = setting(store, "reviews", 3, 1, 2).await;
    assert!(store.list_reviewers(dataset).await.unwrap().is_empty());
    store.set_reviewer(dataset, users[1], true).await.unwrap();
    store.set_reviewer(dataset, users[1], true).await.unwrap();
    store.set_reviewer(dataset, users[0], true).await.unwrap();
    assert_eq!(store.list_reviewers(dataset).await.unwrap(), vec![users[1], users[0]]);
    store.set_reviewer(dataset, users[1], false).await.unwrap();
    assert_eq!(store.list_reviewers(dataset).await.unwrap(), vec![users[0]]);

    store.create_response(&ranking(ids[0], users[1], true)).await.unwrap();
    let first = crate::Adjudication {
        record: ids[0],
        dataset,
        question: "preference".into(),
        verdict: json!([{"value": "a", "rank": 2}, {"value": "b", "rank": 1}]),
        note: Some("b answers the question".into()),
        reviewer: users[0],
        reviewer_name: "reviews-labeler-0".into(),
        decided_at: Timestamp::from_micros(1_000),
    };
    assert_eq!(store.find_adjudication(ids[0]).await.unwrap(), None);
    store.adjudicate(&first).await.unwrap();
    let second = crate::Adjudication { note: None, decided_at: Timestamp::from_micros(2_000), ..first.clone() };
    store.adjudicate(&second).await.unwrap();
    let other = crate::Adjudication { record: ids[1], decided_at: Timestamp::from_micros(1_500), ..first.clone() };
    store.adjudicate(&other).await.unwrap();
    assert_eq!(store.find_adjudication(ids[0]).await.unwrap(), Some(second.clone()));
    assert_eq!(store.list_adjudications(dataset).await.unwrap(), vec![other, second]);
    assert_eq!(store.list_user_responses(dataset, users[1], None, 10).await.unwrap()[0].values, ranking(ids[0], users[1], true).values, "the answer is untouched");
    store.delete_records(dataset, &[ids[1]]).await.unwrap();
    assert_eq!(store.list_adjudications(dataset).await.unwrap().len(), 1);
}

/// A labeler takes and answers (correctly, `a`) every record handed to them: how many of the
/// `gold` records and how many others they were given.
async fn work_through(store: &dyn Store, dataset: DatasetId, user: UserId, gold: &[RecordId]) -> (usize, usize) {
    let mut seen = HashSet::new();
    while let Some((lease, _, _)) = store.lease_next_record(&lease_request(dataset, user)).await.unwrap() {
        assert!(seen.insert(lease.record_id), "a record is handed to a labeler once");
        store.create_response(&ranking(lease.record_id, user, true)).await.unwrap();
    }
    let gold_records = seen.iter().filter(|record| gold.contains(record)).count();
    (gold_records, seen.len() - gold_records)
}

/// Labelers race through a dataset under adaptive overlap (each on the stores in turn): nobody
/// answers a record twice, no record gets more than `max` answers, and every record ends
/// completed with the judgments its votes asked for.
pub async fn racing_under_adaptive_overlap(stores: &[Arc<dyn Store>], labelers: usize) {
    const MIN: u32 = 2;
    const MAX: u32 = 5;
    let store = stores[0].clone();
    let (dataset, ids, users) = setting(store.as_ref(), "adaptive-race", 40, 1, labelers).await;
    store.set_dataset_quality(dataset, &adaptive(MIN, MAX)).await.unwrap();
    // Most labelers prefer `a`; about a third of the time (by record and labeler), `b`.
    let per_record = work_to_the_end(stores, dataset, &users, |record, user| {
        let a_wins = (record.uuid().as_u128() ^ user.uuid().as_u128()).wrapping_mul(0x9E37_79B9_7F4A_7C15) % 3 != 0;
        ranking(record, user, a_wins)
    })
    .await;
    let mut settled_early = 0;
    for id in &ids {
        let judgments = per_record.get(id).copied().unwrap_or(0) as u32;
        assert!((MIN..=MAX).contains(&judgments), "a record got {judgments} judgments, outside {MIN}..={MAX}");
        assert_eq!(store.get_record(*id).await.unwrap().unwrap().status, RecordStatus::Completed);
        settled_early += usize::from(judgments < MAX);
    }
    assert!(settled_early > 0, "some records settle before max");
    assert!(store.list_leases(dataset, Timestamp::now()).await.unwrap().is_empty());
}
