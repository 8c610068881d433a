//! The Bradley-Terry loss of a batch of pairs: `-(y log s(d) + (1 - y) log s(-d))` for the
//! score difference `d = r_chosen - r_rejected` and target `y` (1 a clear preference, 0.5 a tie),
//! weighted per pair and averaged over the weights.

use candle_core::Tensor;

use crate::TrainResult;

/// `log(1 + e^x)`, stably: `max(x, 0) + log(1 + e^-|x|)`, from differentiable operations.
fn softplus(x: &Tensor) -> TrainResult<Tensor> {
    Ok(x.relu()?.add(&x.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?)
}

/// The weighted mean loss over the batch, a scalar.
pub fn bradley_terry(chosen: &Tensor, rejected: &Tensor, targets: &Tensor, weights: &Tensor) -> TrainResult<Tensor> {
    let total_weight = weights.sum_all()?.clamp(1e-12, f64::MAX)?;
    Ok(weighted_sum(chosen, rejected, targets, weights)?.div(&total_weight)?)
}

/// The weighted loss of part of a batch divided by the whole batch's weight: the parts of a batch
/// add up to its [`bradley_terry`] loss, and so do their gradients.
pub fn bradley_terry_part(chosen: &Tensor, rejected: &Tensor, targets: &Tensor, weights: &Tensor, batch_weight: f64) -> TrainResult<Tensor> {
    Ok(weighted_sum(chosen, rejected, targets, weights)?.affine(1.0 / batch_weight.max(1e-12), 0.0)?)
}

fn weighted_sum(chosen: &Tensor, rejected: &Tensor, targets: &Tensor, weights: &Tensor) -> TrainResult<Tensor> {
    let difference = chosen.sub(rejected)?;
    // -log s(d) = softplus(-d); -log s(-d) = softplus(d).
    let per_pair = targets.mul(&softplus(&difference.neg()?)?)?.add(&targets.affine(-1.0, 1.0)?.mul(&softplus(&difference)?)?)?;
    Ok(per_pair.mul(weights)?.sum_all()?)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn loss(chosen: &[f32], rejected: &[f32], targets: &[f32], weights: &[f32]) -> f32 {
        let tensor = |values: &[f32]| Tensor::new(values, &Device::Cpu).unwrap();
        bradley_terry(&tensor(chosen), &tensor(rejected), &tensor(targets), &tensor(weights)).unwrap().to_scalar::<f32>().unwrap()
    }

    #[test]
    fn matches_the_formula_for_preferences_ties_and_weights() {
        // Equal scores: ln 2 whatever the target.
        assert!((loss(&[0.3], &[0.3], &[1.0], &[1.0]) - std::f32::consts::LN_2).abs() < 1e-6);
        assert!((loss(&[0.3], &[0.3], &[0.5], &[1.0]) - std::f32::consts::LN_2).abs() < 1e-6);
        // d = 2: -log s(2) = log(1 + e^-2).
        let expected = (1.0 + (-2f32).exp()).ln();
        assert!((loss(&[2.0], &[0.0], &[1.0], &[1.0]) - expected).abs() < 1e-6);
        // A tie is best at d = 0, so a difference costs more than the target 1 would at that side.
        assert!(loss(&[2.0], &[0.0], &[0.5], &[1.0]) > expected);
        // Huge differences stay finite.
        assert!((loss(&[80.0], &[-80.0], &[1.0], &[1.0])).abs() < 1e-6);
        assert!((loss(&[-80.0], &[80.0], &[1.0], &[1.0]) - 160.0).abs() < 1e-3);
        // Weights: a pair of weight 0 counts for nothing.
        assert!((loss(&[2.0, -5.0], &[0.0, 0.0], &[1.0, 1.0], &[1.0, 0.0]) - expected).abs() < 1e-6);
    }
}
