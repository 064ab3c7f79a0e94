//! The `galen` binary; everything is in the library (`lib.rs`).

fn main() -> std::process::ExitCode {
    galen_cli::main()
}
