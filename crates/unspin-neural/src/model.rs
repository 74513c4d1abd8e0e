//! SmolLM2 (llama architecture) forward pass on the CPU.
//!
//! The weights come from a GGUF file (`Q4_1` projections, `Q8_0`
//! embeddings). Every projection is converted once at load time for the
//! fastest kernel this CPU has:
//!
//! * with AMX (Xeon since Sapphire Rapids), bfloat16 tiles (`amx.rs`);
//! * elsewhere, candle's quantized kernels: `Q4_1` re-encoded as `Q4K` and
//!   the input width padded with zeros to a multiple of 256 (`convert.rs`),
//!   as candle's AVX2 / AVX-512 VNNI code only takes such shapes; candle
//!   has only scalar code for the file's `Q4_1`.
//!
//! Both keep the file's 4-bit values (bfloat16 and `Q4K` hold them exactly
//! or nearly so), so the model computes what the file describes.
//!
//! The forward pass works on a batch of *segments*: runs of new tokens that
//! attend to a cached prefix of their block (the keys and values of tokens
//! already run) and to their own earlier tokens. One batch can mix many
//! segments, so every matrix product sees many rows at once; that is what
//! makes candidate scoring cheap (see `score.rs`).

use std::io::{Read, Seek};

use candle_core::quantized::{ggml_file::qtensor_from_ggml, gguf_file, GgmlDType, QMatMul};
use candle_core::{CpuStorage, CustomOp1, Device, Module, Tensor};
use rayon::prelude::*;

use crate::amx;
use crate::convert::{self, padded};
use crate::Error;

