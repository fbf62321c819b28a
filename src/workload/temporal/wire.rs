//! A bounded reader of the protobuf wire format (the encoding of Temporal Cloud's history
//! export): varints, fixed 32/64-bit values and length-delimited fields, read from a borrowed
//! byte slice. Nothing is allocated here and nothing is sized by a length prefix: a prefix is
//! checked against the remaining bytes before the field is sliced, so a truncated or corrupt
//! input is an error naming the absolute byte offset, never a panic or a large allocation.
//!
//! Depends on nothing (std only). Unknown fields are skipped by the caller with
//! [`Reader::skip`], as protobuf requires; deprecated groups are skipped too (depth-bounded).

use std::fmt;

/// Where and why the bytes are not valid protobuf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError {
    /// Absolute byte offset in the input where the problem starts.
    pub(crate) offset: usize,
    pub(crate) message: String,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.message)
    }
}

/// The value of one field, as the wire type carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireValue<'a> {
    /// Wire type 0: int32/int64/uint*/bool/enum (two's complement for negatives).
    Varint(u64),
    /// Wire type 1: fixed64/sfixed64/double, little-endian.
    I64(u64),
    /// Wire type 2: bytes/string/embedded message/packed repeated; `offset` is where the
    /// payload starts in the whole input.
    Len { bytes: &'a [u8], offset: usize },
    /// Wire type 5: fixed32/sfixed32/float, little-endian.
    I32(u32),
    /// Wire type 3: a (deprecated) group was skipped whole; no value.
    Group,
}

/// One field: its number, the offset of its tag, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    pub(crate) number: u32,
    /// Absolute offset of the field's tag.
    pub(crate) offset: usize,
    pub(crate) value: WireValue<'a>,
}

/// Deepest nesting of groups skipped (groups only appear in proto2 data; Temporal uses proto3).
const MAX_GROUP_DEPTH: usize = 32;

/// Iterates the fields of one message. `base` is the absolute offset of `buf[0]` so errors
/// and nested readers name positions in the whole input.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// A reader over a length-delimited field's payload.
    pub(crate) fn nested(bytes: &'a [u8], offset: usize) -> Self {
        Reader::new(bytes, offset)
    }

    fn err(&self, at: usize, message: impl Into<String>) -> WireError {
        WireError {
            offset: self.base + at,
            message: message.into(),
        }
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.pos;
        let mut v: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err(start, "truncated varint (the input ends inside it)"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(self.err(start, "varint longer than 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err(start, "varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], WireError> {
        let start = self.pos;
        let left = self.buf.len() - self.pos;
        if n > left {
            return Err(self.err(
                start,
                format!("truncated {what}: needs {n} bytes, {left} left"),
            ));
        }
        self.pos += n;
        Ok(&self.buf[start..start + n])
    }

    /// The next field, `None` at the end of the message.
    #[allow(clippy::should_implement_trait)]
    pub(crate) fn next(&mut self) -> Result<Option<Field<'a>>, WireError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let offset = self.base + self.pos;
        let (number, wire_type) = self.tag()?;
        let value = self.value(number, wire_type, offset, 0)?;
        Ok(Some(Field {
            number,
            offset,
            value,
        }))
    }

    fn tag(&mut self) -> Result<(u32, u8), WireError> {
        let at = self.pos;
        let tag = self.varint()?;
        let number = tag >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(self.err(at, format!("invalid field number {number}")));
        }
        Ok((number as u32, (tag & 7) as u8))
    }

    fn value(
        &mut self,
        number: u32,
        wire_type: u8,
        offset: usize,
        depth: usize,
    ) -> Result<WireValue<'a>, WireError> {
        Ok(match wire_type {
            0 => WireValue::Varint(self.varint()?),
            1 => {
                let b = self.take(8, "fixed64 field")?;
                WireValue::I64(u64::from_le_bytes(b.try_into().expect("8 bytes")))
            }
            2 => {
                let at = self.pos;
                let len = self.varint()?;
                let len = usize::try_from(len)
                    .map_err(|_| self.err(at, format!("length {len} does not fit in memory")))?;
                let start = self.base + self.pos;
                let left = self.buf.len() - self.pos;
                if len > left {
                    return Err(self.err(
                        offset - self.base,
                        format!("truncated field {number}: {len} bytes announced, {left} left"),
                    ));
                }
                let bytes = self.take(len, "field")?;
                WireValue::Len {
                    bytes,
                    offset: start,
                }
            }
            3 => {
                if depth >= MAX_GROUP_DEPTH {
                    return Err(self.err(
                        offset - self.base,
                        format!("groups nested deeper than {MAX_GROUP_DEPTH}"),
                    ));
                }
                loop {
                    if self.pos >= self.buf.len() {
                        return Err(self.err(
                            offset - self.base,
                            format!("group {number} is not closed before the end of its message"),
                        ));
                    }
                    let inner_at = self.base + self.pos;
                    let (n, wt) = self.tag()?;
                    if wt == 4 {
                        if n != number {
                            return Err(self.err(
                                inner_at - self.base,
                                format!("group {number} closed by an end-group tag of field {n}"),
                            ));
                        }
                        break;
                    }
                    self.value(n, wt, inner_at, depth + 1)?;
                }
                WireValue::Group
            }
            4 => {
                return Err(self.err(
                    offset - self.base,
                    format!("end-group tag of field {number} without a matching start"),
                ))
            }
            5 => {
                let b = self.take(4, "fixed32 field")?;
                WireValue::I32(u32::from_le_bytes(b.try_into().expect("4 bytes")))
            }
            other => {
                return Err(self.err(
                    offset - self.base,
                    format!("invalid wire type {other} (field {number})"),
                ))
            }
        })
    }
}

