//! Checkpoints: a pretrained backbone loaded into a new reward model, and a whole reward model
//! (`model.safetensors` with the head, beside its `config.json`) saved and loaded.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use crate::config::{BertConfig, Pooling};
use crate::reward::{RewardModel, HEAD};
use crate::{TrainError, TrainResult};

/// The weights file in a model directory.
pub const WEIGHTS: &str = "model.safetensors";
/// The sizes file in a model directory.
pub const CONFIG: &str = "config.json";

fn file_error(path: &Path, message: impl std::fmt::Display) -> TrainError {
    TrainError::File { path: path.display().to_string(), message: message.to_string() }
}

/// A new reward model of `config`, randomly initialised, with its parameters.
pub fn fresh(config: &BertConfig, device: &Device) -> TrainResult<(RewardModel, VarMap)> {
    let varmap = VarMap::new();
    let model = RewardModel::new(config, VarBuilder::from_varmap(&varmap, DType::F32, device))?;
    Ok((model, varmap))
}

/// The standard deviation of BERT's initial weights.
const INIT_STD: f64 = 0.02;

/// A new reward model of `config` whose initial weights follow from `seed` alone (BERT's
/// initialisation: normal weights of deviation 0.02, zero biases, unit LayerNorm scales), so a
/// training run can be repeated.
pub fn fresh_seeded(config: &BertConfig, device: &Device, seed: u64) -> TrainResult<(RewardModel, VarMap)> {
    let (model, varmap) = fresh(config, device)?;
    seed_parameters(&varmap, seed, |_| true)?;
    Ok((model, varmap))
}

/// Initialises the head alone from `seed` (after loading a pretrained backbone, whose head is new).
pub fn seed_head(varmap: &VarMap, seed: u64) -> TrainResult<()> {
    seed_parameters(varmap, seed, |name| name.starts_with(&format!("{HEAD}.")))
}

/// Sets the parameters `chosen` picks as BERT initialises them, in name order from `seed`.
fn seed_parameters(varmap: &VarMap, seed: u64, chosen: impl Fn(&str) -> bool) -> TrainResult<()> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut named: Vec<(&String, &candle_core::Var)> = data.iter().filter(|(name, _)| chosen(name)).collect();
    named.sort_by(|left, right| left.0.cmp(right.0));
    for (name, var) in named {
        let count = var.elem_count();
        let values: Vec<f32> = if name.ends_with("LayerNorm.weight") {
            vec![1.0; count]
        } else if name.ends_with(".bias") {
            vec![0.0; count]
        } else {
            // Box-Muller: two uniforms make one standard normal.
            (0..count)
                .map(|_| {
                    let (u, v): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
                    ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos() * INIT_STD) as f32
                })
                .collect()
        };
        var.set(&Tensor::from_vec(values, var.shape(), var.device())?.to_dtype(var.dtype())?)?;
    }
    Ok(())
}

/// Reads a model directory's `config.json`.
pub fn read_config(dir: &Path) -> TrainResult<BertConfig> {
    let path = dir.join(CONFIG);
    let text = std::fs::read_to_string(&path).map_err(|error| file_error(&path, error))?;
    BertConfig::from_json(&text).map_err(|error| file_error(&path, error))
}

fn read_tensors(path: &Path, device: &Device) -> TrainResult<HashMap<String, Tensor>> {
    candle_core::safetensors::load(path, device).map_err(|error| file_error(path, error))
}

/// Sets every parameter of `varmap` whose name `lookup` finds in `tensors`; the names not found.
fn set_from(varmap: &VarMap, tensors: &HashMap<String, Tensor>, lookup: impl Fn(&str) -> Vec<String>) -> TrainResult<Vec<String>> {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut missing = Vec::new();
    for (name, var) in data.iter() {
        match lookup(name).iter().find_map(|candidate| tensors.get(candidate)) {
            Some(tensor) => {
                if tensor.dims() != var.dims() {
                    return Err(TrainError::Invalid(format!("`{name}` is {:?} in the checkpoint but {:?} in the model", tensor.dims(), var.dims())));
                }
                var.set(&tensor.to_dtype(var.dtype())?)?;
            }
            None => missing.push(name.clone()),
        }
    }
    missing.sort();
    Ok(missing)
}

/// Loads a pretrained BERT backbone (a directory with `config.json` and `model.safetensors`,
/// parameters named with or without a `bert.` prefix) into a new reward model with a fresh head
/// that scores the vectors `pooling` makes.
pub fn load_backbone(dir: &Path, pooling: Pooling, device: &Device) -> TrainResult<(RewardModel, VarMap)> {
    let config = BertConfig { pooling, ..read_config(dir)? };
    let (model, varmap) = fresh(&config, device)?;
    let path = dir.join(WEIGHTS);
    let tensors = read_tensors(&path, device)?;
    let missing = set_from(&varmap, &tensors, |name| vec![name.to_owned(), format!("bert.{name}")])?;
    let missing: Vec<String> = missing.into_iter().filter(|name| !name.starts_with(&format!("{HEAD}."))).collect();
    if !missing.is_empty() {
        return Err(file_error(&path, format!("not a checkpoint of this config: it lacks {} (and {} more)", missing[0], missing.len() - 1)));
    }
    Ok((model, varmap))
}

/// A copy of a trained model for scoring alone: its weights shared, not tracked for gradients, so
/// a forward pass keeps no graph of its intermediate results alive.
pub fn inference_copy(model: &RewardModel, varmap: &VarMap) -> TrainResult<RewardModel> {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let tensors: HashMap<String, Tensor> = data.iter().map(|(name, var)| (name.clone(), var.as_tensor().detach())).collect();
    let device = tensors.values().next().map_or(Device::Cpu, |tensor| tensor.device().clone());
    RewardModel::new(model.config(), VarBuilder::from_tensors(tensors, DType::F32, &device))
}

/// Loads a reward model written by [`save`] for scoring alone (see [`inference_copy`]).
pub fn load_for_inference(dir: &Path, device: &Device) -> TrainResult<RewardModel> {
    let config = read_config(dir)?;
    let path = dir.join(WEIGHTS);
    let tensors = read_tensors(&path, device)?;
    RewardModel::new(&config, VarBuilder::from_tensors(tensors, DType::F32, device)).map_err(|error| file_error(&path, format!("not a reward model saved by Juror: {error}")))
}

/// Writes the whole model (backbone and head) and its config into `dir`.
pub fn save(model: &RewardModel, varmap: &VarMap, dir: &Path) -> TrainResult<()> {
    std::fs::create_dir_all(dir).map_err(|error| file_error(dir, error))?;
    let config = serde_json::to_string_pretty(model.config()).map_err(|error| TrainError::Invalid(error.to_string()))?;
    std::fs::write(dir.join(CONFIG), config).map_err(|error| file_error(&dir.join(CONFIG), error))?;
    varmap.save(dir.join(WEIGHTS)).map_err(|error| file_error(&dir.join(WEIGHTS), error))
}

/// Loads a reward model written by [`save`]: every parameter, the head included, must be there.
pub fn load(dir: &Path, device: &Device) -> TrainResult<(RewardModel, VarMap)> {
    let config = read_config(dir)?;
    let (model, varmap) = fresh(&config, device)?;
    let path = dir.join(WEIGHTS);
    let missing = set_from(&varmap, &read_tensors(&path, device)?, |name| vec![name.to_owned()])?;
    if let Some(first) = missing.first() {
        return Err(file_error(&path, format!("not a reward model saved by Juror: it lacks `{first}`")));
    }
    Ok((model, varmap))
}
