//! Matrix products on Intel AMX tiles in bfloat16.
//!
//! On CPUs with AMX (Xeon since Sapphire Rapids), the projections run here
//! instead of through candle's 4-bit kernels. Those kernels fold each 32-wide
//! block's scale in after every tile product and need input widths padded
//! to multiples of 256 (SmolLM2's 576 becomes 768); in bfloat16 a tile
//! product accumulates straight in f32 over the whole input width, so the
//! tiles stay busy, and widths are padded only to multiples of 32 (which
//! SmolLM2's already are). The weights are the model file's
//! `Q4_1` values, exactly dequantized and rounded to bfloat16 (8 mantissa
//! bits, far finer than the 4-bit steps); activations are rounded to
//! bfloat16 too, finer than the 8-bit blocks candle quantizes them to.
//!
//! Layout: a tile product `C[16][16] += A[16][32] B[32][16]` reads `A` as 16
//! rows of 32 bfloat16 (straight from the row-major activations) and `B` as
//! 16 rows of 16 pairs (two consecutive input positions of one output
//! column). [`Bf16Matrix`] stores the weights as such `B` tiles, 16 output
//! columns by 32 inputs each, ordered by column block and then by input
//! block, so one column block's tiles are contiguous and stay in cache while
//! every row block of the activations passes over them.

use std::sync::OnceLock;

/// Rows and columns of one tile.
const TILE: usize = 16;
/// Input positions of one tile product (bfloat16 pairs × 16).
const TILE_K: usize = 32;
/// Elements (`u16`) of one packed `B` tile.
const TILE_ELEMS: usize = TILE * TILE_K;

/// Whether this CPU and OS let the process use AMX bfloat16 tiles (checked
/// once; `UNSPIN_NEURAL_AMX=0` turns them off, for comparisons and tests of
/// the portable path).
pub(crate) fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        if std::env::var("UNSPIN_NEURAL_AMX").is_ok_and(|v| v == "0") {
            return false;
        }
        detect()
    })
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn detect() -> bool {
    let (max_leaf, leaf7) = (
        std::arch::x86_64::__cpuid(0).eax,
        std::arch::x86_64::__cpuid_count(7, 0),
    );
    // EDX bit 22: AMX-BF16; bit 24: AMX-TILE.
    if max_leaf < 7 || leaf7.edx & (1 << 22) == 0 || leaf7.edx & (1 << 24) == 0 {
        return false;
    }
    // Linux hands out the 8 KiB of tile state only to processes that ask.
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a plain system call with integer arguments.
    unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        ) == 0
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn detect() -> bool {
    false
}

/// f32 to bfloat16, rounding to nearest even (the values here are finite).
#[inline(always)]
fn bf16(x: f32) -> u16 {
    let b = x.to_bits();
    ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) as u16
}

/// A weight matrix `[n][k]` packed as bfloat16 `B` tiles, both dimensions
/// padded with zeros to multiples of 32 (so any shape fits, and candle's own
/// AMX code, which keeps its tile configuration per thread, never runs in
/// the same process as this).
pub(crate) struct Bf16Matrix {
    n: usize,
    k: usize,
    /// Padded output width (a multiple of 32).
    np: usize,
    /// Padded input width (a multiple of 32).
    kp: usize,
    tiles: Vec<u16>,
}

impl Bf16Matrix {
    /// Packs row-major f32 weights `w` (`n` rows of `k`).
    #[cfg(test)]
    pub(crate) fn new(w: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(w.len(), n * k);
        Self::from_rows(n, k, |r, out| out.copy_from_slice(&w[r * k..(r + 1) * k]))
    }

