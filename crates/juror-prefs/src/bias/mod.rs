//! Bias diagnostics: signs that labels reflect the interface or the labeler rather than quality.
//!
//! - [`first_position`]: does the option shown first win more than chance, overall and per
//!   labeler?
//! - [`longer_response`]: does the longer option win more than half the time?
//! - [`hasty_labelers`]: whose time on task is implausibly short?
//!
//! Each also comes as a tally ([`PositionTally`], [`LengthTally`], [`TimeTally`]) that takes the
//! judgments a part at a time, for datasets read a page at a time.
//!
//! The win-rate diagnostics report a [`RateTest`]: the observed rate, the rate expected without
//! bias, a z-score, and a flag when |z| reaches [`BiasOptions::z_threshold`].

mod length;
mod position;
mod rate;
mod time;

pub use length::{longer_response, LengthBias, LengthTally};
pub use position::{first_position, LabelerRate, PositionBias, PositionTally};
pub use rate::{BiasOptions, RateTest};
pub use time::{hasty_labelers, HasteFlag, LabelerTime, TimeOptions, TimeReport, TimeTally};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judgment::Judgment;

    /// The tallies see the judgments a page at a time; the reports must not depend on the pages.
    #[test]
    fn tallies_fed_in_parts_report_what_the_whole_gives() {
        let judgments: Vec<Judgment> = (0..40)
            .map(|index| {
                let labeler = ["ann", "bob", "cid"][index % 3];
                let (first, second) = if index % 4 == 0 { ("y", "x") } else { ("x", "y") };
                Judgment::new(format!("q{}", index / 3), labeler, [(first, 1), (second, 2), ("z", 3)])
                    .unwrap()
                    .with_shown_order(["x", "y", "z"])
                    .unwrap()
                    .with_time_on_task_ms(1_000 * (index as u64 % 7 + 1))
            })
            .collect();
        let length_of = |_: &str, option: &str| Some(option.len() + usize::from(option == "x"));
        let (bias, times) = (BiasOptions { z_threshold: 1.0, min_observations: 3 }, TimeOptions { min_judgments: 2, ..TimeOptions::default() });
        let (mut position, mut length, mut time) = (PositionTally::default(), LengthTally::default(), TimeTally::default());
        for part in judgments.chunks(7) {
            position.add(part);
            length.add(part, length_of);
            time.add(part);
        }
        assert_eq!(position.report(&bias), first_position(&judgments, &bias));
        assert_eq!(length.report(&bias), longer_response(&judgments, length_of, &bias));
        assert_eq!(time.clone().report(&times), hasty_labelers(&judgments, &times));
        assert_eq!(position.report(&bias).labelers.len(), 3);
        assert!(length.report(&bias).pairs > 0 && time.report(&times).crowd_median_ms.is_some());
    }
}
