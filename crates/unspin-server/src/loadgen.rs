//! Load generator (todo)
