//! What writers derive from a shared text, kept while the rows that share it go by.

use std::sync::Arc;

/// Most texts remembered: a record's prompt and responses, with room to spare.
const CAPACITY: usize = 32;

/// Values derived from texts, found by the text's identity (the `Arc`), not its contents:
/// consecutive rows of one record hold the very same `Arc`s, so a lookup is a pointer
/// comparison. The text itself is kept with its value, so its address cannot be reused by
/// another text while the entry lives. Starts over when full.
pub(crate) struct SharedTexts<V> {
    entries: Vec<(Arc<str>, V)>,
}

impl<V> Default for SharedTexts<V> {
    fn default() -> Self {
        Self { entries: Vec::with_capacity(CAPACITY) }
    }
}

impl<V> SharedTexts<V> {
    /// The value derived from `text`, made by `derive` the first time `text` is seen.
    pub(crate) fn get_or_insert_with(&mut self, text: &Arc<str>, derive: impl FnOnce(&str) -> V) -> &V {
        let index = match self.entries.iter().rposition(|(known, _)| Arc::ptr_eq(known, text)) {
            Some(index) => index,
            None => {
                if self.entries.len() == CAPACITY {
                    self.entries.clear();
                }
                self.entries.push((text.clone(), derive(text)));
                self.entries.len() - 1
            }
        };
        &self.entries[index].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_derived_once_while_remembered_and_equal_texts_apart() {
        let mut texts = SharedTexts::default();
        let (prompt, copy) = (Arc::<str>::from("Why?"), Arc::<str>::from("Why?"));
        let mut derived = 0;
        for _ in 0..3 {
            assert_eq!(
                *texts.get_or_insert_with(&prompt, |text| {
                    derived += 1;
                    text.len()
                }),
                4
            );
        }
        assert_eq!(derived, 1);
        texts.get_or_insert_with(&copy, |text| {
            derived += 1;
            text.len()
        });
        assert_eq!(derived, 2, "another Arc with the same contents is another entry");
        for index in 0..CAPACITY {
            texts.get_or_insert_with(&Arc::from(index.to_string()), str::len);
        }
        texts.get_or_insert_with(&prompt, |text| {
            derived += 1;
            text.len()
        });
        assert_eq!(derived, 3, "forgotten once the cache started over");
    }
}
