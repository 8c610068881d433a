//! The command line: every command and flag, with its environment variable where it has one.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Juror collects human preference data (rankings of model responses) for reward models and DPO.
///
/// It serves Argilla's API, so the Argilla Python SDKs work against it unchanged, from one binary
/// and one SQLite file.
#[derive(Debug, Parser)]
#[command(name = "juror", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (API and labeling UI).
    Serve(ServeArgs),
    /// Import records into a published dataset from a JSONL, CSV or Parquet file.
    Import(ImportArgs),
    /// Manage datasets.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Split a dataset's records among labelers, balanced: each record goes only to `--overlap`
    /// of them, and each labeler gets the same number of records, give or take one.
    Split(SplitArgs),
    /// Bring the answers from `split --into-workspaces` copies back onto the original records.
    Consolidate(ConsolidateArgs),
    /// Limit how many records a labeler may take in a dataset.
    Quota(QuotaArgs),
    /// Quality control while collecting: a dataset's settings, its gold records, and labelers'
    /// standing by their gold answers.
    #[command(subcommand)]
    Quality(QualityCommand),
    /// Generate candidate responses for prompts with any OpenAI-compatible model server, into a
    /// dataset or a JSONL file that `juror import` reads.
    Generate(Box<GenerateArgs>),
    /// Write a dataset's preference pairs (or its raw judgments) as JSON lines or Parquet for training.
    Export(ExportArgs),
    /// Print how far a dataset's preference data can be trusted: agreement and length bias.
    Metrics(MetricsArgs),
    /// Train a reward model on preference pairs: a dataset's, or a TRL-format file's.
    Train(Box<TrainArgs>),
    /// Score (prompt, response) pairs with a reward model trained by `juror train`: rows of a
    /// file, or a dataset's records (optionally written back as suggestions).
    Score(Box<ScoreArgs>),
    /// Write a consistent copy of the database to a new file, while the server keeps running.
    Backup(BackupArgs),
    /// Apply pending database migrations and say which database is in use (every command also
    /// migrates when it opens the database).
    Migrate(DataArgs),
    /// Copy a whole SQLite installation into an empty PostgreSQL database, and check the counts.
    Copy(CopyArgs),
    /// Replace the database with a backup; the server must be stopped.
    Restore(RestoreArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Directory holding the SQLite database (created if missing); not used with --database-url.
    #[arg(long, env = "JUROR_DATA_DIR", default_value = "./juror-data")]
    pub data_dir: PathBuf,
    /// A PostgreSQL database to use instead of the data directory's SQLite file, for several
    /// servers on one database: postgres://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(long, env = "JUROR_DATABASE_URL")]
    pub database_url: Option<String>,
}