    /// Packs the `n` rows of width `k` that `row(r, out)` writes into
    /// `out`, 16 rows at a time on every core (the whole matrix is never
    /// held in f32).
    pub(crate) fn from_rows(n: usize, k: usize, row: impl Fn(usize, &mut [f32]) + Sync) -> Self {
        use rayon::prelude::*;
        assert!(n > 0 && k > 0);
        let np = n.div_ceil(2 * TILE) * 2 * TILE;
        let kp = k.div_ceil(TILE_K) * TILE_K;
        let kb = kp / TILE_K;
        let mut tiles = vec![0u16; np * kp];
        tiles
            .par_chunks_mut(kb * TILE_ELEMS)
            .enumerate()
            .for_each_init(
                || vec![0f32; TILE * kp],
                |rows, (nb, block)| {
                    for (col, dst) in rows.chunks_exact_mut(kp).enumerate() {
                        let r = nb * TILE + col;
                        if r < n {
                            row(r, &mut dst[..k]);
                        } else {
                            dst.fill(0.0);
                        }
                    }
                    for (b, tile) in block.chunks_exact_mut(TILE_ELEMS).enumerate() {
                        for pair in 0..TILE_K / 2 {
                            for col in 0..TILE {
                                let src = col * kp + b * TILE_K + 2 * pair;
                                let dst = (pair * TILE + col) * 2;
                                tile[dst] = bf16(rows[src]);
                                tile[dst + 1] = bf16(rows[src + 1]);
                            }
                        }
                    }
                },
            );
        Bf16Matrix {
            n,
            k,
            np,
            kp,
            tiles,
        }
    }

    /// Output width.
    pub(crate) fn n(&self) -> usize {
        self.n
    }

    /// `x W^T` for `rows` rows of width `k`: `rows` rows of width `n`.
    /// Only call when [`available`] is true.
    pub(crate) fn matmul(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let (n, k, np, kp) = (self.n, self.k, self.np, self.kp);
        assert_eq!(x.len(), rows * k);
        // Activations as bfloat16, padded with zero rows to whole pairs of
        // tiles (and with zero columns to the padded width).
        let padded = rows.div_ceil(2 * TILE) * 2 * TILE;
        let mut a = vec![0u16; padded * kp];
        if k == kp {
            for (d, s) in a.iter_mut().zip(x) {
                *d = bf16(*s);
            }
        } else {
            for (d, s) in a.chunks_exact_mut(kp).zip(x.chunks_exact(k)) {
                for (d, s) in d.iter_mut().zip(s) {
                    *d = bf16(*s);
                }
            }
        }
        let mut out = vec![0f32; padded * np];
        // SAFETY: `available()` was checked by the caller's construction of
        // this path; the buffers have the sizes the kernel reads and writes.
        unsafe { kernel(&self.tiles, &a, &mut out, padded, np, kp) };
        if np != n {
            for r in 1..rows {
                out.copy_within(r * np..r * np + n, r * n);
            }
        }
        out.truncate(rows * n);
        out
    }
}

#[cfg(target_arch = "x86_64")]
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    colsb: [u16; 16],
    rows: [u8; 16],
}

