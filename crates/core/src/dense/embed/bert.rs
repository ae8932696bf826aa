//! The BERT encoder's forward pass, on the CPU.
//!
//! The weights are read in place from the mapped `model.safetensors`
//! ([`super::weights`]). A few rows (a question) go through this file's
//! 8-bit kernel; larger batches through candle's `Tensor::matmul` (the
//! `gemm` kernels), on f32 matrices made the first time one comes.
//! Everything between the matrix products (bias,
//! GELU, residual and layer norm, attention over each text's own tokens) is
//! fused here into one pass over plain slices. Texts are not padded: a batch
//! is the texts' tokens one after another, and attention runs over each
//! text's own rows, so no work is spent on padding and no mask is needed.
//!
//! Measured against candle-transformers' `BertModel` on the same weights
//! (BENCHMARKS.md): its unfused element-wise operations, each synchronised
//! across cores, took more time than the matrix products themselves.

use std::sync::OnceLock;

use candle_core::{Device, Tensor};

use super::EmbedError;
use super::weights::{Matrix, Weights};

type Result<T> = std::result::Result<T, EmbedError>;

/// What the forward pass needs from `config.json`.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct BertConfig {
    /// Width of the hidden states (384 for MiniLM).
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Longest input the position embeddings cover.
    pub max_position_embeddings: usize,
    /// Epsilon of the layer norms.
    pub layer_norm_eps: f64,
    /// The activation; only the exact GELU is supported.
    #[serde(default = "gelu")]
    pub hidden_act: String,
}

fn gelu() -> String {
    "gelu".into()
}

/// A linear layer: `x W + b`, `W` being the checkpoint's matrices
/// (out × in each, as PyTorch stores them) stacked.
struct Linear {
    /// The checkpoint's matrices, in place; stacked, they are `out × inputs`.
    source: Vec<Matrix>,
    inputs: usize,
    out: usize,
    /// The weights in panels of [`LANES`] output columns, each panel
    /// `inputs × LANES` and contiguous, for [`small_matmul`]: 8-bit, with one
    /// scale per output column, because a single question is bound by how
    /// fast the weights stream in from memory. On a CPU with AVX-512 BF16,
    /// the same bytes with each column's inputs in pairs (see [`Panels`]).
    panels: Panels,
    /// The scale of each output column of `panels`, padded to [`LANES`].
    scales: Vec<f32>,
    /// `W` in f32, input-major (inputs × out), for `gemm`: made from
    /// `source` the first time a large batch comes (indexing), never for
    /// questions alone.
    dense: OnceLock<Tensor>,
    bias: Vec<f32>,
}

/// Below this many rows (a question, a short sentence), the matrix product
/// runs in [`small_matmul`]: `gemm` packs the whole weight matrix on every
/// call, which costs more than the product itself when there are few rows.
const SMALL_ROWS: usize = 32;
/// Output columns per register tile of [`small_matmul`].
const LANES: usize = 16;

impl Linear {
    /// A layer from the checkpoint's weight matrices (stacked along the
    /// output dimension) and their biases.
    fn new(source: Vec<Matrix>, bias: Vec<f32>) -> Result<Linear> {
        let inputs = source.first().map_or(0, |m| m.columns);
        let out: usize = source.iter().map(|m| m.rows).sum();
        if source.iter().any(|m| m.columns != inputs) || bias.len() != out || inputs == 0 {
            return Err(EmbedError::Encode(format!(
                "a linear layer's weights do not fit together ({} biases for {out} outputs)",
                bias.len()
            )));
        }
        let padded = out.next_multiple_of(LANES);
        let mut scales = vec![1f32; padded];
        let paired = has_avx512_bf16();
        let mut panels = vec![0i8; Panels::panel_len(paired, inputs) * (padded / LANES)];
        // One panel at a time: its LANES output rows decoded (they are rows
        // of the checkpoint, contiguous), scaled, then written input-major.
        // (The loops over a row are written so that they vectorise: loading
        // the model for one question is mostly this pass.)
        let mut row = vec![0f32; inputs];
        let mut quantized = vec![0i8; inputs];
        let mut outputs = (0..source.len()).flat_map(|m| (0..source[m].rows).map(move |r| (m, r)));
        for (panel, chunk) in panels
            .chunks_exact_mut(Panels::panel_len(paired, inputs))
            .enumerate()
        {
            for lane in 0..LANES {
                let Some((m, r)) = outputs.next() else {
                    break;
                };
                source[m].row_into(r, &mut row);
                let max = max_abs(&row);
                if max > 0.0 {
                    scales[panel * LANES + lane] = max / 127.0;
                }
                let scale = scales[panel * LANES + lane];
                for (q, v) in quantized.iter_mut().zip(&row) {
                    *q = quantize(v / scale);
                }
                for (k, q) in quantized.iter().enumerate() {
                    chunk[Panels::offset(paired, k, lane)] = *q;
                }
            }
        }
        Ok(Linear {
            source,
            inputs,
            out,
            panels: Panels {
                bytes: panels,
                paired,
            },
            scales,
            dense: OnceLock::new(),
            bias,
        })
    }

