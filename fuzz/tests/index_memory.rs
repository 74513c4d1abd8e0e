//! Fuzz findings of issue 17, where a few corrupt bytes of a 70 KB index cost
//! hundreds of megabytes or more. In the first three, redb allocated and
//! zero-filled 2 GiB, because it sizes a page by the order its (damaged)
//! pointer gives:
//! - `regress-check-2gib`: a branch page's child pointer, in `check`. The
//!   index's storage backends now refuse a branch page that names a child
//!   larger than the file (`crates/unspin-index/src/pages.rs`).
//! - `regress-table-root-2gib`: a table definition's root pointer, in every
//!   open. The index now verifies the table trees and the roots they name
//!   before redb opens the file (`crates/unspin-index/src/roots.rs`).
//! - `regress-branch-count`: a branch page whose damaged key count puts the
//!   end of its child pointers past the page, which the guard then skipped
//!   while redb still read the first pointers (2.1 GB and 2.2 s in a
//!   release build). The guard now checks every pointer inside the page.
//! - `regress-walk-cycle`: a branch leading back to pages already read made
//!   `check`'s table walk go round (249 MB and 0.9 s in a release build);
//!   the walk now requires rising keys (`crates/unspin-index/src/check.rs`).
//! - `regress-recovery-unguarded`: the recovery after an interrupted writer
//!   opened the file without the branch-page guard (2.1 GB under debug
//!   assertions, where redb walks every page on open); every open of the
//!   index now goes through the guarded backend.
//!
//! Alone in their test binary, so that the process's peak memory is these
//! inputs'.

/// Peak resident memory of this process so far (Linux `VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

#[test]
#[cfg(target_os = "linux")]
fn corrupt_page_pointers_allocate_no_more_than_the_file() {
    for finding in [
        "regress-check-2gib",
        "regress-table-root-2gib",
        "regress-branch-count",
        "regress-walk-cycle",
        "regress-recovery-unguarded",
    ] {
        let input = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("seeds/index")
                .join(finding),
        )
        .expect("the finding");
        let started = std::time::Instant::now();
        unspin_fuzz::index(&input);
        let peak = peak_rss();
        assert!(
            peak < 128 << 20,
            "peak memory {} MB after replaying {finding}",
            peak >> 20
        );
        assert!(
            started.elapsed().as_secs() < 10,
            "{finding}: {:?}",
            started.elapsed()
        );
    }
}
