//! Generating the candidate responses that labelers will rank.
//!
//! Juror talks to any server that speaks OpenAI's `/v1/chat/completions` or `/v1/completions`
//! (vLLM, TGI, llama.cpp's llama-server, Ollama, hosted APIs):
//!
//! - [`client`]: one endpoint, with timeouts, retries on transport errors and 5xx (exponential
//!   backoff with jitter), `429 Retry-After` honoured, and clear errors for a wrong endpoint or
//!   model;
//! - [`strategy`]: which requests make a prompt's candidates (`samples`, `temperatures`,
//!   `models`, `best-of-k`) and, for best-of-k, which pair to keep;
//! - [`reward`]: best-of-k's pair picked by a reward model's scores (the best against the worst,
//!   or the closest pair);
//! - [`similarity`]: how alike two candidates are, to catch near-duplicates;
//! - [`generate`]: one prompt's candidates, regenerating near-duplicates up to a limit, with the
//!   provenance of each response.
//!
//! Reading prompts and writing records is the CLI's job (`juror generate`).

pub mod client;
pub mod generate;
pub mod retry;
pub mod reward;
pub mod similarity;
pub mod strategy;

pub use client::{Api, Client, ClientError, Completion, Sampling, Target};
pub use generate::{generate, Candidate, Generated, Settings};
pub use retry::RetryPolicy;
pub use reward::{PairChoice, Ranker, RewardPick};
pub use strategy::Strategy;