/// Which dataset a command works on.
#[derive(Debug, Clone, Args)]
pub struct DatasetArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Name of the dataset.
    #[arg(long)]
    pub dataset: String,
    /// Workspace of the dataset, when the name is not unique.
    #[arg(long)]
    pub workspace: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, env = "JUROR_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, env = "JUROR_PORT", default_value_t = 6900)]
    pub port: u16,
    /// Also load a small example comparison dataset, if it is not there yet.
    #[arg(long)]
    pub demo: bool,
    /// How long a labeler holds a record handed out to them, in minutes.
    #[arg(long, env = "JUROR_LEASE_MINUTES", default_value_t = 10)]
    pub lease_minutes: u64,
    /// Largest request body the record routes (bulk imports) accept, in MiB; other routes take
    /// at most 4 MiB, web forms 1 MiB.
    #[arg(long, env = "JUROR_MAX_BODY_MIB", default_value_t = 64)]
    pub max_body_mib: usize,
    /// Longest a request may take until its response starts, in seconds (streamed exports run on
    /// once started); slower ones are answered 408.
    #[arg(long, env = "JUROR_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    pub request_timeout_secs: u64,
    /// Longest a connection may take to send a request's headers, or stay idle between requests,
    /// in seconds; then it is closed.
    #[arg(long, env = "JUROR_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// How log lines are written: `text` for people, `json` (one object a line, the request's id
    /// and route in each) for log collectors.
    #[arg(long, value_enum, env = "JUROR_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Serve Prometheus metrics at `/metrics` to anyone who reaches the server.
    #[arg(long)]
    pub metrics: bool,
    /// Serve `/metrics` only with `Authorization: Bearer TOKEN` (implies --metrics).
    #[arg(long, env = "JUROR_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Let webhooks deliver to this machine (loopback, this server's address) and to link-local
    /// addresses; refused otherwise, so a webhook cannot reach services only this host sees.
    #[arg(long, env = "JUROR_WEBHOOKS_ALLOW_LOCAL")]
    pub webhooks_allow_local: bool,
    /// Wait before the first retry of a failed webhook delivery, in milliseconds; each later
    /// wait doubles, up to an hour.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub webhooks_retry_ms: u64,
    /// Attempts at one webhook delivery before it is marked failed.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub webhooks_max_attempts: u32,
    /// Longest one webhook delivery attempt may take, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub webhooks_timeout_secs: u64,
    /// Start on an address other machines can reach even while the well-known default API key
    /// or owner password still opens an account (refused otherwise).
    #[arg(long, env = "JUROR_ALLOW_DEFAULT_CREDENTIALS")]
    pub allow_default_credentials: bool,
    /// Address of a reverse proxy whose `X-Forwarded-For` names the real client, for the login
    /// throttle (repeatable, or comma-separated in the environment variable).
    #[arg(long = "trusted-proxy", env = "JUROR_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    #[command(flatten)]
    pub owner: OwnerArgs,
}

/// The owner created on first start, when there are no users.
#[derive(Debug, Args)]
pub struct OwnerArgs {
    /// Username of the default owner.
    #[arg(long, env = "JUROR_OWNER_USERNAME", default_value = "argilla")]
    pub owner_username: String,
    /// Password of the default owner.
    #[arg(long, env = "JUROR_OWNER_PASSWORD", default_value = juror_app::WELL_KNOWN_PASSWORD, hide_env_values = true)]
    pub owner_password: String,
    /// API key of the default owner.
    #[arg(long, env = "JUROR_OWNER_API_KEY", default_value = juror_app::WELL_KNOWN_API_KEY, hide_env_values = true)]
    pub owner_api_key: String,
    /// Workspace created with the default owner.
    #[arg(long, env = "JUROR_WORKSPACE", default_value = "argilla")]
    pub workspace: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The file to write; it must not exist.
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The data directory of the SQLite installation to copy (stop its server first).
    #[arg(long)]
    pub from: PathBuf,
    /// The PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(long)]
    pub to: String,
    /// Copy even when the target already holds Juror data (rows that collide fail the copy).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// A file written by `juror backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// Replace a database that is there already (it is kept beside, renamed, not deleted).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// Records per transaction.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// The file: `.jsonl`/`.ndjson` (one object per line), `.csv` (a header row) or `.parquet`
    /// (snappy, gzip or uncompressed). Columns are
    /// matched to fields and metadata properties by name; `external_id` (or `id`) is kept; a
    /// `gold` column holding a verdict (`{"question", "chosen", "rejected"}` or `{"question",
    /// "value"}`) makes its record gold.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Prompts from a `.jsonl`, `.csv` or `.parquet` file.
    #[arg(long, conflicts_with = "from_dataset", required_unless_present = "from_dataset")]
    pub prompts: Option<PathBuf>,
    /// Prompts from an existing dataset's `--prompt-field` instead of a file.
    #[arg(long)]
    pub from_dataset: Option<String>,
    /// The file column holding the prompt.
    #[arg(long, default_value = "prompt")]
    pub prompt_column: String,
    /// The file column holding a stable id for each prompt (default: `external_id` or `id` when
    /// present, else a hash of the prompt text). It becomes the record's external id.
    #[arg(long)]
    pub id_column: Option<String>,
    /// The field holding the prompt, with `--from-dataset`.
    #[arg(long, default_value = "prompt")]
    pub prompt_field: String,
    /// Generate for the first N prompts only.
    #[arg(long)]
    pub limit: Option<usize>,

