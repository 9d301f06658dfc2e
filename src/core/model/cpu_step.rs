//! One sampling step of the LSTM on the CPU, for a handful of sequences at once, in plain Rust.
//!
//! Sampling is a chain of matrix–vector products whose weights are far larger than the vectors:
//! libtorch's general matrix product reads the weights once per sequence and pays a fixed cost per
//! operator call, so four variations cost nearly four times one. Here each weight matrix is stored
//! in panels of [`PANEL`] output columns, contiguous over the inputs, and one pass over a panel
//! serves up to four sequences from registers: the weights stream from memory once per step
//! whatever the batch, prefetched ahead of use. Each product is split in contiguous shares between
//! the sampling thread and a small pool of its own (the sampling thread works rather than waits,
//! and with two threads each always takes the same share). The gate nonlinearities are
//! vectorised too. AVX2 + FMA are used when the CPU has them (checked at run time), else portable
//! code that gives the same results to rounding.

use std::sync::Arc;

use rayon::ThreadPool;

/// Output columns per panel: two 8-lane vectors.
const PANEL: usize = 16;
/// Sequences served by one pass over a panel (their accumulators fill the vector registers).
const BATCH_TILE: usize = 4;

/// A weight matrix for `x · W + b` (`x`: `[batch, inputs]`), stored panel by panel.
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    inputs: usize,
    outputs: usize,
    /// `panels × inputs × PANEL`, zero-padded past `outputs`.
    weights: Vec<f32>,
    /// `panels × PANEL`, zero-padded.
    bias: Vec<f32>,
}

impl PackedMatrix {
    /// Packs `weight` (`[inputs, outputs]`, row-major: input-major, as `x · W` wants) and `bias`
    /// (`[outputs]`).
    pub fn new(weight: &[f32], bias: &[f32], inputs: usize, outputs: usize) -> Self {
        assert_eq!(weight.len(), inputs * outputs, "weight shape");
        assert_eq!(bias.len(), outputs, "bias shape");
        let panels = outputs.div_ceil(PANEL);
        let mut weights = vec![0.0; panels * inputs * PANEL];
        let mut padded_bias = vec![0.0; panels * PANEL];
        for (j, &b) in bias.iter().enumerate() {
            padded_bias[j] = b;
        }
        for k in 0..inputs {
            for j in 0..outputs {
                let (panel, lane) = (j / PANEL, j % PANEL);
                weights[(panel * inputs + k) * PANEL + lane] = weight[k * outputs + j];
            }
        }
        Self {
            inputs,
            outputs,
            weights,
            bias: padded_bias,
        }
    }

    /// Outputs per sequence.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    fn panels(&self) -> usize {
        self.bias.len() / PANEL
    }

    /// `x · W + b` for `batch` sequences (`x`: `[batch, inputs]` row-major) into `out`
    /// (`[batch, outputs]` row-major); `panels` is scratch space.
    pub fn product(
        &self,
        x: &[f32],
        batch: usize,
        panels: &mut Vec<f32>,
        out: &mut Vec<f32>,
        pool: Option<&ThreadPool>,
    ) {
        panels.resize(self.panels() * batch * PANEL, 0.0);
        self.multiply(x, batch, panels, pool);
        out.resize(batch * self.outputs, 0.0);
        for (b, row) in out.chunks_exact_mut(self.outputs).enumerate() {
            for (panel, lanes) in row.chunks_mut(PANEL).enumerate() {
                let from = (panel * batch + b) * PANEL;
                lanes.copy_from_slice(&panels[from..from + lanes.len()]);
            }
        }
    }

    /// `x · W + b` for `batch` sequences (`x`: `[batch, inputs]` row-major), written to `out`
    /// in panel-major order (`[panels, batch, PANEL]`), split in contiguous shares between the
    /// calling thread and the pool's.
    fn multiply(&self, x: &[f32], batch: usize, out: &mut [f32], pool: Option<&ThreadPool>) {
        debug_assert_eq!(x.len(), batch * self.inputs);
        debug_assert_eq!(out.len(), self.panels() * batch * PANEL);
        let panels_from = |first: usize, out: &mut [f32]| {
            for (offset, out) in out.chunks_mut(batch * PANEL).enumerate() {
                let panel = first + offset;
                let weights = &self.weights[panel * self.inputs * PANEL..][..self.inputs * PANEL];
                let bias = &self.bias[panel * PANEL..][..PANEL];
                for (tile, out) in out.chunks_mut(BATCH_TILE * PANEL).enumerate() {
                    let x = &x[tile * BATCH_TILE * self.inputs..];
                    panel_product(weights, bias, x, self.inputs, out);
                }
            }
        };
        let Some(pool) = pool else {
            panels_from(0, out);
            return;
        };
        // The calling thread computes the first share while the pool's threads take the rest.
        let share = self.panels().div_ceil(pool.current_num_threads() + 1);
        let mut shares = out.chunks_mut(share * batch * PANEL).enumerate();
        let first = shares.next();
        pool.in_place_scope(|scope| {
            for (i, part) in shares {
                scope.spawn(move |_| panels_from(i * share, part));
            }
            if let Some((_, part)) = first {
                panels_from(0, part);
            }
        });
    }
}

