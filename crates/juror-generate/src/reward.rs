//! Best-of-k with a reward model: which two of a prompt's k candidates to keep, by their scores.
//!
//! The model itself is outside this crate: whoever runs the generation passes a [`Ranker`].

use std::sync::Arc;

/// Scores candidate responses to a prompt, higher for better.
pub trait Ranker: Send + Sync {
    fn scores(&self, prompt: &str, responses: &[&str]) -> Result<Vec<f32>, String>;
}

/// Which pair of scored candidates to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairChoice {
    /// The highest- and the lowest-scored: a clear pair.
    Extremes,
    /// The two closest in score: the pair the model is least sure about, where a person's
    /// judgment teaches it most.
    Closest,
}

/// A reward model that picks best-of-k's pair.
#[derive(Clone)]
pub struct RewardPick {
    pub ranker: Arc<dyn Ranker>,
    pub choice: PairChoice,
}

impl std::fmt::Debug for RewardPick {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("RewardPick").field("choice", &self.choice).finish_non_exhaustive()
    }
}

/// The indexes of the pair to keep, in their original order (so the kept pair's order says
/// nothing of which scored higher); `None` for fewer than two scores.
pub fn pick(scores: &[f32], choice: PairChoice) -> Option<(usize, usize)> {
    if scores.len() < 2 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|left, right| scores[*right].total_cmp(&scores[*left]).then(left.cmp(right)));
    let (first, second) = match choice {
        PairChoice::Extremes => (order[0], order[order.len() - 1]),
        PairChoice::Closest => order
            .windows(2)
            .map(|pair| (pair[0], pair[1]))
            .min_by(|left, right| (scores[left.0] - scores[left.1]).total_cmp(&(scores[right.0] - scores[right.1])))
            .unwrap_or((order[0], order[1])),
    };
    Some((first.min(second), first.max(second)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_keep_the_best_and_the_worst_closest_the_nearest_scores() {
        let scores = [0.5, 2.0, -1.0, 0.6];
        assert_eq!(pick(&scores, PairChoice::Extremes), Some((1, 2)));
        assert_eq!(pick(&scores, PairChoice::Closest), Some((0, 3)));
        assert_eq!(pick(&[1.0], PairChoice::Extremes), None);
        assert_eq!(pick(&[1.0, 1.0], PairChoice::Closest), Some((0, 1)));
    }
}