    /// Write the records into this dataset, creating it (prompt, response-1..N, a ranking
    /// question) when it does not exist.
    #[arg(long, conflicts_with = "output", required_unless_present = "output")]
    pub dataset: Option<String>,
    /// Workspace of `--dataset` (default: the first workspace).
    #[arg(long)]
    pub workspace: Option<String>,
    /// Write the records as JSON lines to this file instead (appending; `juror import` reads it).
    #[arg(long)]
    pub output: Option<PathBuf>,

    /// Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080 (repeat for several).
    #[arg(long = "endpoint", required = true, env = "JUROR_GENERATE_ENDPOINT", value_delimiter = ',')]
    pub endpoints: Vec<String>,
    /// Model name (repeat for several; paired with the endpoints in order, or all on one endpoint).
    #[arg(long = "model", required = true, value_delimiter = ',')]
    pub models: Vec<String>,
    /// API key sent as a bearer token.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Which completion API to call.
    #[arg(long, value_enum, default_value_t = ApiArg::Chat)]
    pub api: ApiArg,
    /// A system message before each prompt (chat only).
    #[arg(long)]
    pub system: Option<String>,

    /// How the candidates of a prompt are made different.
    #[arg(long, value_enum, default_value_t = GenerationStrategyArg::Samples)]
    pub strategy: GenerationStrategyArg,
    /// Candidates per prompt, for `samples`.
    #[arg(long, default_value_t = 2)]
    pub candidates: u32,
    /// Temperatures, comma-separated, for `temperatures`.
    #[arg(long, value_delimiter = ',')]
    pub temperatures: Vec<f64>,
    /// Samples to draw, for `best-of-k`.
    #[arg(long, default_value_t = 4)]
    pub k: u32,
    /// For `best-of-k`: keep the candidates this reward model (from `juror train`) scores highest
    /// and lowest, instead of the two that differ most.
    #[arg(long)]
    pub reward_model: Option<PathBuf>,
    /// With --reward-model: keep the two candidates closest in score instead (the pair the model
    /// is least sure of, where a person's ranking teaches it most).
    #[arg(long, requires = "reward_model")]
    pub closest_pair: bool,

    #[arg(long)]
    pub temperature: Option<f64>,
    #[arg(long)]
    pub top_p: Option<f64>,
    #[arg(long)]
    pub top_k: Option<u32>,
    #[arg(long, default_value_t = 512)]
    pub max_tokens: u32,
    /// A stop sequence (repeat for several).
    #[arg(long)]
    pub stop: Vec<String>,
    /// Base seed; each sample adds its index, so a rerun asks for the same samples.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Choices asked per request (the API's `n`); 1 sends one request per candidate.
    #[arg(long, default_value_t = 1)]
    pub n: u32,

    /// Candidates at least this similar (word-trigram overlap, 0 to 1) are near-duplicates.
    #[arg(long, default_value_t = 0.9)]
    pub similarity_threshold: f64,
    /// Regenerations per prompt for near-duplicate or empty candidates; what stays similar is
    /// flagged in the record's metadata.
    #[arg(long, default_value_t = 2)]
    pub max_regenerations: u32,

    /// Prompts in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Seconds before one request gives up.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Retries of a request on transport errors, 5xx and 429 (exponential backoff with jitter).
    #[arg(long, default_value_t = 6)]
    pub retries: u32,
}

#[derive(Debug, Args)]
pub struct SplitArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// Usernames of the labelers, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub among: Vec<String>,
    /// How many labelers each record goes to.
    #[arg(long, default_value_t = 1)]
    pub overlap: usize,
    /// Instead of assigning records inside the dataset, copy each labeler's share into a dataset
    /// of the same name in the labeler's own workspace (named after them, created if missing).
    #[arg(long)]
    pub into_workspaces: bool,
}

#[derive(Debug, Args)]
pub struct ConsolidateArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// Usernames of the labelers whose copies to bring back, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub among: Vec<String>,
}

