//! The binary COPY stream: header, then tuples of length-prefixed fields, then a trailer.

use bytes::{Buf, Bytes, BytesMut};
use std::ops::Range;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Splits the bytes of `COPY ... TO STDOUT (FORMAT binary)` into rows, whatever the chunking of
/// the stream. Rows are parsed in place; a row is only returned once all its bytes are here.
#[derive(Default)]
pub(crate) struct CopyParser {
    buffer: BytesMut,
    /// Where the next unparsed row starts in `buffer`.
    position: usize,
    header_done: bool,
    trailer_seen: bool,
}

/// What [`CopyParser::next_row`] found.
pub(crate) enum Next {
    /// A row; its fields' byte ranges in [`CopyParser::bytes`] (`None`: NULL) were written to the
    /// caller's vector.
    Row,
    /// More bytes are needed.
    NeedMore,
    /// The trailer: no more rows.
    End,
}

impl CopyParser {
    pub(crate) fn push(&mut self, data: Bytes) {
        // Rows already returned were decoded by now: drop them (O(1)) so the buffer holds at most
        // one partial row plus the new data.
        self.buffer.advance(self.position);
        self.position = 0;
        self.buffer.extend_from_slice(&data);
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buffer
    }

    /// True when bytes of an unfinished row (or header) are buffered.
    pub(crate) fn has_partial(&self) -> bool {
        self.position < self.buffer.len()
    }

    pub(crate) fn trailer_seen(&self) -> bool {
        self.trailer_seen
    }

    pub(crate) fn next_row(
        &mut self,
        fields: &mut Vec<Option<Range<usize>>>,
    ) -> Result<Next, String> {
        if self.trailer_seen {
            return Ok(Next::End);
        }
        if !self.header_done {
            let data = &self.buffer[self.position..];
            if data.len() < SIGNATURE.len() + 8 {
                return Ok(Next::NeedMore);
            }
            if &data[..SIGNATURE.len()] != SIGNATURE {
                return Err("the COPY stream does not start with the binary signature".into());
            }
            let flags = read_i32(data, SIGNATURE.len());
            if flags & (1 << 16) != 0 {
                return Err("the COPY stream has OIDs, which were not asked for".into());
            }
            let extension = usize::try_from(read_i32(data, SIGNATURE.len() + 4))
                .map_err(|_| "negative header extension length".to_string())?;
            let header = SIGNATURE.len() + 8 + extension;
            if data.len() < header {
                return Ok(Next::NeedMore);
            }
            self.position += header;
            self.header_done = true;
        }
        let data = &self.buffer[self.position..];
        if data.len() < 2 {
            return Ok(Next::NeedMore);
        }
        let count = i16::from_be_bytes([data[0], data[1]]);
        if count == -1 {
            self.position += 2;
            self.trailer_seen = true;
            return Ok(Next::End);
        }
        let count = usize::try_from(count).map_err(|_| format!("bad field count {count}"))?;
        fields.clear();
        let mut offset = 2;
        for _ in 0..count {
            if data.len() < offset + 4 {
                return Ok(Next::NeedMore);
            }
            let length = read_i32(data, offset);
            offset += 4;
            if length == -1 {
                fields.push(None);
                continue;
            }
            let length =
                usize::try_from(length).map_err(|_| format!("bad field length {length}"))?;
            if data.len() < offset + length {
                return Ok(Next::NeedMore);
            }
            let start = self.position + offset;
            fields.push(Some(start..start + length));
            offset += length;
        }
        self.position += offset;
        Ok(Next::Row)
    }
}

fn read_i32(data: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = SIGNATURE.to_vec();
        s.extend(0i32.to_be_bytes());
        s.extend(0i32.to_be_bytes());
        // row: (7, NULL)
        s.extend(2i16.to_be_bytes());
        s.extend(4i32.to_be_bytes());
        s.extend(7i32.to_be_bytes());
        s.extend((-1i32).to_be_bytes());
        s.extend((-1i16).to_be_bytes());
        s
    }

    #[test]
    fn rows_survive_any_chunking() {
        let all = stream();
        for split in 1..all.len() {
            let mut parser = CopyParser::default();
            let mut fields = Vec::new();
            let mut rows = 0;
            let mut chunks = [&all[..split], &all[split..]].into_iter();
            loop {
                match parser.next_row(&mut fields).unwrap() {
                    Next::Row => {
                        rows += 1;
                        let range = fields[0].clone().unwrap();
                        assert_eq!(&parser.bytes()[range], &7i32.to_be_bytes());
                        assert!(fields[1].is_none());
                    }
                    Next::NeedMore => match chunks.next() {
                        Some(chunk) => parser.push(Bytes::copy_from_slice(chunk)),
                        None => panic!("ran out at split {split}"),
                    },
                    Next::End => break,
                }
            }
            assert_eq!(rows, 1, "split {split}");
            assert!(!parser.has_partial());
        }
    }
}
