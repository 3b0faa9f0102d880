//! SCN positions: where a change stream stands and where LogMiner must start reading again.
//!
//! The text form is `scn:<n>` or `scn:<n>;mine_from=<m>`:
//!
//! - `n` is the checkpoint: the commit SCN of the last delivered transaction (or an SCN up to
//!   which every transaction was delivered). **Resume rule:** a stream opened at `n` delivers
//!   exactly the transactions whose commit SCN is greater than `n`; those with a commit SCN `<= n`
//!   are skipped even when the mining range shows them again.
//! - `m` is where mining must start so that no delivered-later transaction is seen partially: the
//!   lowest start SCN of the transactions that were still open at `n` (LogMiner only returns the
//!   rows inside the mined range). Absent, mining starts at `n + 1`, which is exact only when no
//!   transaction was open at `n`; the full load and every position this crate produces carry it.

use crate::OracleError;
use migrate_source::Position;
use std::cmp::Ordering;
use std::fmt;

/// An Oracle position, ordered by its checkpoint SCN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScnPosition {
    /// Transactions that committed at or before this SCN were delivered.
    pub scn: u64,
    /// The first SCN to mine on resume, when it is below `scn + 1`.
    pub mine_from: Option<u64>,
}

impl ScnPosition {
    pub fn new(scn: u64) -> ScnPosition {
        ScnPosition {
            scn,
            mine_from: None,
        }
    }

    /// A checkpoint at `scn` whose resume mines from `mine_from` (kept only when it is earlier
    /// than `scn + 1`, where mining would start anyway).
    pub fn with_mine_from(scn: u64, mine_from: u64) -> ScnPosition {
        ScnPosition {
            scn,
            mine_from: (mine_from <= scn).then_some(mine_from),
        }
    }

    /// The first SCN LogMiner must read to resume from this position.
    pub fn resume_scn(&self) -> u64 {
        self.mine_from.unwrap_or(self.scn.saturating_add(1))
    }

    /// Whether a transaction that committed at `commit_scn` was already delivered.
    pub fn covers(&self, commit_scn: u64) -> bool {
        commit_scn <= self.scn
    }

    pub fn parse(text: &str) -> Result<ScnPosition, OracleError> {
        let invalid = |message: &str| OracleError::InvalidPosition {
            position: text.to_string(),
            message: message.to_string(),
        };
        let rest = text
            .trim()
            .strip_prefix("scn:")
            .ok_or_else(|| invalid("it does not start with scn:"))?;
        let (scn, options) = match rest.split_once(';') {
            Some((scn, options)) => (scn, Some(options)),
            None => (rest, None),
        };
        let number = |digits: &str, what: &str| {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(&format!("{what} is not a decimal number")));
            }
            digits
                .parse::<u64>()
                .map_err(|_| invalid(&format!("{what} is out of range")))
        };
        let scn = number(scn, "the SCN")?;
        let mine_from = match options {
            None => None,
            Some(option) => {
                let value = option
                    .strip_prefix("mine_from=")
                    .ok_or_else(|| invalid("the only option after `;` is mine_from=<scn>"))?;
                let value = number(value, "mine_from")?;
                if value > scn {
                    return Err(invalid("mine_from is above the SCN"));
                }
                Some(value)
            }
        };
        Ok(ScnPosition { scn, mine_from })
    }

    pub fn from_position(position: &Position) -> Result<ScnPosition, OracleError> {
        ScnPosition::parse(&position.0)
    }

    pub fn to_position(self) -> Position {
        Position(self.to_string())
    }
}

impl fmt::Display for ScnPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mine_from {
            Some(from) => write!(f, "scn:{};mine_from={from}", self.scn),
            None => write!(f, "scn:{}", self.scn),
        }
    }
}

impl PartialOrd for ScnPosition {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// By checkpoint SCN; equal SCNs with different restart points are ordered by restart point so
/// that the order is total and agrees with `Eq`.
impl Ord for ScnPosition {
    fn cmp(&self, other: &Self) -> Ordering {
        self.scn
            .cmp(&other.scn)
            .then_with(|| self.resume_scn().cmp(&other.resume_scn()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_print_and_round_trip() {
        let p = ScnPosition::parse("scn:4523312").unwrap();
        assert_eq!(p, ScnPosition::new(4523312));
        assert_eq!(p.resume_scn(), 4523313);
        assert_eq!(p.to_string(), "scn:4523312");
        let p = ScnPosition::parse("scn:4523312;mine_from=4520001").unwrap();
        assert_eq!(p.mine_from, Some(4520001));
        assert_eq!(p.resume_scn(), 4520001);
        assert_eq!(p.to_string(), "scn:4523312;mine_from=4520001");
        assert_eq!(ScnPosition::from_position(&p.to_position()).unwrap(), p);
        // The largest SCN Oracle can have (2^48 today) and u64::MAX both parse.
        assert_eq!(
            ScnPosition::parse("scn:18446744073709551615").unwrap().scn,
            u64::MAX
        );
        assert_eq!(ScnPosition::new(u64::MAX).resume_scn(), u64::MAX);
    }

    #[test]
    fn malformed_positions_are_refused_with_the_expected_form() {
        for text in [
            "4523312",
            "scn:",
            "scn:-1",
            "scn:12a",
            "scn:18446744073709551616",
            "scn:10;from=3",
            "scn:10;mine_from=11",
            "lsn:0/16B3748",
            "binlog.000003:4567",
        ] {
            let error = ScnPosition::parse(text).unwrap_err();
            assert!(error.to_string().contains("write scn:<number>"), "{text}");
        }
    }

    #[test]
    fn positions_order_by_checkpoint_scn_numerically() {
        let mut positions = [
            ScnPosition::parse("scn:100").unwrap(),
            ScnPosition::parse("scn:99").unwrap(),
            ScnPosition::parse("scn:1000").unwrap(),
            ScnPosition::parse("scn:100;mine_from=50").unwrap(),
        ];
        positions.sort();
        let texts: Vec<String> = positions.iter().map(|p| p.to_string()).collect();
        // Numeric, not textual: 99 < 100 < 1000.
        assert_eq!(
            texts,
            ["scn:99", "scn:100;mine_from=50", "scn:100", "scn:1000"]
        );
    }

    #[test]
    fn the_resume_rule_skips_commits_at_or_before_the_checkpoint() {
        let p = ScnPosition::with_mine_from(500, 420);
        assert!(p.covers(499) && p.covers(500));
        assert!(!p.covers(501));
        // A restart point at or after scn + 1 is where mining starts anyway: not kept.
        assert_eq!(ScnPosition::with_mine_from(500, 501).mine_from, None);
        assert_eq!(ScnPosition::with_mine_from(500, 900).mine_from, None);
    }
}