#[derive(Debug, Args)]
pub struct QuotaArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// Username of the labeler.
    #[arg(long)]
    pub user: String,
    /// Most records (submitted plus leased) the labeler may take; `none` removes the limit.
    #[arg(long)]
    pub max: String,
}

#[derive(Debug, Subcommand)]
pub enum QualityCommand {
    /// Print the dataset's settings and each labeler's gold standing.
    Show(DatasetArgs),
    /// Replace the dataset's settings with a JSON object, e.g.
    /// `{"adaptive": {"question": "preference", "min": 2, "max": 5, "confidence": 0.85},
    /// "gold": {"rate": 0.1, "pause": true}}` (`null` or absent turns a part off).
    Set(QualitySetArgs),
    /// Mark gold records from a JSONL file: one `{"external_id" or "record_id", "verdict":
    /// {"question", "chosen", "rejected"} or {"question", "value"}}` per line.
    Gold(GoldArgs),
    /// Let a labeler paused by their gold answers go on.
    Resume(ResumeArgs),
}

#[derive(Debug, Args)]
pub struct QualitySetArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// The settings, as JSON.
    pub settings: String,
}

#[derive(Debug, Args)]
pub struct GoldArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// The JSONL file of gold records and their verdicts.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// Username of the labeler.
    #[arg(long)]
    pub user: String,
}

/// The completion API `juror generate` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiArg {
    /// /v1/chat/completions, for instruct models.
    Chat,
    /// /v1/completions, for base models.
    Completions,
}

/// How `juror generate` makes a prompt's candidates differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GenerationStrategyArg {
    /// --candidates samples from one setting.
    Samples,
    /// One candidate per --temperatures value.
    Temperatures,
    /// One candidate per --model.
    Models,
    /// --k samples, the two most different kept.
    BestOfK,
}

/// How disagreeing labelers are resolved into one verdict per pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// The most common verdict.
    Majority,
    /// The lower mean rank wins.
    MeanRank,
    /// The most Borda points win.
    Borda,
    /// Votes weighted by each labeler's estimated accuracy (Dawid-Skene).
    Reliability,
}

/// Which pairs to resolve, and with which question and prompt.
#[derive(Debug, Args)]
pub struct PreferenceArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// Conflict resolution between labelers.
    #[arg(long, value_enum, default_value_t = StrategyArg::Majority)]
    pub strategy: StrategyArg,
    /// The preference question (default: the first ranking question, else a 0/1/2 rating).
    #[arg(long)]
    pub question: Option<String>,
    /// The prompt field (default: `prompt`, else the first field).
    #[arg(long)]
    pub prompt_field: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub preferences: PreferenceArgs,
    /// The file layout: `trl` (prompt, chosen, rejected), `trl-implicit` (prompt joined to each
    /// response by a blank line), `trl-conversational` (message lists), `openai-dpo` (OpenAI's
    /// DPO fine-tuning), or `judgments` (one line per labeler response, unresolved).
    #[arg(long)]
    pub format: String,
    /// Keep pairs resolved as ties (their chosen side is arbitrary).
    #[arg(long)]
    pub keep_ties: bool,
    /// Only each record's best response against its worst, not every pair.
    #[arg(long)]
    pub best_vs_worst: bool,
    /// Add `p_chosen`, `margin`, `judgments` and `agreement` to every pair.
    #[arg(long)]
    pub with_confidence: bool,
    /// Add `margin` to every pair.
    #[arg(long)]
    pub with_margin: bool,
    /// The output file, or `-` for standard output.
    #[arg(long, short)]
    pub output: PathBuf,
    /// How the rows are stored: `jsonl` (one JSON object per line) or `parquet` (snappy-compressed,
    /// typed columns: strings, message lists as lists of `{role, content}` structs,
    /// `p_chosen`/`margin`/`agreement` as doubles, `judgments` as int64). Defaults to `parquet`
    /// when `--output` ends in `.parquet`, else `jsonl`. Parquet is available for every pair
    /// format, not for `judgments`.
    #[arg(long, value_enum)]
    pub file_format: Option<ExportFileFormat>,
}

