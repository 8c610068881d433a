//! Preference pairs as text, read from a TRL-format JSON-lines file, and split into training and
//! evaluation sets by prompt (no prompt on both sides).
//!
//! A line holds `chosen` and `rejected` and, with an explicit prompt, `prompt`; without one (TRL's
//! implicit-prompt format) the prompt is the two sides' longest common beginning. Each of them may
//! be a string or a list of `{role, content}` messages (the conversational format), rendered as
//! `role: content` blocks. The export's confidence columns are read when present: `p_chosen`
//! becomes the pair's weight, and a tie (`p_chosen` of 0.5) a target of 0.5.

use std::io::BufRead;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::Value;

use crate::{TrainError, TrainResult};

/// One preference pair in text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPair {
    pub prompt: String,
    pub chosen: String,
    pub rejected: String,
    /// P(chosen is better) to learn: 1, or 0.5 for a tie.
    pub target: f32,
    /// The pair's share of the loss: its confidence, 1 when the file says nothing.
    pub weight: f32,
}

/// A side of a pair: a string, or messages rendered as `role: content` blocks.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Array(messages) => {
            let rendered: Option<Vec<String>> = messages
                .iter()
                .map(|message| Some(format!("{}: {}", message.get("role")?.as_str()?, message.get("content")?.as_str()?)))
                .collect();
            Some(rendered?.join("\n\n"))
        }
        _ => None,
    }
}

/// The longest common beginning of the two sides, on a character boundary; a space just before
/// the split stays with the responses.
fn common_prompt(chosen: &str, rejected: &str) -> usize {
    let mut end = 0;
    for ((index, left), right) in chosen.char_indices().zip(rejected.chars()) {
        if left != right {
            break;
        }
        end = index + left.len_utf8();
    }
    if end < chosen.len().min(rejected.len()) && chosen[..end].ends_with(' ') {
        end -= 1;
    }
    end
}

/// Reads one line of a TRL file (`number` counts from 1, for messages).
pub fn parse_line(line: &str, number: usize) -> TrainResult<TextPair> {
    let value: Value = serde_json::from_str(line).map_err(|error| TrainError::Invalid(format!("line {number}: not JSON: {error}")))?;
    parse_value(&value, &format!("line {number}"))
}

/// Reads one row of a TRL file, already parsed (`place` names it in messages: `line 3`, `row 7`).
pub fn parse_value(value: &Value, place: &str) -> TrainResult<TextPair> {
    let invalid = |message: String| TrainError::Invalid(format!("{place}: {message}"));
    let side = |key: &str| value.get(key).and_then(text_of).ok_or_else(|| invalid(format!("needs `{key}`, a string or a list of messages")));
    let (chosen, rejected) = (side("chosen")?, side("rejected")?);
    let (prompt, chosen, rejected) = match value.get("prompt").filter(|prompt| !prompt.is_null()) {
        Some(prompt) => (text_of(prompt).ok_or_else(|| invalid("`prompt` must be a string or a list of messages".into()))?, chosen, rejected),
        None => {
            let end = common_prompt(&chosen, &rejected);
            (chosen[..end].to_owned(), chosen[end..].to_owned(), rejected[end..].to_owned())
        }
    };
    let p_chosen = value.get("p_chosen").and_then(Value::as_f64);
    let target = if p_chosen.is_some_and(|p| (p - 0.5).abs() < 1e-9) { 0.5 } else { 1.0 };
    let weight = p_chosen.map_or(1.0, |p| p.max(1.0 - p)) as f32;
    Ok(TextPair { prompt, chosen, rejected, target, weight })
}

/// Reads a TRL JSON-lines file's pairs; blank lines are skipped. A file without pairs is an error.
pub fn read_jsonl(reader: impl BufRead) -> TrainResult<Vec<TextPair>> {
    let mut pairs = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|error| TrainError::Invalid(format!("line {}: {error}", index + 1)))?;
        if !line.trim().is_empty() {
            pairs.push(parse_line(&line, index + 1)?);
        }
    }
    if pairs.is_empty() {
        return Err(TrainError::Invalid("no pairs to train on".into()));
    }
    Ok(pairs)
}

