//! From responses to training data: which question says which response is better, the labelers'
//! answers to it as `juror_prefs` judgments, resolved pairs with the response texts, and the raw
//! per-labeler rows.
//!
//! Exports stream: [`PairExport`] and [`JudgmentExport`] read the dataset a page of records at a
//! time and hand back each page's rows, so memory is bounded by a page, not the dataset. Majority,
//! mean rank and Borda resolve each record on its own; the reliability model needs every vote
//! first, so its export reads the dataset twice: once into a compact [`VoteTable`] (labeler
//! indexes and verdicts, no texts) to fit the labelers' accuracies, then page by page to resolve
//! and build the rows. The metrics report ([`App::preference_pairs`]) reads the same way and
//! reduces each page to counts, bias tallies and agreement units.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use juror_core::field::FieldSettings;
use juror_core::ids::{DatasetId, RecordId};
use juror_core::question::QuestionSettings;
use juror_core::record::{DatasetSchema, Record, RecordRelations};
use juror_core::response::ResponseStatus;
use juror_export::{JudgmentRow, Message, PairRow};
use juror_prefs::agreement::{consensus_agreement, krippendorff_alpha, percent_agreement, Level, ReliabilityData};
use juror_core::presentation::Presentation;
use juror_prefs::bias::{BiasOptions, LengthBias, LengthTally, PositionBias, PositionTally, TimeOptions, TimeReport, TimeTally};
use juror_prefs::pairs::{Binarization, TiePolicy};
use juror_prefs::resolve::{cyclic_items, resolve, ReliabilityModel, ResolvedPair, Strategy, VoteTable};
use juror_prefs::{Judgment, PairJudgment};
use juror_store::{Adjudication, RecordInclude};
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::quality::QualityFigures;
use crate::records::RecordPages;
use crate::reward::{ModelAgreement, ModelAgreementTally};
use crate::App;

/// What the preference reads need of each record: its responses.
pub(crate) fn with_responses() -> RecordInclude {
    RecordInclude { responses: true, ..RecordInclude::default() }
}

/// How the preference question reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreferenceKind {
    /// A ranking question whose options are response field names.
    Ranking,
    /// The reward-modeling guide's rating over two responses: 0 = equal, 1 = the first is better,
    /// 2 = the second is.
    PairRating,
}

/// Which question, prompt and responses make a dataset's preference data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferenceSettings {
    /// The question's name.
    pub question: String,
    pub kind: PreferenceKind,
    /// The field holding the prompt.
    pub prompt_field: String,
    /// Whether the prompt field is a chat field (a list of messages).
    pub prompt_is_chat: bool,
    /// The fields holding the compared responses; they double as option ids.
    pub responses: Vec<String>,
}

/// What to export and how to resolve disagreements.
#[derive(Debug, Clone, PartialEq)]
pub struct PreferenceRequest {
    /// The question to read, instead of the detected one.
    pub question: Option<String>,
    /// The prompt field, instead of the detected one.
    pub prompt_field: Option<String>,
    pub strategy: Strategy,
    pub binarization: Binarization,
    pub ties: TiePolicy,
}

/// Most cyclic records a report lists by id.
pub const MAX_LISTED_CYCLES: usize = 100;

