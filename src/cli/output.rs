//! Everything the commands print goes through `Stdout`, whose write errors are
//! returned, never a panic (`println!` panics on a closed pipe). A closed pipe
//! (`quench status | head -c 10`) ends the command quietly with exit code 141,
//! what a shell reports for a process whose pipe closed (128 + SIGPIPE); any
//! other write error (stdout on a full disk) is reported with exit code 1.

use std::fmt;
use std::io::{self, Write};

/// Exit code of a command whose standard output was closed early.
pub const CLOSED_PIPE_EXIT: i32 = 141;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("standard output was closed")]
    Closed,
    #[error("writing to standard output: {0}")]
    Failed(io::Error),
}

impl From<io::Error> for OutputError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Failed(e)
        }
    }
}

/// Standard output, locked for one command.
pub struct Stdout(io::StdoutLock<'static>);

impl Stdout {
    pub fn lock() -> Stdout {
        Stdout(io::stdout().lock())
    }

    /// Writes one line.
    pub fn line(&mut self, args: fmt::Arguments) -> Result<(), OutputError> {
        self.0.write_fmt(args)?;
        self.0.write_all(b"\n")?;
        Ok(())
    }
}

/// Flushes standard output at the end of a command.
pub fn flush() -> Result<(), OutputError> {
    Ok(io::stdout().flush()?)
}

/// Writes a message to standard error, ignoring a closed stderr (there is no
/// one left to tell).
pub fn note(args: fmt::Arguments) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// `say!(out, "format", args...)`: one line to `out`, returning early on a write error.
macro_rules! say {
    ($out:expr) => {
        $out.line(format_args!(""))?
    };
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))?
    };
}

pub(crate) use say;