    /// `W` in f32, input-major, made on first use.
    fn dense(&self) -> candle_core::Result<&Tensor> {
        if let Some(w) = self.dense.get() {
            return Ok(w);
        }
        let mut rows = Vec::with_capacity(self.out * self.inputs);
        for m in &self.source {
            rows.extend(m.to_vec());
        }
        let w = Tensor::from_vec(rows, (self.out, self.inputs), &Device::Cpu)?
            .t()?
            .contiguous()?;
        Ok(self.dense.get_or_init(|| w))
    }

    /// `x` (`rows` × in) times the weight, plus the bias: `rows` × out.
    #[inline(always)]
    fn forward(&self, x: Vec<f32>, rows: usize) -> candle_core::Result<Vec<f32>> {
        let (inputs, out) = (self.inputs, self.out);
        let mut y = Vec::with_capacity(rows * out);
        if rows < SMALL_ROWS {
            for _ in 0..rows {
                y.extend_from_slice(&self.bias);
            }
            small_matmul(
                &x,
                rows,
                inputs,
                self.panels.view(),
                &self.scales,
                out,
                &mut y,
            );
            return Ok(y);
        }
        let x = Tensor::from_vec(x, (rows, inputs), &Device::Cpu)?;
        y = x.matmul(self.dense()?)?.flatten_all()?.to_vec1::<f32>()?;
        for row in y.chunks_exact_mut(out) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v += b;
            }
        }
        Ok(y)
    }
}

/// A layer's 8-bit weights, in panels of `inputs` × [`LANES`] (see
/// [`Linear::panels`]), in the layout this CPU's kernel reads fastest.
struct Panels {
    /// One byte a weight.
    bytes: Vec<i8>,
    /// The layout. Not paired: each panel row by row, input by input.
    /// Paired: each column's inputs in pairs (for each panel,
    /// `k.div_ceil(2)` rows of [`LANES`] pairs: inputs `2p` and `2p + 1` of a
    /// column side by side; an odd last input is paired with 0), for AVX-512
    /// BF16's `vdpbf16ps`, which does two multiply-adds a lane where an f32
    /// FMA does one. The bytes widen to bfloat16 exactly in registers (a
    /// value of −127..=127 needs seven bits of mantissa, bfloat16 has
    /// eight). Stored as bfloat16, twice the bytes to stream, the pairs
    /// measured no faster than the f32 kernel; as bytes, a question took
    /// 12 % less time on one core (BENCHMARKS.md).
    paired: bool,
}

/// [`Panels`] borrowed: what [`small_matmul`] and [`tile`] take.
#[derive(Clone, Copy)]
struct PanelsView<'a> {
    bytes: &'a [i8],
    paired: bool,
}

impl Panels {
    /// The bytes of one panel of `inputs` inputs, paired or not.
    fn panel_len(paired: bool, inputs: usize) -> usize {
        if paired {
            inputs.div_ceil(2) * 2 * LANES
        } else {
            inputs * LANES
        }
    }

    /// Where input `k` of column `lane` lies in its panel, paired or not.
    #[inline(always)]
    fn offset(paired: bool, k: usize, lane: usize) -> usize {
        if paired {
            (k / 2) * 2 * LANES + 2 * lane + k % 2
        } else {
            k * LANES + lane
        }
    }

    /// The panels borrowed, for the kernels.
    fn view(&self) -> PanelsView<'_> {
        PanelsView {
            bytes: &self.bytes,
            paired: self.paired,
        }
    }
}

impl<'a> PanelsView<'a> {
    /// The panels of columns `tiles` (in panels of [`LANES`]) of `k` inputs.
    fn tiles(self, tiles: std::ops::Range<usize>, k: usize) -> PanelsView<'a> {
        let panel = Panels::panel_len(self.paired, k);
        PanelsView {
            bytes: &self.bytes[tiles.start * panel..tiles.end * panel],
            paired: self.paired,
        }
    }

    /// How many whole columns these panels of `k` inputs hold.
    fn columns(self, k: usize) -> usize {
        self.bytes.len() * LANES / Panels::panel_len(self.paired, k)
    }
}

/// Whether the kernels may use AVX-512 BF16 (with AVX-512F); std caches the answer.
fn has_avx512_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `v` rounded to bfloat16 (to nearest, ties to even, as `vcvtne2ps2bf16`
/// does), its 16 bits in the low half. `v` is finite: an activation or a weight.
#[inline(always)]
fn bf16_bits(v: f32) -> u32 {
    let bits = v.to_bits();
    bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16
}

/// The largest magnitude in `row`, in sixteen independent lanes (a single
/// running maximum is one long dependency chain).
#[inline(always)]
fn max_abs(row: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let chunks = row.chunks_exact(16);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (m, v) in lanes.iter_mut().zip(chunk) {
            *m = if v.abs() > *m { v.abs() } else { *m };
        }
    }
    rest.iter()
        .chain(&lanes)
        .fold(0f32, |a, v| if v.abs() > a { v.abs() } else { a })
}

/// `v` (already scaled into −127..=127) rounded half away from zero, as
/// `f32::round` does, without a call into libm for each of millions of weights.
#[inline(always)]
fn quantize(v: f32) -> i8 {
    ((v + 0.5f32.copysign(v)) as i32).clamp(-127, 127) as i8
}