/// Resolved pairs with the numbers that say how far to trust them.
#[derive(Debug, Clone)]
pub struct PreferenceReport {
    pub settings: PreferenceSettings,
    /// Resolved pairs the binarization and tie policies keep (what an export would write).
    pub pairs: usize,
    /// Submitted judgments read.
    pub judgments: usize,
    /// Records with at least one judgment.
    pub records_with_judgments: usize,
    /// Submitted responses whose value for the question could not be read (settings changed since).
    pub unreadable: usize,
    /// Resolved pairs that came out as ties (kept or dropped by the tie policy).
    pub ties: usize,
    /// Records whose resolved verdicts form a cycle (A over B, B over C, C over A): no order
    /// fits them, so they need a person's verdict.
    pub cycles: usize,
    /// The first of those records' ids (at most [`MAX_LISTED_CYCLES`]).
    pub cyclic_records: Vec<String>,
    /// Krippendorff's alpha (ordinal) over the pair verdicts, when computable.
    pub alpha: Option<f64>,
    /// Percent agreement over the pair verdicts, when computable.
    pub percent_agreement: Option<f64>,
    /// Each labeler's agreement with the consensus, by username.
    pub labelers: Vec<LabelerSummary>,
    /// Whether the longer response wins more than half the time (lengths in characters).
    pub length_bias: LengthBias,
    /// Whether the first-shown response wins more than chance, over the judgments given in the
    /// web UI (the only ones with a recorded shown order); labelers by username.
    pub position_bias: PositionBias,
    /// Time on task per labeler (web UI judgments), with the implausibly quick ones flagged.
    pub time_on_task: TimeReport,
    /// Quality control while collecting: gold standings and what adaptive overlap saved.
    pub quality: QualityFigures,
    /// Labelers' agreement with a reward model's suggested rankings (written by `juror score
    /// --as-suggestions` on records the model was not trained on), when there are any.
    pub reward_model: Option<ModelAgreement>,
}

/// One labeler's agreement with the resolved pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerSummary {
    pub username: String,
    /// Pair verdicts that had a resolved pair to compare with.
    pub compared: usize,
    /// The share of those equal to the resolved verdict.
    pub agreement: f64,
}

/// The resolution strategy with this name: `majority`, `mean-rank`, `borda` or `reliability`.
pub fn strategy_named(name: &str) -> AppResult<Strategy> {
    match name {
        "majority" => Ok(Strategy::Majority),
        "mean-rank" | "mean_rank" => Ok(Strategy::MeanRank),
        "borda" => Ok(Strategy::Borda),
        "reliability" => Ok(Strategy::Reliability(juror_prefs::resolve::ReliabilityOptions::default())),
        other => Err(AppError::Invalid(format!("unknown strategy `{other}`: expected majority, mean-rank, borda or reliability"))),
    }
}

impl App {
    /// The dataset's preference pairs counted and judged: agreement, bias and time on task,
    /// resolved with `request.strategy` (owners and admins). Reads the dataset a page at a time
    /// (twice for the reliability strategy, as the export does): each page's judgments are
    /// resolved, counted, tallied and reduced to agreement units there, and the units with the same
    /// values are merged; what outlives the page is each labeler's times on task and counts.
    pub async fn preference_pairs(&self, caller: &Caller, id: DatasetId, request: &PreferenceRequest) -> AppResult<PreferenceReport> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let schema = self.schema(id).await?;
        let settings = detect_settings(&schema, request.question.as_deref(), request.prompt_field.as_deref())?;
        let resolver = self.resolver(id, &settings, &request.strategy).await?;
        let (mut judged, mut records_with_judgments, mut unreadable) = (0, 0, 0);
        let (mut pairs, mut ties, mut verdicts) = (0, 0, ReliabilityData::default());
        let (mut cycles, mut cyclic_records) = (0, Vec::new());
        let (mut position, mut length, mut time) = (PositionTally::default(), LengthTally::default(), TimeTally::default());
        // Per labeler id: (pair verdicts compared with the consensus, of which agreeing).
        let mut tallies: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut model_agreement = ModelAgreementTally::default();
        let question_id = schema.questions.iter().find(|question| question.name == settings.question).map(|question| question.id);
        let include = RecordInclude { suggestions: true, ..with_responses() };
        let mut pages = RecordPages::new(id, include).leaving_out(self.gold_records(id).await?);
        while let Some(page) = pages.next(self).await? {
            let (mut page_judgments, mut lengths) = (Vec::new(), HashMap::new());
            for (record, relations) in &page {
                model_agreement.add(&settings, question_id, relations);
                let record_judgments = record_judgments(&settings, record, relations, &mut unreadable);
                if !record_judgments.is_empty() {
                    let record_lengths: Vec<Option<usize>> = settings.responses.iter().map(|name| Some(field_text(record.fields.get(name)?).chars().count())).collect();
                    lengths.insert(record.id.to_string(), record_lengths);
                    page_judgments.extend(record_judgments);
                }
            }
            let resolved = resolver.resolve(&page_judgments);
            ties += resolved.iter().filter(|pair| pair.tie).count();
            let cyclic = cyclic_items(&resolved);
            cycles += cyclic.len();
            cyclic_records.extend(cyclic.into_iter().take(MAX_LISTED_CYCLES.saturating_sub(cyclic_records.len())));
            let length_of = |item: &str, option: &str| response_length(&lengths, &settings, item, option);
            pairs += select_pairs(&resolved, request.binarization, request.ties)
                .iter()
                .filter(|pair| length_of(&pair.item, &pair.chosen).is_some() && length_of(&pair.item, &pair.rejected).is_some())
                .count();
            verdicts.append(ReliabilityData::from_pair_verdicts(&page_judgments));
            verdicts = verdicts.compacted();
            for labeler in consensus_agreement(&page_judgments, &resolved) {
                let tally = tallies.entry(labeler.labeler).or_default();
                tally.0 += labeler.compared;
                tally.1 += labeler.agreed;
            }
            position.add(&page_judgments);
            length.add(&page_judgments, length_of);
            time.add(&page_judgments);
            judged += page_judgments.len();
            records_with_judgments += lengths.len();
        }