/// Profiling counters (nanoseconds): linear, attention, head matmul, softmax, other.
pub static PROF: [std::sync::atomic::AtomicU64; 5] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 5];
fn prof(i: usize, t: std::time::Instant) {
    PROF[i].fetch_add(
        t.elapsed().as_nanos() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Shape facts read from the GGUF metadata.
#[derive(Clone, Debug)]
pub struct Config {
    /// Hidden size (576 for SmolLM2-135M).
    pub hidden: usize,
    /// Feed-forward size.
    pub ffn: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// RMS-norm epsilon.
    pub eps: f32,
    /// Rotary embedding base.
    pub rope_base: f32,
    /// Longest context the model was trained on.
    pub context: usize,
}

impl Config {
    /// Dimensions per head.
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }

    fn kv_dim(&self) -> usize {
        self.kv_heads * self.head_dim()
    }
}

/// How a projection's weights are stored.
enum Weights {
    /// Candle's quantized blocks (`Q4K` or `Q8_0`), input padded to `kp`.
    Candle(QMatMul),
    /// Bfloat16 AMX tiles, when the CPU has them (input not padded).
    Amx(amx::Bf16Matrix),
}

/// One linear map `y = x W^T`.
struct Linear {
    w: Weights,
    /// Input width as the model sees it.
    k: usize,
    /// Input width of the stored blocks.
    kp: usize,
    /// Output width.
    n: usize,
}

impl Linear {
    /// `x` has `rows` rows of width `self.k`; the result has `rows` rows of width `self.n`.
    fn forward(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, Error> {
        debug_assert_eq!(x.len(), rows * self.k);
        let w = match &self.w {
            Weights::Amx(m) => {
                let t = std::time::Instant::now();
                let y = m.matmul(x, rows);
                prof(if m.n() > 10000 { 2 } else { 0 }, t);
                return Ok(y);
            }
            Weights::Candle(w) => w,
        };
        let input = if self.kp == self.k {
            x.to_vec()
        } else {
            let mut p = vec![0f32; rows * self.kp];
            for (dst, src) in p.chunks_exact_mut(self.kp).zip(x.chunks_exact(self.k)) {
                dst[..self.k].copy_from_slice(src);
            }
            p
        };
        let t = std::time::Instant::now();
        let y = match w {
            // The quantized product called as the op it is, on plain
            // vectors: going through `Tensor` would copy the input in and
            // the output (up to 128 rows of the 49,152-word vocabulary) out.
            QMatMul::QTensor(q) => {
                let layout = candle_core::Layout::contiguous((rows, self.kp));
                match q.cpu_fwd(&CpuStorage::F32(input), &layout)?.0 {
                    CpuStorage::F32(y) => y,
                    _ => return Err(Error::Model("quantized product did not give f32".into())),
                }
            }
            w => {
                let input = Tensor::from_vec(input, (rows, self.kp), &Device::Cpu)?;
                w.forward(&input)?.flatten_all()?.to_vec1::<f32>()?
            }
        };
        prof(if self.n > 10000 { 2 } else { 0 }, t);
        debug_assert_eq!(y.len(), rows * self.n);
        Ok(y)
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    /// Queries, keys and values in one product: `[hidden + 2 * kv_dim][hidden]`.
    qkv: Linear,
    o: Linear,
    ffn_norm: Vec<f32>,
    /// Gate and up projections in one product: `[2 * ffn][hidden]`.
    gate_up: Linear,
    down: Linear,
}

/// Token embeddings kept as the file's 8-bit blocks, dequantized a row at a time.
struct Embeddings {
    /// Raw `Q8_0` blocks, row after row.
    raw: Vec<u8>,
    /// Bytes per row.
    row_bytes: usize,
    hidden: usize,
}

const Q8_0_BLOCK: usize = convert::Q8_0_BYTES;

impl Embeddings {
    fn row(&self, token: u32, out: &mut [f32]) {
        let row = &self.raw[token as usize * self.row_bytes..][..self.row_bytes];
        for (blk, dst) in row.chunks_exact(Q8_0_BLOCK).zip(out.chunks_mut(32)) {
            let d = half::f16::from_le_bytes([blk[0], blk[1]]).to_f32();
            for (o, &q) in dst.iter_mut().zip(&blk[2..]) {
                *o = d * (q as i8) as f32;
            }
        }
        debug_assert_eq!(out.len(), self.hidden);
    }
}

/// Keys and values of one block's tokens, per layer. Keys are stored
/// transposed (`[kv_head][head_dim][capacity]`) so that scoring one query
/// against every key is a run of vector multiply-adds; values are stored by
/// token (`[capacity][kv_dim]`).
pub struct KvCache {
    cap: usize,
    /// Tokens stored, per layer.
    len: Vec<usize>,
    kt: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

/// A run of tokens in a batch: rows `rows` of the batch, at positions
/// `first_pos..`, attending to the first `prefix` tokens of `cache` and to
/// the run's own earlier tokens.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Rows of the batch.
    pub rows: std::ops::Range<usize>,
    /// Which cache (block) the run continues.
    pub cache: usize,
    /// Cached tokens it sees (its first token sits at this position).
    pub prefix: usize,
    /// Whether to append the run's keys and values to the cache (a prefix pass).
    pub store: bool,
}

/// The SmolLM2 weights, ready to run.
pub struct Model {
    /// Shapes.
    pub cfg: Config,
    embed: Embeddings,
    layers: Vec<Layer>,
    out_norm: Vec<f32>,
    head: Linear,
    /// cos/sin of the rotary embedding, `[position][head_dim / 2]`.
    rope_cos: Vec<f32>,
    rope_sin: Vec<f32>,
}

fn meta_u32(ct: &gguf_file::Content, key: &str) -> Result<usize, Error> {
    ct.metadata
        .get(key)
        .and_then(|v| v.to_u32().ok())
        .map(|v| v as usize)
        .ok_or_else(|| Error::Model(format!("GGUF metadata `{key}` missing or not an integer")))
}

fn meta_f32(ct: &gguf_file::Content, key: &str) -> Result<f32, Error> {
    ct.metadata
        .get(key)
        .and_then(|v| v.to_f32().ok())
        .ok_or_else(|| Error::Model(format!("GGUF metadata `{key}` missing or not a number")))
}

/// Which code runs the projections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernels {
    /// AMX bfloat16 tiles (only when [`amx::available`]).
    Amx,
    /// Candle's quantized blocks (the path of CPUs without AMX).
    Blocks,
    /// Plain f32 (slow, smooth arithmetic for tests of the attention code).
    Exact,
}

impl Model {
    /// Reads the model from an opened GGUF file.
    pub fn load<R: Read + Seek>(ct: &gguf_file::Content, r: &mut R) -> Result<Self, Error> {
        let kernels = if amx::available() {
            Kernels::Amx
        } else {
            Kernels::Blocks
        };
        Self::load_as(ct, r, kernels)
    }

    /// Like [`Model::load`], with the projections run by `kernels`.
    pub(crate) fn load_as<R: Read + Seek>(
        ct: &gguf_file::Content,
        r: &mut R,
        kernels: Kernels,
    ) -> Result<Self, Error> {
        let arch = ct
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if arch != "llama" {
            return Err(Error::Model(format!(
                "architecture `{arch}` is not supported (llama only)"
            )));
        }
        let cfg = Config {
            hidden: meta_u32(ct, "llama.embedding_length")?,
            ffn: meta_u32(ct, "llama.feed_forward_length")?,
            layers: meta_u32(ct, "llama.block_count")?,
            heads: meta_u32(ct, "llama.attention.head_count")?,
            kv_heads: meta_u32(ct, "llama.attention.head_count_kv")?,
            vocab: 0,
            eps: meta_f32(ct, "llama.attention.layer_norm_rms_epsilon")?,
            rope_base: meta_f32(ct, "llama.rope.freq_base").unwrap_or(10_000.0),
            context: meta_u32(ct, "llama.context_length").unwrap_or(2048),
        };
        if cfg.heads == 0
            || cfg.kv_heads == 0
            || !cfg.hidden.is_multiple_of(cfg.heads)
            || !cfg.heads.is_multiple_of(cfg.kv_heads)
            || !cfg.head_dim().is_multiple_of(16)
        {
            return Err(Error::Model(format!("unsupported head layout {cfg:?}")));
        }
        let mut cfg = cfg;

        let embd_info = ct
            .tensor_infos
            .get("token_embd.weight")
            .ok_or_else(|| Error::Model("tensor `token_embd.weight` missing".into()))?;
        let dims = embd_info.shape.dims().to_vec();
        // GGUF lists the fastest dimension first; candle reverses it: [vocab, hidden].
        if dims.len() != 2 || dims[1] != cfg.hidden {
            return Err(Error::Model(format!(
                "token_embd.weight has shape {dims:?}"
            )));
        }
        cfg.vocab = dims[0];
        let embd = ct.tensor(r, "token_embd.weight", &Device::Cpu)?;
        let embed = if embd.dtype() == GgmlDType::Q8_0 && cfg.hidden.is_multiple_of(32) {
            let raw = embd.data()?.into_owned();
            Embeddings {
                row_bytes: cfg.hidden / 32 * Q8_0_BLOCK,
                raw,
                hidden: cfg.hidden,
            }
        } else {
            // Re-encode whatever the file holds as 8-bit rows.
            let f = embd.dequantize(&Device::Cpu)?;
            let q = candle_core::quantized::QTensor::quantize(&f, GgmlDType::Q8_0)?;
            Embeddings {
                row_bytes: cfg.hidden / 32 * Q8_0_BLOCK,
                raw: q.data()?.into_owned(),
                hidden: cfg.hidden,
            }
        };
        // The output projection is tied to the embeddings unless the file has its own.
        let head_name = if ct.tensor_infos.contains_key("output.weight") {
            "output.weight"
        } else {
            "token_embd.weight"
        };
        let head = linear(ct, r, &[(head_name, cfg.vocab)], cfg.hidden, kernels)?;
        let out_norm = vector(ct, r, "output_norm.weight", cfg.hidden)?;
        let (hd, kvd) = (cfg.head_dim(), cfg.kv_dim());
        let mut layers = Vec::with_capacity(cfg.layers);
        for l in 0..cfg.layers {
            let n = |s: &str| format!("blk.{l}.{s}.weight");
            layers.push(Layer {
                attn_norm: vector(ct, r, &n("attn_norm"), cfg.hidden)?,
                qkv: linear(
                    ct,
                    r,
                    &[
                        (&n("attn_q"), cfg.hidden),
                        (&n("attn_k"), kvd),
                        (&n("attn_v"), kvd),
                    ],
                    cfg.hidden,
                    kernels,
                )?,
                o: linear(
                    ct,
                    r,
                    &[(&n("attn_output"), cfg.hidden)],
                    cfg.hidden,
                    kernels,
                )?,
                ffn_norm: vector(ct, r, &n("ffn_norm"), cfg.hidden)?,
                gate_up: linear(
                    ct,
                    r,
                    &[(&n("ffn_gate"), cfg.ffn), (&n("ffn_up"), cfg.ffn)],
                    cfg.hidden,
                    kernels,
                )?,
                down: linear(ct, r, &[(&n("ffn_down"), cfg.hidden)], cfg.ffn, kernels)?,
            });
        }
        let half_dim = hd / 2;
        let positions = cfg.context.max(1);
        let mut rope_cos = Vec::with_capacity(positions * half_dim);
        let mut rope_sin = Vec::with_capacity(positions * half_dim);
        for p in 0..positions {
            for i in 0..half_dim {
                let theta = (p as f64) / (cfg.rope_base as f64).powf(2.0 * i as f64 / hd as f64);
                rope_cos.push(theta.cos() as f32);
                rope_sin.push(theta.sin() as f32);
            }
        }
        Ok(Self {
            cfg,
            embed,
            layers,
            out_norm,
            head,
            rope_cos,
            rope_sin,
        })
    }

    /// An empty cache for a block of at most `cap` tokens.
    pub fn new_cache(&self, cap: usize) -> KvCache {
        let kvd = self.cfg.kv_dim();
        KvCache {
            cap,
            len: vec![0; self.cfg.layers],
            kt: vec![vec![0.0; kvd * cap]; self.cfg.layers],
            v: vec![vec![0.0; kvd * cap]; self.cfg.layers],
        }
    }

    /// Runs `tokens` (one per batch row, laid out as `segs` say) through the
    /// transformer and returns the final hidden states after the output norm,
    /// `[rows][hidden]`. Segments with `store` append their keys and values
    /// to their cache, in row order.
    pub fn forward(
        &self,
        tokens: &[u32],
        segs: &[Segment],
        caches: &mut [KvCache],
    ) -> Result<Vec<f32>, Error> {
        self.forward_until(tokens, segs, caches, &unspin::Cancel::never())
    }

    /// [`Model::forward`], stopping with [`Error::Cancelled`] once `cancel`
    /// is cancelled: checked before every layer and twice inside it (a pass
    /// of a full batch takes seconds on a slow CPU; one layer a thirtieth
    /// of that).
    pub fn forward_until(
        &self,
        tokens: &[u32],
        segs: &[Segment],
        caches: &mut [KvCache],
        cancel: &unspin::Cancel,
    ) -> Result<Vec<f32>, Error> {
        let cfg = &self.cfg;
        let (h, rows) = (cfg.hidden, tokens.len());
        PROF[4].fetch_add(rows as u64, std::sync::atomic::Ordering::Relaxed);
        let kvd = cfg.kv_dim();
        // Position of every row.
        let mut pos = vec![0usize; rows];
        for s in segs {
            for (j, r) in s.rows.clone().enumerate() {
                pos[r] = s.prefix + j;
                if pos[r] >= cfg.context {
                    return Err(Error::Model(format!(
                        "position {} beyond the model's context of {}",
                        pos[r], cfg.context
                    )));
                }
            }
        }
        let mut x = vec![0f32; rows * h];
        for (t, row) in tokens.iter().zip(x.chunks_exact_mut(h)) {
            if *t as usize >= cfg.vocab {
                return Err(Error::Model(format!("token id {t} out of range")));
            }
            self.embed.row(*t, row);
        }
        let mut normed = vec![0f32; rows * h];
        for (li, layer) in self.layers.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled(cancel.error().to_string()));
            }
            rms_norm(&x, &layer.attn_norm, cfg.eps, &mut normed);
            let qkv = layer.qkv.forward(&normed, rows)?;
            let (mut q, mut k, mut v) = (
                Vec::with_capacity(rows * h),
                Vec::with_capacity(rows * kvd),
                Vec::with_capacity(rows * kvd),
            );
            for row in qkv.chunks_exact(h + 2 * kvd) {
                q.extend_from_slice(&row[..h]);
                k.extend_from_slice(&row[h..h + kvd]);
                v.extend_from_slice(&row[h + kvd..]);
            }
            self.rope(&mut q, &pos);
            self.rope(&mut k, &pos);
            // A prefix pass stores its keys and values first and then
            // attends to the cache like everyone else.
            for s in segs.iter().filter(|s| s.store) {
                let c = &mut caches[s.cache];
                if c.len[li] != s.prefix || s.prefix + s.rows.len() > c.cap {
                    return Err(Error::Model(format!(
                        "cache holds {} of {} tokens; a run of {} at {} does not fit",
                        c.len[li],
                        c.cap,
                        s.rows.len(),
                        s.prefix
                    )));
                }
                let hd = cfg.head_dim();
                for (j, r) in s.rows.clone().enumerate() {
                    let p = s.prefix + j;
                    let krow = &k[r * kvd..(r + 1) * kvd];
                    for (i, &x) in krow.iter().enumerate() {
                        let (g, d) = (i / hd, i % hd);
                        c.kt[li][(g * hd + d) * c.cap + p] = x;
                    }
                    c.v[li][p * kvd..(p + 1) * kvd].copy_from_slice(&v[r * kvd..(r + 1) * kvd]);
                }
                c.len[li] += s.rows.len();
            }
            let t = std::time::Instant::now();
            let att = attention(cfg, &q, &k, &v, segs, caches, li);
            prof(1, t);
            let o = layer.o.forward(&att, rows)?;
            for (a, b) in x.iter_mut().zip(&o) {
                *a += b;
            }
            // Also between the layer's halves: under load one layer of a
            // full batch takes a few hundred milliseconds.
            if cancel.is_cancelled() {
                return Err(Error::Cancelled(cancel.error().to_string()));
            }
            rms_norm(&x, &layer.ffn_norm, cfg.eps, &mut normed);
            let gate_up = layer.gate_up.forward(&normed, rows)?;
            if cancel.is_cancelled() {
                return Err(Error::Cancelled(cancel.error().to_string()));
            }
            let f = cfg.ffn;
            let mut act = vec![0f32; rows * f];
            for (row, dst) in gate_up.chunks_exact(2 * f).zip(act.chunks_exact_mut(f)) {
                let (gate, up) = row.split_at(f);
                silu_mul(gate, up, dst);
            }
            let down = layer.down.forward(&act, rows)?;
            for (a, b) in x.iter_mut().zip(&down) {
                *a += b;
            }
        }
        rms_norm(&x, &self.out_norm, cfg.eps, &mut normed);
        Ok(normed)
    }

    /// Natural-log probabilities of the vocabulary after each of `rows` hidden states.
    pub fn log_softmax_rows(&self, hidden: &[f32], rows: usize) -> Result<Vec<f32>, Error> {
        let mut logits = self.head.forward(hidden, rows)?;
        let t = std::time::Instant::now();
        logits.par_chunks_mut(self.cfg.vocab).for_each(log_softmax);
        prof(3, t);
        Ok(logits)
    }

    /// Rotary embedding on interleaved pairs, as GGUF llama weights expect.
    fn rope(&self, x: &mut [f32], pos: &[usize]) {
        let hd = self.cfg.head_dim();
        let half_dim = hd / 2;
        let width = x.len() / pos.len().max(1);
        for (row, &p) in x.chunks_exact_mut(width).zip(pos) {
            let cos = &self.rope_cos[p * half_dim..][..half_dim];
            let sin = &self.rope_sin[p * half_dim..][..half_dim];
            for head in row.chunks_exact_mut(hd) {
                for i in 0..half_dim {
                    let (a, b) = (head[2 * i], head[2 * i + 1]);
                    head[2 * i] = a * cos[i] - b * sin[i];
                    head[2 * i + 1] = a * sin[i] + b * cos[i];
                }
            }
        }
    }
}

