//! The kernels' loops compiled again for wider vectors, and picked at run time.
//!
//! The release build targets the x86-64 baseline, where the compiler vectorises the kernels'
//! loops (layer norms, GELU, softmax) four values wide. `gemm` picks AVX-512 for its products
//! at run time; [`widest`] does the same for the rest: it runs a piece of work through a copy of
//! itself compiled with AVX-512 (or AVX2 and FMA), where the CPU has them.

/// Runs `work` compiled for the widest vectors this CPU has: AVX-512, AVX2 with FMA, or the
/// baseline. Only what is inlined into a copy is compiled for its width, so callers mark the
/// closure they pass `#[inline(always)]`, and the closures and functions it calls as well (or
/// write plain `for` loops, which need no call): a closure the compiler leaves out of line runs
/// four values wide whatever the CPU. The results are the same at every width: the compiler
/// never fuses a multiplication and an addition on its own, and the reductions keep their lanes.
#[inline(always)]
pub(crate) fn widest<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if level() == Level::Avx512 {
            // SAFETY: `with_avx512` needs the features it enables, and `level` found them all.
            #[allow(unsafe_code)]
            return unsafe { with_avx512(work) };
        }
        if level() == Level::Avx2 {
            // SAFETY: as above, for `with_avx2`'s features.
            #[allow(unsafe_code)]
            return unsafe { with_avx2(work) };
        }
    }
    work()
}

#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Baseline,
    Avx2,
    Avx512,
}

/// What this CPU has, found once.
#[cfg(target_arch = "x86_64")]
fn level() -> Level {
    static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        // Every feature the copies enable, and those the compiler enables with them (`avx512f`
        // brings `f16c`).
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c");
        if avx2 && is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512dq") && is_x86_feature_detected!("avx512vl") {
            Level::Avx512
        } else if avx2 {
            Level::Avx2
        } else {
            Level::Baseline
        }
    })
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl")]
fn with_avx512<R>(work: impl FnOnce() -> R) -> R {
    work()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn with_avx2<R>(work: impl FnOnce() -> R) -> R {
    work()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_runs_once_and_returns_its_result() {
        let mut runs = 0;
        let values: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let sum = widest(|| {
            runs += 1;
            super::super::math::sum(&values)
        });
        assert_eq!((runs, sum), (1, 4950.0));
    }
}
