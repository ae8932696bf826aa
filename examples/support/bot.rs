//! A `citebot serve` process for the bot benchmarks (`bench_bot`,
//! `bench_fairness`, `soak_bot`): its own temporary folder (config, index,
//! journal, log), the fake Bot API's token and URL, signals and restarts,
//! and what `/proc` says about it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::support::fake_bot_api::FakeBotApi;

/// Kernel clock ticks per second in `/proc/<pid>/stat` (USER_HZ, 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

/// The release binary beside the running example (target/release/citebot).
pub fn default_bin() -> Result<PathBuf> {
    // The example lives in target/<profile>/examples/; the bot in target/<profile>/.
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("locating the target directory")?;
    Ok(profile_dir.join("citebot"))
}

/// Fails unless this is a release build (the fake server runs in the
/// benchmark's process, and a debug build of it would be measured) and `bin`
/// exists.
pub fn preflight(example: &str, bin: &Path) -> Result<()> {
    if cfg!(debug_assertions) {
        bail!(
            "the fake server runs in this process: use `cargo run --release --example {example}`"
        );
    }
    if !bin.is_file() {
        bail!(
            "{} not found: run `cargo build --release` first (or pass --bin)",
            bin.display()
        );
    }
    Ok(())
}

/// A running `citebot serve` in its own temporary directory, killed on drop.
pub struct Bot {
    /// The process.
    pub child: Child,
    /// Its folder: `citebot.toml`, `index/` (with the journal), `bot.log`.
    pub dir: tempfile::TempDir,
    bin: PathBuf,
    env: [(&'static str, String); 2],
}

impl Bot {
    /// Starts `bin` against `api` on the seed corpus with `config` as its
    /// config file.
    pub fn start(bin: &Path, api: &FakeBotApi, config: &str) -> Result<Bot> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("citebot.toml"), config)?;
        let env = api.env();
        let child = spawn(bin, dir.path(), &env)?;
        Ok(Bot {
            child,
            dir,
            bin: bin.to_path_buf(),
            env,
        })
    }

    /// Sends `signal` (e.g. `"KILL"`, `"TERM"`) and waits for the exit.
    pub fn stop(&mut self, signal: &str) -> Result<()> {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()?;
        if !status.success() {
            bail!("kill -{signal} failed");
        }
        self.child.wait()?;
        Ok(())
    }

    /// Starts the bot again in the same folder (index, journal, log).
    pub fn restart(&mut self) -> Result<()> {
        self.child = spawn(&self.bin, self.dir.path(), &self.env)?;
        Ok(())
    }

    /// Fails with the end of the bot's log unless `held`.
    pub fn expect(&self, held: bool, what: &str) -> Result<()> {
        if held {
            return Ok(());
        }
        bail!(
            "the bot did not {what} in time; its log ends:\n{}",
            self.log_tail(20)
        )
    }

    /// The last `n` lines of the bot's log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("bot.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// A memory field of `/proc/<pid>/status` (e.g. `"VmRSS:"`), in MiB.
    pub fn status_mib(&self, field: &str) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .with_context(|| format!("{field} in /proc status"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib / 1024.0)
    }

    /// The journal files in the index folder, with their sizes in bytes.
    pub fn journals(&self) -> Result<Vec<(PathBuf, u64)>> {
        let mut found = Vec::new();
        let index = self.dir.path().join("index");
        for entry in std::fs::read_dir(&index).with_context(|| index.display().to_string())? {
            let entry = entry?;
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("telegram-journal")
            {
                found.push((entry.path(), entry.metadata()?.len()));
            }
        }
        Ok(found)
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin` in `dir` against the fake server of `env`.
fn spawn(bin: &Path, dir: &Path, env: &[(&'static str, String); 2]) -> Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("bot.log"))?;
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    Command::new(bin)
        .arg("--config")
        .arg(dir.join("citebot.toml"))
        .arg("serve")
        .arg("--corpus")
        .arg(corpus)
        .arg("--index")
        .arg(dir.join("index"))
        .current_dir(dir)
        .env_remove("RUST_LOG")
        // The bot's own speed is measured here, with lexical answers.
        .env("CITEBOT_MODEL", "off")
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

/// User plus system CPU seconds of process `pid` so far.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a /proc stat line")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> Result<f64> { Ok(fields.get(i).context("stat field")?.parse()?) };
    // utime and stime are fields 14 and 15.
    Ok((ticks(11)? + ticks(12)?) / CLOCK_TICKS)
}