        let usernames: HashMap<String, String> = self.store.list_users().await?.into_iter().map(|user| (user.id.to_string(), user.username)).collect();
        let labelers = tallies
            .into_iter()
            .map(|(labeler, (compared, agreed))| LabelerSummary {
                username: usernames.get(&labeler).cloned().unwrap_or(labeler),
                compared,
                agreement: agreed as f64 / compared as f64,
            })
            .collect();
        let quality = self.quality_figures(caller, id, &settings.question, judged, records_with_judgments).await?;
        Ok(PreferenceReport {
            quality,
            reward_model: model_agreement.finish(&usernames),
            pairs,
            judgments: judged,
            records_with_judgments,
            unreadable,
            ties,
            cycles,
            cyclic_records,
            alpha: krippendorff_alpha(&verdicts, Level::Ordinal).ok(),
            percent_agreement: percent_agreement(&verdicts).ok(),
            labelers,
            length_bias: length.report(&BiasOptions::default()),
            position_bias: named_rates(position.report(&BiasOptions::default()), &usernames),
            time_on_task: named_times(time.report(&TimeOptions::default()), &usernames),
            settings,
        })
    }

    /// How `strategy` resolves the dataset's records: on their own, or with the reliability model
    /// fitted first on every judgment (one pass over the dataset into a compact [`VoteTable`]).
    async fn resolver(&self, id: DatasetId, settings: &PreferenceSettings, strategy: &Strategy) -> AppResult<Resolver> {
        Ok(match strategy {
            Strategy::Reliability(options) => {
                let mut table = VoteTable::new();
                let mut pages = RecordPages::new(id, with_responses()).leaving_out(self.gold_records(id).await?);
                while let Some(page) = pages.next(self).await? {
                    for (record, relations) in &page {
                        table.add(&record_judgments(settings, record, relations, &mut 0));
                    }
                }
                Resolver::Fitted(table.fit(options))
            }
            strategy => Resolver::PerRecord(strategy.clone()),
        })
    }

    /// The dataset's resolved pairs as an export that hands out one page of records' rows at a
    /// time (owners and admins). Checks access and detects the settings now, so a bad request
    /// fails before anything is written; with the reliability strategy it also reads every
    /// judgment once to fit the labelers' accuracies.
    pub async fn export_pairs(&self, caller: &Caller, id: DatasetId, request: &PreferenceRequest) -> AppResult<PairExport> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let schema = self.schema(id).await?;
        let settings = detect_settings(&schema, request.question.as_deref(), request.prompt_field.as_deref())?;
        let resolver = self.resolver(id, &settings, &request.strategy).await?;
        let adjudications = self.store.list_adjudications(id).await?.into_iter().map(|adjudication| (adjudication.record, adjudication)).collect();
        Ok(PairExport { settings, binarization: request.binarization, ties: request.ties, resolver, pages: RecordPages::new(id, with_responses()).leaving_out(self.gold_records(id).await?), adjudications })
    }

    /// Every response of the dataset (submitted, discarded or draft) as an export that hands out
    /// one page of records' rows at a time, in record order (owners and admins).
    pub async fn export_judgments(&self, caller: &Caller, id: DatasetId) -> AppResult<JudgmentExport> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let usernames: HashMap<String, String> = self.store.list_users().await?.into_iter().map(|user| (user.id.to_string(), user.username)).collect();
        Ok(JudgmentExport { usernames, pages: RecordPages::new(id, with_responses()).leaving_out(self.gold_records(id).await?) })
    }
}