/// One panel's products for up to [`BATCH_TILE`] sequences (`out.len() / PANEL` of them).
fn panel_product(weights: &[f32], bias: &[f32], x: &[f32], inputs: usize, out: &mut [f32]) {
    let rows = out.len() / PANEL;
    #[cfg(target_arch = "x86_64")]
    if simd::available() {
        // SAFETY: AVX2 and FMA were detected; slices are sized as the kernel reads them.
        unsafe { simd::panel_product(weights, bias, x, inputs, rows, out) };
        return;
    }
    panel_product_portable(weights, bias, x, inputs, out);
}

/// [`panel_product`] without SIMD intrinsics (the compiler vectorises what it can).
fn panel_product_portable(
    weights: &[f32],
    bias: &[f32],
    x: &[f32],
    inputs: usize,
    out: &mut [f32],
) {
    let rows = out.len() / PANEL;
    for b in 0..rows {
        let out = &mut out[b * PANEL..][..PANEL];
        out.copy_from_slice(bias);
        let x = &x[b * inputs..][..inputs];
        for (k, &xk) in x.iter().enumerate() {
            let w = &weights[k * PANEL..][..PANEL];
            for lane in 0..PANEL {
                out[lane] = w[lane].mul_add(xk, out[lane]);
            }
        }
    }
}

/// `1 / (1 + e^-x)` over a slice, in place.
fn sigmoid_in_place(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if simd::available() {
        // SAFETY: AVX2 and FMA were detected.
        unsafe { simd::sigmoid_in_place(values) };
        return;
    }
    sigmoid_portable(values);
}

fn sigmoid_portable(values: &mut [f32]) {
    for v in values {
        *v = 1.0 / (1.0 + (-*v).exp());
    }
}

/// The LSTM's weights arranged for [`CpuStepper::step`]: the same folded form as
/// [`super::LstmStepper`] (embedding folded into layer 0, cell-gate rows doubled so that one
/// sigmoid serves all four gates), packed for small batches.
#[derive(Debug, Clone)]
pub struct CpuStepper {
    /// `[vocab, 4·hidden]`: the first layer's input gates for each event (a row lookup).
    first_input_gates: Vec<f32>,
    /// Layer 0 over `h`; the layers above over `[x; h]`.
    layers: Vec<PackedMatrix>,
    head: PackedMatrix,
    hidden: usize,
    /// Threads sharing each product; none for one thread.
    pool: Option<Arc<ThreadPool>>,
    /// Buffers reused from step to step.
    scratch: Scratch,
}

/// Per-layer `h` and `c` of each sequence (`[batch, hidden]` row-major), as [`CpuStepper`] updates
/// them.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuState {
    /// Hidden state per layer.
    pub h: Vec<Vec<f32>>,
    /// Cell state per layer.
    pub c: Vec<Vec<f32>>,
}

/// Scratch space reused between steps.
#[derive(Debug, Clone, Default)]
struct Scratch {
    input: Vec<f32>,
    /// A product's result in panel-major order.
    panels: Vec<f32>,
    /// Gates, row-major.
    gates: Vec<f32>,
}

