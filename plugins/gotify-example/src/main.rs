//! `herald-gotify`: the whole `herald` command line, with the Gotify plugin
//! linked in next to the bundled ones.

use std::process::ExitCode;

// Linking pitfall: a plugin crate the binary never names is never linked,
// and its `register_plugin!` silently registers nothing.
use herald_gotify_example as _;

fn main() -> ExitCode {
    herald_host::main()
}