/// `y += x W` for a few rows of `x` (`rows` × `k`), with `W` (`k` × `n`) in
/// panels (see [`Linear::panels`]). A tile of up to sixteen rows by
/// [`LANES`] columns stays in registers while its panel streams past, so
/// the weights are read once per sixteen rows.
#[inline(always)]
fn small_matmul(
    x: &[f32],
    rows: usize,
    k: usize,
    panels: PanelsView,
    scales: &[f32],
    n: usize,
    y: &mut [f32],
) {
    assert!(
        x.len() >= rows * k
            && panels.columns(k) >= n.next_multiple_of(LANES)
            && scales.len() >= n.next_multiple_of(LANES)
            && y.len() >= rows * n
    );
    let tiles = n.div_ceil(LANES);
    // On a pool of several threads (a single question), two threads take
    // half the columns each; inside a worker of one, this runs in turn.
    let halves = if tiles >= 2 && rayon::current_num_threads() > 1 {
        2
    } else {
        1
    };
    let mut r0 = 0;
    while r0 < rows {
        let here = (rows - r0).min(16);
        let x = &x[r0 * k..(r0 + here) * k];
        let run = |tiles: std::ops::Range<usize>| -> Vec<f32> {
            let width = tiles.len() * LANES;
            let mut out = vec![0f32; here * width];
            let panels = panels.tiles(tiles.start..tiles.end, k);
            let scales = &scales[tiles.start * LANES..tiles.end * LANES];
            tile(x, here, k, panels, scales, width, &mut out);
            out
        };
        let split = tiles.div_ceil(halves);
        let parts: Vec<(usize, Vec<f32>)> = if halves == 2 {
            let (a, b) = rayon::join(|| run(0..split), || run(split..tiles));
            vec![(0, a), (split, b)]
        } else {
            vec![(0, run(0..tiles))]
        };
        for (first_tile, part) in parts {
            let width = part.len() / here;
            let first = first_tile * LANES;
            let used = width.min(n - first);
            for (r, row) in part.chunks_exact(width).enumerate() {
                for (out, v) in y[(r0 + r) * n + first..][..used].iter_mut().zip(row) {
                    *out += v;
                }
            }
        }
        r0 += here;
    }
}

/// Calls `$kernel::<R>` with the smallest register tile `R` (2, 4, 6, 8,
/// 12 or 16 rows) that holds `$here` rows.
#[cfg(target_arch = "x86_64")]
macro_rules! by_rows {
    ($kernel:ident, $here:expr, ($($arg:expr),*)) => {
        match $here {
            1..=2 => $kernel::<2>($($arg),*),
            3..=4 => $kernel::<4>($($arg),*),
            5..=6 => $kernel::<6>($($arg),*),
            7..=8 => $kernel::<8>($($arg),*),
            9..=12 => $kernel::<12>($($arg),*),
            _ => $kernel::<16>($($arg),*),
        }
    };
}

/// `y += x W` for `here` (1 to 16) rows of `k`, `W`'s `n` columns in
/// `n.div_ceil(LANES)` panels of `k` × [`LANES`] with a scale for each of
/// their columns, and `y` `here` rows of `n`.
///
/// # Panics
/// When the slices are shorter than that; the lengths are checked once
/// here, not per element in the kernels.
#[inline(always)]
fn tile(
    x: &[f32],
    here: usize,
    k: usize,
    panels: PanelsView,
    scales: &[f32],
    n: usize,
    y: &mut [f32],
) {
    let columns = n.next_multiple_of(LANES);
    assert!(
        (1..=16).contains(&here)
            && k > 0
            && panels.columns(k) == columns
            && scales.len() >= columns
            && x.len() >= here * k
            && y.len() >= here * n,
        "tile: {here} rows of {k}, {} panel columns, {} scales, {n} columns, x {}, y {}",
        panels.columns(k),
        scales.len(),
        x.len(),
        y.len()
    );
    let (panels, paired) = (panels.bytes, panels.paired);
    if paired {
        #[cfg(target_arch = "x86_64")]
        if has_avx512_bf16() {
            // SAFETY: the CPU has AVX-512F and AVX-512 BF16 (checked just
            // above); the lengths `tile_bf16` relies on were asserted just
            // before.
            unsafe { by_rows!(tile_bf16, here, (x, here, k, panels, scales, n, y)) };
            return;
        }
        unreachable!("paired panels are only made on a CPU with AVX-512 BF16")
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above); the lengths
        // `tile_avx512` relies on were asserted just before.
        unsafe { by_rows!(tile_avx512, here, (x, here, k, panels, scales, n, y)) };
        return;
    }
    tile_any(x, here, k, panels, scales, n, y);
}

