//! The `herald` binary.

fn main() -> std::process::ExitCode {
    herald_host::main()
}