/// How an export resolves one record's judgments.
#[derive(Debug)]
enum Resolver {
    /// Majority, mean rank or Borda: each record on its own.
    PerRecord(Strategy),
    /// The reliability model, fitted beforehand on every judgment.
    Fitted(ReliabilityModel),
}

impl Resolver {
    /// The resolved pairs of `judgments`, which hold every judgment of each of their records.
    fn resolve(&self, judgments: &[Judgment]) -> Vec<ResolvedPair> {
        match self {
            Resolver::PerRecord(strategy) => resolve(judgments, strategy),
            Resolver::Fitted(model) => model.resolve(judgments),
        }
    }
}

/// Resolved pairs, a page of records at a time; made by [`App::export_pairs`].
#[derive(Debug)]
pub struct PairExport {
    settings: PreferenceSettings,
    binarization: Binarization,
    ties: TiePolicy,
    resolver: Resolver,
    pages: RecordPages,
    /// Reviewers' final verdicts by record: these records' pairs come from the verdict alone.
    adjudications: HashMap<RecordId, Adjudication>,
}

impl PairExport {
    /// The question, prompt and responses the pairs are read from.
    pub fn settings(&self) -> &PreferenceSettings {
        &self.settings
    }

    /// The pairs of the next page of records, in record order (possibly none), or `None` when
    /// every record has been read.
    pub async fn next_page(&mut self, app: &App) -> AppResult<Option<Vec<PairRow>>> {
        let Some(page) = self.pages.next(app).await? else { return Ok(None) };
        let mut rows = Vec::new();
        for (record, relations) in &page {
            let texts = RecordTexts::of(&self.settings, record);
            if let Some(adjudication) = self.adjudications.get(&record.id) {
                // The reviewer's verdict stands for the record: its pairs, each certain.
                let values: Map<String, Value> = [(adjudication.question.clone(), serde_json::json!({"value": adjudication.verdict}))].into_iter().collect();
                let verdict = judgment_from_values(&self.settings, &record.id.to_string(), ADJUDICATOR, &values).ok().flatten().into_iter().collect::<Vec<_>>();
                let resolved = resolve(&verdict, &Strategy::Majority);
                rows.extend(select_pairs(&resolved, self.binarization, self.ties).into_iter().filter_map(|pair| pair_row(pair, &texts, true)));
                continue;
            }
            let judgments = record_judgments(&self.settings, record, relations, &mut 0);
            if judgments.is_empty() {
                continue;
            }
            let resolved = self.resolver.resolve(&judgments);
            rows.extend(select_pairs(&resolved, self.binarization, self.ties).into_iter().filter_map(|pair| pair_row(pair, &texts, false)));
        }
        Ok(Some(rows))
    }
}

/// Raw judgment rows, a page of records at a time; made by [`App::export_judgments`].
#[derive(Debug)]
pub struct JudgmentExport {
    usernames: HashMap<String, String>,
    pages: RecordPages,
}