/// The product for `here` ≤ `R` rows, with sixteen-lane registers.
///
/// # Safety
/// The CPU has AVX-512F, and `scales` holds a scale for every column of
/// `panels` (a whole number of panels of `k` × [`LANES`]): those are read
/// unchecked. (Every other access is checked.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tile_avx512<const R: usize>(
    x: &[f32],
    here: usize,
    k: usize,
    panels: &[i8],
    scales: &[f32],
    n: usize,
    y: &mut [f32],
) {
    use std::arch::x86_64::*;
    debug_assert!(here >= 1 && here <= R && x.len() >= here * k && y.len() >= here * n);
    // The rows transposed (k × R), so that one step reads its inputs from one place.
    let mut columns = vec![0f32; k * R];
    for r in 0..here {
        for kk in 0..k {
            columns[kk * R + r] = x[r * k + kk];
        }
    }
    let mut acc = [_mm512_setzero_ps(); R];
    let mut sums = [0f32; LANES];
    for (t, panel) in panels.chunks_exact(k * LANES).enumerate() {
        let first = t * LANES;
        let width = LANES.min(n - first);
        acc.iter_mut().for_each(|a| *a = _mm512_setzero_ps());
        for kk in 0..k {
            // SAFETY: `panel` (a `chunks_exact`) holds `k` rows of sixteen
            // bytes, and this reads the sixteen of row `kk` < `k`.
            let w = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(unsafe {
                _mm_loadu_si128(panel.as_ptr().add(kk * LANES).cast())
            }));
            let xs = &columns[kk * R..kk * R + R];
            for r in 0..R {
                acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(xs[r]), w, acc[r]);
            }
        }
        // SAFETY: `scales` has a scale for every column of every panel (this
        // function's contract, asserted by `tile`): sixteen from `first`.
        let scale = unsafe { _mm512_loadu_ps(scales.as_ptr().add(first)) };
        for (r, a) in acc.iter().enumerate().take(here) {
            // SAFETY: `sums` holds sixteen floats.
            unsafe { _mm512_storeu_ps(sums.as_mut_ptr(), _mm512_mul_ps(*a, scale)) };
            for (out, s) in y[r * n + first..][..width].iter_mut().zip(&sums) {
                *out += s;
            }
        }
    }
}

/// [`tile_avx512`] with the weights in pairs ([`Panels::paired`]) and
/// each row of `x` rounded to bfloat16: one `vdpbf16ps` does the
/// multiply-adds of two inputs, in f32. The rounding of the activations
/// (eight bits of mantissa) is small beside the weights' own 8 bits: in
/// `matches_the_reference_implementation`, a question's cosine with the
/// f32 reference is 0.99969 either way (0.999694 against 0.999699).
///
/// # Safety
/// The CPU has AVX-512F and AVX-512 BF16, and `pairs` and `scales` hold
/// whole panels of `k.div_ceil(2)` × [`LANES`] pairs and a scale for each of
/// their columns: those are read unchecked. (Every other access is checked.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn tile_bf16<const R: usize>(
    x: &[f32],
    here: usize,
    k: usize,
    pairs: &[i8],
    scales: &[f32],
    n: usize,
    y: &mut [f32],
) {
    use std::arch::x86_64::*;
    debug_assert!(here >= 1 && here <= R && x.len() >= here * k && y.len() >= here * n);
    let half = k.div_ceil(2);
    // The rows' inputs as bfloat16 pairs, transposed (half × R), so that one
    // step reads its R pairs from one place.
    let mut columns = vec![0u32; half * R];
    for r in 0..here {
        let row = &x[r * k..(r + 1) * k];
        for (p, two) in row.chunks(2).enumerate() {
            let high = two.get(1).map_or(0, |v| bf16_bits(*v));
            columns[p * R + r] = bf16_bits(two[0]) | high << 16;
        }
    }
    let mut acc = [_mm512_setzero_ps(); R];
    let mut sums = [0f32; LANES];
    for (t, panel) in pairs.chunks_exact(half * 2 * LANES).enumerate() {
        let first = t * LANES;
        let width = LANES.min(n - first);
        acc.iter_mut().for_each(|a| *a = _mm512_setzero_ps());
        for p in 0..half {
            // SAFETY: `panel` (a `chunks_exact`) holds `half` rows of 32
            // bytes, and this reads the two halves of row `p` < `half`.
            let (low, high) = unsafe {
                let at = panel.as_ptr().add(p * 2 * LANES);
                (
                    _mm_loadu_si128(at.cast()),
                    _mm_loadu_si128(at.add(LANES).cast()),
                )
            };
            let low = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(low));
            let high = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(high));
            // Exact: the values are small integers. Columns 0..8 come from
            // `low`, 8..16 from `high`.
            let w = _mm512_cvtne2ps_pbh(high, low);
            let xs = &columns[p * R..p * R + R];
            for r in 0..R {
                // SAFETY: `__m512bh` is 32 bfloat16s, the same 64 bytes as
                // `__m512i`: a plain reinterpretation.
                let pair: __m512bh =
                    unsafe { std::mem::transmute(_mm512_set1_epi32(xs[r] as i32)) };
                acc[r] = _mm512_dpbf16_ps(acc[r], pair, w);
            }
        }
        // SAFETY: `scales` has a scale for every column of every panel (this
        // function's contract, asserted by `tile`): sixteen from `first`.
        let scale = unsafe { _mm512_loadu_ps(scales.as_ptr().add(first)) };
        for (r, a) in acc.iter().enumerate().take(here) {
            // SAFETY: `sums` holds sixteen floats.
            unsafe { _mm512_storeu_ps(sums.as_mut_ptr(), _mm512_mul_ps(*a, scale)) };
            for (out, s) in y[r * n + first..][..width].iter_mut().zip(&sums) {
                *out += s;
            }
        }
    }
}

