//! Layer normalisation with a backward pass (candle's own fused one has none): the fused kernel
//! of [`crate::fused`] on the CPU, primitive operations elsewhere.

use candle_core::Tensor;
use candle_nn::{Init, VarBuilder};

use crate::TrainResult;

/// `(x - mean) / sqrt(var + eps) * weight + bias` over the last dimension.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    /// `weight` (ones) and `bias` (zeros) of size `size` under `vb`.
    pub fn new(size: usize, eps: f64, vb: VarBuilder) -> TrainResult<Self> {
        let weight = vb.get_with_hints(size, "weight", Init::Const(1.0))?;
        let bias = vb.get_with_hints(size, "bias", Init::Const(0.0))?;
        Ok(Self { weight, bias, eps })
    }

    /// The parameters as plain values, for scoring on the CPU.
    pub(crate) fn for_scoring(&self) -> TrainResult<crate::inference::Norm> {
        Ok(crate::inference::Norm { weight: crate::inference::values(&self.weight)?, bias: crate::inference::values(&self.bias)?, eps: self.eps as f32 })
    }

    pub fn forward(&self, x: &Tensor) -> TrainResult<Tensor> {
        crate::fused::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Var};
    use candle_nn::VarMap;

    use super::*;

    #[test]
    fn normalises_the_last_dimension_and_passes_gradients_back() {
        let device = Device::Cpu;
        let map = VarMap::new();
        let norm = LayerNorm::new(4, 1e-12, VarBuilder::from_varmap(&map, DType::F32, &device)).unwrap();
        let input = Var::new(&[[1f32, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 6.0]], &device).unwrap();
        let out = norm.forward(input.as_tensor()).unwrap();
        let rows: Vec<Vec<f32>> = out.to_vec2().unwrap();
        for row in &rows {
            let mean: f32 = row.iter().sum::<f32>() / 4.0;
            let variance: f32 = row.iter().map(|value| (value - mean).powi(2)).sum::<f32>() / 4.0;
            assert!(mean.abs() < 1e-5 && (variance - 1.0).abs() < 1e-4, "{row:?}");
        }
        // Weight the outputs unevenly so the gradient is not zero by symmetry.
        let loss = out.broadcast_mul(&Tensor::new(&[1f32, 0.0, 0.0, 3.0], &device).unwrap()).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        let to_input = grads.get(input.as_tensor()).expect("a gradient reaches the input");
        assert!(to_input.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() > 1e-3);
        assert!(grads.get(&norm.weight).is_some() && grads.get(&norm.bias).is_some());
    }
}
