//! `POST /v1/trace` over real HTTP: sources of a spun copy in the server's
//! trace index, options, errors, and an index that grows while served.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::json;
use unspin::fingerprint::{Channels, FingerprintConfig, Fingerprinter};
use unspin_index::codec::text_hash;
use unspin_index::{Index, NewDoc, NewLocation, WriterOptions};
use unspin_server::engine::Tracer;
use unspin_server::Engine;

const ARTICLES: [(&str, &str); 2] = [
    (
        "council",
        "The city council approved the new budget on Tuesday, after a long debate about schools and roads. \
Council members said the plan would add 40 teachers and repair the old bridge over the Mill River.\n\n\
Residents who spoke at the meeting asked for better lighting on Main Street. The mayor promised that the \
council would read every letter before the final vote in March.",
    ),
    (
        "storm",
        "Heavy rain flooded parts of the valley on Sunday night, and officials closed two highways near Riverton. \
Emergency crews rescued 12 people from cars trapped in the water, according to the county sheriff.\n\n\
Forecasters expect the storm to move east by Wednesday. Farmers in the region said the rain came too late \
for the wheat harvest but would help the orchards that suffered during the dry summer months.",
    ),
];

/// News-spun by hand the way the simulator would ("said" -> "state", ...).
const SPUN_STORM: &str = "Heavy rain flooded parts of the valley on Sunday night, and officials closed two highways near Riverton. \
Emergency crews rescued 12 people from cars trapped in the water, according to the county sheriff.\n\n\
Forecasters expect the violent_storm to travel east by Wednesday. Farmers in the part state the rain came too previous \
for the wheat crop but would assist the orchards that suffered during the dry summertime months.";

fn add(path: &std::path::Path, docs: &[(&str, &str)]) {
    let fp = Fingerprinter::embedded(FingerprintConfig::default()).unwrap();
    let mut w = Index::open_writer(path, &fp, WriterOptions::default()).unwrap();
    for (id, text) in docs {
        let doc = NewDoc {
            id: id.to_string(),
            source: NewLocation::None,
            meta: r#"{"section":"local"}"#.into(),
            text_hash: text_hash(text),
            text_len: text.len() as u64,
        };
        w.add(&doc, &fp.fingerprint(text, Channels::ALL)).unwrap();
    }
    w.finish().unwrap();
}

fn tracing_server(index: &std::path::Path) -> unspin_server::Running {
    tracing_server_with(index, config())
}

fn tracing_server_with(
    index: &std::path::Path,
    config: unspin_server::Config,
) -> unspin_server::Running {
    let engine = Engine::new(engine().core().clone()).with_tracer(Tracer::open(index).unwrap());
    unspin_server::spawn("127.0.0.1:0", Arc::new(engine), config).unwrap()
}

