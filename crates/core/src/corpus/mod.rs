//! Corpus: a folder of essays read into memory.
//!
//! Every `.md` or `.txt` file below the folder is one essay. Markdown files
//! carry TOML front matter between `+++` lines; a `.txt` file has its title on
//! the first line. A bad file becomes a [`Warning`] naming the file and line,
//! and the rest of the corpus still loads.
//!
//! The file format is part of the product, so [`parse_essay`] and the
//! [`Essay`] it gives are public; finding, stamping and naming files are the
//! library's own business.
//!
//! - `essay`: [`Essay`], [`Paragraphs`], [`Warning`];
//! - `scan`: the files of a folder, their stamps, reading one;
//! - `parse`: one file's bytes to an essay;
//! - `ids`: essay ids from file names.

mod essay;
mod ids;
mod parse;
mod scan;

pub use essay::{Essay, Paragraphs, Warning};
pub(crate) use ids::IdAllocator;
pub use parse::{ParseError, parse_essay};
pub(crate) use scan::{FileStamp, parse, read, scan};
