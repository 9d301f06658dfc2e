//! The `cadenza` executable: the desktop app, and the same features headless from the command line.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
