//! The export formats by name, as the command line and (later) the API pick them.

use std::str::FromStr;

use crate::error::ExportError;

/// A preference-pair file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairFormat {
    /// TRL's standard format with an explicit prompt: `{"prompt", "chosen", "rejected"}`.
    Trl,
    /// TRL's implicit-prompt format: `{"chosen", "rejected"}`, each the prompt followed by a blank
    /// line and the response.
    TrlImplicit,
    /// TRL's conversational format: lists of `{"role", "content"}` messages.
    TrlConversational,
    /// OpenAI's DPO fine-tuning format: `input.messages`, `preferred_output`, `non_preferred_output`.
    OpenAiDpo,
}

/// Any export: a pair format, or the raw per-labeler judgments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Resolved (prompt, chosen, rejected) pairs.
    Pairs(PairFormat),
    /// One line per labeler response.
    Judgments,
}

impl Format {
    /// Every accepted name, in the order help texts list them.
    pub const NAMES: [&'static str; 5] = ["trl", "trl-implicit", "trl-conversational", "openai-dpo", "judgments"];

    /// The format's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pairs(PairFormat::Trl) => "trl",
            Format::Pairs(PairFormat::TrlImplicit) => "trl-implicit",
            Format::Pairs(PairFormat::TrlConversational) => "trl-conversational",
            Format::Pairs(PairFormat::OpenAiDpo) => "openai-dpo",
            Format::Judgments => "judgments",
        }
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let format = match name {
            "trl" => Format::Pairs(PairFormat::Trl),
            "trl-implicit" => Format::Pairs(PairFormat::TrlImplicit),
            "trl-conversational" => Format::Pairs(PairFormat::TrlConversational),
            "openai-dpo" => Format::Pairs(PairFormat::OpenAiDpo),
            "judgments" => Format::Judgments,
            _ => return Err(ExportError::UnknownFormat { name: name.to_owned(), expected: Self::NAMES.join(", ") }),
        };
        Ok(format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back() {
        for name in Format::NAMES {
            assert_eq!(name.parse::<Format>().unwrap().as_str(), name);
        }
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        let error = "parquet".parse::<Format>().unwrap_err();
        assert_eq!(error.to_string(), "unknown export format `parquet`, expected one of: trl, trl-implicit, trl-conversational, openai-dpo, judgments");
    }
}
