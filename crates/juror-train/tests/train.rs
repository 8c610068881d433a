//! Training end to end on a tiny randomly initialised encoder: gradients reach the backbone, a
//! learnable preference is learnt, a frozen backbone stays as it was, and a saved model scores as
//! before once loaded.

use candle_core::{Device, Tensor, Var};
use candle_nn::VarMap;
use juror_train::batch::encode;
use juror_train::checkpoint::{fresh, fresh_seeded, load, load_backbone, save};
use juror_train::config::Pooling;
use juror_train::trainer::evaluate;
use juror_train::{BertConfig, Sequence, TrainSettings, Trainer, TrainingPair};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const VOCAB: usize = 40;
/// A token that makes a response better.
const GOOD: u32 = 3;

/// A sequence of 6 to 9 ordinary tokens, with `GOOD` at a random place when `good`.
fn sequence(rng: &mut StdRng, good: bool) -> Sequence {
    let length = rng.gen_range(6..10);
    let mut ids: Vec<u32> = (0..length).map(|_| rng.gen_range(10..VOCAB as u32)).collect();
    if good {
        let place = rng.gen_range(0..length);
        ids[place] = GOOD;
    }
    let type_ids = (0..length).map(|index| u32::from(index >= 3)).collect();
    Sequence { ids, type_ids }
}

fn pairs(seed: u64, count: usize) -> Vec<TrainingPair> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(|_| TrainingPair { chosen: sequence(&mut rng, true), rejected: sequence(&mut rng, false), target: 1.0, weight: 1.0 }).collect()
}

fn weight(varmap: &VarMap, name: &str) -> Tensor {
    let data = varmap.data().lock().unwrap();
    let var: &Var = data.get(name).unwrap_or_else(|| panic!("no parameter `{name}`"));
    var.as_tensor().copy().unwrap()
}

fn distance(left: &Tensor, right: &Tensor) -> f32 {
    left.sub(right).unwrap().sqr().unwrap().sum_all().unwrap().sqrt().unwrap().to_scalar::<f32>().unwrap()
}

fn settings(total_steps: usize) -> TrainSettings {
    TrainSettings { backbone_learning_rate: 2e-3, head_learning_rate: 5e-3, weight_decay: 0.0, warmup_steps: 5, schedule: Default::default(), total_steps, max_grad_norm: Some(1.0), freeze_backbone: false, freeze_word_embeddings: false, micro_batch: None }
}

#[test]
fn one_step_moves_weights_deep_in_the_backbone() {
    let device = Device::Cpu;
    let (model, varmap) = fresh(&BertConfig::tiny(VOCAB), &device).unwrap();
    let probes = ["encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.output.LayerNorm.weight", "embeddings.word_embeddings.weight", "score.weight"];
    let before: Vec<Tensor> = probes.iter().map(|name| weight(&varmap, name)).collect();
    let mut trainer = Trainer::new(model, varmap, settings(10)).unwrap();
    let report = trainer.step_pairs(&pairs(7, 8), &device).unwrap();
    assert!(report.loss.is_finite() && report.grad_norm > 0.0, "{report:?}");
    for (name, before) in probes.iter().zip(&before) {
        let moved = distance(before, &weight(trainer.varmap(), name));
        assert!(moved > 0.0, "`{name}` did not move after one step: the gradient stopped above it");
    }
}

#[test]
fn frozen_word_embeddings_stay_while_the_rest_of_the_backbone_moves() {
    let device = Device::Cpu;
    let (model, varmap) = fresh(&BertConfig::tiny(VOCAB), &device).unwrap();
    let (words, deep) = ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight");
    let (words_before, deep_before) = (weight(&varmap, words), weight(&varmap, deep));
    let mut trainer = Trainer::new(model, varmap, TrainSettings { freeze_word_embeddings: true, weight_decay: 0.1, ..settings(10) }).unwrap();
    for _ in 0..3 {
        trainer.step_pairs(&pairs(7, 8), &device).unwrap();
    }
    assert_eq!(distance(&words_before, &weight(trainer.varmap(), words)), 0.0, "not even weight decay touches them");
    assert!(distance(&deep_before, &weight(trainer.varmap(), deep)) > 0.0);
}

#[test]
fn a_tiny_encoder_learns_a_learnable_preference() {
    let device = Device::Cpu;
    let (train, held_out) = (pairs(11, 256), pairs(97, 128));
    let (model, varmap) = fresh_seeded(&BertConfig::tiny(VOCAB), &device, 42).unwrap();
    let before = evaluate(&model, &held_out, 64, &device).unwrap();
    let epochs = 6;
    let batch = 16;
    let mut trainer = Trainer::new(model, varmap, settings(epochs * train.len() / batch)).unwrap();
    for _ in 0..epochs {
        for chunk in train.chunks(batch) {
            trainer.step_pairs(chunk, &device).unwrap();
        }
    }
    let after = evaluate(trainer.model(), &held_out, 64, &device).unwrap();
    assert!(after.accuracy > 0.9, "held-out accuracy {:.3} (before training {:.3})", after.accuracy, before.accuracy);
    assert!(after.mean_margin > before.mean_margin && after.loss < before.loss, "{before:?} -> {after:?}");
}

