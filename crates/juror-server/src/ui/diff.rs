//! Word-level differences between two responses, for rankings of near-identical texts.

use std::time::Duration;

use maud::{html, Markup};
use similar::{ChangeTag, TextDiff};

/// Longest time spent looking for the smallest difference; past it a coarser one is shown.
const DIFF_DEADLINE: Duration = Duration::from_millis(200);

/// `new` against `old`: words only in `old` in `<del>`, words only in `new` in `<ins>`.
pub(crate) fn word_diff(old: &str, new: &str) -> Markup {
    let diff = TextDiff::configure().timeout(DIFF_DEADLINE).diff_words(old, new);
    html! {
        div.diff-text {
            @for change in diff.iter_all_changes() {
                @match change.tag() {
                    ChangeTag::Equal => (change.value()),
                    ChangeTag::Delete => del { (change.value()) },
                    ChangeTag::Insert => ins { (change.value()) },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_words_are_marked_and_escaped() {
        let html = word_diff("The cat sat on the mat.", "The dog sat on the <mat>.").into_string();
        assert!(html.contains("<del>cat</del>"), "{html}");
        assert!(html.contains("<ins>dog</ins>"), "{html}");
        assert!(html.contains("&lt;mat&gt;"), "{html}");
        assert!(html.contains("sat on the"));
    }
}
