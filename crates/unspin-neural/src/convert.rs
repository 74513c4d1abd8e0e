//! Re-encoding the GGUF file's weight blocks for candle's fast x86 kernels,
//! by rearranging bits rather than by re-quantizing from floats.
//!
//! candle runs `Q4K` weights through AMX/AVX-512 VNNI tiles, but only when
//! the input width is a multiple of 256; SmolLM2's is 576 and its file uses
//! `Q4_1`, which candle only has scalar code for. A `Q4_1` block of 32
//! weights is `d * q + m` with 4-bit codes `q`; a `Q4K` super-block holds
//! eight such sub-blocks as `D * sc * q - Dmin * mn` with 6-bit `sc` and
//! `mn`. So every code is kept as it is, each block's scale and offset
//! become 6-bit multiples of a per-super-block base (the only rounding),
//! and the input width is padded with zero blocks. `Q8_0` rows (the
//! embeddings) are padded with zero blocks, which changes nothing.

use candle_core::quantized::GgmlDType;
use half::{f16, slice::HalfFloatSliceExt};
use rayon::prelude::*;

/// Bytes of one `Q4_1` block (f16 scale, f16 offset, 16 bytes of codes).
const Q4_1_BYTES: usize = 20;
/// Bytes of one `Q8_0` block (f16 scale, 32 signed bytes).
pub const Q8_0_BYTES: usize = 34;
/// Bytes of one `Q4K` super-block (f16 scale and min, 12 bytes of 6-bit sub-scales, 128 of codes).
const Q4K_BYTES: usize = 144;
/// Weights per `Q4K` super-block.
const SUPER: usize = 256;

/// Input width after padding to whole super-blocks.
pub fn padded(k: usize) -> usize {
    k.div_ceil(SUPER) * SUPER
}

/// Dequantizes one row of `Q4_1` (`d * q + m`) or `Q8_0` (`d * q`) blocks
/// into `out`; `None` for any other block type.
pub fn dequantize_row(dtype: GgmlDType, raw: &[u8], row: usize, out: &mut [f32]) -> Option<()> {
    let k = out.len();
    if !k.is_multiple_of(32) {
        return None;
    }
    match dtype {
        GgmlDType::Q4_1 => {
            let bytes = k / 32 * Q4_1_BYTES;
            let src = raw.get(row * bytes..(row + 1) * bytes)?;
            for (blk, o) in src.chunks_exact(Q4_1_BYTES).zip(out.chunks_exact_mut(32)) {
                let (d, m) = (f16_at(blk, 0), f16_at(blk, 2));
                for (j, &q) in blk[4..].iter().enumerate() {
                    o[j] = d * (q & 0x0F) as f32 + m;
                    o[j + 16] = d * (q >> 4) as f32 + m;
                }
            }
        }
        GgmlDType::Q8_0 => {
            let bytes = k / 32 * Q8_0_BYTES;
            let src = raw.get(row * bytes..(row + 1) * bytes)?;
            for (blk, o) in src.chunks_exact(Q8_0_BYTES).zip(out.chunks_exact_mut(32)) {
                let d = f16_at(blk, 0);
                for (x, &q) in o.iter_mut().zip(&blk[2..]) {
                    *x = d * q as i8 as f32;
                }
            }
        }
        _ => return None,
    }
    Some(())
}

