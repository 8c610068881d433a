//! The distribution part of the story: hand-outs checked against the rule in
//! `juror_core::distribution` over a random walk of leases, answers, skips, expiries,
//! assignments and quotas, and labelers racing for the last claims.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use juror_core::distribution::{AnswerLimits, Asker, Candidate, HandOut, RecordTally};
use juror_core::ids::{DatasetId, RecordId, ResponseId, UserId, WorkspaceId};
use juror_core::record::{RecordStatus, ValidRecordWrite};
use juror_core::response::{Response, ResponseStatus};
use juror_core::time::Timestamp;
use juror_core::user::{Role, User, Workspace};
use crate::{LeaseRequest, RecordWriteBatch, Store, StoreError, SuggestionsMode};
use serde_json::{json, Map, Value};

const SECOND: i64 = 1_000_000;

/// The seeds each backend walks; a failure names its seed and step.
pub const WALK_SEEDS: [u64; 5] = [1, 7, 42, 1234, 99991];

/// Labelers work through a dataset at once, each on the stores in turn, taking every record
/// handed to them and submitting `answer` to it, until none is left: how many answers each record
/// got. Nobody is handed a record twice.
pub(super) async fn work_to_the_end(
    stores: &[Arc<dyn Store>],
    dataset: DatasetId,
    users: &[UserId],
    answer: impl Fn(RecordId, UserId) -> Response + Clone + Send + Sync + 'static,
) -> HashMap<RecordId, usize> {
    let tasks: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(index, user)| {
            let (stores, user, answer) = (stores.to_vec(), *user, answer.clone());
            tokio::spawn(async move {
                let mut answered = Vec::new();
                for turn in index.. {
                    let store = &stores[turn % stores.len()];
                    let now = Timestamp::now();
                    let request = LeaseRequest { dataset, user, now, expires_at: Timestamp::from_micros(now.micros() + 600 * SECOND) };
                    let Some((lease, _, _)) = store.lease_next_record(&request).await.unwrap() else { break };
                    store.create_response(&answer(lease.record_id, user)).await.unwrap();
                    answered.push(lease.record_id);
                }
                answered
            })
        })
        .collect();
    let mut per_record: HashMap<RecordId, usize> = HashMap::new();
    for task in tasks {
        let answered = task.await.unwrap();
        let distinct: HashSet<&RecordId> = answered.iter().collect();
        assert_eq!(distinct.len(), answered.len(), "nobody answers a record twice");
        for record in answered {
            *per_record.entry(record).or_default() += 1;
        }
    }
    per_record
}

/// A small deterministic generator, so a failing walk can be replayed from its seed.
struct Walk(u64);

impl Walk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

pub(super) fn person(name: String) -> User {
    let now = Timestamp::now();
    User {
        id: UserId::new(),
        username: name.clone(),
        first_name: name.clone(),
        last_name: None,
        role: Role::Annotator,
        api_key: format!("key-{name}"),
        password_hash: "hash".into(),
        inserted_at: now,
        updated_at: now,
    }
}

/// A ready dataset with `records` records, `min_submitted` and `labelers` annotators.
pub(super) async fn setting(store: &dyn Store, name: &str, records: usize, min_submitted: i64, labelers: usize) -> (DatasetId, Vec<RecordId>, Vec<UserId>) {
    let now = Timestamp::now();
    let workspace = Workspace { id: WorkspaceId::new(), name: format!("ws-{name}"), inserted_at: now, updated_at: now };
    store.create_workspace(&workspace).await.unwrap();
    let dataset = super::story::ready_dataset(name, workspace.id, min_submitted);
    store.create_dataset(&dataset).await.unwrap();
    let items = (0..records)
        .map(|index| {
            let fields: Map<String, Value> = json!({"prompt": format!("prompt {index}")}).as_object().unwrap().clone();
            ValidRecordWrite { id: None, external_id: Some(format!("{name}-{index}")), fields: Some(fields), metadata: None, vectors: Vec::new(), responses: Vec::new(), suggestions: None }
        })
        .collect();
    let stored = store.write_records(RecordWriteBatch { dataset_id: dataset.id, suggestions_mode: SuggestionsMode::UpsertPerQuestion, items }).await.unwrap();
    let mut users = Vec::new();
    for index in 0..labelers {
        let user = person(format!("{name}-labeler-{index}"));
        store.create_user(&user, &format!("digest-{}", user.username)).await.unwrap();
        store.add_workspace_member(workspace.id, user.id).await.unwrap();
        users.push(user.id);
    }
    (dataset.id, stored.iter().map(|record| record.id).collect(), users)
}