/// How `juror export` stores its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFileFormat {
    /// One JSON object per line.
    Jsonl,
    /// One Parquet file, 10,000 rows per row group.
    Parquet,
}

/// A dataset whose prompts and responses a reward model reads (with `juror train` and
/// `juror score`, the other source is a file).
#[derive(Debug, Args)]
pub struct DatasetTextArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The dataset.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Workspace of the dataset, when the name is not unique.
    #[arg(long)]
    pub workspace: Option<String>,
    /// The preference question (with --dataset; default: the first ranking question).
    #[arg(long)]
    pub question: Option<String>,
    /// The prompt field (with --dataset; default: `prompt`, else the first field).
    #[arg(long)]
    pub prompt_field: Option<String>,
}

/// Where pairs come from, and how a dataset's are resolved.
#[derive(Debug, Args)]
pub struct PairSourceArgs {
    /// With --dataset: its labelers' rankings, resolved as `juror export` does.
    #[command(flatten)]
    pub target: DatasetTextArgs,
    /// Take the pairs of a TRL-format file: JSON lines or Parquet, with `chosen` and `rejected`
    /// and an explicit `prompt` or none (the two sides' common beginning is the prompt), as
    /// strings or message lists.
    #[arg(long, conflicts_with = "dataset", required_unless_present = "dataset")]
    pub pairs: Option<PathBuf>,
    /// Conflict resolution between labelers (with --dataset).
    #[arg(long, value_enum, default_value_t = StrategyArg::Majority)]
    pub strategy: StrategyArg,
}

/// What the learning rates do after the warm-up (`juror train --schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScheduleArg {
    Linear,
    Constant,
}

impl From<ScheduleArg> for juror_train::schedule::Schedule {
    fn from(schedule: ScheduleArg) -> Self {
        match schedule {
            ScheduleArg::Linear => Self::Linear,
            ScheduleArg::Constant => Self::Constant,
        }
    }
}

/// Which tokens a reward model pools (`juror train --pooling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolingArg {
    Response,
    Mean,
}

