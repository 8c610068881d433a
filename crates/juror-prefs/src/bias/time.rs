//! Time on task: labelers who answer faster than the task can be read.

use std::collections::BTreeMap;

use crate::judgment::Judgment;

/// The rule for flagging hasty labelers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeOptions {
    /// Flag a labeler whose median time is below this many milliseconds. The default, 5 s, is
    /// less than anyone needs to read a prompt and two responses; tune it to the task.
    pub floor_ms: u64,
    /// Flag a labeler whose median time is below this share of the crowd median (the median of
    /// the eligible labelers' medians, each labeler counting once). Default 1/4.
    pub crowd_fraction: f64,
    /// Only labelers with at least this many timed judgments are flagged or count toward the crowd
    /// median. Default 5.
    pub min_judgments: usize,
}

impl Default for TimeOptions {
    /// 5 s floor, 1/4 of the crowd median, at least 5 timed judgments.
    fn default() -> Self {
        Self { floor_ms: 5_000, crowd_fraction: 0.25, min_judgments: 5 }
    }
}

/// Why a labeler was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasteFlag {
    /// Their median time is below [`TimeOptions::floor_ms`].
    BelowFloor,
    /// Their median time is below [`TimeOptions::crowd_fraction`] of the crowd median.
    FarBelowCrowd,
}

/// One labeler's time on task.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerTime {
    /// The labeler's id.
    pub labeler: String,
    /// How many of their judgments carry a time.
    pub timed: usize,
    /// The median of those times, in milliseconds.
    pub median_ms: f64,
    /// Why they were flagged, if they were.
    pub flag: Option<HasteFlag>,
}

/// Every timed labeler and the crowd median their times were compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeReport {
    /// The median of the eligible labelers' medians, `None` when no labeler is eligible.
    pub crowd_median_ms: Option<f64>,
    /// One row per labeler with a timed judgment, sorted by id.
    pub labelers: Vec<LabelerTime>,
}

/// Flags labelers whose median time on task is below the floor or far below the crowd's.
/// Medians, not means, so a few long pauses (a tab left open) neither hide nor cause a flag.
/// Judgments without a time are skipped.
pub fn hasty_labelers(judgments: &[Judgment], options: &TimeOptions) -> TimeReport {
    let mut tally = TimeTally::default();
    tally.add(judgments);
    tally.report(options)
}

/// [`hasty_labelers`] gathered a part of the judgments at a time: each labeler's times (one
/// number per timed judgment, which a median needs).
#[derive(Debug, Clone, Default)]
pub struct TimeTally {
    times: BTreeMap<String, Vec<f64>>,
}

impl TimeTally {
    /// Counts `judgments` in.
    pub fn add(&mut self, judgments: &[Judgment]) {
        for judgment in judgments {
            let Some(ms) = judgment.time_on_task_ms() else { continue };
            match self.times.get_mut(judgment.labeler()) {
                Some(times) => times.push(ms as f64),
                None => {
                    self.times.insert(judgment.labeler().to_owned(), vec![ms as f64]);
                }
            }
        }
    }

    /// The report on every judgment counted in; the times are sorted in place for the medians,
    /// so the tally is used up.
    pub fn report(self, options: &TimeOptions) -> TimeReport {
        let medians: Vec<(String, usize, f64)> = self.times.into_iter().map(|(labeler, mut times)| (labeler, times.len(), median(&mut times))).collect();
        let mut eligible: Vec<f64> =
            medians.iter().filter(|(_, timed, _)| *timed >= options.min_judgments).map(|(_, _, median)| *median).collect();
        let crowd_median_ms = (!eligible.is_empty()).then(|| median(&mut eligible));
        let labelers = medians
            .into_iter()
            .map(|(labeler, timed, median_ms)| {
                let flag = if timed < options.min_judgments {
                    None
                } else if median_ms < options.floor_ms as f64 {
                    Some(HasteFlag::BelowFloor)
                } else if crowd_median_ms.is_some_and(|crowd| median_ms < options.crowd_fraction * crowd) {
                    Some(HasteFlag::FarBelowCrowd)
                } else {
                    None
                };
                LabelerTime { labeler, timed, median_ms, flag }
            })
            .collect();
        TimeReport { crowd_median_ms, labelers }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    // The two middle values; the same one when the count is odd.
    (values[(values.len() - 1) / 2] + values[values.len() / 2]) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(labeler: &str, times: &[u64]) -> Vec<Judgment> {
        times
            .iter()
            .enumerate()
            .map(|(i, ms)| Judgment::new(format!("q{i}"), labeler, [("x", 1), ("y", 2)]).unwrap().with_time_on_task_ms(*ms))
            .collect()
    }

    #[test]
    fn labelers_below_the_floor_or_far_below_the_crowd_are_flagged() {
        let mut judgments = Vec::new();
        judgments.extend(timed("ann", &[20_000, 22_000, 18_000, 25_000, 21_000])); // median 21 000
        judgments.extend(timed("bob", &[2_000, 1_500, 2_500, 90_000, 2_000])); // median 2 000: below the 5 s floor
        judgments.extend(timed("cid", &[5_100; 5])); // above the floor, below 21 000 / 4 = 5 250
        judgments.extend(timed("dan", &[30_000; 5]));
        judgments.extend(timed("eve", &[23_000, 25_000, 24_000, 24_000])); // 4 times: not eligible
        judgments.extend(timed("fay", &[24_000; 5]));
        judgments.push(Judgment::new("q9", "gus", [("x", 1), ("y", 2)]).unwrap()); // untimed
        let report = hasty_labelers(&judgments, &TimeOptions::default());
        // Eligible medians 2 000, 5 100, 21 000, 24 000, 30 000: the crowd median is 21 000.
        assert_eq!(report.crowd_median_ms, Some(21_000.0));
        let rows: Vec<(&str, usize, f64, Option<HasteFlag>)> =
            report.labelers.iter().map(|row| (row.labeler.as_str(), row.timed, row.median_ms, row.flag)).collect();
        assert_eq!(
            rows,
            [
                ("ann", 5, 21_000.0, None),
                ("bob", 5, 2_000.0, Some(HasteFlag::BelowFloor)),
                ("cid", 5, 5_100.0, Some(HasteFlag::FarBelowCrowd)),
                ("dan", 5, 30_000.0, None),
                ("eve", 4, 24_000.0, None),
                ("fay", 5, 24_000.0, None),
            ]
        );
    }

    #[test]
    fn no_timed_judgments_give_an_empty_report() {
        let report = hasty_labelers(&[Judgment::new("q", "ann", [("x", 1), ("y", 2)]).unwrap()], &TimeOptions::default());
        assert_eq!(report, TimeReport { crowd_median_ms: None, labelers: vec![] });
    }
}