#[test]
fn trace_hides_local_paths_and_file_text_unless_asked() {
    // Issue 17: with an index of local files, a DNS-rebinding page could
    // read their paths and text through /v1/trace.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret-storm.txt");
    let (_, storm) = ARTICLES[1];
    std::fs::write(&file, storm).unwrap();
    let index = dir.path().join("files.idx");
    let fp = Fingerprinter::embedded(FingerprintConfig::default()).unwrap();
    let mut w = Index::open_writer(&index, &fp, WriterOptions::default()).unwrap();
    let doc = NewDoc {
        id: String::new(),
        source: NewLocation::File(file.clone()),
        meta: String::new(),
        text_hash: text_hash(storm),
        text_len: storm.len() as u64,
    };
    w.add(&doc, &fp.fingerprint(storm, Channels::ALL)).unwrap();
    w.finish().unwrap();
    let dir_name = dir.path().display().to_string();

    let s = tracing_server(&index);
    let r = post(s.addr, "/v1/trace", "text/plain", SPUN_STORM.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.text();
    assert!(!body.contains(&dir_name), "a path leaks: {body}");
    assert!(!body.contains("secret-storm"), "a file name leaks: {body}");
    // Words of the original that the spun query does not have.
    assert!(
        !body.contains("to move east"),
        "the file's text leaks: {body}"
    );
    let v = r.json();
    let src = &v["sources"][0];
    assert_eq!(src["id"], format!("doc:{}", src["doc"]));
    assert!(src.get("location").is_none());
    assert!(src["source_text"]
        .as_str()
        .unwrap()
        .contains("--trace-show-paths"));
    // The client's own text is still there.
    assert!(src["passages"][0]["query"]["text"].is_string());
    assert!(src["passages"][0]["source"].get("text").is_none());
    drop(s);

    let s = tracing_server_with(
        &index,
        unspin_server::Config {
            trace_show_paths: true,
            ..config()
        },
    );
    let v = post(s.addr, "/v1/trace", "text/plain", SPUN_STORM.as_bytes()).json();
    let src = &v["sources"][0];
    assert_eq!(src["location"], file.display().to_string());
    assert!(src["passages"][1]["source"]["text"]
        .as_str()
        .unwrap()
        .contains("to move east"));
}

#[test]
fn trace_finds_the_source_and_its_passages() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("news.idx");
    add(&index, &ARTICLES[..1]);
    let s = tracing_server(&index);

    // Not indexed yet: nothing found.
    let r = post(s.addr, "/v1/trace", "text/plain", SPUN_STORM.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["sources"], json!([]), "{}", r.text());

    // The index grows while the server runs; the next request sees it.
    add(&index, &ARTICLES[1..]);
    let r = post_json(
        s.addr,
        "/v1/trace",
        &json!({"text": SPUN_STORM, "id": 7, "max_results": 1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["id"], 7);
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["id"], "storm");
    assert_eq!(sources[0]["meta"]["section"], "local");
    assert!(sources[0]["score"].as_f64().unwrap() >= 20.0);
    let passages = sources[0]["passages"].as_array().unwrap();
    assert_eq!(passages.len(), 2, "{v}");
    assert_eq!(passages[1]["query"]["passage"], 1);
    assert_eq!(passages[1]["source"]["passage"], 1);
    // The index keeps no text and this source has no file: passage texts of
    // the query only.
    assert!(passages[1]["query"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Forecasters"));
    assert!(passages[1]["source"].get("text").is_none());
    assert!(sources[0]["source_text"]
        .as_str()
        .unwrap()
        .contains("not stored"));

    // Options: no restore, no passage text, a form.
    let r = post(
        s.addr,
        "/v1/trace",
        "application/x-www-form-urlencoded",
        &form(&[
            ("text", SPUN_STORM),
            ("restore", "false"),
            ("passage_text", "false"),
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["sources"][0]["id"], "storm");
    assert!(v["sources"][0]["passages"][0]["query"]
        .get("text")
        .is_none());

    // Bad options are 400s with a code.
    let r = post_json(
        s.addr,
        "/v1/trace",
        &json!({"text": "x y z", "max_results": 0}),
    );
    assert_eq!(r.status, 400);
    let r = post_json(
        s.addr,
        "/v1/trace",
        &json!({"text": "x y z", "nonsense": 1}),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn a_server_without_an_index_says_so() {
    let s = start(config());
    let r = post(s.addr, "/v1/trace", "text/plain", b"some text");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "no_index");
}

#[test]
fn a_corrupt_index_is_a_503_and_the_server_stays_up() {
    // Issue 17: a damaged index file is `index_error` with 503, never a
    // panic's 500, and the server goes on answering.
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("news.idx");
    add(&index, &ARTICLES);
    let s = tracing_server(&index);
    let body = json!({"text": SPUN_STORM, "restore": false});
    // Zero the file in place, under the server: every request reads the
    // header again (to see other processes' commits) and finds it gone.
    let len = std::fs::metadata(&index).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&index)
        .unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &vec![0u8; len as usize], 0).unwrap();
    drop(f);
    for _ in 0..3 {
        let r = post_json(s.addr, "/v1/trace", &body);
        assert_eq!(r.status, 503, "{}", r.text());
        let v = r.json();
        assert_eq!(v["error"], "index_error", "{v}");
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains("is corrupt"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert_eq!(get(s.addr, "/healthz").status, 200);
    }
    // Other endpoints are unaffected.
    let r = post(s.addr, "/v1/restore", "text/plain", SPUN_STORM.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
}