/// The product for `here` rows, portably.
fn tile_any(
    x: &[f32],
    here: usize,
    k: usize,
    panels: &[i8],
    scales: &[f32],
    n: usize,
    y: &mut [f32],
) {
    for (t, panel) in panels.chunks_exact(k * LANES).enumerate() {
        let first = t * LANES;
        let width = LANES.min(n - first);
        for r in 0..here {
            let mut acc = [0f32; LANES];
            for (kk, wv) in panel.chunks_exact(LANES).enumerate() {
                let xv = x[r * k + kk];
                for (a, w) in acc.iter_mut().zip(wv) {
                    *a += xv * f32::from(*w);
                }
            }
            for ((out, a), scale) in y[r * n + first..][..width]
                .iter_mut()
                .zip(&acc)
                .zip(&scales[first..])
            {
                *out += a * scale;
            }
        }
    }
}

/// Layer norm's scale and shift.
struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl Norm {
    /// Normalises each row of `x` in place.
    #[inline(always)]
    fn apply(&self, x: &mut [f32]) {
        let width = self.weight.len();
        for row in x.chunks_exact_mut(width) {
            let mean = row.iter().sum::<f32>() / width as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let scale = 1.0 / (var + self.eps).sqrt();
            for ((v, w), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *v = (*v - mean) * scale * w + b;
            }
        }
    }
}

struct Layer {
    /// Query, key and value projections in one matrix (3·hidden × hidden).
    qkv: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

/// A BERT encoder with its weights.
pub(crate) struct Bert {
    config: BertConfig,
    /// The embedding tables, read a row at a time from the mapped file.
    word: Matrix,
    position: Matrix,
    token_type: Matrix,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

impl Bert {
    /// Builds the encoder from the tensors of a mapped `model.safetensors` file.
    pub fn load(config: BertConfig, weights: &std::sync::Arc<Weights>) -> Result<Bert> {
        if config.hidden_act != "gelu" {
            return Err(EmbedError::Encode(format!(
                "activation {:?} is not supported (only \"gelu\")",
                config.hidden_act
            )));
        }
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            return Err(EmbedError::Encode(
                "hidden size does not divide into heads".into(),
            ));
        }
        let hidden = config.hidden_size;
        // Checkpoints saved from a BertForX model carry a `bert.` prefix.
        let prefix = if weights.contains("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            ""
        };
        let take = |name: &str| weights.matrix(&format!("{prefix}{name}"));
        let wrong = |name: &str, m: &Matrix| {
            EmbedError::Encode(format!(
                "tensor {prefix}{name} is {} × {}, not as config.json describes (hidden size {hidden})",
                m.rows, m.columns
            ))
        };
        let vector = |name: &str| -> Result<Vec<f32>> {
            let m = take(name)?;
            if m.rows != 1 {
                return Err(wrong(name, &m));
            }
            Ok(m.to_vec())
        };
        let eps = config.layer_norm_eps as f32;
        let norm = |name: &str| -> Result<Norm> {
            let norm = Norm {
                weight: vector(&format!("{name}.weight"))?,
                bias: vector(&format!("{name}.bias"))?,
                eps,
            };
            if norm.weight.len() != hidden || norm.bias.len() != hidden {
                return Err(EmbedError::Encode(format!(
                    "layer norm {prefix}{name} does not have {hidden} values"
                )));
            }
            Ok(norm)
        };
        let table = |name: &str, rows: usize| -> Result<Matrix> {
            let m = take(name)?;
            if m.columns != hidden || m.rows < rows {
                return Err(wrong(name, &m));
            }
            Ok(m)
        };
        let embedding_norm = norm("embeddings.LayerNorm")?;
        // The layers are independent: quantising them on every core halves
        // the model's load time, which a cold `ask` waits for.
        let layer = |i: usize| -> Result<Layer> {
            let at = format!("encoder.layer.{i}");
            let linear = |names: &[&str]| -> Result<Linear> {
                let mut source = Vec::new();
                let mut bias = Vec::new();
                for name in names {
                    source.push(take(&format!("{at}.{name}.weight"))?);
                    bias.extend(vector(&format!("{at}.{name}.bias"))?);
                }
                Linear::new(source, bias)
            };
            let qkv = linear(&[
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
            ])?;
            let attention_out = linear(&["attention.output.dense"])?;
            let intermediate = linear(&["intermediate.dense"])?;
            let output = linear(&["output.dense"])?;
            let shapes = [
                (&qkv, hidden, 3 * hidden),
                (&attention_out, hidden, hidden),
                (&intermediate, hidden, intermediate.out),
                (&output, intermediate.out, hidden),
            ];
            if shapes.iter().any(|(l, i, o)| l.inputs != *i || l.out != *o) {
                return Err(EmbedError::Encode(format!(
                    "layer {i}'s matrices do not fit hidden size {hidden}"
                )));
            }
            Ok(Layer {
                qkv,
                attention_out,
                attention_norm: norm(&format!("{at}.attention.output.LayerNorm"))?,
                intermediate,
                output,
                output_norm: norm(&format!("{at}.output.LayerNorm"))?,
            })
        };
        use rayon::prelude::*;
        let layers = (0..config.num_hidden_layers)
            .into_par_iter()
            .map(layer)
            .collect::<Result<Vec<_>>>()?;
        Ok(Bert {
            word: table("embeddings.word_embeddings.weight", 1)?,
            position: table(
                "embeddings.position_embeddings.weight",
                config.max_position_embeddings,
            )?,
            token_type: table("embeddings.token_type_embeddings.weight", 1)?,
            embedding_norm,
            layers,
            config,
        })
    }

