//! Every model file reader, on arbitrary bytes.

use unspin::container;
use unspin::detect::Calibration;
use unspin::lexicon::Lexicon;
use unspin::lm::LanguageModel;
use unspin::tortured::PhraseModel;
use unspin::wordnet::WordNet;

/// A container reader: its kind, its format version, and the reader
/// (true when it accepted the bytes).
pub(crate) struct Reader {
    pub kind: [u8; 4],
    pub version: u32,
    pub read: fn(&[u8]) -> bool,
}

/// The kinds and versions whose constants are private in `unspin` are
/// written out here; `tests/smoke.rs` checks them against `models/`.
pub(crate) const READERS: &[Reader] = &[
    Reader {
        kind: unspin::lm::KIND,
        version: unspin::lm::VERSION,
        read: |b| LanguageModel::from_bytes(b).is_ok(),
    },
    Reader {
        kind: *b"LEXI",
        version: 2,
        read: |b| Lexicon::from_bytes(b).is_ok(),
    },
    Reader {
        kind: unspin::wordnet::KIND,
        version: unspin::wordnet::VERSION,
        read: |b| WordNet::from_bytes(b).is_ok(),
    },
    Reader {
        kind: unspin::detect::KIND,
        version: unspin::detect::VERSION,
        read: |b| Calibration::from_bytes(b).is_ok(),
    },
    Reader {
        kind: *b"TORT",
        version: 1,
        read: |b| PhraseModel::from_bytes(b).is_ok(),
    },
    Reader {
        kind: *b"SPIN",
        version: 1,
        read: |b| unspin::learn::SpinnerProfile::from_bytes(b).is_ok(),
    },
];

/// Arbitrary bytes to every model file reader (they must return an error,
/// never panic, and not allocate without bound); then the bytes after the
/// first, wrapped in a valid container of the kind the first byte picks,
/// so that the payload parsers behind the checksum see them too.
pub fn container(data: &[u8]) {
    for r in READERS {
        let _ = (r.read)(data);
    }
    let _ = LanguageModel::from_sphinx_bin(data);
    let _ = LanguageModel::from_arpa(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = unspin::tortured::parse_pps(s);
    }
    let mut at = 0;
    while at < data.len() && container::get_varint(data, &mut at).is_ok() {}

    if let Some((&pick, payload)) = data.split_first() {
        let r = &READERS[pick as usize % READERS.len()];
        let file = container::encode(r.kind, r.version, payload, 1);
        let back = container::decode(&file, r.kind, r.version).ok();
        assert!(back.as_deref() == Some(payload), "container round trip");
        let _ = (r.read)(&file);
    }
}

/// Whether the reader of `file`'s kind and version (from its header)
/// accepts it; `None` when no reader here has that kind and version.
pub fn model_reader_accepts(file: &[u8]) -> Option<bool> {
    let kind = file.get(8..12)?;
    let version = u32::from_le_bytes(file.get(12..16)?.try_into().ok()?);
    let r = READERS
        .iter()
        .find(|r| r.kind == kind && r.version == version)?;
    Some((r.read)(file))
}

/// Small valid model files, for seeds: a trigram model read from ARPA, and
/// the same ARPA text.
pub(crate) fn built_seeds() -> Vec<Vec<u8>> {
    let arpa = "\\data\\\nngram 1=5\nngram 2=3\nngram 3=1\n\n\\1-grams:\n\
                -1.0\t<s>\t-0.3\n-1.0\t</s>\n-0.5\tthe\t-0.2\n-0.7\tcat\t-0.1\n-2.0\t<unk>\n\n\
                \\2-grams:\n-0.2\t<s> the\t-0.1\n-0.3\tthe cat\t-0.1\n-0.1\tcat </s>\n\n\
                \\3-grams:\n-0.1\t<s> the cat\n\n\\end\\\n";
    let mut out = vec![arpa.as_bytes().to_vec()];
    let lm = LanguageModel::from_arpa(arpa.as_bytes()).expect("the seed ARPA model reads");
    let lm_file = lm.to_bytes_with_level(1);
    out.push(payload_seed(0, &lm_file));
    out.push(lm_file);
    if let Ok(c) = unspin::models::embedded_calibration() {
        let file = c.to_bytes();
        out.push(payload_seed(3, &file));
        out.push(file);
    }
    out
}

/// The pick byte of `READERS[i]` followed by the payload of `file`: the
/// input that reaches that reader with a valid payload.
fn payload_seed(i: u8, file: &[u8]) -> Vec<u8> {
    let r = &READERS[i as usize];
    let mut out = vec![i];
    out.extend(container::decode(file, r.kind, r.version).expect("a valid seed file"));
    out
}
