//! The messages of PostgreSQL's `pgoutput` logical decoding plugin (protocol version 1), decoded
//! from the payload of one `XLogData` message. Begin, Commit and logical messages are decoded by
//! the replication client; this covers what it forwards as data.
//!
//! Reference: "Logical Replication Message Formats" in the PostgreSQL documentation.

use bytes::Bytes;

/// One column value of a tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Null,
    /// An unchanged TOASTed value the server did not send: the row keeps its previous value.
    Unchanged,
    /// The value in text format.
    Text(Bytes),
    /// The value in binary (`send`) format.
    Binary(Bytes),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelationColumn {
    /// Part of the replica identity (the key sent with updates and deletes).
    pub key: bool,
    pub name: String,
    pub type_oid: u32,
    /// `-1` when the type has none.
    pub type_modifier: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relation {
    pub id: u32,
    pub schema: String,
    pub name: String,
    /// `d` default (primary key), `n` nothing, `f` full, `i` index.
    pub replica_identity: u8,
    pub columns: Vec<RelationColumn>,
}

/// The old row image sent with an update or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OldImage {
    /// `K`: the replica identity's columns (others null).
    Key(Vec<Cell>),
    /// `O`: the whole old row (REPLICA IDENTITY FULL).
    Full(Vec<Cell>),
}

impl OldImage {
    pub fn cells(&self) -> &[Cell] {
        match self {
            OldImage::Key(cells) | OldImage::Full(cells) => cells,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Message {
    Relation(Relation),
    Insert {
        relation: u32,
        new: Vec<Cell>,
    },
    Update {
        relation: u32,
        /// Present when the key changed or the identity is FULL.
        old: Option<OldImage>,
        new: Vec<Cell>,
    },
    Delete {
        relation: u32,
        old: OldImage,
    },
    Truncate {
        relations: Vec<u32>,
    },
    /// Begin, Commit, Origin, Type and logical messages: nothing to do with rows.
    Other(u8),
}

/// A payload that does not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub String);

struct Reader<'a> {
    data: &'a Bytes,
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Malformed> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| Malformed(format!("truncated {what}")))?;
        let slice = &self.data[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self, what: &str) -> Result<u8, Malformed> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, Malformed> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, Malformed> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, what: &str) -> Result<String, Malformed> {
        let rest = &self.data[self.at..];
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| Malformed(format!("unterminated {what}")))?;
        let text = std::str::from_utf8(&rest[..end])
            .map_err(|_| Malformed(format!("{what} is not UTF-8")))?
            .to_string();
        self.at += end + 1;
        Ok(text)
    }

    /// A value's bytes, shared with the payload (no copy).
    fn bytes(&mut self, n: usize, what: &str) -> Result<Bytes, Malformed> {
        let start = self.at;
        self.take(n, what)?;
        Ok(self.data.slice(start..start + n))
    }

    fn tuple(&mut self) -> Result<Vec<Cell>, Malformed> {
        let count = self.u16("tuple column count")?;
        (0..count)
            .map(|_| match self.u8("tuple cell kind")? {
                b'n' => Ok(Cell::Null),
                b'u' => Ok(Cell::Unchanged),
                kind @ (b't' | b'b') => {
                    let len = self.u32("value length")? as usize;
                    let value = self.bytes(len, "value")?;
                    Ok(if kind == b't' {
                        Cell::Text(value)
                    } else {
                        Cell::Binary(value)
                    })
                }
                other => Err(Malformed(format!("unknown tuple cell kind {other:#04x}"))),
            })
            .collect()
    }
}

/// Decodes one pgoutput message.
pub(crate) fn decode(data: &Bytes) -> Result<Message, Malformed> {
    let mut r = Reader { data, at: 0 };
    let tag = r.u8("message tag")?;
    Ok(match tag {
        b'R' => {
            let id = r.u32("relation id")?;
            let schema = r.string("relation namespace")?;
            let name = r.string("relation name")?;
            let replica_identity = r.u8("replica identity")?;
            let count = r.u16("relation column count")?;
            let columns = (0..count)
                .map(|_| {
                    let flags = r.u8("column flags")?;
                    let name = r.string("column name")?;
                    let type_oid = r.u32("column type")?;
                    let type_modifier = r.u32("column type modifier")? as i32;
                    Ok(RelationColumn {
                        key: flags & 1 == 1,
                        name,
                        type_oid,
                        type_modifier,
                    })
                })
                .collect::<Result<_, Malformed>>()?;
            Message::Relation(Relation {
                id,
                schema,
                name,
                replica_identity,
                columns,
            })
        }
        b'I' => {
            let relation = r.u32("relation id")?;
            expect(r.u8("insert tuple tag")?, b'N', "insert")?;
            Message::Insert {
                relation,
                new: r.tuple()?,
            }
        }
        b'U' => {
            let relation = r.u32("relation id")?;
            let mut old = None;
            let mut tag = r.u8("update tuple tag")?;
            if tag == b'K' || tag == b'O' {
                let cells = r.tuple()?;
                old = Some(if tag == b'K' {
                    OldImage::Key(cells)
                } else {
                    OldImage::Full(cells)
                });
                tag = r.u8("update new tuple tag")?;
            }
            expect(tag, b'N', "update")?;
            Message::Update {
                relation,
                old,
                new: r.tuple()?,
            }
        }
        b'D' => {
            let relation = r.u32("relation id")?;
            let old = match r.u8("delete tuple tag")? {
                b'K' => OldImage::Key(r.tuple()?),
                b'O' => OldImage::Full(r.tuple()?),
                other => return Err(Malformed(format!("delete with old tuple tag {other:#04x}"))),
            };
            Message::Delete { relation, old }
        }
        b'T' => {
            let count = r.u32("truncated relation count")?;
            let _options = r.u8("truncate options")?;
            let relations = (0..count)
                .map(|_| r.u32("truncated relation id"))
                .collect::<Result<_, _>>()?;
            Message::Truncate { relations }
        }
        other => Message::Other(other),
    })
}

