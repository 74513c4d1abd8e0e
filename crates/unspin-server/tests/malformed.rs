//! A stream of malformed requests of every kind (the load generator's, so
//! the benchmark's 10,000 are the same kinds): each gets a 4xx answer, none
//! a 2xx or 5xx, and the server keeps serving.

mod common;

use std::sync::Arc;

use common::*;
use unspin_bench::loadgen::run_malformed;

#[test]
fn every_malformed_request_gets_a_4xx() {
    let s = start(config());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // 40 of each of the 18 kinds.
    let report = rt.block_on(run_malformed(s.addr, 18 * 40, 4, 1, Arc::new(sample())));
    assert_eq!(report.sent, 720);
    assert!(report.server_errors.is_empty(), "{report:?}");
    assert!(report.accepted.is_empty(), "{report:?}");
    assert!(report.unanswered.is_empty(), "{report:?}");
    assert!(
        report.statuses.keys().all(|s| (400..500).contains(s)),
        "{report:?}"
    );
    let h = get(s.addr, "/healthz");
    assert_eq!(h.status, 200);
    let ok = post(s.addr, "/v1/restore", "text/plain", sample().as_bytes());
    assert_eq!(ok.status, 200);
}