impl JudgmentExport {
    /// The responses of the next page of records, in record order (possibly none), or `None`
    /// when every record has been read.
    pub async fn next_page(&mut self, app: &App) -> AppResult<Option<Vec<JudgmentRow>>> {
        let Some(page) = self.pages.next(app).await? else { return Ok(None) };
        let mut rows = Vec::new();
        for (record, relations) in &page {
            for response in relations.responses.as_deref().unwrap_or_default() {
                let user_id = response.user_id.to_string();
                rows.push(JudgmentRow {
                    record_id: record.id.to_string(),
                    external_id: record.external_id.clone(),
                    user: self.usernames.get(&user_id).cloned().unwrap_or(user_id),
                    status: response.status.as_str().to_owned(),
                    values: response.values.clone().map_or(Value::Null, Value::Object),
                    shown_order: response.presentation.as_ref().map(|presentation| presentation.shown_order.clone()),
                    time_on_task_ms: response.presentation.as_ref().and_then(|presentation| presentation.time_on_task_ms),
                    inserted_at: response.inserted_at.to_naive_iso(),
                });
            }
        }
        Ok(Some(rows))
    }
}

/// The record's submitted answers to the preference question as judgments; `unreadable` counts
/// the answers whose value could not be read.
pub(crate) fn record_judgments(settings: &PreferenceSettings, record: &Record, relations: &RecordRelations, unreadable: &mut usize) -> Vec<Judgment> {
    let (item, mut judgments) = (record.id.to_string(), Vec::new());
    for response in relations.responses.as_deref().unwrap_or_default().iter().filter(|response| response.status == ResponseStatus::Submitted) {
        match response.values.as_ref().map(|values| judgment_from_values(settings, &item, &response.user_id.to_string(), values)) {
            Some(Ok(Some(judgment))) => judgments.push(with_presentation(judgment, settings, response.presentation.as_ref())),
            Some(Ok(None)) | None => {}
            Some(Err(_)) => *unreadable += 1,
        }
    }
    judgments
}

/// Finds the preference question, the prompt field and the response fields of `schema`; `question`
/// and `prompt_field` override the detection.
pub fn detect_settings(schema: &DatasetSchema, question: Option<&str>, prompt_field: Option<&str>) -> AppResult<PreferenceSettings> {
    let prompt = match prompt_field {
        Some(name) => schema.fields.iter().find(|field| field.name == name).ok_or_else(|| AppError::Invalid(format!("the dataset has no field named `{name}`")))?,
        None => schema
            .fields
            .iter()
            .find(|field| field.name == "prompt")
            .or_else(|| schema.fields.first())
            .ok_or_else(|| AppError::Invalid("the dataset has no fields, so it has no prompt".into()))?,
    };
    let candidates: Vec<_> = match question {
        Some(name) => vec![schema.questions.iter().find(|question| question.name == name).ok_or_else(|| AppError::Invalid(format!("the dataset has no question named `{name}`")))?],
        None => schema.questions.iter().collect(),
    };
    let field_names: Vec<&str> = schema.fields.iter().map(|field| field.name.as_str()).collect();
    let pick = |kind_wanted: &PreferenceKind| {
        candidates.iter().find_map(|question| match (&question.settings, kind_wanted) {
            (QuestionSettings::Ranking { options }, PreferenceKind::Ranking) => {
                let responses: Vec<String> = options.iter().filter(|option| field_names.contains(&option.value.as_str())).map(|option| option.value.clone()).collect();
                Some((question.name.clone(), PreferenceKind::Ranking, responses))
            }
            (QuestionSettings::Rating { values }, PreferenceKind::PairRating) if values.iter().copied().collect::<BTreeSet<i64>>() == BTreeSet::from([0, 1, 2]) => {
                let responses: Vec<String> = field_names.iter().filter(|name| **name != prompt.name).take(2).map(|name| (*name).to_owned()).collect();
                Some((question.name.clone(), PreferenceKind::PairRating, responses))
            }
            _ => None,
        })
    };
    let Some((question, kind, responses)) = pick(&PreferenceKind::Ranking).or_else(|| pick(&PreferenceKind::PairRating)) else {
        let wanted = "a ranking question, or a rating question with values 0, 1 and 2 (equal, first better, second better)";
        return Err(AppError::Invalid(match question {
            Some(name) => format!("question `{name}` is not a preference question: expected {wanted}"),
            None => format!("the dataset has no preference question: expected {wanted}"),
        }));
    };
    if responses.len() < 2 {
        return Err(AppError::Invalid(format!("question `{question}` compares fewer than two response fields: ranking options must be named after fields")));
    }
    let prompt_is_chat = matches!(prompt.settings, FieldSettings::Chat { .. });
    Ok(PreferenceSettings { question, kind, prompt_field: prompt.name.clone(), prompt_is_chat, responses })
}