/// A ready dataset with `records` records and one labeler, for a backend's own tests.
pub async fn labeled_dataset(store: &dyn Store, name: &str, records: usize) -> (DatasetId, Vec<RecordId>, UserId) {
    let (dataset, ids, users) = setting(store, name, records, 1, 1).await;
    (dataset, ids, users[0])
}

fn answer(record: RecordId, user: UserId, status: ResponseStatus, at: Timestamp) -> Response {
    let values = json!({"rank": {"value": [{"value": "a", "rank": 1}, {"value": "b", "rank": 2}]}}).as_object().unwrap().clone();
    Response { id: ResponseId::new(), record_id: record, user_id: user, values: Some(values), status, presentation: None, inserted_at: at, updated_at: at }
}

/// What the test expects the store to hold, kept by the same rules.
#[derive(Default)]
struct Model {
    /// Per record, in insertion order: each labeler's response (id and status).
    responses: Vec<HashMap<UserId, (ResponseId, ResponseStatus)>>,
    /// Per record: the leases and their expiry.
    leases: Vec<HashMap<UserId, i64>>,
    skips: Vec<HashSet<UserId>>,
    assigned: Vec<Option<HashSet<UserId>>>,
    quotas: HashMap<UserId, u32>,
}

impl Model {
    fn submitted(&self, record: usize) -> u64 {
        self.responses[record].values().filter(|(_, status)| *status == ResponseStatus::Submitted).count() as u64
    }

    fn tally(&self, record: usize) -> RecordTally {
        RecordTally { submitted: self.submitted(record), leases: self.leases[record].len() as u64 }
    }

    fn limits(&self, record: usize, user: UserId) -> AnswerLimits {
        let submitted_elsewhere = (0..self.responses.len())
            .filter(|index| *index != record && self.responses[*index].get(&user).is_some_and(|(_, status)| *status == ResponseStatus::Submitted))
            .count() as u64;
        AnswerLimits {
            assigned_to_others: self.assigned[record].as_ref().is_some_and(|users| !users.contains(&user)),
            quota: self.quotas.get(&user).copied(),
            submitted_elsewhere,
            paused: false,
        }
    }

    fn held_by(&self, user: UserId) -> Option<usize> {
        self.leases.iter().position(|leases| leases.contains_key(&user))
    }

    fn expect_hand_out(&mut self, ids: &[RecordId], user: UserId, now: i64, min_submitted: u32) -> HandOut {
        for leases in &mut self.leases {
            leases.retain(|_, expires| *expires > now);
        }
        let candidates: Vec<Candidate> = (0..ids.len())
            .map(|index| Candidate {
                record: ids[index],
                sequence: index as i64,
                claims: self.tally(index).claims(),
                target: min_submitted,
                answered: self.responses[index].contains_key(&user),
                skipped: self.skips[index].contains(&user),
                assigned_to_others: self.assigned[index].as_ref().is_some_and(|users| !users.contains(&user)),
            })
            .collect();
        let submitted = (0..ids.len()).filter(|index| self.responses[*index].get(&user).is_some_and(|(_, status)| *status == ResponseStatus::Submitted)).count();
        let asker = Asker { held: self.held_by(user).map(|index| ids[index]), quota: self.quotas.get(&user).copied(), submitted: submitted as u64, paused: false };
        asker.next_record(&candidates)
    }
}

