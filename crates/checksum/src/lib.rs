//! Checksums that a source and a target compute in their own database, comparable with each other.
//!
//! A [`ChunkChecksum`] is a row count and two order-independent sums of 60-bit row hashes; the
//! checksum of a table is the [`ChunkChecksum::combine`] of its chunks'.

use std::fmt;

/// The row count and checksum of a set of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkChecksum {
    pub rows: u64,
    /// Sums of the two 60-bit halves of each row's hash. With at most 2^63 rows, a sum stays
    /// below 2^123: no overflow.
    pub sums: [u128; 2],
}

impl ChunkChecksum {
    /// The checksum of the union of two disjoint sets of rows.
    pub fn combine(&self, other: &ChunkChecksum) -> ChunkChecksum {
        ChunkChecksum {
            rows: self.rows + other.rows,
            sums: [self.sums[0] + other.sums[0], self.sums[1] + other.sums[1]],
        }
    }

    /// Reads the three values a checksum query returns (count and both sums as decimal text).
    pub fn from_sql_text(rows: i64, sum_a: &str, sum_b: &str) -> Result<ChunkChecksum, String> {
        let sum = |text: &str| {
            text.trim().parse::<u128>().map_err(|e| {
                format!("a checksum sum is not a non-negative integer ({text:?}): {e}")
            })
        };
        Ok(ChunkChecksum {
            rows: u64::try_from(rows).map_err(|_| format!("a negative row count ({rows})"))?,
            sums: [sum(sum_a)?, sum(sum_b)?],
        })
    }
}

impl fmt::Display for ChunkChecksum {
    /// `rows:<n> sum:<a>-<b>`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rows:{} sum:{}-{}",
            self.rows, self.sums[0], self.sums[1]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_add_up() {
        let a = ChunkChecksum::from_sql_text(2, "10", "20").unwrap();
        let b = ChunkChecksum::from_sql_text(3, "1", "2").unwrap();
        assert_eq!(
            a.combine(&b),
            ChunkChecksum {
                rows: 5,
                sums: [11, 22]
            }
        );
        assert!(ChunkChecksum::from_sql_text(1, "x", "1").is_err());
        assert!(ChunkChecksum::from_sql_text(-1, "1", "1").is_err());
    }
}
