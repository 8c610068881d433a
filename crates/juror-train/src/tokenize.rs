//! Text into token ids with a checkpoint's own `tokenizer.json`: a (prompt, response) pair as one
//! BERT sentence pair, `[CLS] prompt [SEP] response [SEP]`, cut to a maximum length.
//!
//! When the pair is too long the response keeps its beginning and the prompt keeps its end (the
//! turn just before the response), and the response keeps at least half of the room.

use std::path::Path;

use tokenizers::{Encoding, Tokenizer, TruncationDirection};

use crate::batch::{Sequence, TrainingPair};
use crate::config::BertConfig;
use crate::pairs::TextPair;
use crate::{TrainError, TrainResult};

/// The tokenizer file in a model directory.
pub const TOKENIZER: &str = "tokenizer.json";

/// A checkpoint's tokenizer with the length its pairs are cut to.
#[derive(Clone)]
pub struct PairTokenizer {
    tokenizer: Tokenizer,
    max_length: usize,
    /// Tokens the post-processor adds to a pair (`[CLS]` and two `[SEP]` for BERT).
    added: usize,
}

fn tokenizer_error(path: &Path, error: impl std::fmt::Display) -> TrainError {
    TrainError::File { path: path.display().to_string(), message: error.to_string() }
}

impl PairTokenizer {
    /// Reads `dir/tokenizer.json`, and checks that its ids fit the encoder of `config` and that
    /// `max_length` fits the encoder's positions.
    pub fn load(dir: &Path, config: &BertConfig, max_length: usize) -> TrainResult<Self> {
        let path = dir.join(TOKENIZER);
        let tokenizer = Tokenizer::from_file(&path).map_err(|error| tokenizer_error(&path, error))?;
        Self::new(tokenizer, config, max_length).map_err(|error| match error {
            TrainError::Invalid(message) => tokenizer_error(&path, message),
            other => other,
        })
    }