    /// The mean-pooled, L2-normalised output for each text of token ids.
    pub fn embed(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
                // SAFETY: `embed_avx512` needs AVX-512F and FMA, which the CPU has (checked just above).
                return unsafe { self.embed_avx512(texts) };
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: `embed_avx2` needs AVX2 and FMA, which the CPU has (checked just above).
                return unsafe { self.embed_avx2(texts) };
            }
        }
        self.embed_any(texts)
    }

    /// [`Bert::embed`] with the loops between matrix products compiled for
    /// AVX-512 (sixteen lanes, fused multiply-add); chosen at run time.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,fma")]
    fn embed_avx512(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        self.embed_any(texts)
    }

    /// [`Bert::embed`] compiled for AVX2 and FMA (eight lanes instead of
    /// SSE2's four); chosen at run time.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn embed_avx2(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        self.embed_any(texts)
    }

    #[inline(always)]
    fn embed_any(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let hidden = self.config.hidden_size;
        let vocabulary = self.word.rows;
        let rows: usize = texts.iter().map(|t| t.len()).sum();
        let mut h = Vec::with_capacity(rows * hidden);
        for text in texts {
            if text.len() > self.config.max_position_embeddings {
                return Err(EmbedError::Encode(format!(
                    "{} tokens, more than the model's {}",
                    text.len(),
                    self.config.max_position_embeddings
                )));
            }
            for (position, &id) in text.iter().enumerate() {
                let id = id as usize;
                if id >= vocabulary {
                    return Err(EmbedError::Encode(format!(
                        "token id {id} is out of the vocabulary"
                    )));
                }
                let start = h.len();
                h.resize(start + hidden, 0.0);
                let row = &mut h[start..];
                self.word.row_into(id, row);
                self.position.add_row(position, row);
                self.token_type.add_row(0, row);
            }
        }
        self.embedding_norm.apply(&mut h);
        for layer in &self.layers {
            h = self.layer(layer, h, texts, rows).map_err(model_error)?;
        }
        let mut out = Vec::with_capacity(texts.len());
        let mut start = 0;
        for text in texts {
            let mut mean = vec![0f32; hidden];
            for row in h[start * hidden..(start + text.len()) * hidden].chunks_exact(hidden) {
                for (m, v) in mean.iter_mut().zip(row) {
                    *m += v;
                }
            }
            start += text.len();
            let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            mean.iter_mut().for_each(|v| *v /= norm);
            out.push(mean);
        }
        Ok(out)
    }

    #[inline(always)]
    fn layer(
        &self,
        layer: &Layer,
        h: Vec<f32>,
        texts: &[&[u32]],
        rows: usize,
    ) -> candle_core::Result<Vec<f32>> {
        let hidden = self.config.hidden_size;
        let qkv = layer.qkv.forward(h.clone(), rows)?;
        let context = self.attention(&qkv, texts);
        let mut attended = layer.attention_out.forward(context, rows)?;
        for (a, x) in attended.iter_mut().zip(&h) {
            *a += x;
        }
        layer.attention_norm.apply(&mut attended);
        let mut inner = layer.intermediate.forward(attended.clone(), rows)?;
        inner.iter_mut().for_each(|v| *v = gelu_erf(*v));
        let mut out = layer.output.forward(inner, rows)?;
        for (o, a) in out.iter_mut().zip(&attended) {
            *o += a;
        }
        layer.output_norm.apply(&mut out);
        debug_assert_eq!(out.len(), rows * hidden);
        Ok(out)
    }

    /// Scaled dot-product attention of each text's tokens over its own
    /// tokens, every head; `qkv` holds each token's query, key and value.
    #[inline(always)]
    fn attention(&self, qkv: &[f32], texts: &[&[u32]]) -> Vec<f32> {
        let hidden = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let width = hidden / heads;
        let scale = 1.0 / (width as f32).sqrt();
        let stride = 3 * hidden;
        let mut context = vec![0f32; qkv.len() / 3];
        let mut keys = Vec::new();
        let mut scores = Vec::new();
        let mut first = 0;
        for text in texts {
            let n = text.len();
            let rows = &qkv[first * stride..(first + n) * stride];
            let out = &mut context[first * hidden..(first + n) * hidden];
            for head in 0..heads {
                let (q_at, k_at, v_at) = (
                    head * width,
                    hidden + head * width,
                    2 * hidden + head * width,
                );
                // The head's keys, transposed (width × n), so that a query's
                // scores are `width` contiguous multiply-adds over all keys.
                keys.clear();
                keys.resize(width * n, 0.0);
                for (j, row) in rows.chunks_exact(stride).enumerate() {
                    for (d, k) in row[k_at..k_at + width].iter().enumerate() {
                        keys[d * n + j] = *k;
                    }
                }
                for (i, row) in rows.chunks_exact(stride).enumerate() {
                    scores.clear();
                    scores.resize(n, 0.0);
                    for (d, q) in row[q_at..q_at + width].iter().enumerate() {
                        let q = q * scale;
                        for (s, k) in scores.iter_mut().zip(&keys[d * n..(d + 1) * n]) {
                            *s += q * k;
                        }
                    }
                    softmax(&mut scores);
                    let target = &mut out[i * hidden + q_at..i * hidden + q_at + width];
                    for (p, value_row) in scores.iter().zip(rows.chunks_exact(stride)) {
                        for (t, v) in target.iter_mut().zip(&value_row[v_at..v_at + width]) {
                            *t += p * v;
                        }
                    }
                }
            }
            first += n;
        }
        context
    }
}