fn expect(tag: u8, wanted: u8, what: &str) -> Result<(), Malformed> {
    if tag == wanted {
        Ok(())
    } else {
        Err(Malformed(format!(
            "{what} with tuple tag {tag:#04x}, expected {:?}",
            wanted as char
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(cells: &[Option<&[u8]>]) -> Vec<u8> {
        let mut out = (cells.len() as u16).to_be_bytes().to_vec();
        for cell in cells {
            match cell {
                None => out.push(b'n'),
                Some(b"~") => out.push(b'u'),
                Some(v) => {
                    out.push(b'b');
                    out.extend((v.len() as u32).to_be_bytes());
                    out.extend(*v);
                }
            }
        }
        out
    }

    #[test]
    fn relations_name_their_columns_and_keys() {
        let mut m = vec![b'R'];
        m.extend(16384u32.to_be_bytes());
        m.extend(b"public\0orders\0d");
        m.extend(2u16.to_be_bytes());
        m.push(1);
        m.extend(b"id\0");
        m.extend(20u32.to_be_bytes());
        m.extend((-1i32).to_be_bytes());
        m.push(0);
        m.extend(b"note\0");
        m.extend(25u32.to_be_bytes());
        m.extend((-1i32).to_be_bytes());
        let Message::Relation(r) = decode(&Bytes::from(m)).unwrap() else {
            panic!("not a relation")
        };
        assert_eq!(
            (r.id, r.schema.as_str(), r.name.as_str()),
            (16384, "public", "orders")
        );
        assert_eq!(r.replica_identity, b'd');
        assert_eq!(
            r.columns,
            vec![
                RelationColumn {
                    key: true,
                    name: "id".into(),
                    type_oid: 20,
                    type_modifier: -1,
                },
                RelationColumn {
                    key: false,
                    name: "note".into(),
                    type_oid: 25,
                    type_modifier: -1,
                },
            ]
        );
    }

    #[test]
    fn updates_carry_old_keys_unchanged_values_and_nulls() {
        let mut m = vec![b'U'];
        m.extend(7u32.to_be_bytes());
        m.push(b'K');
        m.extend(tuple(&[Some(&1i64.to_be_bytes()), None]));
        m.push(b'N');
        m.extend(tuple(&[Some(&2i64.to_be_bytes()), Some(b"~")]));
        let message = decode(&Bytes::from(m)).unwrap();
        assert_eq!(
            message,
            Message::Update {
                relation: 7,
                old: Some(OldImage::Key(vec![
                    Cell::Binary(Bytes::copy_from_slice(&1i64.to_be_bytes())),
                    Cell::Null
                ])),
                new: vec![
                    Cell::Binary(Bytes::copy_from_slice(&2i64.to_be_bytes())),
                    Cell::Unchanged
                ],
            }
        );
    }

    #[test]
    fn deletes_truncates_and_damaged_messages() {
        let mut m = vec![b'D'];
        m.extend(7u32.to_be_bytes());
        m.push(b'O');
        m.extend(tuple(&[None]));
        assert!(matches!(
            decode(&Bytes::from(m)).unwrap(),
            Message::Delete {
                relation: 7,
                old: OldImage::Full(_)
            }
        ));
        let mut t = vec![b'T'];
        t.extend(2u32.to_be_bytes());
        t.push(0);
        t.extend(5u32.to_be_bytes());
        t.extend(6u32.to_be_bytes());
        assert_eq!(
            decode(&Bytes::from(t)).unwrap(),
            Message::Truncate {
                relations: vec![5, 6]
            }
        );
        // A value longer than the message.
        let mut bad = vec![b'I'];
        bad.extend(7u32.to_be_bytes());
        bad.push(b'N');
        bad.extend(1u16.to_be_bytes());
        bad.push(b'b');
        bad.extend(100u32.to_be_bytes());
        bad.extend(b"short");
        assert!(decode(&Bytes::from(bad)).is_err());
        assert_eq!(
            decode(&Bytes::from_static(b"Y")).unwrap(),
            Message::Other(b'Y')
        );
    }
}