fn vector<R: Read + Seek>(
    ct: &gguf_file::Content,
    r: &mut R,
    name: &str,
    len: usize,
) -> Result<Vec<f32>, Error> {
    let t = ct.tensor(r, name, &Device::Cpu)?.dequantize(&Device::Cpu)?;
    let v = t.flatten_all()?.to_vec1::<f32>()?;
    if v.len() != len {
        return Err(Error::Model(format!(
            "tensor `{name}` has {} values, expected {len}",
            v.len()
        )));
    }
    Ok(v)
}

/// Reads the matrices `parts` (each `[n_i][k]`), stacks their rows, and
/// stores them for `kernels`: as AMX bfloat16 tiles (see `amx.rs`), or with
/// `k` padded for candle's fast kernels: `Q4_1` as `Q4K` and `Q8_0` as
/// `Q8_0`, by rearranging bits (see `convert.rs`), any other block type
/// re-quantized to `Q8_0`; or as plain f32.
fn linear<R: Read + Seek>(
    ct: &gguf_file::Content,
    r: &mut R,
    parts: &[(&str, usize)],
    k: usize,
    kernels: Kernels,
) -> Result<Linear, Error> {
    let kp = padded(k);
    let n: usize = parts.iter().map(|p| p.1).sum();
    let mut tensors = Vec::with_capacity(parts.len());
    for &(name, rows) in parts {
        let q = ct.tensor(r, name, &Device::Cpu)?;
        let dims = q.shape().dims().to_vec();
        if dims != [rows, k] {
            return Err(Error::Model(format!(
                "tensor `{name}` has shape {dims:?}, expected [{rows}, {k}]"
            )));
        }
        tensors.push((q, rows));
    }
    if kernels == Kernels::Exact {
        let mats = tensors
            .iter()
            .map(|(q, _)| q.dequantize(&Device::Cpu))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Linear {
            w: Weights::Candle(QMatMul::Tensor(Tensor::cat(&mats, 0)?)),
            k,
            kp: k,
            n,
        });
    }
    if kernels == Kernels::Amx && amx::available() {
        // Each part's blocks, and the first row of the stack it starts.
        let mut blocks = Vec::with_capacity(tensors.len());
        let mut first_row = 0;
        for (q, rows) in &tensors {
            blocks.push((first_row, q.dtype(), q.data()?));
            first_row += rows;
        }
        let direct = blocks
            .iter()
            .all(|b| matches!(b.1, GgmlDType::Q4_1 | GgmlDType::Q8_0));
        let m = if direct {
            amx::Bf16Matrix::from_rows(n, k, |r, out| {
                let &(r0, dtype, ref raw) = blocks.iter().rev().find(|b| b.0 <= r).unwrap();
                convert::dequantize_row(dtype, raw, r - r0, out).expect("row within the tensor");
            })
        } else {
            let mut w = Vec::with_capacity(n * k);
            for (q, _) in &tensors {
                w.extend(
                    q.dequantize(&Device::Cpu)?
                        .flatten_all()?
                        .to_vec1::<f32>()?,
                );
            }
            amx::Bf16Matrix::from_rows(n, k, |r, out| out.copy_from_slice(&w[r * k..(r + 1) * k]))
        };
        return Ok(Linear {
            w: Weights::Amx(m),
            k,
            kp: k,
            n,
        });
    }
    let first = tensors[0].0.dtype();
    let same = tensors.iter().all(|(q, _)| q.dtype() == first) && k.is_multiple_of(32);
    let mut raw: Vec<u8> = Vec::new();
    let format = match first {
        GgmlDType::Q4_1 if same => {
            for (q, rows) in &tensors {
                raw.extend(convert::q4_1_to_q4k(&q.data()?, *rows, k));
            }
            GgmlDType::Q4K
        }
        GgmlDType::Q8_0 if same => {
            for (q, rows) in &tensors {
                raw.extend(convert::pad_q8_0(&q.data()?, *rows, k));
            }
            GgmlDType::Q8_0
        }
        _ => {
            for (q, rows) in &tensors {
                let f = q.dequantize(&Device::Cpu)?;
                let f = if kp > k {
                    Tensor::cat(
                        &[
                            &f,
                            &Tensor::zeros((*rows, kp - k), candle_core::DType::F32, &Device::Cpu)?,
                        ],
                        1,
                    )?
                } else {
                    f
                };
                raw.extend_from_slice(
                    &candle_core::quantized::QTensor::quantize(&f, GgmlDType::Q8_0)?.data()?,
                );
            }
            GgmlDType::Q8_0
        }
    };
    let w = qtensor_from_ggml(format, &raw, vec![n, kp], &Device::Cpu)?;
    Ok(Linear {
        w: Weights::Candle(QMatMul::from_qtensor(w)?),
        k,
        kp,
        n,
    })
}

fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let h = w.len();
    for (row, dst) in x.chunks_exact(h).zip(out.chunks_exact_mut(h)) {
        let ms = row.iter().map(|v| v * v).sum::<f32>() / h as f32;
        let s = 1.0 / (ms + eps).sqrt();
        for ((d, v), g) in dst.iter_mut().zip(row).zip(w) {
            *d = v * s * g;
        }
    }
}

/// Causal attention of every row over its segment's cached prefix and the
/// segment's own earlier rows; returns `[rows][hidden]`.
fn attention(
    cfg: &Config,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    segs: &[Segment],
    caches: &[KvCache],
    layer: usize,
) -> Vec<f32> {
    let h = cfg.hidden;
    let rows = q.len() / h;
    let mut seg_of = vec![0usize; rows];
    for (si, s) in segs.iter().enumerate() {
        for r in s.rows.clone() {
            seg_of[r] = si;
        }
    }
    let mut out = vec![0f32; rows * h];
    let ctx = Ctx {
        cfg,
        q,
        k,
        v,
        segs,
        caches,
        layer,
        seg_of: &seg_of,
    };
    out.par_chunks_mut(h)
        .enumerate()
        .with_min_len(4)
        .for_each(|(r, dst)| ctx.row(r, dst));
    out
}

struct Ctx<'a> {
    cfg: &'a Config,
    q: &'a [f32],
    k: &'a [f32],
    v: &'a [f32],
    segs: &'a [Segment],
    caches: &'a [KvCache],
    layer: usize,
    seg_of: &'a [usize],
}