/// One labeler's answer to the preference question as a judgment: `Ok(None)` when the response
/// does not answer it (or compares fewer than two response fields), `Err` when the value is malformed.
pub fn judgment_from_values(settings: &PreferenceSettings, item: &str, labeler: &str, values: &Map<String, Value>) -> Result<Option<Judgment>, String> {
    let Some(value) = values.get(&settings.question).and_then(|answer| answer.get("value")).filter(|value| !value.is_null()) else {
        return Ok(None);
    };
    match settings.kind {
        PreferenceKind::Ranking => {
            let entries = value.as_array().ok_or("a ranking value must be a list")?;
            let mut ranks = Vec::with_capacity(entries.len());
            for entry in entries {
                let option = entry.get("value").and_then(Value::as_str).ok_or("a ranked option needs a `value`")?;
                let rank = entry.get("rank").and_then(Value::as_u64).and_then(|rank| u32::try_from(rank).ok()).ok_or("a ranked option needs a `rank`")?;
                if settings.responses.iter().any(|response| response == option) {
                    ranks.push((option.to_owned(), rank));
                }
            }
            if ranks.len() < 2 {
                return Ok(None);
            }
            Judgment::new(item, labeler, ranks).map(Some).map_err(|error| error.to_string())
        }
        PreferenceKind::PairRating => {
            let rating = value.as_i64().ok_or("a rating value must be an integer")?;
            let pair = PairJudgment::from_rating(item, labeler, &settings.responses[0], &settings.responses[1], rating).map_err(|error| error.to_string())?;
            Ok(Some(Judgment::from_pair(&pair)))
        }
    }
}

/// The judgment with how the web UI showed the record: the question's shown order, when it is
/// the order of the judged options, and the time on task.
fn with_presentation(judgment: Judgment, settings: &PreferenceSettings, presentation: Option<&Presentation>) -> Judgment {
    let Some(presentation) = presentation else { return judgment };
    let judgment = match presentation.time_on_task_ms {
        Some(ms) => judgment.with_time_on_task_ms(ms),
        None => judgment,
    };
    match presentation.shown_order.get(&settings.question) {
        Some(order) if settings.kind == PreferenceKind::Ranking => judgment.clone().with_shown_order(order.iter().cloned()).unwrap_or(judgment),
        _ => judgment,
    }
}

/// The position report with labelers named by username instead of id.
fn named_rates(mut report: PositionBias, usernames: &HashMap<String, String>) -> PositionBias {
    for labeler in &mut report.labelers {
        if let Some(name) = usernames.get(&labeler.labeler) {
            labeler.labeler = name.clone();
        }
    }
    report
}

/// The time report with labelers named by username instead of id.
fn named_times(mut report: TimeReport, usernames: &HashMap<String, String>) -> TimeReport {
    for labeler in &mut report.labelers {
        if let Some(name) = usernames.get(&labeler.labeler) {
            labeler.labeler = name.clone();
        }
    }
    report
}

/// The length in characters of `option`'s text in record `item`, if the record was judged and
/// the option is one of the settings' responses.
fn response_length(lengths: &HashMap<String, Vec<Option<usize>>>, settings: &PreferenceSettings, item: &str, option: &str) -> Option<usize> {
    *lengths.get(item)?.get(settings.responses.iter().position(|name| name == option)?)?
}

/// The texts of one judged record, shared by its pair rows.
#[derive(Debug)]
pub(crate) struct RecordTexts {
    item: Arc<str>,
    pub(crate) prompt: Arc<str>,
    prompt_messages: Option<Arc<[Message]>>,
    /// (response field, its text), in the settings' order: a handful, so a list beats a map.
    pub(crate) responses: Vec<(String, Arc<str>)>,
}

