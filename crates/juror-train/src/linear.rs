//! A linear layer (`weight` `[out, in]` and `bias` `[out]`, as BERT checkpoints name them) that
//! runs as one fused operation ([`crate::fused::dense`]).

use candle_core::Tensor;
use candle_nn::VarBuilder;

use crate::fused;
use crate::TrainResult;

#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    /// The parameters under `vb`, initialised as candle's own linear layer does.
    pub fn new(in_size: usize, out_size: usize, vb: VarBuilder) -> TrainResult<Self> {
        let layer = candle_nn::linear(in_size, out_size, vb)?;
        let bias = layer.bias().cloned().ok_or_else(|| crate::TrainError::Invalid("a linear layer without a bias".into()))?;
        Ok(Self { weight: layer.weight().clone(), bias })
    }

    /// One layer computing `layers`' outputs side by side (their weights stacked; gradients still
    /// reach each of them).
    pub fn stacked(layers: &[&Linear]) -> TrainResult<Self> {
        let weights: Vec<&Tensor> = layers.iter().map(|layer| &layer.weight).collect();
        let biases: Vec<&Tensor> = layers.iter().map(|layer| &layer.bias).collect();
        Ok(Self { weight: Tensor::cat(&weights, 0)?, bias: Tensor::cat(&biases, 0)? })
    }

    /// The weight and bias as plain values, for scoring on the CPU.
    pub(crate) fn for_scoring(&self) -> TrainResult<crate::inference::Dense> {
        Ok(crate::inference::Dense { weight: crate::inference::values(&self.weight)?, bias: crate::inference::values(&self.bias)? })
    }

    /// `x · weightᵀ + bias` over the last dimension of `x`, whatever dimensions lead.
    pub fn forward(&self, x: &Tensor) -> TrainResult<Tensor> {
        fused::dense(x, &self.weight, &self.bias)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::{Module, VarMap};

    use super::*;

    #[test]
    fn it_computes_what_candles_linear_layer_does_on_three_dimensions() {
        let map = VarMap::new();
        let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
        let ours = Linear::new(6, 4, vb.pp("dense")).unwrap();
        let theirs = candle_nn::Linear::new(ours.weight.clone(), Some(ours.bias.clone()));
        let x = Tensor::randn(0f32, 1.0, (2, 5, 6), &Device::Cpu).unwrap();
        let (ours, theirs) = (ours.forward(&x).unwrap(), theirs.forward(&x).unwrap());
        assert_eq!(ours.dims(), &[2, 5, 4]);
        let difference: f32 = (ours - theirs).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar().unwrap();
        assert!(difference < 1e-5, "{difference}");
    }
}
