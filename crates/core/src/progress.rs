//! Progress: long-running work (downloading the model, indexing, embedding)
//! reported as events, for a transport to show as it likes: a bar on a
//! terminal, log lines in the bot. The library never draws anything itself.

/// One step of long-running work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress<'a> {
    /// Bytes of a model file downloaded so far.
    Download {
        /// The file, as named in the model repository.
        file: &'a str,
        /// Bytes received.
        done: u64,
        /// The file's size, when the server said.
        total: Option<u64>,
    },
    /// Passages written to the search index.
    Index {
        /// Passages written.
        done: usize,
        /// Passages to write.
        total: usize,
    },
    /// Passages whose vectors have been computed.
    Embed {
        /// Passages embedded.
        done: usize,
        /// Passages to embed.
        total: usize,
        /// Tokens run through the model so far.
        tokens: u64,
        /// Seconds since embedding started.
        seconds: f64,
    },
}

/// A progress callback that ignores everything.
pub fn silent(_: Progress) {}