fn model_error(e: candle_core::Error) -> EmbedError {
    EmbedError::Encode(e.to_string())
}

/// Softmax in place.
#[inline(always)]
fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    x.iter_mut().for_each(|v| *v *= inv);
}

/// The exact GELU, `x·Φ(x)`, with `erf` as a rational approximation (the
/// one XLA and Eigen use for f32: within 2e-7 of the true value).
#[inline(always)]
fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_600_1e-3;
    p = x2 * p + -1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329_2e-3;
    q = x2 * q + -1.426_474e-2;
    p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_accurate() {
        let mut worst = 0.0f64;
        for i in -6000..=6000 {
            let x = i as f64 / 1000.0;
            let err = (f64::from(erf(x as f32)) - libm_erf(x)).abs();
            worst = worst.max(err);
        }
        assert!(worst < 1e-6, "erf off by {worst}");
    }

    /// erf by its Taylor series (|x| < 3) or its asymptotic tail, in f64.
    fn libm_erf(x: f64) -> f64 {
        if x.abs() > 3.0 {
            // erfc(x) ≈ e^{-x²}/(x√π) (1 − 1/(2x²) + 3/(4x⁴)); below 2e-5 here.
            let ax = x.abs();
            let tail = (-ax * ax).exp() / (ax * std::f64::consts::PI.sqrt())
                * (1.0 - 1.0 / (2.0 * ax * ax) + 3.0 / (4.0 * ax.powi(4)));
            return x.signum() * (1.0 - tail);
        }
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    /// Numbers in −1..1 from a fixed seed, so that a failure can be rerun.
    fn noise(seed: u64) -> impl FnMut() -> f32 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }

    /// Whether the CPU has every one of `features`, saying so when it does not.
    #[cfg(target_arch = "x86_64")]
    fn has(features: &[&str], kernel: &str) -> bool {
        let missing: Vec<&str> = features
            .iter()
            .copied()
            .filter(|f| match *f {
                "avx512f" => !std::is_x86_feature_detected!("avx512f"),
                "avx512bf16" => !std::is_x86_feature_detected!("avx512bf16"),
                "avx2" => !std::is_x86_feature_detected!("avx2"),
                "fma" => !std::is_x86_feature_detected!("fma"),
                other => panic!("no check for {other}"),
            })
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "{kernel}: not checked, this CPU lacks {}",
                missing.join(", ")
            );
        }
        missing.is_empty()
    }

    /// `panels` (`k` × [`LANES`] each) laid out again with each column's
    /// inputs in pairs, as `Linear::new` lays them out for `tile_bf16`.
    fn pairs(panels: &[i8], k: usize) -> Vec<i8> {
        let mut out = vec![0i8; panels.len() / k * Panels::panel_len(true, k) / LANES];
        for (panel, paired) in panels
            .chunks_exact(k * LANES)
            .zip(out.chunks_exact_mut(Panels::panel_len(true, k)))
        {
            for kk in 0..k {
                for lane in 0..LANES {
                    paired[Panels::offset(true, kk, lane)] = panel[Panels::offset(false, kk, lane)];
                }
            }
        }
        out
    }

    /// `tile` on panels in the layout `paired` or not gives what
    /// `tile_any` gives, within `relative` of the products' magnitudes, for
    /// every row count the kernels serve, odd input counts and column counts
    /// that are not whole panels.
    fn tile_agrees_with_the_portable_one(seed: u64, paired: bool, relative: f32) {
        let mut random = noise(seed);
        for (k, n) in [
            (1usize, 16usize),
            (3, 5),
            (7, 33),
            (64, 100),
            (384, 1536),
            (1536, 384),
        ] {
            let columns = n.next_multiple_of(LANES);
            let panels: Vec<i8> = (0..k * columns).map(|_| (random() * 127.0) as i8).collect();
            let laid_out = if paired {
                pairs(&panels, k)
            } else {
                panels.clone()
            };
            let view = PanelsView {
                bytes: &laid_out,
                paired,
            };
            let scales: Vec<f32> = (0..columns).map(|_| random().abs() / 64.0).collect();
            for here in 1..=16 {
                let x: Vec<f32> = (0..here * k).map(|_| random()).collect();
                let start: Vec<f32> = (0..here * n).map(|_| random()).collect();
                let mut portable = start.clone();
                tile_any(&x, here, k, &panels, &scales, n, &mut portable);
                let mut fast = start.clone();
                tile(&x, here, k, view, &scales, n, &mut fast);
                for (i, (a, b)) in portable.iter().zip(&fast).enumerate() {
                    let (r, c) = (i / n, i % n);
                    let size: f32 = (0..k)
                        .map(|kk| {
                            let w = panels[(c / LANES) * k * LANES + kk * LANES + c % LANES];
                            (x[r * k + kk] * f32::from(w) * scales[c]).abs()
                        })
                        .sum();
                    assert!(
                        (a - b).abs() <= relative * size + 1e-6 * start[i].abs() + 1e-6,
                        "paired {paired}, k {k}, n {n}, {here} rows, [{r}][{c}]: {a} vs {b}"
                    );
                }
            }
        }
    }

    /// `tile_avx512` gives what `tile_any` gives (fused multiply-adds round
    /// once where the portable code rounds twice).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx512_tile_matches_the_portable_one() {
        if has(&["avx512f"], "tile_avx512") {
            tile_agrees_with_the_portable_one(11, false, 1e-6);
        }
    }

    /// `tile_bf16` on the paired panels gives what `tile_any` gives on the
    /// plain ones, within the rounding of the inputs to bfloat16 (2⁻⁹ of
    /// each, relative).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_bf16_tile_matches_the_portable_one() {
        if has(&["avx512f", "avx512bf16"], "tile_bf16") {
            tile_agrees_with_the_portable_one(13, true, 2f32.powi(-8));
        }
    }

    /// Each layout puts every input of every column of a panel in a slot
    /// of its own, inside the panel; paired, an odd last input's partner
    /// slot is the only one left over.
    #[test]
    fn each_panel_layout_gives_every_weight_its_own_slot() {
        for paired in [false, true] {
            for k in [1, 2, 5, 384] {
                let len = Panels::panel_len(paired, k);
                let mut seen = vec![false; len];
                for kk in 0..k {
                    for lane in 0..LANES {
                        let at = Panels::offset(paired, kk, lane);
                        assert!(
                            at < len && !seen[at],
                            "paired {paired}, k {k}: input {kk}, lane {lane}"
                        );
                        seen[at] = true;
                    }
                }
                let spare = if paired && k % 2 == 1 { LANES } else { 0 };
                assert_eq!(
                    seen.iter().filter(|s| !**s).count(),
                    spare,
                    "paired {paired}, k {k}"
                );
            }
        }
    }

    /// bfloat16 rounding is to nearest, ties to even, as the hardware's.
    #[test]
    fn bf16_rounds_to_nearest_even() {
        assert_eq!(bf16_bits(1.0), 0x3f80);
        assert_eq!(bf16_bits(-2.0), 0xc000);
        // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷: to even, 1.
        assert_eq!(bf16_bits(1.0 + 2f32.powi(-8)), 0x3f80);
        // 1 + 3·2⁻⁸ is halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: to even, up.
        assert_eq!(bf16_bits(1.0 + 3.0 * 2f32.powi(-8)), 0x3f82);
        assert_eq!(bf16_bits(1.0 + 2f32.powi(-8) + 2f32.powi(-20)), 0x3f81);
        for q in -127i8..=127 {
            assert_eq!(f32::from_bits(bf16_bits(f32::from(q)) << 16), f32::from(q));
        }
    }

    /// The forward pass compiled for AVX-512 and for AVX2 gives the
    /// portable build's vectors, for a question (the 8-bit path) and for
    /// batches large enough for `gemm`, with texts of odd lengths.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_forward_pass_for_each_instruction_set_matches_the_portable_one() {
        let dir = crate::test_paths::model();
        let config: BertConfig =
            serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        let weights = Weights::open(&dir.join("model.safetensors")).unwrap();
        let bert = Bert::load(config, &weights).unwrap();
        let mut random = noise(5);
        let mut text = |len: usize| -> Vec<u32> {
            let mut ids = vec![101];
            ids.extend((0..len).map(|_| 2000 + (random().abs() * 27000.0) as u32));
            ids.push(102);
            ids
        };
        let batches: Vec<Vec<Vec<u32>>> = vec![
            vec![text(0)],
            vec![text(7)],
            vec![text(17), text(3)],
            vec![text(45)],
            vec![text(31), text(9), text(60), text(1)],
        ];
        let agree = |kernel: &str, batch: &[Vec<u32>], portable: &[Vec<f32>], fast: &[Vec<f32>]| {
            assert_eq!(portable.len(), fast.len());
            for (p, f) in portable.iter().zip(fast) {
                let worst = p
                    .iter()
                    .zip(f)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(
                    worst < 1e-6,
                    "{kernel}, texts of {:?} tokens: off by {worst}",
                    batch.iter().map(Vec::len).collect::<Vec<_>>()
                );
            }
        };
        let avx512 = has(&["avx512f", "fma"], "embed_avx512");
        let avx2 = has(&["avx2", "fma"], "embed_avx2");
        for batch in &batches {
            let texts: Vec<&[u32]> = batch.iter().map(Vec::as_slice).collect();
            let portable = bert.embed_any(&texts).unwrap();
            if avx512 {
                // SAFETY: the CPU has AVX-512F and FMA (checked by `has`).
                let fast = unsafe { bert.embed_avx512(&texts) }.unwrap();
                agree("embed_avx512", batch, &portable, &fast);
            }
            if avx2 {
                // SAFETY: the CPU has AVX2 and FMA (checked by `has`).
                let fast = unsafe { bert.embed_avx2(&texts) }.unwrap();
                agree("embed_avx2", batch, &portable, &fast);
            }
        }
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut x = vec![1.0, 2.0, 3.0];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(x[2] > x[1] && x[1] > x[0]);
    }
}
