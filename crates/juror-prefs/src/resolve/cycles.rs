//! Cycles among an item's resolved verdicts: A over B, B over C and C over A cannot all hold, so
//! an item whose pair verdicts form a cycle (only possible with three or more options) has no
//! consistent order and needs a person to settle it.

use std::collections::{BTreeMap, BTreeSet};

use super::ResolvedPair;

/// The items whose strict (non-tie) resolved verdicts form a cycle, in item order.
pub fn cyclic_items(resolved: &[ResolvedPair]) -> Vec<String> {
    let mut beats: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for pair in resolved.iter().filter(|pair| !pair.tie) {
        beats.entry(pair.item.as_str()).or_default().entry(pair.chosen.as_str()).or_default().push(pair.rejected.as_str());
    }
    beats.into_iter().filter(|(_, graph)| has_cycle(graph)).map(|(item, _)| item.to_owned()).collect()
}

/// Whether the directed graph (winner to losers) has a cycle: repeatedly drop the options that
/// beat nobody left; options remain only when a cycle holds them.
fn has_cycle(graph: &BTreeMap<&str, Vec<&str>>) -> bool {
    let mut remaining: BTreeSet<&str> = graph.iter().flat_map(|(winner, losers)| std::iter::once(*winner).chain(losers.iter().copied())).collect();
    loop {
        let sinks: Vec<&str> = remaining
            .iter()
            .copied()
            .filter(|option| graph.get(option).is_none_or(|losers| losers.iter().all(|loser| !remaining.contains(loser))))
            .collect();
        if sinks.is_empty() {
            return !remaining.is_empty();
        }
        for sink in sinks {
            remaining.remove(sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(item: &str, chosen: &str, rejected: &str, tie: bool) -> ResolvedPair {
        ResolvedPair { item: item.into(), chosen: chosen.into(), rejected: rejected.into(), tie, p_chosen: 1.0, margin: 1.0, judgments: 3, agreement: 1.0 }
    }

    #[test]
    fn a_rock_paper_scissors_item_is_cyclic_and_an_ordered_one_is_not() {
        let resolved = vec![
            verdict("cyclic", "a", "b", false),
            verdict("cyclic", "b", "c", false),
            verdict("cyclic", "c", "a", false),
            verdict("ordered", "a", "b", false),
            verdict("ordered", "b", "c", false),
            verdict("ordered", "a", "c", false),
            verdict("pair", "x", "y", false),
        ];
        assert_eq!(cyclic_items(&resolved), vec!["cyclic".to_owned()]);
    }

    #[test]
    fn ties_break_no_order_and_make_no_cycle() {
        let resolved = vec![verdict("tied", "a", "b", false), verdict("tied", "b", "c", false), verdict("tied", "a", "c", true)];
        assert!(cyclic_items(&resolved).is_empty());
    }

    #[test]
    fn a_cycle_among_four_options_is_found_beside_an_ordered_option() {
        // d beats everyone; a, b, c go round.
        let resolved = vec![
            verdict("four", "d", "a", false),
            verdict("four", "d", "b", false),
            verdict("four", "d", "c", false),
            verdict("four", "a", "b", false),
            verdict("four", "b", "c", false),
            verdict("four", "c", "a", false),
        ];
        assert_eq!(cyclic_items(&resolved), vec!["four".to_owned()]);
    }
}
