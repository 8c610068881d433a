//! Reliability-weighted resolution: a Dawid-Skene model for pairwise verdicts, fitted by EM.
//!
//! **The model.** Each pair of an item's options has a hidden truth, "first is better" or "second
//! is better", each with prior 1/2 (pairs are keyed by sorted option ids, so the order carries no
//! information). Labeler `l` abstains with a tie at some rate that does not depend on the truth,
//! and otherwise states the truth with probability `accuracy[l]`. Votes are independent given the
//! truth. This is Dawid and Skene's (1979) model with two classes and a symmetric confusion
//! matrix (the "one-coin" model), plus ties.
//!
//! **The fit.** Start from the vote share on each pair; then alternate (M) each labeler's accuracy
//! = their expected number of correct strict votes over their strict votes, smoothed with
//! `prior_votes` pseudo-votes at 1/2 (a Beta prior's MAP, so a labeler with three votes is not
//! 100% accurate), and (E) each pair's posterior log-odds = the sum over its strict votes of
//! ±ln(accuracy / (1 - accuracy)). A labeler who answers at random gets weight near 0; one who is
//! reliably wrong gets a negative weight, which is the model working as intended.
//!
//! **Why this model and not Bradley-Terry/Davidson with labeler parameters.** In preference data
//! each option (a response) belongs to one item and is judged by a handful of labelers, so a
//! strength per option is fitted from three to five comparisons and adds little beyond
//! transitivity within an item. What does pool across items is each labeler's reliability, which
//! is exactly what Dawid-Skene estimates, and its per-labeler accuracy doubles as a quality
//! metric an admin can read. For two-option items, Bradley-Terry with a per-labeler "agrees with
//! the truth" parameter (CrowdBT) is this same model.
//!
//! **Limits.** The pairs of one ranking are treated as independent votes, so resolved pairs of an
//! item with three or more options can be intransitive. Ties are abstentions, not evidence of
//! equality: a pair every labeler tied resolves to a tie at 1/2, but one strict vote among ties
//! decides it.

use std::collections::HashMap;

use crate::judgment::Judgment;
use crate::pair_judgment::Outcome;
use crate::resolve::votes::collect;
use crate::resolve::{ResolvedPair, VoteTable};

/// |log-odds| below this is a tie (all strict votes cancel, or there are none).
const TIE_LOG_ODDS: f64 = 1e-9;

/// Settings of the EM fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityOptions {
    /// The most EM rounds to run.
    pub max_iterations: usize,
    /// Stop when no pair's posterior moves by more than this in a round.
    pub tolerance: f64,
    /// Pseudo-votes, half right and half wrong, added to each labeler's count (2 = Laplace).
    pub prior_votes: f64,
}

impl Default for ReliabilityOptions {
    /// 200 rounds, tolerance 1e-6, 2 pseudo-votes.
    fn default() -> Self {
        Self { max_iterations: 200, tolerance: 1e-6, prior_votes: 2.0 }
    }
}

/// What the model learned about one labeler.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerReliability {
    /// The labeler's id.
    pub labeler: String,
    /// P(a strict vote of theirs states the truth), after smoothing.
    pub accuracy: f64,
    /// The share of their votes that were ties.
    pub tie_rate: f64,
    /// How many pair votes they cast (a ranking of N options casts N(N-1)/2).
    pub votes: usize,
}

/// The fitted model: the resolved pairs and each labeler's estimated reliability.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliabilityFit {
    /// One row per pair; `p_chosen` is the posterior and `margin` its log-odds.
    pub pairs: Vec<ResolvedPair>,
    /// One entry per labeler, sorted by id.
    pub labelers: Vec<LabelerReliability>,
    /// How many EM rounds ran.
    pub iterations: usize,
    /// Whether the posteriors settled within the tolerance before `max_iterations`.
    pub converged: bool,
}

/// Resolves each pair by the labelers' votes weighted by their estimated accuracy (see the module
/// docs for the model). The same as filling a [`VoteTable`] with `judgments`, fitting it, and
/// resolving `judgments` with the model, which is how callers that cannot hold every judgment at
/// once use it.
pub fn reliability(judgments: &[Judgment], options: &ReliabilityOptions) -> ReliabilityFit {
    let mut table = VoteTable::new();
    table.add(judgments);
    let model = table.fit(options);
    ReliabilityFit { pairs: model.resolve(judgments), labelers: model.labelers.clone(), iterations: model.iterations, converged: model.converged }
}

/// The fitted labeler parameters, without the pairs: resolves any judgments, an item at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliabilityModel {
    /// One entry per labeler, sorted by id.
    pub labelers: Vec<LabelerReliability>,
    /// How many EM rounds ran.
    pub iterations: usize,
    /// Whether the posteriors settled within the tolerance before `max_iterations`.
    pub converged: bool,
    /// Each labeler's vote weight, ln(accuracy / (1 - accuracy)).
    weights: HashMap<String, f64>,
}