impl<'a> Field<'a> {
    fn mismatch(&self, expected: &str) -> WireError {
        let got = match self.value {
            WireValue::Varint(_) => "a varint",
            WireValue::I64(_) => "a fixed64",
            WireValue::Len { .. } => "a length-delimited value",
            WireValue::I32(_) => "a fixed32",
            WireValue::Group => "a group",
        };
        WireError {
            offset: self.offset,
            message: format!("field {}: expected {expected}, got {got}", self.number),
        }
    }

    /// A varint (int32, int64, uint*, bool, enum).
    pub(crate) fn varint(&self) -> Result<u64, WireError> {
        match self.value {
            WireValue::Varint(v) => Ok(v),
            _ => Err(self.mismatch("a varint")),
        }
    }

    /// An int64 (two's complement varint).
    pub(crate) fn int64(&self) -> Result<i64, WireError> {
        self.varint().map(|v| v as i64)
    }

    /// An int32: the varint's low 32 bits, sign-extended (negatives take 10 bytes on the wire).
    pub(crate) fn int32(&self) -> Result<i32, WireError> {
        self.varint().map(|v| v as u32 as i32)
    }

    /// A length-delimited payload and its absolute offset.
    pub(crate) fn bytes(&self) -> Result<(&'a [u8], usize), WireError> {
        match self.value {
            WireValue::Len { bytes, offset } => Ok((bytes, offset)),
            _ => Err(self.mismatch("a length-delimited value")),
        }
    }