fn f16_at(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// The base `D` (as stored, an f16) and 6-bit multipliers that best
/// approximate `targets` (all >= 0) as `D * mult`.
fn six_bit(targets: &[f32; 8]) -> (f16, [u8; 8]) {
    let max = targets.iter().copied().fold(0f32, f32::max);
    if max <= 0.0 {
        return (f16::ZERO, [0; 8]);
    }
    // The largest target maps to 63 or a little less: try each, keep the
    // one with the least squared error over the eight blocks (the first
    // such, from 63 down). Loading the model is mostly this function, so the
    // 32 candidates run side by side as vector lanes, each summing its own
    // errors in block order, as a plain loop over candidates would.
    let mults = |dv: f32| targets.map(|t| (t / dv + 0.5).floor().min(63.0));
    let mut d = [f16::ZERO; 32];
    d.convert_from_f32_slice(&std::array::from_fn::<f32, 32, _>(|i| {
        max / (63 - i) as f32
    }));
    let mut dvs = [0f32; 32];
    d.convert_to_f32_slice(&mut dvs);
    let mut err = [0f32; 32];
    for &t in targets {
        for (e, &dv) in err.iter_mut().zip(&dvs) {
            let r = t - dv * (t / dv + 0.5).floor().min(63.0);
            *e += r * r;
        }
    }
    let mut best = (f32::INFINITY, f16::ZERO);
    for ((&d, &dv), &e) in d.iter().zip(&dvs).zip(&err) {
        if dv > 0.0 && e < best.0 {
            best = (e, d);
        }
    }
    if best.0.is_infinite() {
        return (f16::ZERO, [0; 8]);
    }
    // Rounds half up (t / dv >= 0); at most 63, so the cast is exact.
    (best.1, mults(best.1.to_f32()).map(|m| m as u8))
}

/// Converts `rows` rows of `k` weights in `Q4_1` to `Q4K` rows of
/// [`padded`]`(k)` weights.
pub fn q4_1_to_q4k(raw: &[u8], rows: usize, k: usize) -> Vec<u8> {
    assert!(k.is_multiple_of(32), "Q4_1 rows hold whole blocks");
    let blocks = k / 32;
    assert_eq!(raw.len(), rows * blocks * Q4_1_BYTES, "Q4_1 data size");
    let supers = padded(k) / SUPER;
    let mut out = vec![0u8; rows * supers * Q4K_BYTES];
    // Rows are independent; loading the model is mostly this loop.
    out.par_chunks_mut(supers * Q4K_BYTES)
        .enumerate()
        .for_each(|(r, out_row)| {
            let row = &raw[r * blocks * Q4_1_BYTES..(r + 1) * blocks * Q4_1_BYTES];
            for s in 0..supers {
                // Scales, offsets and codes of the eight sub-blocks (zero past the row).
                let mut d = [0f32; 8];
                let mut mins = [0f32; 8];
                let mut codes = [[0u8; 32]; 8];
                for j in 0..8 {
                    let b = s * 8 + j;
                    if b >= blocks {
                        continue;
                    }
                    let blk = &row[b * Q4_1_BYTES..(b + 1) * Q4_1_BYTES];
                    d[j] = f16_at(blk, 0);
                    // Q4K subtracts a non-negative minimum; a block whose offset
                    // is positive (all weights above zero, never seen in
                    // practice) keeps its codes and loses the offset.
                    mins[j] = (-f16_at(blk, 2)).max(0.0);
                    for l in 0..16 {
                        codes[j][l] = blk[4 + l] & 0x0F;
                        codes[j][l + 16] = blk[4 + l] >> 4;
                    }
                }
                let (dd, sc) = six_bit(&d);
                let (dmin, mn) = six_bit(&mins);
                let o = &mut out_row[s * Q4K_BYTES..(s + 1) * Q4K_BYTES];
                o[0..2].copy_from_slice(&dd.to_le_bytes());
                o[2..4].copy_from_slice(&dmin.to_le_bytes());
                let scales = &mut o[4..16];
                for j in 0..4 {
                    scales[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
                    scales[j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6);
                    scales[j + 8] = (sc[j + 4] & 0x0F) | ((mn[j + 4] & 0x0F) << 4);
                }
                let qs = &mut o[16..];
                for c in 0..4 {
                    for l in 0..32 {
                        qs[32 * c + l] = codes[2 * c][l] | (codes[2 * c + 1][l] << 4);
                    }
                }
            }
        });
    out
}

/// Pads `rows` rows of `k` weights in `Q8_0` to [`padded`]`(k)` with zero blocks.
pub fn pad_q8_0(raw: &[u8], rows: usize, k: usize) -> Vec<u8> {
    assert!(k.is_multiple_of(32), "Q8_0 rows hold whole blocks");
    let (bytes, padded_bytes) = (k / 32 * Q8_0_BYTES, padded(k) / 32 * Q8_0_BYTES);
    assert_eq!(raw.len(), rows * bytes, "Q8_0 data size");
    let mut out = vec![0u8; rows * padded_bytes];
    for (src, dst) in raw
        .chunks_exact(bytes)
        .zip(out.chunks_exact_mut(padded_bytes))
    {
        dst[..bytes].copy_from_slice(src);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType};
    use candle_core::Device;

    fn dequantize(dtype: GgmlDType, raw: &[u8], rows: usize, k: usize) -> Vec<f32> {
        qtensor_from_ggml(dtype, raw, vec![rows, k], &Device::Cpu)
            .unwrap()
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    /// Random Q4_1 rows like a weight matrix's: scales around 0.01, offsets around -8 scales.
    fn random_q4_1(rows: usize, k: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut raw = Vec::new();
        for _ in 0..rows * k / 32 {
            let d = 0.002 + (next() % 1000) as f32 * 2e-5;
            let m = -d * (7.0 + (next() % 100) as f32 / 50.0);
            raw.extend_from_slice(&f16::from_f32(d).to_le_bytes());
            raw.extend_from_slice(&f16::from_f32(m).to_le_bytes());
            for _ in 0..16 {
                raw.push(next() as u8);
            }
        }
        raw
    }

    /// The plain search [`six_bit`] must reproduce bit for bit.
    fn six_bit_reference(targets: &[f32; 8]) -> (f16, [u8; 8]) {
        let max = targets.iter().copied().fold(0f32, f32::max);
        let mut best = (f32::INFINITY, f16::ZERO, [0u8; 8]);
        if max <= 0.0 {
            return (best.1, best.2);
        }
        for top in (32..=63).rev() {
            let d = f16::from_f32(max / top as f32);
            let dv = d.to_f32();
            if dv <= 0.0 {
                continue;
            }
            let mut m = [0u8; 8];
            let mut err = 0f32;
            for (mi, &t) in m.iter_mut().zip(targets) {
                *mi = ((t / dv + 0.5) as u32).min(63) as u8;
                let e = t - dv * *mi as f32;
                err += e * e;
            }
            if err < best.0 {
                best = (err, d, m);
            }
        }
        (best.1, best.2)
    }

    #[test]
    fn six_bit_matches_the_plain_search() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..200_000 {
            let scale = [1e-7f32, 1e-4, 0.003, 0.05, 1.0, 300.0][case % 6];
            let mut t = [0f32; 8];
            for v in t.iter_mut() {
                *v = match next() % 10 {
                    0 => 0.0,
                    1 => scale,
                    _ => (next() % 100_000) as f32 / 100_000.0 * scale,
                };
            }
            let (d, m) = six_bit(&t);
            let (rd, rm) = six_bit_reference(&t);
            assert_eq!((d.to_bits(), m), (rd.to_bits(), rm), "targets {t:?}");
        }
        assert_eq!(six_bit(&[0.0; 8]), (f16::ZERO, [0; 8]));
        assert_eq!(six_bit(&[1e-30; 8]), six_bit_reference(&[1e-30; 8]));
    }

    #[test]
    fn q4k_keeps_the_codes_and_pads_with_zeros() {
        let (rows, k) = (16, 576);
        let raw = random_q4_1(rows, k, 7);
        let want = dequantize(GgmlDType::Q4_1, &raw, rows, k);
        let conv = q4_1_to_q4k(&raw, rows, k);
        let got = dequantize(GgmlDType::Q4K, &conv, rows, padded(k));
        let kp = padded(k);
        let mut worst_rel = 0f32;
        for r in 0..rows {
            let step = (0..k / 32)
                .map(|b| f16_at(&raw, (r * k / 32 + b) * Q4_1_BYTES))
                .fold(0f32, f32::max);
            for c in 0..kp {
                let g = got[r * kp + c];
                if c >= k {
                    assert_eq!(g, 0.0, "padding must be zero");
                    continue;
                }
                let e = (g - want[r * k + c]).abs() / step;
                worst_rel = worst_rel.max(e);
            }
        }
        // The only rounding is the 6-bit scales: well under one code step of the row.
        assert!(worst_rel < 0.35, "worst error {worst_rel} code steps");
    }

    #[test]
    fn q4k_is_exact_when_scales_are_multiples() {
        // Eight blocks whose scales and offsets are exact multiples of a base.
        let mut raw = Vec::new();
        for j in 0..8u16 {
            let d = f16::from_f32(0.001 * (j + 1) as f32);
            let m = f16::from_f32(-0.002 * (j + 2) as f32);
            raw.extend_from_slice(&d.to_le_bytes());
            raw.extend_from_slice(&m.to_le_bytes());
            raw.extend((0..16u8).map(|l| l.wrapping_mul(37).wrapping_add(j as u8)));
        }
        let want = dequantize(GgmlDType::Q4_1, &raw, 1, 256);
        let got = dequantize(GgmlDType::Q4K, &q4_1_to_q4k(&raw, 1, 256), 1, 256);
        for (a, b) in want.iter().zip(&got) {
            assert!((a - b).abs() < 2e-3 * a.abs().max(0.01), "{a} vs {b}");
        }
    }

    #[test]
    fn q8_0_padding_is_lossless() {
        let (rows, k) = (3, 96);
        let mut raw = Vec::new();
        for i in 0..rows * k / 32 {
            raw.extend_from_slice(&f16::from_f32(0.01 * (i + 1) as f32).to_le_bytes());
            raw.extend((0..32).map(|l| (l as i8 - 16) as u8));
        }
        let want = dequantize(GgmlDType::Q8_0, &raw, rows, k);
        let got = dequantize(GgmlDType::Q8_0, &pad_q8_0(&raw, rows, k), rows, padded(k));
        for r in 0..rows {
            assert_eq!(
                &got[r * padded(k)..r * padded(k) + k],
                &want[r * k..(r + 1) * k]
            );
            assert!(got[r * padded(k) + k..(r + 1) * padded(k)]
                .iter()
                .all(|&v| v == 0.0));
        }
    }
}
