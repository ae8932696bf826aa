//! Zip containers (EPUB, DOCX), read within bounds: every entry is read
//! through a budget of `add.max_unpacked_bytes` for the whole file, so a
//! zip bomb (a small file that inflates to gigabytes) is refused when it
//! passes the budget, having cost no more than the budget.

use std::io::{Cursor, Read};

use super::SourceError;

/// Most entries a container may list.
const MAX_ENTRIES: usize = 20_000;

/// A zip container and what is left of its unpacking budget.
pub(crate) struct Archive<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    budget: u64,
    limit: u64,
}

impl<'a> Archive<'a> {
    /// Opens the container `bytes`, with `limit` bytes to unpack in all.
    pub(crate) fn open(bytes: &'a [u8], limit: u64) -> Result<Archive<'a>, SourceError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
            SourceError::Other(format!("corrupt file (not a readable zip container): {e}"))
        })?;
        if zip.len() > MAX_ENTRIES {
            return Err(SourceError::Hostile(format!(
                "{} entries in the container (at most {MAX_ENTRIES})",
                zip.len()
            )));
        }
        Ok(Archive {
            zip,
            budget: limit,
            limit,
        })
    }

    /// The entry `name` as text, or None when there is no such entry.
    pub(crate) fn text(&mut self, name: &str) -> Result<Option<String>, SourceError> {
        let mut file = match self.zip.by_name(name) {
            Ok(file) => file,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => {
                return Err(SourceError::Other(format!(
                    "cannot read {name} in the container (encrypted or corrupt): {e}"
                )));
            }
        };
        let mut bytes = Vec::new();
        (&mut file)
            .take(self.budget + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SourceError::Other(format!("corrupt entry {name}: {e}")))?;
        if bytes.len() as u64 > self.budget {
            return Err(SourceError::Hostile(format!(
                "unpacks to more than add.max_unpacked_bytes = {} (a zip bomb?)",
                self.limit
            )));
        }
        self.budget -= bytes.len() as u64;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}