/// `out[m][n] = a[m][k] · tiles`, `m` a multiple of 32, every tile 16 rows
/// of 64 bytes: `tmm0`-`tmm3` the f32 sums of a 32 × 32 output block,
/// `tmm4`/`tmm5` two row blocks of activations, `tmm6`/`tmm7` two column
/// blocks of weights.
#[cfg(target_arch = "x86_64")]
unsafe fn kernel(tiles: &[u16], a: &[u16], out: &mut [f32], m: usize, n: usize, k: usize) {
    let mut cfg = TileConfig {
        palette: 1,
        start_row: 0,
        reserved: [0; 14],
        colsb: [0; 16],
        rows: [0; 16],
    };
    for t in 0..8 {
        cfg.colsb[t] = 64;
        cfg.rows[t] = TILE as u8;
    }
    debug_assert!(m.is_multiple_of(2 * TILE) && n.is_multiple_of(2 * TILE));
    debug_assert!(a.len() >= m * k && out.len() >= m * n && tiles.len() >= n * k);
    let kb = k / TILE_K;
    let a_stride = k * 2;
    let c_stride = n * 4;
    // The tile configuration is per thread, and anything else on this
    // thread may have loaded another: load ours on every call (a few cycles).
    // SAFETY (whole block): the caller checked `available()`; every tile
    // load reads 16 rows inside `a` or `tiles`, every store writes 16 rows
    // inside `out` (m and n are multiples of 32, k of 32).
    unsafe {
        core::arch::asm!("ldtilecfg [{}]", in(reg) &cfg, options(nostack, readonly));
        for nb in (0..n / TILE).step_by(2) {
            let b0 = tiles.as_ptr().add(nb * kb * TILE_ELEMS);
            let b1 = tiles.as_ptr().add((nb + 1) * kb * TILE_ELEMS);
            for mb in (0..m).step_by(2 * TILE) {
                let a0 = a.as_ptr().add(mb * k);
                let a1 = a.as_ptr().add((mb + TILE) * k);
                core::arch::asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "tilezero tmm2",
                    "tilezero tmm3",
                    options(nostack, nomem)
                );
                for b in 0..kb {
                    core::arch::asm!(
                        "tileloadd tmm4, [{a0} + {sa}*1]",
                        "tileloadd tmm6, [{b0} + {sb}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tileloadd tmm7, [{b1} + {sb}*1]",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tileloadd tmm5, [{a1} + {sa}*1]",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a0 = in(reg) a0.add(b * TILE_K),
                        a1 = in(reg) a1.add(b * TILE_K),
                        b0 = in(reg) b0.add(b * TILE_ELEMS),
                        b1 = in(reg) b1.add(b * TILE_ELEMS),
                        sa = in(reg) a_stride,
                        sb = in(reg) 64usize,
                        options(nostack, readonly)
                    );
                }
                let c = out.as_mut_ptr().add(mb * n + nb * TILE);
                core::arch::asm!(
                    "tilestored [{c00} + {sc}*1], tmm0",
                    "tilestored [{c01} + {sc}*1], tmm1",
                    "tilestored [{c10} + {sc}*1], tmm2",
                    "tilestored [{c11} + {sc}*1], tmm3",
                    c00 = in(reg) c,
                    c01 = in(reg) c.add(TILE),
                    c10 = in(reg) c.add(TILE * n),
                    c11 = in(reg) c.add(TILE * n + TILE),
                    sc = in(reg) c_stride,
                    options(nostack)
                );
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn kernel(_: &[u16], _: &[u16], _: &mut [f32], _: usize, _: usize, _: usize) {
    unreachable!("AMX is x86-64 only; available() is false elsewhere")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bf16_to_f32(h: u16) -> f32 {
        f32::from_bits((h as u32) << 16)
    }

    #[test]
    fn rounding_to_bfloat16_is_to_nearest_even() {
        assert_eq!(bf16(1.0), 0x3F80);
        assert_eq!(bf16(-2.5), 0xC020);
        // Halfway cases go to the even neighbour.
        assert_eq!(bf16(f32::from_bits(0x3F80_8000)), 0x3F80);
        assert_eq!(bf16(f32::from_bits(0x3F81_8000)), 0x3F82);
        assert_eq!(bf16(f32::from_bits(0x3F80_8001)), 0x3F81);
    }

    /// The tile product against a plain one on the same bfloat16 values,
    /// for shapes with partial row blocks.
    #[test]
    fn tile_product_matches_a_plain_one() {
        if !available() {
            eprintln!("skipped: no AMX bfloat16 tiles on this CPU");
            return;
        }
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        for (rows, n, k) in [
            (1, 32, 32),
            (5, 64, 96),
            (33, 96, 576),
            (70, 32, 1536),
            (3, 20, 50),
        ] {
            let w: Vec<f32> = (0..n * k).map(|_| next()).collect();
            let x: Vec<f32> = (0..rows * k).map(|_| next() * 4.0).collect();
            let m = Bf16Matrix::new(&w, n, k);
            let y = m.matmul(&x, rows);
            assert_eq!(y.len(), rows * n);
            for r in 0..rows {
                for c in 0..n {
                    let want: f64 = (0..k)
                        .map(|i| {
                            bf16_to_f32(bf16(x[r * k + i])) as f64
                                * bf16_to_f32(bf16(w[c * k + i])) as f64
                        })
                        .sum();
                    let got = y[r * n + c] as f64;
                    assert!(
                        (got - want).abs() < 1e-3 * (1.0 + want.abs()),
                        "{rows}x{n}x{k} at ({r}, {c}): {got} vs {want}"
                    );
                }
            }
        }
    }
}