impl ReliabilityModel {
    /// Resolves each pair of `judgments` by the fitted weights of its voters: the posterior
    /// log-odds are the sum of their strict votes' weights. A labeler the model has not seen
    /// weighs nothing. Resolving the judgments the model was fitted on gives the fit's pairs.
    pub fn resolve(&self, judgments: &[Judgment]) -> Vec<ResolvedPair> {
        collect(judgments)
            .iter()
            .map(|pair| {
                let log_odds: f64 = pair
                    .votes
                    .iter()
                    .filter_map(|vote| {
                        let weight = self.weights.get(vote.labeler).copied().unwrap_or(0.0);
                        match vote.outcome {
                            Outcome::AWins => Some(weight),
                            Outcome::BWins => Some(-weight),
                            Outcome::Tie => None,
                        }
                    })
                    .sum();
                let verdict = if log_odds > TIE_LOG_ODDS {
                    Outcome::AWins
                } else if log_odds < -TIE_LOG_ODDS {
                    Outcome::BWins
                } else {
                    Outcome::Tie
                };
                let (p_first, margin) = if verdict == Outcome::Tie { (0.5, 0.0) } else { (sigmoid(log_odds), log_odds.abs()) };
                pair.resolved(verdict, p_first, margin)
            })
            .collect()
    }
}

/// Runs EM over every vote of `table` (see the module docs).
pub(crate) fn fit_model(table: &VoteTable, options: &ReliabilityOptions) -> ReliabilityModel {
    let labelers = table.labelers.len();
    let ranges: Vec<std::ops::Range<usize>> = table.pair_ranges().collect();
    let mut posterior: Vec<f64> = ranges
        .iter()
        .map(|range| {
            let verdicts = &table.verdicts[range.clone()];
            let first = verdicts.iter().filter(|verdict| **verdict > 0).count() as f64;
            let strict = verdicts.iter().filter(|verdict| **verdict != 0).count() as f64;
            (first + 0.5) / (strict + 1.0)
        })
        .collect();
    let mut accuracy = vec![0.5; labelers];
    let (mut iterations, mut converged) = (0, false);
    while iterations < options.max_iterations {
        iterations += 1;
        accuracy = estimate_accuracy(table, &ranges, &posterior, options.prior_votes);
        let weights: Vec<f64> = accuracy.iter().map(|accuracy| logit(*accuracy)).collect();
        let mut change: f64 = 0.0;
        for (range, posterior) in ranges.iter().zip(posterior.iter_mut()) {
            let log_odds: f64 = strict_votes(table, range.clone()).map(|(labeler, sign)| sign * weights[labeler]).sum();
            let next = sigmoid(log_odds);
            change = change.max((*posterior - next).abs());
            *posterior = next;
        }
        if change < options.tolerance {
            converged = true;
            break;
        }
    }

    let mut votes = vec![(0usize, 0usize); labelers];
    for (labeler, verdict) in table.voters.iter().zip(&table.verdicts) {
        let entry = &mut votes[*labeler as usize];
        entry.0 += 1;
        entry.1 += usize::from(*verdict == 0);
    }
    let mut summaries: Vec<LabelerReliability> = table
        .labelers
        .iter()
        .zip(&accuracy)
        .zip(votes)
        .map(|((labeler, accuracy), (votes, ties))| LabelerReliability { labeler: labeler.clone(), accuracy: *accuracy, tie_rate: ties as f64 / votes as f64, votes })
        .collect();
    summaries.sort_by(|a, b| a.labeler.cmp(&b.labeler));
    let weights = table.labelers.iter().cloned().zip(accuracy.iter().map(|accuracy| logit(*accuracy))).collect();
    ReliabilityModel { labelers: summaries, iterations, converged, weights }
}

/// A pair's strict votes as (labeler index, +1 for the first option, -1 for the second).
fn strict_votes(table: &VoteTable, range: std::ops::Range<usize>) -> impl Iterator<Item = (usize, f64)> + '_ {
    table.voters[range.clone()].iter().zip(&table.verdicts[range]).filter(|(_, verdict)| **verdict != 0).map(|(labeler, verdict)| (*labeler as usize, f64::from(*verdict)))
}

