//! Which requests make one prompt's candidates.

use crate::client::{Sampling, Target};

/// How a prompt's candidate responses differ.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// `count` samples from the first model with the same settings (seeds differ when set).
    Samples { count: u32 },
    /// One sample per temperature, from the first model.
    Temperatures(Vec<f64>),
    /// One sample per model, to compare models.
    Models,
    /// `k` samples from the first model; the two that differ most are kept.
    BestOfK { k: u32 },
}

/// One request of a prompt's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRequest {
    /// Index into the run's targets.
    pub target: usize,
    pub sampling: Sampling,
    /// Choices asked of this one request.
    pub n: u32,
}

impl Strategy {
    /// The name used on the command line and in provenance.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Samples { .. } => "samples",
            Self::Temperatures(_) => "temperatures",
            Self::Models => "models",
            Self::BestOfK { .. } => "best-of-k",
        }
    }

    /// How many responses each record gets.
    pub fn responses(&self, targets: usize) -> usize {
        match self {
            Self::Samples { count } => *count as usize,
            Self::Temperatures(temperatures) => temperatures.len(),
            Self::Models => targets,
            Self::BestOfK { .. } => 2,
        }
    }

    /// The requests for one prompt. Samples are asked `per_request` at a time (the API's `n`);
    /// with a seed, request `i` uses `seed + i` so samples differ and a rerun repeats them.
    pub fn plan(&self, targets: usize, base: &Sampling, per_request: u32) -> Vec<PlannedRequest> {
        let per_request = per_request.max(1);
        let samples = |count: u32| {
            let mut requests = Vec::new();
            let mut left = count;
            while left > 0 {
                let n = left.min(per_request);
                let index = requests.len() as u64;
                requests.push(PlannedRequest { target: 0, sampling: Sampling { seed: base.seed.map(|seed| seed + index), ..base.clone() }, n });
                left -= n;
            }
            requests
        };
        match self {
            Self::Samples { count } => samples(*count),
            Self::BestOfK { k } => samples(*k),
            Self::Temperatures(temperatures) => temperatures
                .iter()
                .map(|temperature| PlannedRequest { target: 0, sampling: Sampling { temperature: Some(*temperature), ..base.clone() }, n: 1 })
                .collect(),
            Self::Models => (0..targets).map(|target| PlannedRequest { target, sampling: base.clone(), n: 1 }).collect(),
        }
    }
}

/// Checks that the strategy can run with these targets.
pub fn check(strategy: &Strategy, targets: &[Target]) -> Result<(), String> {
    if targets.is_empty() {
        return Err("give at least one --endpoint and --model".into());
    }
    match strategy {
        Strategy::Samples { count } if *count < 2 => Err("samples needs --candidates of 2 or more".into()),
        Strategy::BestOfK { k } if *k < 3 => Err("best-of-k needs --k of 3 or more (with 2 it is plain samples)".into()),
        Strategy::Temperatures(temperatures) if temperatures.len() < 2 => Err("temperatures needs two or more --temperatures".into()),
        Strategy::Models if targets.len() < 2 => Err("models needs two or more --model (with their --endpoint)".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Sampling {
        Sampling { temperature: Some(0.8), seed: Some(100), ..Sampling::default() }
    }

    #[test]
    fn samples_are_asked_n_at_a_time_with_distinct_seeds() {
        let plan = Strategy::Samples { count: 5 }.plan(1, &base(), 2);
        assert_eq!(plan.iter().map(|request| request.n).collect::<Vec<_>>(), vec![2, 2, 1]);
        assert_eq!(plan.iter().map(|request| request.sampling.seed).collect::<Vec<_>>(), vec![Some(100), Some(101), Some(102)]);
        assert!(plan.iter().all(|request| request.target == 0 && request.sampling.temperature == Some(0.8)));
        assert_eq!(Strategy::BestOfK { k: 4 }.plan(1, &base(), 1).len(), 4);
    }

    #[test]
    fn temperatures_and_models_make_one_request_each() {
        let plan = Strategy::Temperatures(vec![0.2, 1.1]).plan(1, &base(), 4);
        assert_eq!(plan.iter().map(|request| request.sampling.temperature).collect::<Vec<_>>(), vec![Some(0.2), Some(1.1)]);
        let plan = Strategy::Models.plan(3, &base(), 4);
        assert_eq!(plan.iter().map(|request| (request.target, request.n)).collect::<Vec<_>>(), vec![(0, 1), (1, 1), (2, 1)]);
        assert_eq!(Strategy::Models.responses(3), 3);
        assert_eq!(Strategy::BestOfK { k: 6 }.responses(1), 2);
    }

    #[test]
    fn strategies_that_cannot_give_two_candidates_are_refused() {
        let one = [Target { endpoint: "http://h".into(), model: "m".into() }];
        assert!(check(&Strategy::Samples { count: 2 }, &one).is_ok());
        assert!(check(&Strategy::Samples { count: 1 }, &one).is_err());
        assert!(check(&Strategy::Models, &one).is_err());
        assert!(check(&Strategy::Temperatures(vec![0.5]), &one).is_err());
        assert!(check(&Strategy::BestOfK { k: 2 }, &one).is_err());
        assert!(check(&Strategy::Samples { count: 2 }, &[]).is_err());
    }
}
