//! The output row of every strategy: one verdict on one pair, with how sure it is.

/// The resolved verdict on one pair of an item's options.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedPair {
    /// The item (record) id.
    pub item: String,
    /// The option judged better; for a tie, the option whose id sorts first.
    pub chosen: String,
    /// The other option.
    pub rejected: String,
    /// Whether the strategy found neither option better.
    pub tie: bool,
    /// P(chosen is better). For the vote-counting strategies this is the share of judgments
    /// preferring `chosen`, a tie counting half; for [`reliability`](super::reliability) it is
    /// the model's posterior.
    pub p_chosen: f64,
    /// How clearly `chosen` won, on the strategy's own scale, never negative: the vote margin
    /// (|wins - losses| / judgments) for majority, the difference in mean rank or mean Borda
    /// points, or the posterior log-odds for the reliability model.
    pub margin: f64,
    /// How many judgments ranked both options.
    pub judgments: usize,
    /// The share of those judgments whose verdict equals the resolved one (a tie when `tie`).
    pub agreement: f64,
}
