//! Drives the built binary: the command every CLI test starts from, and
//! batch-mode `cite` for the integration tests of `cite`.
//!
//! `assert_cmd` runs it: it feeds stdin from a thread while it reads the
//! output (no deadlock on a full pipe), and a failed assertion prints the
//! command line, the exit status, stdout and stderr.

use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The built `citebot`, words only (model off), with no `RUST_LOG` from the
/// environment.
pub fn citebot() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("citebot");
    cmd.env("CITEBOT_MODEL", "off").env_remove("RUST_LOG");
    cmd
}

/// Standard output, one JSON object per line.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `cite --json` in batch mode, one quote per line of stdin, on `corpus`
/// (None: the shipped one) with `model` ("off" or a model folder), in a
/// fresh index folder; one object per line of output.
pub fn cite_batch(corpus: Option<&str>, model: &str, quotes: &[&str]) -> Vec<Value> {
    let index = tempfile::tempdir().unwrap();
    let mut cmd = citebot();
    cmd.env("CITEBOT_MODEL", model)
        .args(["cite", "--json", "--index"])
        .arg(index.path());
    if let Some(corpus) = corpus {
        cmd.args(["--corpus", corpus]);
    }
    let run = cmd.write_stdin(quotes.join("\n") + "\n").assert().success();
    json_lines(run.get_output())
}