/// Hand-outs, answers, releases and skips in a random order; after every step the store's
/// choice is the rule's choice, and every record's status and the live leases are the model's.
pub async fn hand_outs_follow_the_rule(store: &dyn Store, seed: u64) {
    const MIN_SUBMITTED: u32 = 2;
    let (dataset, ids, users) = setting(store, &format!("walk-{seed}"), 9, i64::from(MIN_SUBMITTED), 5).await;
    let mut model = Model {
        responses: vec![HashMap::new(); ids.len()],
        leases: vec![HashMap::new(); ids.len()],
        skips: vec![HashSet::new(); ids.len()],
        assigned: vec![None; ids.len()],
        quotas: HashMap::new(),
    };
    let start = Timestamp::now().micros();
    let mut now = start;
    let mut walk = Walk(seed.max(1));
    let mut leased = 0;
    for step in 0..400 {
        now += SECOND;
        let user = users[walk.below(users.len())];
        let at = Timestamp::from_micros(now);
        match walk.below(20) {
            0..=7 => {
                let expected = model.expect_hand_out(&ids, user, now, MIN_SUBMITTED);
                let request = LeaseRequest { dataset, user, now: at, expires_at: Timestamp::from_micros(now + 30 * SECOND) };
                let got = store.lease_next_record(&request).await.unwrap().map(|(lease, record, _)| {
                    assert_eq!(lease.record_id, record.id);
                    record.id
                });
                let want = match expected {
                    HandOut::Keep(record) | HandOut::Take(record) => Some(record),
                    HandOut::QuotaReached | HandOut::Paused | HandOut::NothingLeft => None,
                };
                assert_eq!(got, want, "step {step} (seed {seed}): the hand-out is the rule's ({expected:?})");
                if let Some(record) = want {
                    let index = ids.iter().position(|id| *id == record).unwrap();
                    model.leases[index].insert(user, now + 30 * SECOND);
                    model.skips[index].remove(&user);
                    leased += 1;
                }
            }
            8..=13 => {
                // Answer the held record: mostly submit, sometimes a draft or a discard.
                let Some(index) = model.held_by(user).filter(|index| model.leases[*index][&user] > now) else { continue };
                let status = [ResponseStatus::Submitted, ResponseStatus::Submitted, ResponseStatus::Draft, ResponseStatus::Discarded][walk.below(4)];
                // An answer that breaks the record's assignment or the labeler's quota (changed
                // since the hand-out) is refused, and nothing of it stored.
                let expected = model.limits(index, user).check(status == ResponseStatus::Submitted);
                let existing = model.responses[index].get(&user).copied();
                let outcome = match existing {
                    Some((id, _)) => store.update_response(&Response { id, ..answer(ids[index], user, status, at) }).await,
                    None => {
                        let response = answer(ids[index], user, status, at);
                        let outcome = store.create_response(&response).await;
                        if outcome.is_ok() {
                            model.responses[index].insert(user, (response.id, status));
                        }
                        outcome
                    }
                };
                match (outcome, expected) {
                    (Ok(()), Ok(())) => {}
                    (Err(StoreError::Refused(refusal)), Err(expected)) if refusal == expected => continue,
                    (outcome, expected) => panic!("step {step} (seed {seed}): the answer gave {outcome:?}, the rule says {expected:?}"),
                }
                model.responses[index].get_mut(&user).unwrap().1 = status;
                if status != ResponseStatus::Draft {
                    model.leases[index].remove(&user);
                }
            }
            14..=15 => {
                let skip = walk.below(2) == 0;
                let held = model.held_by(user);
                let record = held.map_or_else(|| ids[walk.below(ids.len())], |index| ids[index]);
                assert_eq!(store.release_lease(record, user, skip).await.unwrap(), held.is_some(), "step {step}: a release says whether there was a lease");
                if let Some(index) = held {
                    model.leases[index].remove(&user);
                }
                if skip {
                    model.skips[ids.iter().position(|id| *id == record).unwrap()].insert(user);
                }
            }
            16 => now += 45 * SECOND,
            17 => {
                let index = walk.below(ids.len());
                let chosen: HashSet<UserId> = users.iter().copied().filter(|_| walk.below(2) == 0).collect();
                let mut all: Vec<(RecordId, UserId)> = Vec::new();
                for (other, assigned) in model.assigned.iter().enumerate() {
                    if other != index {
                        all.extend(assigned.iter().flatten().map(|user| (ids[other], *user)));
                    }
                }
                all.extend(chosen.iter().map(|user| (ids[index], *user)));
                store.replace_assignments(dataset, &all).await.unwrap();
                model.assigned[index] = (!chosen.is_empty()).then_some(chosen);
                let mut listed = store.list_assignments(dataset).await.unwrap();
                listed.sort();
                all.sort();
                assert_eq!(listed, all);
            }
            18 => {
                let quota = [None, Some(1), Some(3)][walk.below(3)];
                store.set_quota(dataset, user, quota).await.unwrap();
                match quota {
                    Some(quota) => model.quotas.insert(user, quota),
                    None => model.quotas.remove(&user),
                };
                let mut quotas = store.list_quotas(dataset).await.unwrap();
                quotas.sort();
                let mut expected: Vec<(UserId, u32)> = model.quotas.iter().map(|(user, quota)| (*user, *quota)).collect();
                expected.sort();
                assert_eq!(quotas, expected);
            }
            _ => {
                model.quotas.clear();
                for user in &users {
                    store.set_quota(dataset, *user, None).await.unwrap();
                }
            }
        }
        for (index, id) in ids.iter().enumerate() {
            let status = store.get_record(*id).await.unwrap().unwrap().status;
            assert_eq!(status, model.tally(index).status(MIN_SUBMITTED), "step {step} (seed {seed}): record {index}'s status");
        }
        let mut live: Vec<(RecordId, UserId)> = store.list_leases(dataset, Timestamp::from_micros(now)).await.unwrap().iter().map(|lease| (lease.record_id, lease.user_id)).collect();
        live.sort();
        let mut expected: Vec<(RecordId, UserId)> = Vec::new();
        for (index, leases) in model.leases.iter().enumerate() {
            expected.extend(leases.iter().filter(|(_, expires)| **expires > now).map(|(user, _)| (ids[index], *user)));
        }
        expected.sort();
        assert_eq!(live, expected, "step {step} (seed {seed}): the live leases");
        assert!(store.count_live_leases(Timestamp::from_micros(now)).await.unwrap() >= expected.len() as u64, "step {step}: live leases counted");
    }
    assert!(leased > 40, "the walk handed out only {leased} leases");
    let done = (0..ids.len()).filter(|index| model.tally(*index).status(MIN_SUBMITTED) == RecordStatus::Completed).count();
    assert!(done > 0, "the walk completed no record");
}

