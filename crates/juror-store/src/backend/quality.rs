//! Quality control inside the store's transactions, for every backend: how many judgments a record
//! needs under adaptive overlap, and a labeler's standing by their gold answers (paused or not,
//! and whether a gold record is due to them). The settings are `juror_core::quality`, the
//! statistics `juror_prefs::quality`; this module reads what they need and applies them.

use std::collections::{BTreeMap, HashMap};

use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::quality::{gold_is_due, pair_verdicts, AdaptiveSettings, GoldSettings, GoldVerdict, QualitySettings};
use juror_core::time::Timestamp;
use juror_prefs::quality::{AdaptiveOverlap, GoldTally, Vote};
use serde_json::{Map, Value};

use super::columns::Columns;
use super::rows;
use super::sql::{placeholders, Statement};
use super::transaction::Transaction;
use crate::error::{StoreError, StoreResult};
use crate::GoldStanding;

/// A dataset's stored settings (`datasets.quality`); NULL is everything off.
pub fn settings_of(text: Option<&str>) -> StoreResult<QualitySettings> {
    text.map_or_else(|| Ok(QualitySettings::default()), |text| QualitySettings::from_stored(text).map_err(|error| StoreError::Other(error.to_string())))
}

fn verdict_of(text: &str) -> StoreResult<GoldVerdict> {
    let value: Value = serde_json::from_str(text)?;
    GoldVerdict::from_stored(&value).map_err(|error| StoreError::Other(format!("stored gold verdict: {error}")))
}

fn values_of(text: Option<&str>) -> StoreResult<Map<String, Value>> {
    Ok(rows::json_object(text)?.unwrap_or_default())
}

/// The stored form of a verdict.
pub fn encode_verdict(verdict: &GoldVerdict) -> String {
    verdict.to_json().to_string()
}

/// Reads a `(record id, verdict)` row.
pub fn gold_record(row: &impl Columns) -> StoreResult<(RecordId, GoldVerdict)> {
    Ok((rows::id(row, 0)?, verdict_of(row.text(1)?)?))
}

/// Submitted answers to the dataset's gold records, `user`'s or everyone's: labeler, values,
/// verdict, when answered, and when the labeler was last resumed (NULL if never).
pub fn gold_answers_of(dataset: DatasetId, user: Option<UserId>) -> Statement {
    let statement = Statement::new(format!(
        "SELECT x.user_id, x.\"values\", g.verdict, x.updated_at, \
                (SELECT s.resumed_at FROM gold_resumes s WHERE s.dataset_id = g.dataset_id AND s.user_id = x.user_id) \
         FROM gold_records g JOIN responses x ON x.record_id = g.record_id \
         WHERE g.dataset_id = ? AND x.status = 'submitted'{} ORDER BY x.updated_at, x.id",
        if user.is_some() { " AND x.user_id = ?" } else { "" }
    ))
    .bind(dataset.to_string());
    match user {
        Some(user) => statement.bind(user.to_string()),
        None => statement,
    }
}

/// Reads the rows of [`gold_answers_of`] into each labeler's standing, in order of first answer.
pub fn standings(rows: &[impl Columns]) -> StoreResult<Vec<(UserId, GoldStanding)>> {
    let mut standings: Vec<(UserId, GoldStanding)> = Vec::new();
    let mut places: HashMap<UserId, usize> = HashMap::new();
    for row in rows {
        let Some(correct) = verdict_of(row.text(2)?)?.judge(&values_of(row.text_opt(1)?)?) else { continue };
        let user: UserId = rows::id(row, 0)?;
        let place = *places.entry(user).or_insert_with(|| {
            standings.push((user, GoldStanding::default()));
            standings.len() - 1
        });
        let standing = &mut standings[place].1;
        standing.resumed_at = row.int_opt(4)?.map(Timestamp::from_micros);
        standing.all.record(correct);
        let answered_at = Timestamp::from_micros(row.int(3)?);
        if standing.resumed_at.is_none_or(|resumed| answered_at > resumed) {
            standing.since_resume.record(correct);
        }
    }
    Ok(standings)
}

/// One labeler's standing from the rows of [`gold_answers_of`] for them.
pub fn standing(rows: &[impl Columns]) -> StoreResult<GoldStanding> {
    Ok(standings(rows)?.pop().map(|(_, standing)| standing).unwrap_or_default())
}

