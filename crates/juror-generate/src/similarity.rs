//! How alike two candidate responses are: the Jaccard overlap of their word trigrams (shingles),
//! after lower-casing and dropping punctuation. 1 means the same words in the same order; a
//! rewording of a few words keeps it high; different answers score near 0.

use std::collections::HashSet;

/// Shingle length in words.
const SHINGLE: usize = 3;

/// The similarity of `a` and `b`, from 0 to 1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (left, right) = (shingles(a), shingles(b));
    if left.is_empty() && right.is_empty() {
        return 1.0;
    }
    let shared = left.intersection(&right).count();
    shared as f64 / (left.len() + right.len() - shared) as f64
}

/// The highest similarity between any two of `texts`, with the pair's indexes.
pub fn most_similar_pair(texts: &[&str]) -> Option<(usize, usize, f64)> {
    pairs(texts).max_by(|x, y| x.2.total_cmp(&y.2))
}

/// The pair of `texts` that differ most (lowest similarity), with their similarity.
pub fn most_different_pair(texts: &[&str]) -> Option<(usize, usize, f64)> {
    pairs(texts).min_by(|x, y| x.2.total_cmp(&y.2))
}

fn pairs<'a>(texts: &'a [&'a str]) -> impl Iterator<Item = (usize, usize, f64)> + 'a {
    (0..texts.len()).flat_map(move |i| (i + 1..texts.len()).map(move |j| (i, j, similarity(texts[i], texts[j]))))
}

fn shingles(text: &str) -> HashSet<Vec<String>> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() < SHINGLE {
        return if words.is_empty() { HashSet::new() } else { HashSet::from([words]) };
    }
    words.windows(SHINGLE).map(<[String]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_score_one_and_unrelated_ones_zero() {
        assert_eq!(similarity("The cat sat on the mat.", "the cat, sat on the mat"), 1.0);
        assert_eq!(similarity("The cat sat on the mat", "Quantum fields obey gauge symmetry"), 0.0);
        assert_eq!(similarity("", ""), 1.0);
        assert_eq!(similarity("", "something here now"), 0.0);
    }

    #[test]
    fn a_small_edit_stays_similar() {
        let a = "Paris is the capital of France and its largest city by population.";
        let b = "Paris is the capital of France and its biggest city by population.";
        let score = similarity(a, b);
        assert!(score > 0.5 && score < 1.0, "{score}");
    }

    #[test]
    fn pairs_are_found() {
        let texts = ["one two three four", "one two three five", "alpha beta gamma delta"];
        let (i, j, _) = most_similar_pair(&texts).unwrap();
        assert_eq!((i, j), (0, 1));
        let (i, j, score) = most_different_pair(&texts).unwrap();
        assert_eq!(score, 0.0);
        assert!((i, j) == (0, 2) || (i, j) == (1, 2));
        assert!(most_similar_pair(&texts[..1]).is_none());
    }
}