impl Ctx<'_> {
    fn row(&self, r: usize, dst: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports the features the function is compiled for.
                return unsafe { self.row_avx512(r, dst) };
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: as above.
                return unsafe { self.row_avx2(r, dst) };
            }
        }
        self.row_generic(r, dst)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn row_avx512(&self, r: usize, dst: &mut [f32]) {
        self.row_generic(r, dst)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(&self, r: usize, dst: &mut [f32]) {
        self.row_generic(r, dst)
    }

    /// Attention of row `r` for every head. Written as element-wise loops
    /// (no reductions but the short dot products with a segment's own
    /// keys) so the compiler vectorizes it for its caller's target features.
    #[inline(always)]
    fn row_generic(&self, r: usize, dst: &mut [f32]) {
        let cfg = self.cfg;
        let (hd, kvd) = (cfg.head_dim(), cfg.kv_dim());
        let group = cfg.heads / cfg.kv_heads;
        let seg = &self.segs[self.seg_of[r]];
        let cache = &self.caches[seg.cache];
        let (kt, cv, cap) = (&cache.kt[self.layer], &cache.v[self.layer], cache.cap);
        let j = r - seg.rows.start;
        // Cached keys it sees, then its own segment's keys (windows only).
        let (cached, own) = if seg.store {
            (seg.prefix + j + 1, 0)
        } else {
            (seg.prefix, j + 1)
        };
        let n = cached + own;
        let scale = 1.0 / (hd as f32).sqrt();
        let mut scores = vec![0f32; group * n];
        for g in 0..cfg.kv_heads {
            let kt_g = &kt[g * hd * cap..(g + 1) * hd * cap];
            let qs: Vec<&[f32]> = (0..group)
                .map(|i| &self.q[r * cfg.hidden + (g * group + i) * hd..][..hd])
                .collect();
            scores.fill(0.0);
            // 32 keys at a time, the group's query heads side by side, so
            // the partial scores stay in registers across the head dimension.
            let tiles = match group {
                3 => cached_scores::<3>(&qs, kt_g, cap, cached, scale, &mut scores, n),
                _ => 0,
            };
            for d in 0..hd {
                let krow = &kt_g[d * cap + tiles..d * cap + cached];
                for (i, q) in qs.iter().enumerate() {
                    let qd = q[d] * scale;
                    let s = &mut scores[i * n + tiles..i * n + cached];
                    for (s, k) in s.iter_mut().zip(krow) {
                        *s = qd.mul_add(*k, *s);
                    }
                }
            }
            for t in 0..own {
                let kr = seg.rows.start + t;
                let key = &self.k[kr * kvd + g * hd..][..hd];
                for (i, q) in qs.iter().enumerate() {
                    scores[i * n + cached + t] = dot(q, key) * scale;
                }
            }
            let mut inv = [0f32; 8];
            for i in 0..group {
                let s = &mut scores[i * n..(i + 1) * n];
                let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                for x in s.iter_mut() {
                    *x = fast_exp(*x - max);
                }
                let z = 1.0 / lane_sum(s);
                if i < inv.len() {
                    inv[i] = z;
                } else {
                    s.iter_mut().for_each(|x| *x *= z);
                }
            }
            let outs = &mut dst[g * group * hd..(g + 1) * group * hd];
            let own_v = &self.v[seg.rows.start * kvd..];
            let done = match (group, hd) {
                (3, 64) => {
                    weighted_values::<3, 4>(&scores, n, cached, cv, own_v, kvd, g * hd, &inv, outs);
                    true
                }
                _ => false,
            };
            if !done {
                for i in 0..group {
                    let s = &scores[i * n..(i + 1) * n];
                    let w_scale = if i < inv.len() { inv[i] } else { 1.0 };
                    let out = &mut outs[i * hd..(i + 1) * hd];
                    out.fill(0.0);
                    for (t, &w) in s.iter().enumerate() {
                        let val = if t < cached {
                            &cv[t * kvd + g * hd..][..hd]
                        } else {
                            &own_v[(t - cached) * kvd + g * hd..][..hd]
                        };
                        let w = w * w_scale;
                        for (o, x) in out.iter_mut().zip(val) {
                            *o = w.mul_add(*x, *o);
                        }
                    }
                }
            }
        }
    }
}

