//! The on-disk container shared by every unspin model file.
//!
//! Layout (all integers little-endian), documented in `docs/FORMATS.md`:
//!
//! | offset | size | field                                   |
//! |--------|------|-----------------------------------------|
//! | 0      | 8    | magic `b"UNSPIN\0\0"`                   |
//! | 8      | 4    | kind tag, e.g. `b"LEXI"` or `b"LMTG"`   |
//! | 12     | 4    | format version of that kind             |
//! | 16     | 8    | compressed payload length               |
//! | 24     | 8    | uncompressed payload length             |
//! | 32     | 4    | CRC-32 of the compressed payload        |
//! | 36     | 4    | reserved, zero                          |
//! | 40     | ..   | zstd-compressed payload                 |
//!
//! The checksum is verified before decompression so a truncated or corrupted
//! file fails with a clear message rather than a garbage model.
//!
//! Payloads of several kinds, and the trace index's values
//! (`unspin-index`), count and delta-code with unsigned LEB128 varints:
//! [`put_varint`] and [`get_varint`] are their one encoder and decoder, so
//! every format spells them the same way.

use crate::Error;

/// Magic bytes that open every unspin model file.
pub const MAGIC: &[u8; 8] = b"UNSPIN\0\0";
const HEADER_LEN: usize = 40;

/// The format version a container says it is (`None`: too short to say).
pub fn version_of(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(12..16)?.try_into().ok()?))
}

/// Wraps `payload` in a container of the given kind and version.
pub fn encode(kind: [u8; 4], version: u32, payload: &[u8], level: i32) -> Vec<u8> {
    let compressed =
        zstd::bulk::compress(payload, level).expect("zstd compression of an in-memory buffer");
    let mut out = Vec::with_capacity(HEADER_LEN + compressed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&kind);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&compressed).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&compressed);
    out
}

/// Checks the header of a container and returns its decompressed payload.
pub fn decode(bytes: &[u8], kind: [u8; 4], version: u32) -> Result<Vec<u8>, Error> {
    let name = String::from_utf8_lossy(&kind).into_owned();
    let bad = |why: String| Error::Model(format!("{name} model file: {why}"));
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(bad("not an unspin model file (bad magic)".into()));
    }
    if bytes[8..12] != kind {
        return Err(bad(format!(
            "wrong kind {:?}",
            String::from_utf8_lossy(&bytes[8..12])
        )));
    }
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
    let found = u32_at(12);
    if found != version {
        return Err(bad(format!(
            "format version {found}, this build reads {version}"
        )));
    }
    let clen = u64_at(16) as usize;
    let ulen = u64_at(24) as usize;
    let body = &bytes[HEADER_LEN..];
    if body.len() != clen {
        return Err(bad(format!(
            "truncated: payload is {} bytes, header says {clen}",
            body.len()
        )));
    }
    if crc32fast::hash(body) != u32_at(32) {
        return Err(bad("checksum mismatch (corrupt file)".into()));
    }
    // The size field is outside the checksum: trust it only when the zstd
    // frame itself records the same size, so a bad header cannot make us
    // allocate gigabytes.
    match zstd::zstd_safe::get_frame_content_size(body) {
        Ok(Some(n)) if n == ulen as u64 => {}
        _ => {
            return Err(bad(
                "payload size does not match the header (corrupt file)".into()
            ))
        }
    }
    let out = zstd::bulk::decompress(body, ulen)
        .map_err(|e| bad(format!("decompression failed: {e}")))?;
    if out.len() != ulen {
        return Err(bad("decompressed size does not match header".into()));
    }
    Ok(out)
}

/// Appends `v` as an unsigned LEB128 varint: seven bits a byte, low bits
/// first, the high bit set on every byte but the last (1 to 10 bytes).
#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Why [`get_varint`] could not read a varint; each format words the error
/// in its own terms (which stream, which value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarintError {
    /// The bytes end inside the varint.
    Truncated,
    /// The varint holds more than 64 bits.
    Overflow,
}

/// Reads the unsigned LEB128 varint at `b[*at..]` and moves `*at` past it.
/// A value past `u64` is an error rather than silently cut, so a corrupt
/// stream is reported instead of decoding to another number.
#[inline]
pub fn get_varint(b: &[u8], at: &mut usize) -> Result<u64, VarintError> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let Some(&byte) = b.get(*at) else {
            return Err(VarintError::Truncated);
        };
        *at += 1;
        // The tenth byte holds bit 63 only.
        if shift == 63 && byte > 1 {
            return Err(VarintError::Overflow);
        }
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return Ok(v);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        for v in [
            0,
            1,
            0x7f,
            0x80,
            300,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut b = vec![0xaa];
            put_varint(&mut b, v);
            let mut at = 1;
            assert_eq!(get_varint(&b, &mut at), Ok(v));
            assert_eq!(at, b.len());
        }
        // The layout is LEB128's (the formats on disk depend on it).
        let mut b = Vec::new();
        put_varint(&mut b, 300);
        put_varint(&mut b, u64::MAX);
        assert_eq!(
            b,
            [0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        let get = |b: &[u8]| get_varint(b, &mut 0);
        assert_eq!(get(&[]), Err(VarintError::Truncated));
        assert_eq!(get(&[0x80, 0x80]), Err(VarintError::Truncated));
        // Bit 64 and up, in the tenth byte or an eleventh.
        let mut long = [0xff; 10];
        long[9] = 0x02;
        assert_eq!(get(&long), Err(VarintError::Overflow));
        assert_eq!(get(&[0x80; 11]), Err(VarintError::Overflow));
        // A non-minimal encoding still reads (LEB128 allows padding).
        assert_eq!(get(&[0x81, 0x80, 0x00]), Ok(1));
    }

    #[test]
    fn round_trip_and_corruption() {
        let data = b"hello hello hello model".repeat(10);
        let enc = encode(*b"TEST", 3, &data, 3);
        assert_eq!(decode(&enc, *b"TEST", 3).unwrap(), data);
        assert!(decode(&enc, *b"TEST", 4).is_err());
        assert!(decode(&enc, *b"LEXI", 3).is_err());
        assert!(decode(&enc[..enc.len() - 1], *b"TEST", 3).is_err());
        let mut flipped = enc.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        let err = decode(&flipped, *b"TEST", 3).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        assert!(decode(b"garbage", *b"TEST", 3).is_err());
    }
}
