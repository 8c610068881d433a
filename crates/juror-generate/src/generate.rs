//! One prompt's candidates: run the strategy's requests, keep the pair that differs most (or the
//! pair a reward model picks) for best-of-k, and regenerate empty or near-identical candidates up to a limit.

use serde_json::{json, Value};

use crate::client::{Api, Client, ClientError, Completion, Sampling, Target};
use crate::reward::{pick, RewardPick};
use crate::similarity::{most_different_pair, most_similar_pair};
use crate::strategy::{PlannedRequest, Strategy};

/// How a run generates.
#[derive(Debug, Clone)]
pub struct Settings {
    pub strategy: Strategy,
    pub targets: Vec<Target>,
    pub api: Api,
    pub system: Option<String>,
    pub sampling: Sampling,
    /// Choices asked per request (the API's `n`).
    pub per_request: u32,
    /// Candidates this similar (0 to 1) or more count as near-duplicates.
    pub similarity_threshold: f64,
    /// Regenerations per prompt for empty or near-duplicate candidates.
    pub max_regenerations: u32,
    /// Best-of-k keeps the pair a reward model picks, instead of the most different pair.
    pub reward: Option<RewardPick>,
}

/// A candidate response and where it came from.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub target: Target,
    pub sampling: Sampling,
    pub completion: Completion,
    /// The reward model's score, when one picked the candidate.
    pub reward: Option<f32>,
}

impl Candidate {
    /// The text.
    pub fn text(&self) -> &str {
        &self.completion.text
    }

    /// Endpoint, model, parameters, seed, latency, token counts and finish reason.
    pub fn provenance(&self, api: Api) -> Value {
        let completion = &self.completion;
        json!({
            "endpoint": self.target.endpoint,
            "model": self.target.model,
            "api": match api { Api::Chat => "chat", Api::Completions => "completions" },
            "params": Value::Object(self.sampling.to_json()),
            "seed": self.sampling.seed,
            "n": completion.choices_in_request,
            "latency_ms": completion.latency.as_millis() as u64,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "finish_reason": completion.finish_reason,
            "attempts": completion.attempts,
            "reward_score": self.reward,
        })
    }
}

/// A prompt's candidates, in the order they become `response-1`, `response-2`, ...
#[derive(Debug, Clone)]
pub struct Generated {
    pub candidates: Vec<Candidate>,
    /// The highest similarity between two kept candidates.
    pub similarity: f64,
    /// True when that similarity is still at or over the threshold after the regenerations.
    pub near_duplicate: bool,
    pub regenerations: u32,
    /// Candidates generated in all, regenerations and best-of-k's discarded ones included.
    pub generated: usize,
}

/// Generates the candidates of one prompt.
pub async fn generate(client: &Client, settings: &Settings, prompt: &str) -> Result<Generated, ClientError> {
    let wanted = settings.strategy.responses(settings.targets.len());
    let mut candidates = Vec::new();
    let mut plan = settings.strategy.plan(settings.targets.len(), &settings.sampling, settings.per_request);
    let mut extra = 0u64;
    let goal = match settings.strategy {
        Strategy::BestOfK { k } => k as usize,
        _ => wanted,
    };
    let mut index = 0;
    while candidates.len() < goal {
        // A server may return fewer choices than `n`: top up one at a time.
        if index >= plan.len() {
            extra += 1;
            let last = plan.last().cloned().unwrap_or(PlannedRequest { target: 0, sampling: settings.sampling.clone(), n: 1 });
            plan.push(PlannedRequest { n: 1, sampling: reseeded(&last.sampling, 10_000 + extra), ..last });
        }
        let request = &plan[index];
        candidates.extend(request_candidates(client, settings, prompt, request).await?);
        index += 1;
    }
    candidates.truncate(goal);
    let mut generated = candidates.len();
    if let Strategy::BestOfK { .. } = settings.strategy {
        let texts: Vec<&str> = candidates.iter().map(Candidate::text).collect();
        let (first, second) = match &settings.reward {
            Some(reward) => {
                let scores = reward.ranker.scores(prompt, &texts).map_err(ClientError::Reward)?;
                for (candidate, score) in candidates.iter_mut().zip(&scores) {
                    candidate.reward = Some(*score);
                }
                pick(&scores, reward.choice).unwrap_or((0, 1))
            }
            None => most_different_pair(&texts).map_or((0, 1), |(first, second, _)| (first, second)),
        };
        candidates = vec![candidates[first].clone(), candidates[second].clone()];
    }

    let mut regenerations = 0;
    loop {
        let texts: Vec<&str> = candidates.iter().map(Candidate::text).collect();
        let (_, similar, similarity) = most_similar_pair(&texts).unwrap_or((0, 0, 0.0));
        let empty = candidates.iter().position(|candidate| candidate.text().trim().is_empty());
        let redo = empty.or((similarity >= settings.similarity_threshold).then_some(similar));
        match redo {
            Some(position) if regenerations < settings.max_regenerations => {
                regenerations += 1;
                let old = &candidates[position];
                let target = settings.targets.iter().position(|target| *target == old.target).unwrap_or(0);
                let request = PlannedRequest { target, sampling: reseeded(&old.sampling, 1000 * u64::from(regenerations)), n: 1 };
                if let Some(fresh) = request_candidates(client, settings, prompt, &request).await?.into_iter().next() {
                    candidates[position] = fresh;
                    generated += 1;
                }
            }
            _ => {
                return Ok(Generated { candidates, similarity, near_duplicate: similarity >= settings.similarity_threshold, regenerations, generated });
            }
        }
    }
}

async fn request_candidates(client: &Client, settings: &Settings, prompt: &str, request: &PlannedRequest) -> Result<Vec<Candidate>, ClientError> {
    let target = &settings.targets[request.target.min(settings.targets.len() - 1)];
    let completions = client.complete(target, settings.api, settings.system.as_deref(), prompt, &request.sampling, request.n).await?;
    Ok(completions.into_iter().map(|completion| Candidate { target: target.clone(), sampling: request.sampling.clone(), completion, reward: None }).collect())
}

/// The same settings with the seed moved by `offset`, when there is a seed.
fn reseeded(sampling: &Sampling, offset: u64) -> Sampling {
    Sampling { seed: sampling.seed.map(|seed| seed.wrapping_add(offset)), ..sampling.clone() }
}
