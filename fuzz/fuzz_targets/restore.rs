//! Fuzz target `restore`: see [`unspin_fuzz::restore`]. Under `cargo fuzz` a
//! libFuzzer target; in a normal build a binary that runs the target on
//! the files or folders given (crash inputs, a corpus), or on its seeds.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| unspin_fuzz::restore(data));

#[cfg(not(fuzzing))]
fn main() {
    unspin_fuzz::replay_main("restore", unspin_fuzz::restore);
}
