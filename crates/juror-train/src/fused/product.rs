//! Matrix products on slices, through the `gemm` crate that candle's own products use, for the
//! kernels that need a product with a transposed or strided operand, or several small ones in
//! parallel, without a tensor for each.

use gemm::Parallelism;

/// A matrix inside a slice: where its first value is, and how far apart its rows and its columns
/// are (a transposed view swaps the two strides).
#[derive(Debug, Clone, Copy)]
pub(super) struct View {
    pub offset: usize,
    pub row_stride: usize,
    pub column_stride: usize,
}

impl View {
    /// A row-major matrix whose rows are `row_stride` apart, starting at `offset`.
    pub fn rows(offset: usize, row_stride: usize) -> Self {
        Self { offset, row_stride, column_stride: 1 }
    }

    /// The transpose of [`View::rows`]: column `c` of this view is row `c` of the slice.
    pub fn columns(offset: usize, row_stride: usize) -> Self {
        Self { offset, row_stride: 1, column_stride: row_stride }
    }

    /// Whether a `rows × columns` matrix seen through this view lies inside `len` values.
    fn fits(&self, rows: usize, columns: usize, len: usize) -> bool {
        rows == 0 || columns == 0 || self.offset + (rows - 1) * self.row_stride + (columns - 1) * self.column_stride < len
    }
}

/// Whether a product is split over the thread pool, or runs on the calling thread (one of many
/// small products that are themselves spread over the pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Threads {
    Pool,
    Caller,
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` when `accumulate`: `lhs` is `m × k`, `rhs` is `k × n`
/// and `dst` is `m × n`, each seen through its view. Panics if a view reaches past its slice.
#[allow(unsafe_code)]
pub(super) fn product((dst, dst_view): (&mut [f32], View), accumulate: bool, (lhs, lhs_view): (&[f32], View), (rhs, rhs_view): (&[f32], View), (m, n, k): (usize, usize, usize), threads: Threads) {
    assert!(dst_view.fits(m, n, dst.len()) && lhs_view.fits(m, k, lhs.len()) && rhs_view.fits(k, n, rhs.len()), "a {m}×{k} by {k}×{n} product outside its slices");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for row in 0..m {
                for column in 0..n {
                    dst[dst_view.offset + row * dst_view.row_stride + column * dst_view.column_stride] = 0.0;
                }
            }
        }
        return;
    }
    let parallelism = match threads {
        Threads::Pool if rayon::current_num_threads() > 1 => Parallelism::Rayon(rayon::current_num_threads()),
        _ => Parallelism::None,
    };
    // SAFETY: the assertion above keeps every value the product reads or writes inside its
    // slice, and `dst` is borrowed mutably, so nothing else reads it meanwhile.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr().add(dst_view.offset),
            dst_view.column_stride as isize,
            dst_view.row_stride as isize,
            accumulate,
            lhs.as_ptr().add(lhs_view.offset),
            lhs_view.column_stride as isize,
            lhs_view.row_stride as isize,
            rhs.as_ptr().add(rhs_view.offset),
            rhs_view.column_stride as isize,
            rhs_view.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: &[f32], lhs_view: View, rhs: &[f32], rhs_view: View, (m, n, k): (usize, usize, usize)) -> Vec<f32> {
        let at = |data: &[f32], view: View, row: usize, column: usize| data[view.offset + row * view.row_stride + column * view.column_stride];
        (0..m).flat_map(|row| (0..n).map(move |column| (row, column))).map(|(row, column)| (0..k).map(|inner| at(lhs, lhs_view, row, inner) * at(rhs, rhs_view, inner, column)).sum()).collect()
    }

    #[test]
    fn products_through_transposed_and_offset_views_match_the_definition() {
        let values: Vec<f32> = (0..200).map(|i| ((i * 37) % 23) as f32 - 11.0).collect();
        let (m, n, k) = (5, 4, 3);
        // lhs: rows of a wider matrix, from an offset; rhs: a transposed view of rows 9 apart.
        let (lhs_view, rhs_view) = (View::rows(7, 10), View::columns(60, 9));
        let expected = naive(&values, lhs_view, &values, rhs_view, (m, n, k));
        for threads in [Threads::Pool, Threads::Caller] {
            let mut dst = vec![1.0f32; m * n];
            product((&mut dst, View::rows(0, n)), false, (&values, lhs_view), (&values, rhs_view), (m, n, k), threads);
            assert_eq!(dst, expected);
            product((&mut dst, View::rows(0, n)), true, (&values, lhs_view), (&values, rhs_view), (m, n, k), threads);
            assert_eq!(dst, expected.iter().map(|value| 2.0 * value).collect::<Vec<_>>());
        }
    }

    #[test]
    #[should_panic(expected = "outside its slices")]
    fn a_view_past_its_slice_is_refused() {
        let values = vec![0f32; 10];
        let mut dst = vec![0f32; 4];
        product((&mut dst, View::rows(0, 2)), false, (&values, View::rows(0, 5)), (&values, View::rows(0, 2)), (2, 2, 6), Threads::Caller);
    }
}
