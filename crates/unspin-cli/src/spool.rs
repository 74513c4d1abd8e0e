//! Spools: where long outputs keep their growing parts until they are
//! written (see [`unspin::render::stream`]).

/// A buffer that stays in memory up to [`IN_MEMORY`] bytes and moves to an
/// anonymous temporary file past that.
pub type Spool = tempfile::SpooledTempFile;

/// Bytes a spool keeps in memory before it moves to a temporary file.
pub const IN_MEMORY: usize = 4 << 20;

/// A new, empty spool.
pub fn new() -> std::io::Result<Spool> {
    Ok(tempfile::spooled_tempfile(IN_MEMORY))
}
