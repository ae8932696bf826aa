//! Weights: the tensors of a `model.safetensors` file, memory-mapped and
//! read in place.
//!
//! Loading once read the whole file (90 MB for MiniLM), copied it into
//! candle tensors and transposed every matrix, which was most of a cold
//! `ask`. Now the encoder reads what it needs from the mapping: the 8-bit
//! panels of each linear layer are built from it in one pass, the embedding
//! tables are read a row at a time (a question touches a few rows of the
//! 47 MB word table), and the f32 matrices that large batches need are made
//! only when a large batch comes (see `bert::Linear`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use safetensors::{Dtype, SafeTensors};

use super::EmbedError;

/// A memory-mapped safetensors file and where each tensor lies in it.
pub(crate) struct Weights {
    path: PathBuf,
    map: memmap2::Mmap,
    tensors: HashMap<String, Entry>,
}

/// One tensor's place in the file.
#[derive(Clone)]
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    /// Byte offset of its first element from the start of the file.
    start: usize,
}

/// The element types the encoder can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Element {
    F32,
    F16,
    BF16,
}

impl Element {
    fn bytes(self) -> usize {
        match self {
            Element::F32 => 4,
            Element::F16 | Element::BF16 => 2,
        }
    }
}

impl Weights {
    /// Maps `path` and reads its header (the data is not touched).
    pub fn open(path: &Path) -> Result<Arc<Weights>, EmbedError> {
        let file = std::fs::File::open(path).map_err(|e| EmbedError::io(path, e))?;
        // SAFETY: the mapping is read-only. A model file is written once
        // (the Hub cache renames a verified download into place) and never
        // modified in place; like every reader of mapped files, we rely on that.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| EmbedError::io(path, e))?;
        let (header, metadata) =
            SafeTensors::read_metadata(&map).map_err(|e| EmbedError::BadFile {
                path: path.to_path_buf(),
                message: format!("not a safetensors file: {e}"),
            })?;
        let data = 8 + header;
        let tensors = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let entry = Entry {
                    dtype: info.dtype,
                    shape: info.shape.clone(),
                    start: data + info.data_offsets.0,
                };
                (name, entry)
            })
            .collect();
        Ok(Arc::new(Weights {
            path: path.to_path_buf(),
            map,
            tensors,
        }))
    }

    /// Whether the file has a tensor called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The tensor `name`, one or two dimensions, as a [`Matrix`] (a vector is one row).
    pub fn matrix(self: &Arc<Self>, name: &str) -> Result<Matrix, EmbedError> {
        let bad = |message: String| EmbedError::BadFile {
            path: self.path.clone(),
            message,
        };
        let entry = self
            .tensors
            .get(name)
            .ok_or_else(|| bad(format!("the weights have no tensor {name:?}")))?;
        let element = match entry.dtype {
            Dtype::F32 => Element::F32,
            Dtype::F16 => Element::F16,
            Dtype::BF16 => Element::BF16,
            other => {
                return Err(bad(format!(
                    "tensor {name:?} is {other:?}, not a float type"
                )));
            }
        };
        let (rows, columns) = match entry.shape[..] {
            [n] => (1, n),
            [rows, columns] => (rows, columns),
            ref shape => return Err(bad(format!("tensor {name:?} has shape {shape:?}"))),
        };
        Ok(Matrix {
            weights: self.clone(),
            element,
            start: entry.start,
            rows,
            columns,
        })
    }
}

/// A tensor of [`Weights`], `rows` × `columns`, read in place.
#[derive(Clone)]
pub(crate) struct Matrix {
    weights: Arc<Weights>,
    element: Element,
    start: usize,
    /// Rows (1 for a vector).
    pub rows: usize,
    /// Values per row.
    pub columns: usize,
}

impl Matrix {
    /// The bytes of row `r`.
    fn bytes(&self, r: usize) -> &[u8] {
        assert!(r < self.rows, "row {r} of {}", self.rows);
        let width = self.columns * self.element.bytes();
        let at = self.start + r * width;
        // The header was validated against the file's length (read_metadata).
        &self.weights.map[at..at + width]
    }

    /// Row `r` into `out` (`columns` long), as f32.
    pub fn row_into(&self, r: usize, out: &mut [f32]) {
        self.combine_row(r, out, |_, v| v);
    }

    /// Adds row `r` to `out` (`columns` long).
    pub fn add_row(&self, r: usize, out: &mut [f32]) {
        self.combine_row(r, out, |o, v| o + v);
    }

    #[inline(always)]
    fn combine_row(&self, r: usize, out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
        let bytes = self.bytes(r);
        assert_eq!(out.len(), self.columns);
        match self.element {
            Element::F32 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = f(*o, f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                }
            }
            Element::F16 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = f(*o, half::f16::from_le_bytes([b[0], b[1]]).to_f32());
                }
            }
            Element::BF16 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = f(*o, half::bf16::from_le_bytes([b[0], b[1]]).to_f32());
                }
            }
        }
    }

    /// Every value, row by row, as f32.
    pub fn to_vec(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.rows * self.columns];
        for (r, row) in out.chunks_exact_mut(self.columns.max(1)).enumerate() {
            self.row_into(r, row);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file with the given tensors (name, dtype, shape, bytes).
    fn file(tensors: &[(&str, &str, &[usize], Vec<u8>)]) -> tempfile::NamedTempFile {
        let mut header = serde_json::Map::new();
        let mut data = Vec::new();
        for (name, dtype, shape, bytes) in tensors {
            let start = data.len();
            data.extend_from_slice(bytes);
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, data.len()]}),
            );
        }
        let header = serde_json::to_vec(&header).unwrap();
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&header);
        out.extend_from_slice(&data);
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), out).unwrap();
        f
    }

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn rows_are_read_in_place_in_each_float_type() {
        let f16: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|x| half::f16::from_f32(*x).to_le_bytes())
            .collect();
        let bf16: Vec<u8> = [0.25f32, 8.0]
            .iter()
            .flat_map(|x| half::bf16::from_f32(*x).to_le_bytes())
            .collect();
        let f = file(&[
            ("m", "F32", &[2, 3], f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
            ("h", "F16", &[2], f16),
            ("b", "BF16", &[1, 2], bf16),
        ]);
        let weights = Weights::open(f.path()).unwrap();
        let m = weights.matrix("m").unwrap();
        assert_eq!((m.rows, m.columns), (2, 3));
        let mut row = [10.0; 3];
        m.add_row(1, &mut row);
        assert_eq!(row, [14.0, 15.0, 16.0]);
        assert_eq!(m.to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(weights.matrix("h").unwrap().to_vec(), [1.5, -2.0]);
        assert_eq!(weights.matrix("b").unwrap().to_vec(), [0.25, 8.0]);
    }

    #[test]
    fn bad_files_and_tensors_are_named() {
        let f = file(&[("i", "I64", &[1], 7i64.to_le_bytes().to_vec())]);
        let weights = Weights::open(f.path()).unwrap();
        let e = weights.matrix("i").err().unwrap().to_string();
        assert!(e.contains("\"i\"") && e.contains("not a float type"), "{e}");
        let e = weights.matrix("nope").err().unwrap().to_string();
        assert!(e.contains("no tensor \"nope\""), "{e}");

        let truncated = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(truncated.path(), b"\x40\0\0\0\0\0\0\0{").unwrap();
        let e = Weights::open(truncated.path()).err().unwrap().to_string();
        assert!(e.contains("not a safetensors file"), "{e}");
        assert!(e.contains(&truncated.path().display().to_string()), "{e}");
    }
}
