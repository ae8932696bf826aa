//! Drives the built binary in batch mode, for the integration tests of `cite`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// `cite --json` in batch mode, one quote per line of stdin, on `corpus`
/// (None: the shipped one) with `model` ("off" or a model folder), in a
/// fresh index folder; one object per line of output.
pub fn cite_batch(corpus: Option<&str>, model: &str, quotes: &[&str]) -> Vec<Value> {
    let index = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_citebot"));
    cmd.env("CITEBOT_MODEL", model);
    cmd.args(["cite", "--json", "--index"]).arg(index.path());
    if let Some(corpus) = corpus {
        cmd.args(["--corpus", corpus]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all((quotes.join("\n") + "\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
