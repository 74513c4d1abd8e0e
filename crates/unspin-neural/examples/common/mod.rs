//! Shared by the examples: reading a JSONL corpus.

/// The `text` of each line of a JSONL file, in order, until `words`
/// whitespace-separated words are read; returns them and the word count.
pub fn read_docs(path: &str, words: usize) -> (Vec<String>, usize) {
    let mut docs = Vec::new();
    let mut total = 0;
    for line in unspin::jsonl::lines(&std::fs::read_to_string(path).unwrap()) {
        if total >= words {
            break;
        }
        let t = line.unwrap().text().unwrap().to_string();
        total += t.split_whitespace().count();
        docs.push(t);
    }
    (docs, total)
}