impl RecordTexts {
    pub(crate) fn of(settings: &PreferenceSettings, record: &Record) -> Self {
        let prompt = record.fields.get(&settings.prompt_field).unwrap_or(&Value::Null);
        let responses = settings.responses.iter().filter_map(|name| Some((name.clone(), field_text(record.fields.get(name)?).into()))).collect();
        Self { item: record.id.to_string().into(), prompt: field_text(prompt).into(), prompt_messages: chat_messages(prompt).map(Into::into), responses }
    }

    fn response(&self, name: &str) -> Option<&Arc<str>> {
        self.responses.iter().find(|(field, _)| field == name).map(|(_, text)| text)
    }
}

/// A field value as text: strings as they are, chat messages as `role: content` blocks separated
/// by blank lines, anything else as JSON.
fn field_text(value: &Value) -> String {
    match (value, chat_messages(value)) {
        (Value::String(text), _) => text.clone(),
        (_, Some(messages)) => messages.iter().map(|message| format!("{}: {}", message.role, message.content)).collect::<Vec<_>>().join("\n\n"),
        (Value::Null, None) => String::new(),
        (other, None) => other.to_string(),
    }
}

/// A chat field's messages, when `value` is a list of `{role, content}` objects.
fn chat_messages(value: &Value) -> Option<Vec<Message>> {
    value
        .as_array()?
        .iter()
        .map(|message| Some(Message { role: message.get("role")?.as_str()?.to_owned(), content: message.get("content")?.as_str()?.to_owned() }))
        .collect()
}

/// The resolved pairs the binarization and tie policies keep. Best-vs-worst keeps, per record, the
/// pairs of a top option against a bottom one, scoring each option by its resolved wins (a tie
/// counts half), the consensus counterpart of `juror_prefs::pairs::Binarization::BestVsWorst`.
fn select_pairs(resolved: &[ResolvedPair], binarization: Binarization, ties: TiePolicy) -> Vec<&ResolvedPair> {
    let mut scores: HashMap<(&str, &str), f64> = HashMap::new();
    for pair in resolved {
        let (chosen_points, rejected_points) = if pair.tie { (0.5, 0.5) } else { (1.0, 0.0) };
        *scores.entry((&pair.item, &pair.chosen)).or_default() += chosen_points;
        *scores.entry((&pair.item, &pair.rejected)).or_default() += rejected_points;
    }
    let mut bounds: HashMap<&str, (f64, f64)> = HashMap::new();
    for ((item, _), score) in &scores {
        let bound = bounds.entry(item).or_insert((f64::NEG_INFINITY, f64::INFINITY));
        *bound = (bound.0.max(*score), bound.1.min(*score));
    }
    resolved
        .iter()
        .filter(|pair| !pair.tie || ties == TiePolicy::Keep)
        .filter(|pair| match binarization {
            Binarization::AllPairs => true,
            Binarization::BestVsWorst => {
                let (best, worst) = bounds[pair.item.as_str()];
                let score = |option: &str| scores[&(pair.item.as_str(), option)];
                best == worst || (score(&pair.chosen) == best && score(&pair.rejected) == worst)
            }
        })
        .collect()
}

/// The labeler name an adjudicated verdict is resolved under.
const ADJUDICATOR: &str = "adjudicator";

fn pair_row(pair: &ResolvedPair, texts: &RecordTexts, adjudicated: bool) -> Option<PairRow> {
    Some(PairRow {
        item: texts.item.clone(),
        prompt: texts.prompt.clone(),
        prompt_messages: texts.prompt_messages.clone(),
        chosen: texts.response(&pair.chosen)?.clone(),
        rejected: texts.response(&pair.rejected)?.clone(),
        p_chosen: pair.p_chosen,
        margin: pair.margin,
        judgments: pair.judgments,
        agreement: pair.agreement,
        adjudicated,
    })
}

#[cfg(test)]
#[path = "preferences_tests.rs"]
mod tests;
