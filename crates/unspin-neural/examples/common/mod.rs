//! Shared by the examples: reading a JSONL corpus.

/// The `text` of each line of a JSONL file, in order, until `words`
/// whitespace-separated words are read; returns them and the word count.
pub fn read_docs(path: &str, words: usize) -> (Vec<String>, usize) {
    unspin::jsonl::texts_up_to(&std::fs::read_to_string(path).unwrap(), words)
}