    /// A UTF-8 string.
    pub(crate) fn string(&self) -> Result<&'a str, WireError> {
        let (b, offset) = self.bytes()?;
        std::str::from_utf8(b).map_err(|e| WireError {
            offset: offset + e.valid_up_to(),
            message: format!("field {}: string is not valid UTF-8", self.number),
        })
    }

    /// An embedded message's reader.
    pub(crate) fn message(&self) -> Result<Reader<'a>, WireError> {
        let (b, offset) = self.bytes()?;
        Ok(Reader::nested(b, offset))
    }

    /// A double (fixed64).
    pub(crate) fn double(&self) -> Result<f64, WireError> {
        match self.value {
            WireValue::I64(v) => Ok(f64::from_bits(v)),
            _ => Err(self.mismatch("a fixed64 (double)")),
        }
    }

    /// A float (fixed32).
    pub(crate) fn float(&self) -> Result<f32, WireError> {
        match self.value {
            WireValue::I32(v) => Ok(f32::from_bits(v)),
            _ => Err(self.mismatch("a fixed32 (float)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn all(buf: &[u8]) -> Result<Vec<Field<'_>>, WireError> {
        let mut r = Reader::new(buf, 0);
        let mut out = Vec::new();
        while let Some(f) = r.next()? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn reads_every_wire_type() {
        let mut b = Vec::new();
        varint(1 << 3, &mut b); // field 1 varint
        varint(300, &mut b);
        varint((2 << 3) | 2, &mut b); // field 2 len
        varint(3, &mut b);
        b.extend_from_slice(b"abc");
        varint((3 << 3) | 1, &mut b); // field 3 fixed64
        b.extend_from_slice(&1.5f64.to_le_bytes());
        varint((4 << 3) | 5, &mut b); // field 4 fixed32
        b.extend_from_slice(&0.25f32.to_le_bytes());
        varint((5 << 3) | 3, &mut b); // field 5 group holding field 1 varint
        varint(1 << 3, &mut b);
        varint(7, &mut b);
        varint((5 << 3) | 4, &mut b);
        varint(6 << 3, &mut b); // field 6: -1 as int32 (10 bytes)
        varint(u64::MAX, &mut b);
        let f = all(&b).unwrap();
        assert_eq!(f.len(), 6);
        assert_eq!(f[0].varint().unwrap(), 300);
        assert_eq!(f[1].string().unwrap(), "abc");
        assert_eq!(f[1].bytes().unwrap().1, 5);
        assert_eq!(f[2].double().unwrap(), 1.5);
        assert_eq!(f[3].float().unwrap(), 0.25);
        assert_eq!(f[4].value, WireValue::Group);
        assert_eq!(f[5].int32().unwrap(), -1);
        assert_eq!(f[5].int64().unwrap(), -1);
        assert!(f[0]
            .string()
            .unwrap_err()
            .message
            .contains("expected a length"));
    }

    #[test]
    fn truncation_and_corruption_name_the_offset() {
        // A length prefix larger than what is left: no allocation, an error at the field.
        let mut b = vec![0x08, 0x01];
        varint((2 << 3) | 2, &mut b);
        varint(1 << 40, &mut b);
        b.push(b'x');
        let e = all(&b).unwrap_err();
        assert_eq!(e.offset, 2, "{e}");
        assert!(e.message.contains("truncated field 2"), "{e}");
        // A varint cut short.
        let e = all(&[0x08, 0x80]).unwrap_err();
        assert_eq!(
            (e.offset, e.message.contains("truncated varint")),
            (1, true)
        );
        // Field number 0, wire types 6/7, a stray end-group.
        assert!(all(&[0x00]).unwrap_err().message.contains("field number 0"));
        assert!(all(&[0x0e]).unwrap_err().message.contains("wire type 6"));
        assert!(all(&[0x0c]).unwrap_err().message.contains("end-group"));
        // An unclosed group.
        assert!(all(&[0x0b, 0x08, 0x01])
            .unwrap_err()
            .message
            .contains("not closed"));
        // Nested offsets are absolute.
        let mut r = Reader::new(&[0x0a, 0x02, 0x08, 0x80], 100);
        let inner = r.next().unwrap().unwrap().message().unwrap();
        let e = { inner }.next().unwrap_err();
        assert_eq!(e.offset, 103, "{e}");
        // Overlong varint.
        let e = all(&[
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ])
        .unwrap_err();
        assert!(e.message.contains("longer than 64 bits"), "{e}");
        // Invalid UTF-8 names the bad byte.
        let e = all(&[0x0a, 0x02, b'a', 0xff]).unwrap()[0]
            .string()
            .unwrap_err();
        assert_eq!(e.offset, 3, "{e}");
    }

    #[test]
    fn every_prefix_of_a_message_errors_or_reads() {
        let mut b = Vec::new();
        for i in 1..20u32 {
            varint(u64::from(i << 3) | 2, &mut b);
            varint(u64::from(i), &mut b);
            b.extend(std::iter::repeat_n(b'a', i as usize));
        }
        for n in 0..b.len() {
            if let Err(e) = all(&b[..n]) {
                assert!(e.offset <= n, "{n}: {e}");
            }
        }
    }
}
