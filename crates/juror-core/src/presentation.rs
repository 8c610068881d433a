//! How a record is shown to a labeler: the counterbalanced order of its options, and what the UI
//! records about the showing (the order and the time on task) for bias diagnostics.
//!
//! The order is a deterministic shuffle per (record, labeler): the same labeler sees the same
//! order on every visit, different labelers see independent orders, so the first-shown position
//! is spread evenly over the options across labelers. Answers always name options by their
//! canonical values; the shown order is kept beside them.

use std::collections::BTreeMap;

use crate::field::Field;
use crate::ids::{RecordId, UserId};
use crate::question::{Question, QuestionSettings};

/// What the UI showed and measured when a labeler answered a record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presentation {
    /// Per ranking question name, its option values in the order they were shown.
    pub shown_order: BTreeMap<String, Vec<String>>,
    /// Milliseconds from the page's first render to the answer.
    pub time_on_task_ms: Option<u64>,
}

/// The order in which `count` options are shown to `user` for `record`: a permutation of
/// `0..count`, the same on every call.
pub fn shown_permutation(record: RecordId, user: UserId, count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    let mut state = seed(record, user);
    // Fisher-Yates, drawing from a SplitMix64 stream; stable across platforms and releases.
    for upper in (1..count).rev() {
        let draw = next(&mut state);
        let pick = (draw % (upper as u64 + 1)) as usize;
        order.swap(upper, pick);
    }
    order
}

/// `items` in the order [`shown_permutation`] gives for this record and labeler.
pub fn shown_order<T: Clone>(record: RecordId, user: UserId, items: &[T]) -> Vec<T> {
    shown_permutation(record, user, items.len()).into_iter().map(|index| items[index].clone()).collect()
}

/// Where each part of a record goes on the labeler's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Indexes of the fields shown first, in settings order: the prompt and other context.
    pub context: Vec<usize>,
    /// Indexes of the fields holding the candidate responses, in shown order. They are the fields
    /// named like the options of the first ranking question, when every option has one.
    pub responses: Vec<usize>,
    /// Per question (by index), the indexes of its options in shown order; ranking questions are
    /// shuffled, other questions keep their order.
    pub options: Vec<Vec<usize>>,
}

impl Layout {
    /// The layout of `record` for `user`.
    pub fn of(fields: &[Field], questions: &[Question], record: RecordId, user: UserId) -> Self {
        let options: Vec<Vec<usize>> = questions
            .iter()
            .map(|question| match &question.settings {
                QuestionSettings::Ranking { options } => shown_permutation(record, user, options.len()),
                QuestionSettings::Rating { values } => (0..values.len()).collect(),
                other => (0..other.option_values().len()).collect(),
            })
            .collect();
        let responses = questions
            .iter()
            .zip(&options)
            .find_map(|(question, order)| match &question.settings {
                QuestionSettings::Ranking { options } => Some(response_fields(fields, options.iter().map(|option| option.value.as_str()), order)),
                _ => None,
            })
            .flatten()
            .unwrap_or_default();
        let context = (0..fields.len()).filter(|index| !responses.contains(index)).collect();
        Self { context, responses, options }
    }

    /// The same record shown the other way round: the responses and every ranking question's
    /// options in the opposite order (a swapped repeat).
    pub fn swapped(&self, questions: &[Question]) -> Self {
        let options = questions
            .iter()
            .zip(&self.options)
            .map(|(question, order)| match question.settings {
                QuestionSettings::Ranking { .. } => order.iter().rev().copied().collect(),
                _ => order.clone(),
            })
            .collect();
        Self { context: self.context.clone(), responses: self.responses.iter().rev().copied().collect(), options }
    }

    /// Per ranking question name, its option values in shown order: what is stored with an answer.
    pub fn shown_order(&self, questions: &[Question]) -> BTreeMap<String, Vec<String>> {
        questions
            .iter()
            .zip(&self.options)
            .filter_map(|(question, order)| match &question.settings {
                QuestionSettings::Ranking { options } => {
                    Some((question.name.clone(), order.iter().map(|&index| options[index].value.clone()).collect()))
                }
                _ => None,
            })
            .collect()
    }
}

/// The field of each option, in shown order, when every option names a distinct field.
fn response_fields<'a>(fields: &[Field], values: impl Iterator<Item = &'a str>, order: &[usize]) -> Option<Vec<usize>> {
    let by_option: Vec<usize> = values.map(|value| fields.iter().position(|field| field.name == value)).collect::<Option<_>>()?;
    Some(order.iter().map(|&option| by_option[option]).collect())
}

fn seed(record: RecordId, user: UserId) -> u64 {
    let (record, user) = (record.uuid().as_u128(), user.uuid().as_u128());
    let mut state = fold(record) ^ fold(user).rotate_left(29);
    // Mix twice so ids that differ only in a few bits still give unrelated streams.
    next(&mut state) ^ next(&mut state)
}

/// A 64-bit state from 128 bits (a uuid), for [`mix`].
pub(crate) fn seed_of(value: u128) -> u64 {
    fold(value)
}