    pub fn new(mut tokenizer: Tokenizer, config: &BertConfig, max_length: usize) -> TrainResult<Self> {
        let vocabulary = tokenizer.get_vocab_size(true);
        if vocabulary > config.vocab_size {
            return Err(TrainError::Invalid(format!(
                "the tokenizer does not match the model: it has {vocabulary} tokens, the model's config.json only {}",
                config.vocab_size
            )));
        }
        if max_length > config.max_position_embeddings {
            return Err(TrainError::Invalid(format!("a maximum length of {max_length} tokens is more than the model's {} positions", config.max_position_embeddings)));
        }
        tokenizer.with_truncation(None).map_err(|error| TrainError::Invalid(error.to_string()))?;
        tokenizer.with_padding(None);
        let added = tokenizer.get_post_processor().map_or(0, |processor| tokenizers::PostProcessor::added_tokens(processor, true));
        if max_length < added + 2 {
            return Err(TrainError::Invalid(format!("a maximum length of {max_length} tokens leaves no room for text")));
        }
        Ok(Self { tokenizer, max_length, added })
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Writes the tokenizer beside a saved model.
    pub fn save(&self, dir: &Path) -> TrainResult<()> {
        let path = dir.join(TOKENIZER);
        self.tokenizer.save(&path, false).map_err(|error| tokenizer_error(&path, error))
    }

    fn plain(&self, text: &str) -> TrainResult<Encoding> {
        self.tokenizer.encode(text, false).map_err(|error| TrainError::Invalid(format!("could not tokenize: {error}")))
    }

    /// One (prompt, response) sequence, cut to the maximum length.
    pub fn encode(&self, prompt: &str, response: &str) -> TrainResult<Sequence> {
        let (mut prompt, mut response) = (self.plain(prompt)?, self.plain(response)?);
        let room = self.max_length - self.added;
        let (kept_prompt, kept_response) = share_room(prompt.len(), response.len(), room);
        prompt.truncate(kept_prompt, 0, TruncationDirection::Left);
        response.truncate(kept_response, 0, TruncationDirection::Right);
        let pair = self.tokenizer.post_process(prompt, Some(response), true).map_err(|error| TrainError::Invalid(format!("could not tokenize: {error}")))?;
        Ok(Sequence { ids: pair.get_ids().to_vec(), type_ids: pair.get_type_ids().to_vec() })
    }

    /// A text pair as token ids, with its target and weight.
    pub fn training_pair(&self, pair: &TextPair) -> TrainResult<TrainingPair> {
        Ok(TrainingPair { chosen: self.encode(&pair.prompt, &pair.chosen)?, rejected: self.encode(&pair.prompt, &pair.rejected)?, target: pair.target, weight: pair.weight })
    }
}

/// How many tokens the prompt and the response keep out of `room`: all of both when they fit;
/// else the response keeps at least half (all of it when shorter) and the prompt the rest.
fn share_room(prompt: usize, response: usize, room: usize) -> (usize, usize) {
    if prompt + response <= room {
        return (prompt, response);
    }
    let response_kept = response.min(room.saturating_sub(prompt).max(room.div_ceil(2)));
    (prompt.min(room - response_kept), response_kept)
}

/// A whole-word tokenizer over `words` (lower-cased, split on spaces and punctuation), with
/// BERT's special tokens first: `[PAD]` 0, `[UNK]` 1, `[CLS]` 2, `[SEP]` 3. For small models made
/// from scratch (tests, toy data); real backbones bring their own `tokenizer.json`.
pub fn word_level(words: &[&str]) -> TrainResult<Tokenizer> {
    let mut vocabulary = serde_json::Map::new();
    let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"].map(str::to_owned);
    for (id, word) in specials.into_iter().chain(words.iter().map(|word| word.to_lowercase())).enumerate() {
        vocabulary.entry(word).or_insert(id.into());
    }
    let json = serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocabulary, "unk_token": "[UNK]"}
    });
    Tokenizer::from_bytes(json.to_string()).map_err(|error| TrainError::Invalid(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_goes_to_both_then_the_response_keeps_half() {
        assert_eq!(share_room(3, 4, 10), (3, 4));
        assert_eq!(share_room(100, 4, 10), (6, 4));
        assert_eq!(share_room(100, 100, 10), (5, 5));
        assert_eq!(share_room(2, 100, 10), (2, 8));
        assert_eq!(share_room(100, 100, 9), (4, 5));
    }

    #[test]
    fn a_long_prompt_keeps_its_end_and_a_long_response_its_beginning() {
        let words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
        let tokenizer = PairTokenizer::new(word_level(&words).unwrap(), &BertConfig::tiny(20), 9).unwrap();
        let id = |word: &str| 4 + words.iter().position(|known| *known == word).unwrap() as u32;
        let sequence = tokenizer.encode("one two three four five", "six seven eight nine ten").unwrap();
        // Room for 6 of 10 words: the prompt's last three, the response's first three.
        assert_eq!(sequence.ids, vec![2, id("three"), id("four"), id("five"), 3, id("six"), id("seven"), id("eight"), 3]);
        assert_eq!(sequence.type_ids, vec![0, 0, 0, 0, 0, 1, 1, 1, 1]);
        let short = tokenizer.encode("One", "TWO, unknown").unwrap();
        // Unknown words and punctuation become [UNK] (1).
        assert_eq!(short.ids, vec![2, id("one"), 3, id("two"), 1, 1, 3]);
    }

    #[test]
    fn a_tokenizer_bigger_than_the_model_or_a_length_past_its_positions_is_refused() {
        let tokenizer = word_level(&["a", "b", "c"]).unwrap();
        let small = PairTokenizer::new(tokenizer.clone(), &BertConfig::tiny(5), 16).err().unwrap().to_string();
        assert!(small.contains("does not match") && small.contains("7 tokens"), "{small}");
        let long = PairTokenizer::new(tokenizer, &BertConfig::tiny(10), 1000).err().unwrap().to_string();
        assert!(long.contains("64 positions"), "{long}");
    }
}
