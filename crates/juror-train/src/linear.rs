//! A linear layer (`weight` `[out, in]` and `bias` `[out]`, as BERT checkpoints name them) whose
//! bias goes through the fused kernel, so its gradient is one parallel pass.

use candle_core::{Tensor, D};
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

    /// `x · weightᵀ + bias` over the last dimension of `x`, whatever dimensions lead.
    pub fn forward(&self, x: &Tensor) -> TrainResult<Tensor> {
        let mut dims = x.dims().to_vec();
        let rows = x.contiguous()?.flatten_to(D::Minus2)?;
        let product = rows.matmul(&self.weight.t()?)?;
        if let Some(last) = dims.last_mut() {
            *last = self.weight.dim(0)?;
        }
        Ok(fused::add_bias(&product, &self.bias)?.reshape(dims)?)
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