/// One step of splitmix64: a well-mixed 64-bit value from the state, which moves on.
pub(crate) fn mix(state: &mut u64) -> u64 {
    next(state)
}

fn fold(value: u128) -> u64 {
    (value >> 64) as u64 ^ (value as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_a_stable_permutation() {
        let (record, user) = (RecordId::new(), UserId::new());
        let order = shown_permutation(record, user, 4);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3]);
        assert_eq!(order, shown_permutation(record, user, 4));
        assert_eq!(shown_order(record, user, &["a", "b", "c", "d"]), order.iter().map(|&i| ["a", "b", "c", "d"][i]).collect::<Vec<_>>());
        assert!(shown_permutation(record, user, 0).is_empty());
        assert_eq!(shown_permutation(record, user, 1), vec![0]);
    }

    #[test]
    fn each_option_is_shown_first_about_equally_often() {
        let record = RecordId::new();
        let trials = 20_000;
        for count in [2usize, 4] {
            let mut first = vec![0u32; count];
            for _ in 0..trials {
                first[shown_permutation(record, UserId::new(), count)[0]] += 1;
            }
            let expected = trials as f64 / count as f64;
            for (option, &times) in first.iter().enumerate() {
                let deviation = (times as f64 - expected).abs() / expected;
                assert!(deviation < 0.06, "option {option} of {count} shown first {times} times, expected about {expected}");
            }
        }
    }

    fn field(name: &str) -> Field {
        use crate::field::FieldSettings;
        use crate::ids::{DatasetId, FieldId};
        use crate::time::Timestamp;
        Field { id: FieldId::new(), name: name.into(), title: name.into(), required: true, settings: FieldSettings::Text { use_markdown: true }, dataset_id: DatasetId::new(), inserted_at: Timestamp::now(), updated_at: Timestamp::now() }
    }

    fn question(name: &str, settings: QuestionSettings) -> Question {
        use crate::ids::{DatasetId, QuestionId};
        use crate::time::Timestamp;
        Question { id: QuestionId::new(), name: name.into(), title: name.into(), description: None, required: true, settings, dataset_id: DatasetId::new(), inserted_at: Timestamp::now(), updated_at: Timestamp::now() }
    }

    fn ranking(values: &[&str]) -> QuestionSettings {
        use crate::question::QuestionOption;
        QuestionSettings::Ranking { options: values.iter().map(|value| QuestionOption { value: (*value).into(), text: value.to_uppercase(), description: None }).collect() }
    }

    #[test]
    fn response_fields_follow_the_first_ranking_questions_shown_order() {
        let fields = [field("prompt"), field("response-1"), field("response-2"), field("response-3")];
        let questions = [question("note", QuestionSettings::Text { use_markdown: false }), question("rank", ranking(&["response-1", "response-2", "response-3"]))];
        let (record, user) = (RecordId::new(), UserId::new());
        let layout = Layout::of(&fields, &questions, record, user);
        assert_eq!(layout.context, vec![0]);
        assert_eq!(layout.options[0], Vec::<usize>::new());
        assert_eq!(layout.responses, layout.options[1].iter().map(|option| option + 1).collect::<Vec<_>>());
        let shown = layout.shown_order(&questions);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown["rank"], layout.options[1].iter().map(|&option| format!("response-{}", option + 1)).collect::<Vec<_>>());
    }

    #[test]
    fn a_swapped_layout_shows_responses_and_ranking_options_the_other_way_round() {
        let fields = [field("prompt"), field("response-1"), field("response-2")];
        let questions = [question("rank", ranking(&["response-1", "response-2"])), question("rate", QuestionSettings::Rating { values: vec![1, 2, 3] })];
        let layout = Layout::of(&fields, &questions, RecordId::new(), UserId::new());
        let swapped = layout.swapped(&questions);
        assert_eq!(swapped.context, layout.context);
        assert_eq!(swapped.responses, layout.responses.iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(swapped.options[0], layout.options[0].iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(swapped.options[1], vec![0, 1, 2], "other questions keep their order");
        assert_ne!(swapped.shown_order(&questions)["rank"], layout.shown_order(&questions)["rank"]);
        assert_eq!(swapped.swapped(&questions), layout);
    }

    #[test]
    fn options_without_fields_leave_the_fields_in_settings_order() {
        let fields = [field("prompt"), field("answer")];
        let questions = [question("rank", ranking(&["a", "b"])), question("rate", QuestionSettings::Rating { values: vec![1, 2, 3] })];
        let layout = Layout::of(&fields, &questions, RecordId::new(), UserId::new());
        assert_eq!(layout.context, vec![0, 1]);
        assert!(layout.responses.is_empty());
        assert_eq!(layout.options[1], vec![0, 1, 2]);
    }

    #[test]
    fn labelers_of_one_record_get_different_orders() {
        let record = RecordId::new();
        let orders: std::collections::HashSet<Vec<usize>> = (0..50).map(|_| shown_permutation(record, UserId::new(), 4)).collect();
        assert!(orders.len() > 10, "only {} distinct orders of 4 among 50 labelers", orders.len());
    }
}