/// Many labelers race for the last places of one record, then for a whole dataset: no record
/// gets more labelers than `min_submitted`, and every record ends with exactly that many.
pub async fn racing_labelers_never_overfill(store: Arc<dyn Store>) {
    const MIN_SUBMITTED: u32 = 3;
    let (dataset, ids, users) = setting(store.as_ref(), "race-one", 1, i64::from(MIN_SUBMITTED), 32).await;
    let now = Timestamp::now();
    let request = move |user| LeaseRequest { dataset, user, now, expires_at: Timestamp::from_micros(now.micros() + 600 * SECOND) };
    let tasks: Vec<_> = users
        .iter()
        .map(|user| {
            let (store, request) = (store.clone(), request(*user));
            tokio::spawn(async move { store.lease_next_record(&request).await.unwrap().is_some() })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, MIN_SUBMITTED as usize, "32 labelers raced for {MIN_SUBMITTED} places");
    assert_eq!(store.list_leases(dataset, now).await.unwrap().len(), MIN_SUBMITTED as usize);
    assert_eq!(ids.len(), 1);

    let (dataset, ids, users) = setting(store.as_ref(), "race-all", 40, i64::from(MIN_SUBMITTED), 24).await;
    race_to_the_end(&[store], dataset, &ids, &users, MIN_SUBMITTED).await;
}

/// Labelers working through one dataset at once, each on the stores in turn (replicas on one
/// database): every record ends with exactly `min_submitted` answers, nobody answers one twice.
pub async fn racing_across_stores_never_overfill(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    const MIN_SUBMITTED: u32 = 2;
    let (dataset, ids, users) = setting(first.as_ref(), "race-replicas", 60, i64::from(MIN_SUBMITTED), 16).await;
    race_to_the_end(&[first, second], dataset, &ids, &users, MIN_SUBMITTED).await;
}

async fn race_to_the_end(stores: &[Arc<dyn Store>], dataset: DatasetId, ids: &[RecordId], users: &[UserId], min_submitted: u32) {
    let store = stores[0].clone();
    let per_record = work_to_the_end(stores, dataset, users, |record, user| answer(record, user, ResponseStatus::Submitted, Timestamp::now())).await;
    for id in ids {
        assert_eq!(per_record.get(id).copied(), Some(min_submitted as usize), "every record ends with exactly {min_submitted} answers");
        assert_eq!(store.get_record(*id).await.unwrap().unwrap().status, RecordStatus::Completed);
    }
    assert!(store.list_leases(dataset, Timestamp::now()).await.unwrap().is_empty());
}
