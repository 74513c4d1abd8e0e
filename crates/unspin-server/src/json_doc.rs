//! JSON documents `{"id": .., "text": .., ...}`, read strictly: the API's
//! JSON body. The reader lives in the core library ([`unspin::jsonl`]), which
//! the CLI's `--jsonl` shares; this module keeps the server's path to it.

pub use unspin::jsonl::{parse_doc, Doc, DocError, ExactId};
