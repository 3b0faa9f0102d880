//! Text bytes of the binlog to UTF-8. Row events carry string values in the column's own
//! character set (the snapshot reader gets them converted by the server; the binlog is not), so
//! the stream converts them here, exactly, or refuses.

/// MySQL's `latin1` is Windows-1252, with the five code points Windows leaves undefined (0x81,
/// 0x8D, 0x8F, 0x90, 0x9D) mapped to the C1 controls of the same value: every byte is a
/// character. The 0x80..=0x9F row; other bytes are their ISO-8859-1 code point.
const LATIN1_80_9F: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// How a text column's bytes become UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// utf8mb4, utf8mb3: checked, not converted.
    Utf8,
    Ascii,
    Latin1,
    /// ucs2 and utf16 (big-endian), utf16le.
    Utf16 {
        little_endian: bool,
    },
    /// utf32 (big-endian).
    Utf32,
}

impl Charset {
    /// The conversion for a character set name (`information_schema.COLLATIONS`), or `None` when
    /// this stream can't convert it.
    pub fn from_name(name: &str) -> Option<Charset> {
        Some(match name.to_ascii_lowercase().as_str() {
            "utf8mb4" | "utf8mb3" | "utf8" => Charset::Utf8,
            "ascii" => Charset::Ascii,
            "latin1" => Charset::Latin1,
            "ucs2" | "utf16" => Charset::Utf16 {
                little_endian: false,
            },
            "utf16le" => Charset::Utf16 {
                little_endian: true,
            },
            "utf32" => Charset::Utf32,
            _ => return None,
        })
    }

    /// The bytes as UTF-8, or why they are not text of this character set.
    pub fn decode(self, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        match self {
            Charset::Utf8 => match String::from_utf8(bytes) {
                Ok(text) => Ok(text.into_bytes()),
                Err(e) => Err(format!("the text is not valid UTF-8 ({})", e.utf8_error())),
            },
            Charset::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                None => Ok(bytes),
                Some(at) => Err(format!(
                    "byte 0x{:02X} at offset {at} is not ASCII",
                    bytes[at]
                )),
            },
            Charset::Latin1 => {
                if bytes.is_ascii() {
                    return Ok(bytes);
                }
                let text: String = bytes
                    .iter()
                    .map(|&b| match b {
                        0x80..=0x9F => LATIN1_80_9F[usize::from(b - 0x80)],
                        _ => char::from(b),
                    })
                    .collect();
                Ok(text.into_bytes())
            }
            Charset::Utf16 { little_endian } => {
                if bytes.len() % 2 != 0 {
                    return Err(format!("{} bytes are not whole UTF-16 units", bytes.len()));
                }
                let units = bytes.chunks_exact(2).map(|pair| {
                    let pair = [pair[0], pair[1]];
                    if little_endian {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                });
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .map(String::into_bytes)
                    .map_err(|e| format!("the text is not valid UTF-16 ({e})"))
            }
            Charset::Utf32 => {
                if bytes.len() % 4 != 0 {
                    return Err(format!("{} bytes are not whole UTF-32 units", bytes.len()));
                }
                bytes
                    .chunks_exact(4)
                    .map(|unit| {
                        let code = u32::from_be_bytes([unit[0], unit[1], unit[2], unit[3]]);
                        char::from_u32(code).ok_or_else(|| format!("U+{code:X} is not a character"))
                    })
                    .collect::<Result<String, _>>()
                    .map(String::into_bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_windows_1252_with_every_byte_defined() {
        let latin1 = Charset::from_name("latin1").unwrap();
        let text = latin1.decode(vec![0xD1, b'a', 0x80, 0x81, 0xFF]).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), "Ña€\u{81}ÿ");
        // Every byte decodes.
        assert!(latin1.decode((0..=255).collect()).is_ok());
    }

    #[test]
    fn unicode_sets_are_checked() {
        assert!(Charset::Utf8.decode(vec![0xFF]).is_err());
        assert_eq!(
            Charset::Utf8.decode("ß漢".into()).unwrap(),
            "ß漢".as_bytes()
        );
        assert!(Charset::Ascii
            .decode(vec![b'a', 0xC3])
            .unwrap_err()
            .contains("offset 1"));
        let utf16 = Charset::from_name("utf16").unwrap();
        assert_eq!(
            utf16.decode(vec![0xD8, 0x34, 0xDD, 0x1E]).unwrap(),
            "𝄞".as_bytes()
        );
        assert!(utf16.decode(vec![0xD8, 0x34]).is_err());
        let le = Charset::from_name("utf16le").unwrap();
        assert_eq!(le.decode(vec![b'a', 0]).unwrap(), b"a");
        assert_eq!(
            Charset::Utf32.decode(vec![0, 1, 0xD1, 0x1E]).unwrap(),
            "𝄞".as_bytes()
        );
        assert!(Charset::from_name("sjis").is_none());
    }
}