/// The attention outputs of `G` query heads that share one key/value head
/// of `16 * C` dimensions at offset `at`: every value row is read once for
/// all heads, and the `G * C` accumulators are independent chains.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn weighted_values<const G: usize, const C: usize>(
    scores: &[f32],
    n: usize,
    cached: usize,
    cv: &[f32],
    own_v: &[f32],
    kvd: usize,
    at: usize,
    inv: &[f32],
    outs: &mut [f32],
) {
    let mut acc = [[[0f32; 16]; C]; G];
    // A macro, not a closure: a closure would not inherit the caller's
    // target features and each multiply-add would become a libm call.
    macro_rules! step {
        ($t:expr, $val:expr) => {{
            let val = &$val[..16 * C];
            for i in 0..G {
                let w = scores[i * n + $t];
                for c in 0..C {
                    for l in 0..16 {
                        acc[i][c][l] = w.mul_add(val[c * 16 + l], acc[i][c][l]);
                    }
                }
            }
        }};
    }
    for t in 0..cached {
        step!(t, cv[t * kvd + at..]);
    }
    for t in cached..n {
        step!(t, own_v[(t - cached) * kvd + at..]);
    }
    for i in 0..G {
        for c in 0..C {
            for l in 0..16 {
                outs[i * 16 * C + c * 16 + l] = acc[i][c][l] * inv[i];
            }
        }
    }
}

/// Scores of `G` query heads against the first keys of a transposed key
/// cache, 32 keys at a time; returns how many keys it scored (a multiple
/// of 32), leaving the rest to the caller.
#[inline(always)]
fn cached_scores<const G: usize>(
    qs: &[&[f32]],
    kt: &[f32],
    cap: usize,
    cached: usize,
    scale: f32,
    scores: &mut [f32],
    n: usize,
) -> usize {
    let q: [&[f32]; G] = std::array::from_fn(|i| qs[i]);
    let hd = q[0].len();
    let mut t0 = 0;
    while t0 + 32 <= cached {
        let mut acc = [[0f32; 32]; G];
        for d in 0..hd {
            let k = &kt[d * cap + t0..][..32];
            for i in 0..G {
                let qd = q[i][d] * scale;
                for l in 0..32 {
                    acc[i][l] = qd.mul_add(k[l], acc[i][l]);
                }
            }
        }
        for i in 0..G {
            scores[i * n + t0..][..32].copy_from_slice(&acc[i]);
        }
        t0 += 32;
    }
    t0
}