/// What the hand-out needs of gold: whether the labeler is paused, and, when they are to be given
/// a record (`wants_record`: they hold none and are within their quota), the gold record due to
/// them now (the first by insertion order they have not answered), if one is.
pub async fn gold_hand_out<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId, user: UserId, gold: &GoldSettings, wants_record: bool) -> StoreResult<(bool, Option<RecordId>)> {
    // The standing matters only where flagged labelers are paused.
    let paused = gold.pause && standing(&transaction.fetch(gold_answers_of(dataset, Some(user))).await?)?.is_paused(gold);
    if paused || !wants_record {
        return Ok((paused, None));
    }
    let answered = transaction
        .fetch(Statement::new("SELECT count(*) FROM responses x JOIN records r ON r.id = x.record_id WHERE r.dataset_id = ? AND x.user_id = ?").bind(dataset.to_string()).bind(user.to_string()))
        .await?;
    let answered = answered.first().map(rows::count).transpose()?.unwrap_or(0);
    if !gold_is_due(user, answered, gold.rate) {
        return Ok((false, None));
    }
    let due = transaction
        .fetch(
            Statement::new(
                "SELECT g.record_id FROM gold_records g JOIN records r ON r.id = g.record_id \
                 WHERE g.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = g.record_id AND x.user_id = ?) \
                 ORDER BY r.seq LIMIT 1",
            )
            .bind(dataset.to_string())
            .bind(user.to_string()),
        )
        .await?;
    Ok((false, due.first().map(rows::first_id).transpose()?))
}

/// Whether the labeler is paused in the dataset, for an answer's transaction.
pub async fn is_paused<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId, user: UserId, gold: &GoldSettings) -> StoreResult<bool> {
    Ok(gold.pause && standing(&transaction.fetch(gold_answers_of(dataset, Some(user))).await?)?.is_paused(gold))
}

/// The judgments a record needs under adaptive overlap, from its submitted answers: each
/// answer's verdict on each pair of options counts by its labeler's accuracy estimated from
/// their gold answers in the dataset.
pub async fn adaptive_target<T: Transaction + ?Sized>(transaction: &mut T, record: RecordId, dataset: DatasetId, adaptive: &AdaptiveSettings) -> StoreResult<u32> {
    let rule = AdaptiveOverlap { min: adaptive.min, max: adaptive.max, confidence: adaptive.confidence };
    let answers = transaction.fetch(Statement::new("SELECT user_id, \"values\" FROM responses WHERE record_id = ? AND status = 'submitted'").bind(record.to_string())).await?;
    let judgments = u32::try_from(answers.len()).unwrap_or(u32::MAX);
    if judgments < rule.min {
        return Ok(rule.min);
    }
    let answers = answers.iter().map(|row| Ok((rows::id::<UserId>(row, 0)?, values_of(row.text_opt(1)?)?))).collect::<StoreResult<Vec<_>>>()?;
    let accuracy = accuracies(transaction, dataset, answers.iter().map(|(user, _)| *user)).await?;
    let mut pairs: BTreeMap<(String, String), Vec<Vote>> = BTreeMap::new();
    for (user, values) in &answers {
        let accuracy = accuracy.get(user).copied().unwrap_or_default().accuracy_estimate();
        for verdict in pair_verdicts(values, &adaptive.question) {
            pairs.entry((verdict.first, verdict.second)).or_default().push(Vote { first_wins: verdict.first_wins, accuracy });
        }
    }
    Ok(rule.target_of(judgments, pairs.values().map(Vec::as_slice)))
}

/// The gold tallies of these labelers in the dataset.
async fn accuracies<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId, users: impl Iterator<Item = UserId>) -> StoreResult<HashMap<UserId, GoldTally>> {
    let users: Vec<UserId> = users.collect();
    let query = format!(
        "SELECT x.user_id, x.\"values\", g.verdict FROM gold_records g JOIN responses x ON x.record_id = g.record_id \
         WHERE g.dataset_id = ? AND x.status = 'submitted' AND x.user_id IN ({})",
        placeholders(users.len())
    );
    let select = users.iter().fold(Statement::new(query).bind(dataset.to_string()), |statement, user| statement.bind(user.to_string()));
    let mut tallies: HashMap<UserId, GoldTally> = HashMap::new();
    for row in transaction.fetch(select).await? {
        if let Some(correct) = verdict_of(row.text(2)?)?.judge(&values_of(row.text_opt(1)?)?) {
            tallies.entry(rows::id(&row, 0)?).or_default().record(correct);
        }
    }
    Ok(tallies)
}