impl From<PoolingArg> for juror_train::config::Pooling {
    fn from(pooling: PoolingArg) -> Self {
        match pooling {
            PoolingArg::Response => Self::Response,
            PoolingArg::Mean => Self::Mean,
        }
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub source: PairSourceArgs,
    /// A BERT-family checkpoint directory to start from: `config.json`, `tokenizer.json` and
    /// `model.safetensors` (for example all-MiniLM-L6-v2, fetched by `scripts/minilm.sh`).
    #[arg(long)]
    pub backbone: PathBuf,
    /// Start from random weights of the backbone's `config.json` and `tokenizer.json` instead of
    /// its `model.safetensors` (small models trained on much data, and tests).
    #[arg(long)]
    pub from_scratch: bool,
    /// Where the reward model, its report (`report.json`), chart (`chart.svg`) and checkpoints go.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Go on from the last checkpoint in --output (same pairs and settings).
    #[arg(long)]
    pub resume: bool,
    /// Passes over the training pairs.
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    /// Pairs per optimizer step.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Pairs per forward and backward pass within a step: a larger batch costs no more memory
    /// (the gradients are summed; the step is the same). MiniLM at 128 tokens, 16 pairs a step,
    /// takes about 1 GB at 8.
    #[arg(long, default_value_t = 8)]
    pub micro_batch: usize,
    /// Tokens of a (prompt, response) pair; a long prompt loses its beginning, a long response its end.
    #[arg(long, default_value_t = 128)]
    pub max_length: usize,
    /// The backbone's peak learning rate.
    #[arg(long, default_value_t = 5e-5)]
    pub learning_rate: f64,
    /// The head's peak learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub head_learning_rate: f64,
    /// AdamW's weight decay.
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// The share of the steps spent warming the learning rates up, before --schedule.
    #[arg(long, default_value_t = 0.1)]
    pub warmup: f64,
    /// After the warm-up, the learning rates decay linearly to 0 at the last step, or stay
    /// constant.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Linear)]
    pub schedule: ScheduleArg,
    /// Gradients are scaled down to this global norm (0: no clipping).
    #[arg(long, default_value_t = 1.0)]
    pub max_grad_norm: f64,
    /// Train the head only, on embeddings the backbone computes once (fast, less accurate).
    #[arg(long)]
    pub freeze_backbone: bool,
    /// Keep the word embeddings as the backbone has them and train the rest: half of MiniLM's
    /// weights, and a dense gradient of the vocabulary's size at every step.
    #[arg(long)]
    pub freeze_word_embeddings: bool,
    /// The tokens whose states are averaged for the head: the response's (which have attended to
    /// the prompt; the prompt, the same on both sides of a pair, no longer dilutes them) or every
    /// token, as sentence-embedding checkpoints were trained.
    #[arg(long, value_enum, default_value_t = PoolingArg::Response)]
    pub pooling: PoolingArg,
    /// Pairs held out for evaluation, by prompt: a count (`500`) or a share (`0.2`).
    #[arg(long, default_value = "0.2")]
    pub held_out: String,
    /// Evaluate on this TRL-format file instead of holding pairs out.
    #[arg(long, conflicts_with = "held_out")]
    pub eval_pairs: Option<PathBuf>,
    /// Fixes the held-out split, the initial head and the order of the batches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep pairs resolved as ties, learnt as a 0.5 preference.
    #[arg(long)]
    pub keep_ties: bool,
    /// Weigh each pair by its confidence (`p_chosen`).
    #[arg(long)]
    pub weighted: bool,
    /// Stop after this many steps in all, saving a checkpoint as Ctrl+C does (to split a long run).
    #[arg(long)]
    pub stop_after: Option<usize>,
    /// Train on the CPU even where a GPU is built in (the `cuda` feature).
    #[arg(long)]
    pub cpu: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// With --dataset: the responses of its records.
    #[command(flatten)]
    pub target: DatasetTextArgs,
    /// A reward model written by `juror train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Score the rows of this file (JSON lines or Parquet): each row's `prompt` with its
    /// `response` (adding `score`), or with `chosen` and `rejected` (adding `chosen_score` and
    /// `rejected_score`).
    #[arg(long, conflicts_with = "dataset", required_unless_present = "dataset")]
    pub input: Option<PathBuf>,
    /// Write the model's ranking of each record's responses as a suggestion (with its scores,
    /// agent `juror-reward-model/NAME`), on records the model was not trained on.
    #[arg(long, requires = "dataset")]
    pub as_suggestions: bool,
    /// Where the scores go, as JSON lines (`-` for standard output).
    #[arg(long, short, required_unless_present = "as_suggestions")]
    pub output: Option<PathBuf>,
    /// Sequences scored at once.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Score on the CPU even where a GPU is built in (the `cuda` feature).
    #[arg(long)]
    pub cpu: bool,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub preferences: PreferenceArgs,
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Create and publish a dataset from a settings file (JSON).
    ///
    /// The file holds `fields` (text unless their `settings` say otherwise), `questions` and
    /// optionally `guidelines`, `metadata_properties`,
    /// `vectors_settings` and `distribution`, in the shapes of the API.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// Name of the new dataset.
        #[arg(long)]
        name: String,
        /// Workspace to create it in.
        #[arg(long, default_value = "argilla")]
        workspace: String,
        /// The settings file.
        #[arg(long)]
        settings: PathBuf,
    },
    /// List datasets with their record counts.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user and print their API key.
    Add {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        username: String,
        /// Password (8 to 100 characters).
        #[arg(long, env = "JUROR_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// owner, admin or annotator.
        #[arg(long, default_value = "annotator")]
        role: String,
        /// Workspaces to join (repeatable).
        #[arg(long = "workspace")]
        workspaces: Vec<String>,
    },
    /// List users.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Give a user a new random API key and print it; the old key stops working at once.
    RotateKey {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        username: String,
    },
    /// Set a user's password, read from the first line of standard input; their browser
    /// sessions end.
    SetPassword {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Add a workspace.
    Add {
        #[command(flatten)]
        data: DataArgs,
        name: String,
    },
    /// List workspaces.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}
