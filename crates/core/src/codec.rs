//! Codec: a plain little-endian byte format for what citebot saves beside
//! its index (see `snapshot`), written and read without a serialization
//! framework.
//!
//! A [`Decoder`] never panics on bad bytes: every read returns `None` past
//! the end or on text that is not UTF-8, so a damaged file is a value to
//! reject, not a crash.

/// Appends values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    /// The bytes written so far.
    pub bytes: Vec<u8>,
}

impl Encoder {
    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends an `i64`.
    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a count (of bytes or of elements that follow): a `u32`.
    pub fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("saved lengths fit in 32 bits"));
    }

    /// Appends a string, length first.
    pub fn str(&mut self, s: &str) {
        self.count(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }

    /// Appends an optional string.
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
}

/// Reads values back from bytes an [`Encoder`] wrote.
#[derive(Debug, Clone)]
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder { bytes }
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    /// A `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }

    /// A `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    /// An `i64`.
    pub fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.array()?))
    }

    /// Reads a count [`Encoder::count`] wrote, no larger than the bytes left
    /// divided by `unit` (the least size of one element), so that a bad
    /// count cannot make a huge allocation.
    pub fn count(&mut self, unit: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(unit.max(1))? <= self.bytes.len()).then_some(n)
    }

    /// A string, borrowed.
    pub fn str(&mut self) -> Option<&'a str> {
        let n = self.count(1)?;
        std::str::from_utf8(self.take(n)?).ok()
    }

    /// An optional string, copied.
    pub fn opt_string(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?.to_string())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_and_bad_bytes_are_none() {
        let mut e = Encoder::default();
        e.u8(7);
        e.u32(70_000);
        e.u64(u64::MAX - 1);
        e.i64(-5);
        e.str("héllo");
        e.opt_str(None);
        e.opt_str(Some("x"));
        let mut d = Decoder::new(&e.bytes);
        assert_eq!(d.u8(), Some(7));
        assert_eq!(d.u32(), Some(70_000));
        assert_eq!(d.u64(), Some(u64::MAX - 1));
        assert_eq!(d.i64(), Some(-5));
        assert_eq!(d.str(), Some("héllo"));
        assert_eq!(d.opt_string(), Some(None));
        assert_eq!(d.opt_string(), Some(Some("x".to_string())));
        assert!(d.is_empty());
        assert_eq!(d.u8(), None);

        // A length past the end, and bytes that are not UTF-8.
        assert_eq!(Decoder::new(&[9, 0, 0, 0, b'a']).str(), None);
        assert_eq!(Decoder::new(&[1, 0, 0, 0, 0xff]).str(), None);
        assert_eq!(Decoder::new(&[2]).opt_string(), None);

        // A count is bounded by the bytes left over the least element size.
        let mut e = Encoder::default();
        e.count(3);
        e.bytes.extend([0; 12]);
        assert_eq!(Decoder::new(&e.bytes).count(4), Some(3));
        assert_eq!(Decoder::new(&e.bytes).count(5), None);
    }
}
