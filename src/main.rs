//! The `quench` binary: argument parsing lives in `quench::cli`.

fn main() {
    std::process::exit(quench::cli::main());
}
