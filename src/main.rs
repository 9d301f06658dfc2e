//! The `cadenza` executable: the desktop app, and the same features headless from the command line.

mod cli;
mod console;
mod eval_cmd;
mod generate_cmd;
mod render_cmd;
mod train_cmd;

fn main() -> std::process::ExitCode {
    cli::main()
}
