//! A BERT-family checkpoint's `config.json`: the sizes the encoder is built with.

use serde::{Deserialize, Serialize};

use crate::{TrainError, TrainResult};

/// The encoder's sizes, as BERT checkpoints name them (unknown keys are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// How a reward model pools token states into one vector (Juror's own key; a backbone's
    /// config has none, and reads as `mean`).
    #[serde(default, rename = "juror_pooling")]
    pub pooling: Pooling,
}

/// The feed-forward block's activation, as a checkpoint's `hidden_act` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// The exact GELU, `x Φ(x)` (`gelu`).
    Gelu,
    /// GELU's tanh approximation (`gelu_new`).
    GeluTanh,
    Relu,
}

impl Activation {
    /// The activation `hidden_act` names, if this encoder has it.
    fn named(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::Gelu),
            "gelu_new" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }
}

/// Which tokens' states a reward model averages into the vector its head scores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Every real token, prompt and response (what sentence-embedding checkpoints were trained with).
    #[default]
    Mean,
    /// The response's tokens alone, which have attended to the prompt; the prompt, the same on
    /// both sides of a pair, no longer dilutes the vector.
    Response,
}

fn two() -> usize {
    2
}

fn default_eps() -> f64 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

impl BertConfig {
    /// Reads and checks a `config.json`.
    pub fn from_json(text: &str) -> TrainResult<Self> {
        let config: Self = serde_json::from_str(text).map_err(|error| TrainError::Invalid(format!("config.json: {error}")))?;
        config.check()?;
        Ok(config)
    }

    /// A tiny encoder for tests: 2 layers of 32, 2 heads.
    pub fn tiny(vocab_size: usize) -> Self {
        Self {
            vocab_size,
            hidden_size: 32,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 64,
            max_position_embeddings: 64,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_act: "gelu".into(),
            pooling: Pooling::Mean,
        }
    }

    /// Sizes that fit together, and an activation this encoder has.
    pub fn check(&self) -> TrainResult<()> {
        let fail = |message: String| Err(TrainError::Invalid(format!("config.json: {message}")));
        if self.hidden_size == 0 || self.num_attention_heads == 0 || !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return fail(format!("hidden_size {} is not a multiple of num_attention_heads {}", self.hidden_size, self.num_attention_heads));
        }
        if self.vocab_size == 0 || self.num_hidden_layers == 0 || self.intermediate_size == 0 || self.max_position_embeddings == 0 {
            return fail("vocab_size, num_hidden_layers, intermediate_size and max_position_embeddings must be positive".into());
        }
        if Activation::named(&self.hidden_act).is_none() {
            return fail(format!("hidden_act `{}` is not one of gelu, gelu_new, relu", self.hidden_act));
        }
        Ok(())
    }

    /// The activation `hidden_act` names (a checked config has one of them; the exact GELU
    /// otherwise, BERT's own).
    pub fn activation(&self) -> Activation {
        Activation::named(&self.hidden_act).unwrap_or(Activation::Gelu)
    }

    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minilm_config_reads_and_bad_sizes_are_refused() {
        let text = r#"{"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
            "intermediate_size": 1536, "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
            "hidden_act": "gelu", "model_type": "bert"}"#;
        let config = BertConfig::from_json(text).unwrap();
        assert_eq!((config.hidden_size, config.head_size()), (384, 32));
        let odd = text.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 7");
        assert!(BertConfig::from_json(&odd).unwrap_err().to_string().contains("multiple"));
        assert!(BertConfig::from_json("{}").unwrap_err().to_string().contains("config.json"));
        assert_eq!(config.pooling, Pooling::Mean, "a backbone's config pools every token");
        let saved = serde_json::to_string(&BertConfig { pooling: Pooling::Response, ..config }).unwrap();
        assert!(saved.contains(r#""juror_pooling":"response""#), "{saved}");
        assert_eq!(BertConfig::from_json(&saved).unwrap().pooling, Pooling::Response);
    }
}
