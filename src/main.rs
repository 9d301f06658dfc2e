//! The `cadenza` executable: the desktop app, and the same features headless from the command line.

fn main() -> std::process::ExitCode {
    cadenza::cli::main()
}