/// Splits pairs by prompt, in an order fixed by `seed`: whole prompts go to the evaluation set
/// until it holds at least `held_out` pairs, the rest to training. Returns (training, evaluation).
pub fn split_by_prompt(pairs: Vec<TextPair>, held_out: usize, seed: u64) -> (Vec<TextPair>, Vec<TextPair>) {
    let mut prompts: Vec<String> = pairs.iter().map(|pair| pair.prompt.clone()).collect();
    prompts.sort();
    prompts.dedup();
    prompts.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for pair in &pairs {
        *counts.entry(pair.prompt.as_str()).or_default() += 1;
    }
    let mut evaluation_prompts = std::collections::HashSet::new();
    let mut taken = 0;
    for prompt in &prompts {
        if taken >= held_out {
            break;
        }
        taken += counts[prompt.as_str()];
        evaluation_prompts.insert(prompt.clone());
    }
    pairs.into_iter().partition(|pair| !evaluation_prompts.contains(&pair.prompt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_implicit_and_conversational_lines_read_alike() {
        let explicit = parse_line(r#"{"prompt": "Why?", "chosen": "Because.", "rejected": "No."}"#, 1).unwrap();
        assert_eq!((explicit.prompt.as_str(), explicit.chosen.as_str(), explicit.rejected.as_str(), explicit.target, explicit.weight), ("Why?", "Because.", "No.", 1.0, 1.0));
        let implicit = parse_line(r#"{"chosen": "Human: Why?\n\nAssistant: Because it is.", "rejected": "Human: Why?\n\nAssistant: No."}"#, 1).unwrap();
        assert_eq!(implicit.prompt, "Human: Why?\n\nAssistant:");
        assert_eq!((implicit.chosen.as_str(), implicit.rejected.as_str()), (" Because it is.", " No."));
        let chat = parse_line(r#"{"prompt": [{"role": "user", "content": "Why?"}], "chosen": [{"role": "assistant", "content": "Because."}], "rejected": [{"role": "assistant", "content": "No."}], "p_chosen": 0.8}"#, 1).unwrap();
        assert_eq!((chat.prompt.as_str(), chat.chosen.as_str(), chat.weight), ("user: Why?", "assistant: Because.", 0.8));
        let tie = parse_line(r#"{"prompt": "p", "chosen": "a", "rejected": "b", "p_chosen": 0.5}"#, 1).unwrap();
        assert_eq!((tie.target, tie.weight), (0.5, 0.5));
    }

    #[test]
    fn lines_without_both_sides_say_which_and_where() {
        let missing = parse_line(r#"{"prompt": "p", "chosen": "a"}"#, 7).unwrap_err().to_string();
        assert!(missing.contains("line 7") && missing.contains("`rejected`"), "{missing}");
        assert!(parse_line("not json", 2).unwrap_err().to_string().contains("line 2: not JSON"));
        assert!(read_jsonl("\n\n".as_bytes()).unwrap_err().to_string().contains("no pairs"));
    }

    #[test]
    fn the_split_keeps_each_prompt_on_one_side_and_follows_the_seed() {
        let pairs: Vec<TextPair> = (0..100)
            .map(|index| TextPair { prompt: format!("prompt {}", index % 30), chosen: format!("c{index}"), rejected: format!("r{index}"), target: 1.0, weight: 1.0 })
            .collect();
        let (train, evaluation) = split_by_prompt(pairs.clone(), 20, 1);
        assert_eq!(train.len() + evaluation.len(), 100);
        assert!(evaluation.len() >= 20 && evaluation.len() < 24, "{}", evaluation.len());
        let held: std::collections::HashSet<&str> = evaluation.iter().map(|pair| pair.prompt.as_str()).collect();
        assert!(train.iter().all(|pair| !held.contains(pair.prompt.as_str())), "no prompt on both sides");
        assert_eq!(split_by_prompt(pairs.clone(), 20, 1).1, evaluation, "the same seed, the same split");
        assert_ne!(split_by_prompt(pairs, 20, 2).1, evaluation);
    }
}