/// The M-step: each labeler's smoothed expected share of correct strict votes.
fn estimate_accuracy(table: &VoteTable, ranges: &[std::ops::Range<usize>], posterior: &[f64], prior_votes: f64) -> Vec<f64> {
    let labelers = table.labelers.len();
    let mut correct = vec![prior_votes / 2.0; labelers];
    let mut total = vec![prior_votes; labelers];
    for (range, p_first) in ranges.iter().zip(posterior) {
        for (labeler, sign) in strict_votes(table, range.clone()) {
            correct[labeler] += if sign > 0.0 { *p_first } else { 1.0 - p_first };
            total[labeler] += 1.0;
        }
    }
    // With no prior and no strict votes a labeler has no evidence either way.
    correct.iter().zip(&total).map(|(correct, total)| if *total > 0.0 { correct / total } else { 0.5 }).collect()
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{check, judgments};

    #[test]
    fn one_em_round_matches_the_hand_computation() {
        // Votes on (x, y): ann x, bob x, cid y. Start: P(x better) = (2 + 0.5) / (3 + 1) = 0.625.
        // M-step with 2 pseudo-votes: ann, bob (0.625 + 1) / 3 = 0.541667; cid (0.375 + 1) / 3 = 0.458333.
        // E-step: log-odds = 3 ln(0.541667 / 0.458333) = 3 ln(13/11) = 0.501162; P = 0.622732.
        let judgments = judgments(&[("ann", &[("x", 1), ("y", 2)]), ("bob", &[("x", 1), ("y", 2)]), ("cid", &[("x", 2), ("y", 1)])]);
        let fit = reliability(&judgments, &ReliabilityOptions { max_iterations: 1, ..ReliabilityOptions::default() });
        let log_odds = 3.0 * (13.0f64 / 11.0).ln();
        check(&fit.pairs, &[("x", "y", false, 1.0 / (1.0 + (-log_odds).exp()), log_odds, 3, 2.0 / 3.0)]);
        assert!((fit.pairs[0].p_chosen - 0.622732).abs() < 1e-6);
        assert!((fit.labelers[2].accuracy - 1.375 / 3.0).abs() < 1e-12);
        assert_eq!((fit.iterations, fit.converged), (1, false));
    }

    #[test]
    fn a_labeler_who_agrees_with_the_crowd_outweighs_two_who_do_not() {
        // On 20 calibration items good1..good3 say "x" and bad1, bad2 say "y". On the test item
        // only good1 and the two bad labelers vote: majority says y, reliability says x.
        let mut all = Vec::new();
        for item in 0..20 {
            for (labeler, x_rank) in [("good1", 1), ("good2", 1), ("good3", 1), ("bad1", 2), ("bad2", 2)] {
                all.push(Judgment::new(format!("cal{item}"), labeler, [("x", x_rank), ("y", 3 - x_rank)]).unwrap());
            }
        }
        for (labeler, x_rank) in [("good1", 1), ("bad1", 2), ("bad2", 2)] {
            all.push(Judgment::new("test", labeler, [("x", x_rank), ("y", 3 - x_rank)]).unwrap());
        }
        let fit = reliability(&all, &ReliabilityOptions::default());
        assert!(fit.converged);
        let test = fit.pairs.iter().find(|pair| pair.item == "test").unwrap();
        assert_eq!((test.chosen.as_str(), test.judgments), ("x", 3));
        assert!(test.p_chosen > 0.99, "{test:?}");
        let majority = crate::resolve::majority(&all);
        assert_eq!(majority.iter().find(|pair| pair.item == "test").unwrap().chosen, "y");
        let accuracy = |name: &str| fit.labelers.iter().find(|labeler| labeler.labeler == name).unwrap().accuracy;
        assert!(accuracy("good1") > 0.9 && accuracy("bad1") < 0.1, "{:?}", fit.labelers);
    }

    #[test]
    fn fitting_item_by_item_and_resolving_item_by_item_gives_the_same_pairs() {
        let mut all = Vec::new();
        for item in 0..6 {
            for (labeler, x_rank) in [("ann", 1), ("bob", 1 + item % 2), ("cid", 2)] {
                all.push(Judgment::new(format!("i{item}"), labeler, [("x", x_rank), ("y", 2), ("z", 3)]).unwrap());
            }
        }
        let whole = reliability(&all, &ReliabilityOptions::default());
        let mut table = VoteTable::new();
        for item in all.chunks(3) {
            table.add(item);
        }
        let model = table.fit(&ReliabilityOptions::default());
        let streamed: Vec<ResolvedPair> = all.chunks(3).flat_map(|item| model.resolve(item)).collect();
        assert_eq!(streamed, whole.pairs);
        assert_eq!((model.labelers, model.iterations, model.converged), (whole.labelers, whole.iterations, whole.converged));
    }

    #[test]
    fn tie_votes_are_abstentions() {
        let judgments = judgments(&[("ann", &[("x", 1), ("y", 1)]), ("bob", &[("x", 1), ("y", 1)])]);
        let fit = reliability(&judgments, &ReliabilityOptions::default());
        check(&fit.pairs, &[("x", "y", true, 0.5, 0.0, 2, 1.0)]);
        assert_eq!((fit.labelers[0].tie_rate, fit.labelers[0].accuracy, fit.labelers[0].votes), (1.0, 0.5, 1));
    }
}