#[test]
fn a_frozen_backbone_stays_as_it_was_while_the_head_learns_on_cached_embeddings() {
    let device = Device::Cpu;
    let (model, varmap) = fresh(&BertConfig::tiny(VOCAB), &device).unwrap();
    let backbone_before = weight(&varmap, "encoder.layer.1.output.dense.weight");
    let head_before = weight(&varmap, "score.weight");
    let frozen = TrainSettings { freeze_backbone: true, ..settings(20) };
    let mut trainer = Trainer::new(model, varmap, frozen).unwrap();
    let train = pairs(5, 64);
    let chosen: Vec<&Sequence> = train.iter().map(|pair| &pair.chosen).collect();
    let rejected: Vec<&Sequence> = train.iter().map(|pair| &pair.rejected).collect();
    let chosen = trainer.model().embed(&encode(&chosen, &device).unwrap()).unwrap();
    let rejected = trainer.model().embed(&encode(&rejected, &device).unwrap()).unwrap();
    let ones = Tensor::ones(train.len(), candle_core::DType::F32, &device).unwrap();
    for _ in 0..20 {
        let report = trainer.step_on_embeddings(&chosen, &rejected, &ones, &ones).unwrap();
        assert_eq!(report.learning_rate, 0.0);
    }
    assert_eq!(distance(&backbone_before, &weight(trainer.varmap(), "encoder.layer.1.output.dense.weight")), 0.0);
    assert!(distance(&head_before, &weight(trainer.varmap(), "score.weight")) > 0.0);
}

#[test]
fn a_seed_fixes_the_initial_weights() {
    let device = Device::Cpu;
    let config = BertConfig::tiny(VOCAB);
    let name = "encoder.layer.1.intermediate.dense.weight";
    let (_, first) = fresh_seeded(&config, &device, 7).unwrap();
    let (_, again) = fresh_seeded(&config, &device, 7).unwrap();
    let (_, other) = fresh_seeded(&config, &device, 8).unwrap();
    assert_eq!(distance(&weight(&first, name), &weight(&again, name)), 0.0);
    assert!(distance(&weight(&first, name), &weight(&other, name)) > 0.0);
    let deviation = weight(&first, name).sqr().unwrap().mean_all().unwrap().sqrt().unwrap().to_scalar::<f32>().unwrap();
    assert!((deviation - 0.02).abs() < 0.002, "{deviation}");
    assert_eq!(weight(&first, "encoder.layer.0.output.LayerNorm.weight").to_vec1::<f32>().unwrap(), vec![1.0; 32]);
}

#[test]
fn a_saved_model_scores_the_same_once_loaded_and_bad_directories_say_why() {
    let device = Device::Cpu;
    let (model, varmap) = fresh(&BertConfig::tiny(VOCAB), &device).unwrap();
    let sample = pairs(3, 6);
    let sequences: Vec<&Sequence> = sample.iter().map(|pair| &pair.chosen).collect();
    let encoded = encode(&sequences, &device).unwrap();
    let scores: Vec<f32> = model.score(&encoded).unwrap().to_vec1().unwrap();
    let dir = tempfile::tempdir().unwrap();
    save(&model, &varmap, dir.path()).unwrap();
    let (loaded, _) = load(dir.path(), &device).unwrap();
    let again: Vec<f32> = loaded.score(&encoded).unwrap().to_vec1().unwrap();
    assert_eq!(scores, again);

    // A saved reward model is also a backbone: its encoder loads, with a new head.
    let (backbone, _) = load_backbone(dir.path(), Pooling::Mean, &device).unwrap();
    let embedded = |model: &juror_train::RewardModel| model.embed(&encoded).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(embedded(&backbone), embedded(&loaded));

    let empty = tempfile::tempdir().unwrap();
    let missing = load(empty.path(), &device).err().unwrap().to_string();
    assert!(missing.contains("config.json"), "{missing}");
    let other = tempfile::tempdir().unwrap();
    let bigger = BertConfig { num_hidden_layers: 3, ..BertConfig::tiny(VOCAB) };
    std::fs::write(other.path().join("config.json"), serde_json::to_string(&bigger).unwrap()).unwrap();
    std::fs::copy(dir.path().join("model.safetensors"), other.path().join("model.safetensors")).unwrap();
    let mismatch = load_backbone(other.path(), Pooling::Mean, &device).err().unwrap().to_string();
    assert!(mismatch.contains("lacks encoder.layer.2"), "{mismatch}");
}

#[test]
fn micro_batches_make_the_same_step_as_the_whole_batch() {
    let device = Device::Cpu;
    let config = BertConfig::tiny(VOCAB);
    let mut batch = pairs(21, 7);
    batch[2].weight = 0.6;
    batch[4].target = 0.5;
    let probe = "encoder.layer.1.attention.self.key.weight";
    let mut after = Vec::new();
    for micro_batch in [None, Some(2), Some(3)] {
        let (model, varmap) = fresh_seeded(&config, &device, 5).unwrap();
        let mut trainer = Trainer::new(model, varmap, TrainSettings { micro_batch, ..settings(10) }).unwrap();
        let report = trainer.step_pairs(&batch, &device).unwrap();
        after.push((report.loss, report.grad_norm, weight(trainer.varmap(), probe)));
    }
    let (loss, norm, whole) = &after[0];
    for (other_loss, other_norm, other) in &after[1..] {
        assert!((loss - other_loss).abs() < 1e-5 && (norm - other_norm).abs() < 1e-4, "{loss} {norm} vs {other_loss} {other_norm}");
        assert!(distance(whole, other) < 1e-5, "the weights after the step differ by {}", distance(whole, other));
    }
    let moved = distance(whole, &weight(&fresh_seeded(&config, &device, 5).unwrap().1, probe));
    assert!(moved > 1e-4, "the step moved the probe by {moved}");
}