/// Dispatches `$f` (an `#[inline(always)]` slice function) to a copy
/// compiled for the best vector unit the CPU has.
macro_rules! vectorized {
    ($(#[$m:meta])* fn $name:ident($($a:ident: $t:ty),*) $(-> $r:ty)? = $f:ident) => {
        $(#[$m])*
        fn $name($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn wide($($a: $t),*) $(-> $r)? { $f($($a),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn narrow($($a: $t),*) $(-> $r)? { $f($($a),*) }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports the features `wide` is compiled for.
                    return unsafe { wide($($a),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: as above.
                    return unsafe { narrow($($a),*) };
                }
            }
            $f($($a),*)
        }
    };
}

vectorized! {
    /// `out = up * silu(gate)`, element by element.
    fn silu_mul(gate: &[f32], up: &[f32], out: &mut [f32]) = silu_mul_generic
}

#[inline(always)]
fn silu_mul_generic(gate: &[f32], up: &[f32], out: &mut [f32]) {
    for ((o, &g), &u) in out.iter_mut().zip(gate).zip(up) {
        *o = u * g / (1.0 + fast_exp(-g));
    }
}

vectorized! {
    /// Natural-log softmax of one row of logits, in place.
    fn log_softmax(row: &mut [f32]) = log_softmax_generic
}

#[inline(always)]
fn log_softmax_generic(row: &mut [f32]) {
    let mut m = [f32::NEG_INFINITY; 16];
    let mut chunks = row.chunks_exact(16);
    for c in &mut chunks {
        for l in 0..16 {
            m[l] = if c[l] > m[l] { c[l] } else { m[l] };
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(&m)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    let mut acc = [0f32; 16];
    let mut chunks = row.chunks_exact(16);
    for c in &mut chunks {
        for l in 0..16 {
            acc[l] += fast_exp(c[l] - max);
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|&l| fast_exp(l - max)).sum();
    let lz = max + (acc.iter().sum::<f32>() + tail).ln();
    for l in row.iter_mut() {
        *l -= lz;
    }
}

/// Sum in 16 independent lanes, so it vectorizes without reassociation.
#[inline(always)]
fn lane_sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for l in 0..16 {
            acc[l] += c[l];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// e^x to about 2 ulp (Cephes' `expf` polynomial), written without calls or
/// branches so that loops over it vectorize: libm's `expf` is a scalar call,
/// and the model's SiLU, attention and vocabulary softmax take millions per
/// scored word. Inputs below -87.3 give about 1e-38 (0 for all uses here).
#[inline(always)]
pub(crate) fn fast_exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.3);
    // Round x / ln 2 to the nearest integer with the 1.5 * 2^23 trick
    // (plain adds, so it vectorizes without SSE4.1's round instruction).
    const SHIFT: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + SHIFT) - SHIFT;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// Dot product in 16 independent lanes, so it vectorizes without reassociation.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    for (ca, cb) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        for l in 0..16 {
            acc[l] = ca[l].mul_add(cb[l], acc[l]);
        }
    }
    acc.iter().sum()
}

#[cfg(test)]
impl Model {
    /// A plain, unbatched forward pass written independently of the batched
    /// one (one sequence, causal attention with plain loops, rotary pairs
    /// rotated one at a time); the last row's hidden state.
    pub(crate) fn reference_last_hidden(&self, tokens: &[u32]) -> Vec<f32> {
        let cfg = &self.cfg;
        let (h, hd, kvd) = (cfg.hidden, cfg.head_dim(), cfg.kv_dim());
        let n = tokens.len();
        let mut x: Vec<Vec<f32>> = tokens
            .iter()
            .map(|&t| {
                let mut r = vec![0f32; h];
                self.embed.row(t, &mut r);
                r
            })
            .collect();
        let norm = |v: &[f32], w: &[f32]| -> Vec<f32> {
            let ms: f64 = v.iter().map(|a| (*a as f64) * (*a as f64)).sum::<f64>() / v.len() as f64;
            let s = 1.0 / (ms + cfg.eps as f64).sqrt();
            v.iter()
                .zip(w)
                .map(|(a, g)| (*a as f64 * s) as f32 * g)
                .collect()
        };
        let rot = |v: &mut [f32], p: usize| {
            for head in v.chunks_exact_mut(hd) {
                for i in 0..hd / 2 {
                    let th = p as f64 / (cfg.rope_base as f64).powf(2.0 * i as f64 / hd as f64);
                    let (a, b) = (head[2 * i] as f64, head[2 * i + 1] as f64);
                    head[2 * i] = (a * th.cos() - b * th.sin()) as f32;
                    head[2 * i + 1] = (a * th.sin() + b * th.cos()) as f32;
                }
            }
        };
        // Matrix products take every row at once, as the batched pass does:
        // candle's kernels round a one-row product differently.
        let all = |lin: &Linear, rows: &[Vec<f32>]| -> Vec<Vec<f32>> {
            let flat: Vec<f32> = rows.concat();
            lin.forward(&flat, rows.len())
                .unwrap()
                .chunks_exact(lin.n)
                .map(|c| c.to_vec())
                .collect()
        };
        for layer in &self.layers {
            let normed: Vec<Vec<f32>> = x.iter().map(|row| norm(row, &layer.attn_norm)).collect();
            let qkv = all(&layer.qkv, &normed);
            let mut qs = Vec::new();
            let mut ks = Vec::new();
            let mut vs = Vec::new();
            for (p, row) in qkv.iter().enumerate() {
                let mut q = row[..h].to_vec();
                let mut k = row[h..h + kvd].to_vec();
                rot(&mut q, p);
                rot(&mut k, p);
                qs.push(q);
                ks.push(k);
                vs.push(row[h + kvd..].to_vec());
            }
            let mut atts = Vec::new();
            for (i, qi) in qs.iter().enumerate() {
                let mut att = vec![0f32; h];
                for head in 0..cfg.heads {
                    let g = head / (cfg.heads / cfg.kv_heads);
                    let q = &qi[head * hd..(head + 1) * hd];
                    let sc: Vec<f64> = (0..=i)
                        .map(|t| {
                            let k = &ks[t][g * hd..(g + 1) * hd];
                            q.iter().zip(k).map(|(a, b)| (*a * *b) as f64).sum::<f64>()
                                / (hd as f64).sqrt()
                        })
                        .collect();
                    let m = sc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let z: f64 = sc.iter().map(|s| (s - m).exp()).sum();
                    for (t, s) in sc.iter().enumerate() {
                        let w = (s - m).exp() / z;
                        for d in 0..hd {
                            att[head * hd + d] += (w * vs[t][g * hd + d] as f64) as f32;
                        }
                    }
                }
                atts.push(att);
            }
            for (xi, o) in x.iter_mut().zip(all(&layer.o, &atts)) {
                for (a, b) in xi.iter_mut().zip(&o) {
                    *a += b;
                }
            }
            let normed: Vec<Vec<f32>> = x.iter().map(|row| norm(row, &layer.ffn_norm)).collect();
            let acts: Vec<Vec<f32>> = all(&layer.gate_up, &normed)
                .iter()
                .map(|gu| {
                    (0..cfg.ffn)
                        .map(|j| {
                            let g = gu[j] as f64;
                            (g / (1.0 + (-g).exp()) * gu[cfg.ffn + j] as f64) as f32
                        })
                        .collect()
                })
                .collect();
            for (xi, d) in x.iter_mut().zip(all(&layer.down, &acts)) {
                for (a, b) in xi.iter_mut().zip(&d) {
                    *a += b;
                }
            }
        }
        norm(&x[n - 1], &self.out_norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_the_library_exp() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (want, got) = ((x as f64).exp(), fast_exp(x) as f64);
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 5e-7, "relative error {worst}");
        assert!(fast_exp(-1e9) < 1e-37 && fast_exp(f32::NEG_INFINITY) < 1e-37);
        assert!(fast_exp(0.0) == 1.0);
    }

    #[test]
    fn log_softmax_normalizes() {
        let mut row: Vec<f32> = (0..1000)
            .map(|i| ((i * 37) % 101) as f32 * 0.3 - 10.0)
            .collect();
        let want: Vec<f64> = {
            let m = row.iter().copied().fold(f32::MIN, f32::max) as f64;
            let z: f64 = row.iter().map(|&l| (l as f64 - m).exp()).sum::<f64>().ln() + m;
            row.iter().map(|&l| l as f64 - z).collect()
        };
        log_softmax(&mut row);
        for (a, b) in row.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-4, "{a} vs {b}");
        }
        let gate = [-3.0f32, -0.5, 0.0, 0.7, 4.0];
        let up = [1.0f32, 2.0, 3.0, -1.0, 0.5];
        let mut out = [0f32; 5];
        silu_mul(&gate, &up, &mut out);
        for i in 0..5 {
            let g = gate[i] as f64;
            let want = up[i] as f64 * g / (1.0 + (-g).exp());
            assert!((out[i] as f64 - want).abs() < 1e-6, "{} vs {want}", out[i]);
        }
    }

    /// The prefix pass plus a window over the cache against the plain,
    /// one-sequence computation: the attention, cache and positions code.
    fn compare(model: &Model, tokens: &[u32], split: usize) -> (Vec<f32>, Vec<f32>) {
        let n = tokens.len();
        let want = model.reference_last_hidden(tokens);
        let mut caches = vec![model.new_cache(n)];
        let pass = |toks: &[u32], seg: Segment, caches: &mut Vec<KvCache>| {
            model.forward(toks, &[seg], caches).unwrap()
        };
        pass(
            &tokens[..split],
            Segment {
                rows: 0..split,
                cache: 0,
                prefix: 0,
                store: true,
            },
            &mut caches,
        );
        let got = pass(
            &tokens[split..],
            Segment {
                rows: 0..n - split,
                cache: 0,
                prefix: split,
                store: false,
            },
            &mut caches,
        );
        let h = model.cfg.hidden;
        (want, got[(n - split - 1) * h..].to_vec())
    }

    /// The installed model loaded again with other kernels, one per entry.
    fn load_with(kernels: &[Kernels]) -> Vec<Model> {
        let path = crate::default_model_path();
        let mut f = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let ct = gguf_file::Content::read(&mut f).unwrap();
        kernels
            .iter()
            .map(|&k| Model::load_as(&ct, &mut f, k).unwrap())
            .collect()
    }

    /// KL divergence of `got` from `want`, both ln-probabilities.
    fn kl(want: &[f32], got: &[f32]) -> f64 {
        want.iter()
            .zip(got)
            .map(|(&p, &q)| (p as f64).exp() * (p - q) as f64)
            .sum()
    }

    fn tokens(lm: &crate::NeuralLm) -> Vec<u32> {
        let mut t = vec![crate::score::DOC_START];
        t.extend(
            lm.encode("The capital of France is Paris, and the")
                .unwrap(),
        );
        t
    }

    #[test]
    fn batched_forward_matches_a_plain_one_exactly_in_f32() {
        let Some(lm) = crate::tests::installed() else {
            return;
        };
        let [exact] = &load_with(&[Kernels::Exact])[..] else {
            unreachable!()
        };
        let (want, got) = compare(exact, &tokens(&lm), 5);
        let scale = want.iter().map(|v| v.abs()).fold(0f32, f32::max);
        let err = want
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            err <= 1e-3 * scale.max(1.0),
            "max difference {err} (scale {scale})"
        );
    }

    #[test]
    fn fast_kernels_stay_close_to_exact_arithmetic() {
        let Some(lm) = crate::tests::installed() else {
            return;
        };
        // Same weights (the file's 4-bit values), f32 arithmetic against the
        // kernels' rounding of activations (and, on AMX, of weights to bfloat16).
        let [exact, blocks] = &load_with(&[Kernels::Exact, Kernels::Blocks])[..] else {
            unreachable!()
        };
        let toks = tokens(&lm);
        let dist = |m: &Model| {
            m.log_softmax_rows(&m.reference_last_hidden(&toks), 1)
                .unwrap()
        };
        let want = dist(exact);
        for (name, model) in [("default", &lm.model), ("blocks", blocks)] {
            let kl = kl(&want, &dist(model));
            eprintln!("{name} kernels against f32: KL divergence {kl:.4}");
            // Bfloat16 tiles round far less than 8-bit activation blocks.
            let bound = if name == "default" && amx::available() {
                0.01
            } else {
                0.3
            };
            assert!(kl < bound, "{name} kernels: KL divergence {kl}");
        }
    }

    #[test]
    fn quantized_batched_forward_stays_close_to_a_plain_one() {
        let Some(lm) = crate::tests::installed() else {
            return;
        };
        // Activations round at every layer (to 8-bit blocks or bfloat16),
        // so two correct computations that add in different orders drift
        // apart (a 1e-6 relative nudge of the attention weights alone moves
        // the next-token distribution by a KL of about 0.04 here); compare
        // distributions. Both kernel paths, whichever this CPU runs by default.
        let [blocks] = &load_with(&[Kernels::Blocks])[..] else {
            unreachable!()
        };
        for (name, model) in [("default", &lm.model), ("blocks", blocks)] {
            let (want, got) = compare(model, &tokens(&lm), 5);
            let want = model.log_softmax_rows(&want, 1).unwrap();
            let got = model.log_softmax_rows(&got, 1).unwrap();
            let kl = kl(&want, &got);
            let best = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
            assert_eq!(
                best(&got),
                best(&want),
                "{name} kernels: the most likely next token differs"
            );
            eprintln!("{name} kernels: KL divergence {kl:.4}");
            assert!(kl < 0.3, "{name} kernels: KL divergence {kl}");
        }
    }
}
