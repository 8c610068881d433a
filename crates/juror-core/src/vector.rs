//! Vector settings: named embeddings of records, used for similarity search.

use crate::ids::{DatasetId, VectorSettingsId};
use crate::time::Timestamp;

/// At most this many vector settings per dataset.
pub const MAX_VECTOR_SETTINGS_PER_DATASET: usize = 5;

/// A named vector space of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSettings {
    pub id: VectorSettingsId,
    pub name: String,
    pub title: String,
    pub dimensions: u32,
    pub dataset_id: DatasetId,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Cosine similarity of two vectors of the same length; 0 when either is all zeros.
pub fn cosine_similarity(left: &[f64], right: &[f64]) -> f64 {
    let mut dot = 0.0f64;
    let mut left_norm = 0.0f64;
    let mut right_norm = 0.0f64;
    for (a, b) in left.iter().zip(right) {
        let (a, b) = (*a, *b);
        dot += a * b;
        left_norm += a * a;
        right_norm += b * b;
    }
    if left_norm == 0.0 || right_norm == 0.0 {
        return 0.0;
    }
    dot / (left_norm.sqrt() * right_norm.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_parallel_orthogonal_and_opposite_vectors() {
        assert!((cosine_similarity(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-9);
        assert!(cosine_similarity(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-9);
        assert!((cosine_similarity(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-9);
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }
}