impl CpuStepper {
    /// Assembles a stepper from the folded weights (see [`super::LstmStepper`]):
    /// `first_input_gates` `[vocab, 4H]`, `first_recurrent` `[H, 4H]`, per upper layer
    /// `[2H, 4H]` + bias `[4H]`, and the head `[H, vocab]` + bias. With `threads` > 1 each
    /// product is split between the calling thread and `threads − 1` threads of the stepper's
    /// own pool.
    pub fn new(
        first_input_gates: Vec<f32>,
        first_recurrent: &[f32],
        upper: &[(Vec<f32>, Vec<f32>)],
        head: (&[f32], &[f32]),
        hidden: usize,
        threads: usize,
    ) -> Self {
        let gates = 4 * hidden;
        let vocab = head.1.len();
        let mut layers = vec![PackedMatrix::new(
            first_recurrent,
            &vec![0.0; gates],
            hidden,
            gates,
        )];
        layers.extend(
            upper
                .iter()
                .map(|(weight, bias)| PackedMatrix::new(weight, bias, 2 * hidden, gates)),
        );
        Self {
            first_input_gates,
            layers,
            head: PackedMatrix::new(head.0, head.1, hidden, vocab),
            hidden,
            pool: (threads > 1)
                .then(|| {
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(threads - 1)
                        .thread_name(|i| format!("cadenza-step-{i}"))
                        .build()
                        .ok()
                })
                .flatten()
                .map(Arc::new),
            scratch: Scratch::default(),
        }
    }

    /// Zero state for `batch` sequences.
    pub fn zero_state(&self, batch: usize) -> CpuState {
        let zeros = vec![vec![0.0; batch * self.hidden]; self.layers.len()];
        CpuState {
            h: zeros.clone(),
            c: zeros,
        }
    }

    /// Feeds one event per sequence and writes the logits over the next event to `logits`
    /// (`[batch, vocab]` row-major), updating `state`. `extra` is empty, or `[batch, 4·hidden]`
    /// added to the first layer's gates (a steerable model's controls, folded in).
    pub fn step(
        &mut self,
        events: &[usize],
        extra: &[f32],
        state: &mut CpuState,
        logits: &mut Vec<f32>,
    ) {
        // Taken out for the step (moving the buffers costs nothing) so the weights stay shared.
        let mut scratch = std::mem::take(&mut self.scratch);
        self.step_with(events, extra, state, logits, &mut scratch);
        self.scratch = scratch;
    }

    fn step_with(
        &self,
        events: &[usize],
        extra: &[f32],
        state: &mut CpuState,
        logits: &mut Vec<f32>,
        scratch: &mut Scratch,
    ) {
        let (batch, hidden) = (events.len(), self.hidden);
        let pool = self.pool.as_deref();
        for (layer, matrix) in self.layers.iter().enumerate() {
            // The product's input: h for layer 0 (its x part is the looked-up row), else [x; h].
            scratch.input.clear();
            for b in 0..batch {
                if layer > 0 {
                    scratch
                        .input
                        .extend_from_slice(&state.h[layer - 1][b * hidden..][..hidden]);
                }
                scratch
                    .input
                    .extend_from_slice(&state.h[layer][b * hidden..][..hidden]);
            }
            let Scratch {
                input,
                panels,
                gates,
            } = scratch;
            matrix.product(input, batch, panels, gates, pool);
            let width = 4 * hidden;
            if layer == 0 {
                for (b, (row, &event)) in gates.chunks_exact_mut(width).zip(events).enumerate() {
                    let looked_up = &self.first_input_gates[event * width..][..width];
                    row.iter_mut().zip(looked_up).for_each(|(g, x)| *g += x);
                    if let Some(extra) = extra.get(b * width..(b + 1) * width) {
                        row.iter_mut().zip(extra).for_each(|(g, x)| *g += x);
                    }
                }
            }
            sigmoid_in_place(gates);
            let (h, c) = (&mut state.h[layer], &mut state.c[layer]);
            let rows = gates
                .chunks_exact(width)
                .zip(h.chunks_exact_mut(hidden).zip(c.chunks_exact_mut(hidden)));
            for (row, (h, c)) in rows {
                let (input_gate, rest) = row.split_at(hidden);
                let (forget_gate, rest) = rest.split_at(hidden);
                let cell_gate = &rest[..hidden];
                for u in 0..hidden {
                    c[u] = forget_gate[u] * c[u] + input_gate[u] * (2.0 * cell_gate[u] - 1.0);
                    // h = o · tanh(c), with tanh(c) = 2σ(2c) − 1 through the vectorised sigmoid.
                    h[u] = 2.0 * c[u];
                }
            }
            sigmoid_in_place(h);
            for (row, h) in gates.chunks_exact(width).zip(h.chunks_exact_mut(hidden)) {
                let output_gate = &row[3 * hidden..];
                for (v, o) in h.iter_mut().zip(output_gate) {
                    *v = o * (2.0 * *v - 1.0);
                }
            }
        }
        let top = &state.h[self.layers.len() - 1];
        self.head
            .product(top, batch, &mut scratch.panels, logits, pool);
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use super::PANEL;

    /// Panel rows (64-byte lines) to fetch ahead of the one being multiplied: the hardware
    /// prefetcher alone leaves the loop waiting on memory.
    const PREFETCH_AHEAD: usize = 32;

    /// Asks for panel row `k` to be brought into the cache; past the end it is a harmless hint.
    #[inline(always)]
    fn prefetch(w: *const f32, k: usize) {
        // SAFETY: a prefetch never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add(k * PANEL).cast::<i8>()) };
    }

    /// Whether the CPU has AVX2 and FMA (cached by the standard library).
    pub fn available() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// See [`super::panel_product`]; `rows` ≤ 4.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn panel_product(
        weights: &[f32],
        bias: &[f32],
        x: &[f32],
        inputs: usize,
        rows: usize,
        out: &mut [f32],
    ) {
        assert!(weights.len() >= inputs * PANEL && bias.len() >= PANEL);
        assert!(x.len() >= rows * inputs && out.len() >= rows * PANEL);
        // SAFETY: the assertions above bound every read and write of the kernels.
        unsafe {
            match rows {
                1 => kernel::<1, 4>(weights, bias, x, inputs, out),
                2 => kernel::<2, 2>(weights, bias, x, inputs, out),
                3 => kernel::<3, 2>(weights, bias, x, inputs, out),
                _ => kernel::<4, 1>(weights, bias, x, inputs, out),
            }
        }
    }

