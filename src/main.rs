//! The `quench` binary: argument parsing lives in `quench::cli`.

fn main() {
    quench::train::pin_candle_threads();
    std::process::exit(quench::cli::main());
}