    /// `ROWS` sequences, with the inputs split `SPLIT` ways so that at least eight independent
    /// multiply–add chains hide the FMA latency.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn kernel<const ROWS: usize, const SPLIT: usize>(
        weights: &[f32],
        bias: &[f32],
        x: &[f32],
        inputs: usize,
        out: &mut [f32],
    ) {
        let w = weights.as_ptr();
        let x = x.as_ptr();
        // SAFETY (whole body): the caller checked that `weights` holds `inputs × PANEL`, `x`
        // holds `ROWS × inputs` and `out` holds `ROWS × PANEL` floats.
        unsafe {
            let mut low = [[_mm256_setzero_ps(); ROWS]; SPLIT];
            let mut high = [[_mm256_setzero_ps(); ROWS]; SPLIT];
            for r in 0..ROWS {
                low[0][r] = _mm256_loadu_ps(bias.as_ptr());
                high[0][r] = _mm256_loadu_ps(bias.as_ptr().add(8));
            }
            let whole = inputs / SPLIT * SPLIT;
            let mut k = 0;
            while k < whole {
                for s in 0..SPLIT {
                    prefetch(w, k + s + PREFETCH_AHEAD);
                    let wl = _mm256_loadu_ps(w.add((k + s) * PANEL));
                    let wh = _mm256_loadu_ps(w.add((k + s) * PANEL + 8));
                    for r in 0..ROWS {
                        let xv = _mm256_broadcast_ss(&*x.add(r * inputs + k + s));
                        low[s][r] = _mm256_fmadd_ps(wl, xv, low[s][r]);
                        high[s][r] = _mm256_fmadd_ps(wh, xv, high[s][r]);
                    }
                }
                k += SPLIT;
            }
            for k in whole..inputs {
                let wl = _mm256_loadu_ps(w.add(k * PANEL));
                let wh = _mm256_loadu_ps(w.add(k * PANEL + 8));
                for r in 0..ROWS {
                    let xv = _mm256_broadcast_ss(&*x.add(r * inputs + k));
                    low[0][r] = _mm256_fmadd_ps(wl, xv, low[0][r]);
                    high[0][r] = _mm256_fmadd_ps(wh, xv, high[0][r]);
                }
            }
            for r in 0..ROWS {
                let (mut l, mut h) = (low[0][r], high[0][r]);
                for s in 1..SPLIT {
                    l = _mm256_add_ps(l, low[s][r]);
                    h = _mm256_add_ps(h, high[s][r]);
                }
                _mm256_storeu_ps(out.as_mut_ptr().add(r * PANEL), l);
                _mm256_storeu_ps(out.as_mut_ptr().add(r * PANEL + 8), h);
            }
        }
    }

    /// `e^x` for eight lanes: Cephes' single-precision method (2^n · a degree-6 polynomial of the
    /// remainder), within 2 ulp over the range a sigmoid needs.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn exp(x: __m256) -> __m256 {
        let x = _mm256_min_ps(
            _mm256_max_ps(x, _mm256_set1_ps(-87.3)),
            _mm256_set1_ps(88.3),
        );
        let n = _mm256_round_ps(
            _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)),
            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC,
        );
        // r = x − n·ln2, with ln2 split in two for precision.
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
        let mut p = _mm256_set1_ps(1.987_569_1e-4);
        for c in [
            1.398_199_9e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            1.666_666_5e-1,
            0.5,
        ] {
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
        }
        let r2 = _mm256_mul_ps(r, r);
        let p = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0));
        let exponent = _mm256_slli_epi32(
            _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)),
            23,
        );
        _mm256_mul_ps(p, _mm256_castsi256_ps(exponent))
    }

    /// See [`super::sigmoid_in_place`].
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sigmoid_in_place(values: &mut [f32]) {
        let one = _mm256_set1_ps(1.0);
        let mut chunks = values.chunks_exact_mut(8);
        for chunk in &mut chunks {
            // SAFETY: `chunk` holds exactly eight floats.
            unsafe {
                let v = _mm256_loadu_ps(chunk.as_ptr());
                let e = exp(_mm256_sub_ps(_mm256_setzero_ps(), v));
                _mm256_storeu_ps(
                    chunk.as_mut_ptr(),
                    _mm256_div_ps(one, _mm256_add_ps(one, e)),
                );
            }
        }
        for v in chunks.into_remainder() {
            *v = 1.0 / (1.0 + (-*v).exp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x · W + b` the slow way.
    fn reference(weight: &[f32], bias: &[f32], x: &[f32], inputs: usize) -> Vec<f32> {
        let outputs = bias.len();
        let batch = x.len() / inputs;
        let mut out = Vec::new();
        for b in 0..batch {
            for j in 0..outputs {
                let sum: f64 = (0..inputs)
                    .map(|k| f64::from(x[b * inputs + k]) * f64::from(weight[k * outputs + j]))
                    .sum();
                out.push((sum + f64::from(bias[j])) as f32);
            }
        }
        out
    }

    fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn packed_products_match_a_plain_product_for_every_batch_size() {
        // Sizes that are not multiples of the panel or the input split, to cover the edges.
        let (inputs, outputs) = (37, 53);
        let weight = pseudo_random(inputs * outputs, 1);
        let bias = pseudo_random(outputs, 2);
        let matrix = PackedMatrix::new(&weight, &bias, inputs, outputs);
        for batch in 1..=9 {
            let x = pseudo_random(batch * inputs, 3 + batch as u32);
            let expected = reference(&weight, &bias, &x, inputs);
            for (tile, rows) in x.chunks(BATCH_TILE * inputs).enumerate() {
                let mut portable = vec![0.0; rows.len() / inputs * PANEL];
                panel_product_portable(
                    &matrix.weights[..inputs * PANEL],
                    &matrix.bias[..PANEL],
                    rows,
                    inputs,
                    &mut portable,
                );
                for (r, lanes) in portable.chunks(PANEL).enumerate() {
                    let b = tile * BATCH_TILE + r;
                    for (j, got) in lanes.iter().enumerate() {
                        let want = expected[b * outputs + j];
                        assert!(
                            (got - want).abs() < 1e-5,
                            "portable [{b},{j}]: {got} vs {want}"
                        );
                    }
                }
            }
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .expect("a pool");
            for pool in [None, Some(&pool)] {
                let (mut panels, mut out) = (Vec::new(), Vec::new());
                matrix.product(&x, batch, &mut panels, &mut out, pool);
                for (i, (got, want)) in out.iter().zip(&expected).enumerate() {
                    assert!(
                        (got - want).abs() < 1e-5,
                        "batch {batch} [{i}]: {got} vs {want}"
                    );
                }
                assert_eq!(out.len(), expected.len());
            }
        }
    }

    #[test]
    fn the_vectorised_sigmoid_matches_the_formula() {
        let mut values: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.05).collect();
        let mut expected = values.clone();
        sigmoid_portable(&mut expected);
        sigmoid_in_place(&mut values);
        for (got, want) in values.iter().zip(&expected) {
            assert!((got - want).abs() <= 2e-7, "{got} vs {want}");
        }
    }
}
