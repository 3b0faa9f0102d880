//! What a target sequence or identity column keeps of the source sequence's MINVALUE, MAXVALUE
//! and CYCLE. A bound beyond the integer type is no bound (Oracle's default MAXVALUE has 28
//! digits): the target can't write it, and no value of the type reaches it.

use migrate_core::{Identity, LogicalType};
use std::fmt::Write;

/// A sequence's options for a target sequence or identity of one integer type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetSequence {
    start: i64,
    increment: i64,
    /// The bounds in effect: the source's, or its default for the direction, within the type.
    min: i64,
    max: i64,
    cycle: bool,
    /// The integer type's smallest and largest values.
    range: (i64, i64),
}

impl TargetSequence {
    /// `identity`'s options for a sequence of `integer` (SMALLINT, INTEGER, else BIGINT).
    pub fn new(identity: &Identity, integer: &LogicalType) -> Self {
        let range = match integer {
            LogicalType::SmallInt => (i16::MIN.into(), i16::MAX.into()),
            LogicalType::Integer => (i32::MIN.into(), i32::MAX.into()),
            _ => (i64::MIN, i64::MAX),
        };
        let ascending = identity.increment > 0;
        // Oracle and PostgreSQL alike: counting up from 1 without an upper bound, or down from
        // -1 without a lower one.
        let (default_min, default_max) = if ascending {
            (1, range.1)
        } else {
            (range.0, -1)
        };
        // Clamped into the type's range, which is within i64.
        let within = |bound: Option<i128>, default: i64| {
            bound.map_or(default, |b| b.clamp(range.0.into(), range.1.into()) as i64)
        };
        TargetSequence {
            start: identity.start,
            increment: identity.increment,
            min: within(identity.min_value, default_min),
            max: within(identity.max_value, default_max),
            cycle: identity.cycle,
            range,
        }
    }

    fn ascending(&self) -> bool {
        self.increment > 0
    }

    /// MINVALUE, unless the target would take it anyway.
    fn written_min(&self) -> Option<i64> {
        let default = if self.ascending() { 1 } else { self.range.0 };
        (self.min != default).then_some(self.min)
    }

    /// MAXVALUE, unless the target would take it anyway.
    fn written_max(&self) -> Option<i64> {
        let default = if self.ascending() { self.range.1 } else { -1 };
        (self.max != default).then_some(self.max)
    }

    /// The written bound the sequence runs into: MAXVALUE counting up, MINVALUE counting down.
    fn limit(&self) -> Option<i64> {
        match self.ascending() {
            true => self.written_max(),
            false => self.written_min(),
        }
    }

    /// Makes the start one the target accepts: within the bounds. The source's next value is
    /// past its limit when it has given its last one (pg_dump's `setval` to MAXVALUE): a cycling
    /// sequence then starts again from its first value, as the source's would; one that does not
    /// cycle is exhausted, and loses the bound it is past, which is returned.
    pub fn fit_start(&mut self) -> Option<i64> {
        if (self.min..=self.max).contains(&self.start) {
            return None;
        }
        if self.cycle {
            self.start = if self.ascending() { self.min } else { self.max };
            return None;
        }
        if self.start > self.max {
            Some(std::mem::replace(&mut self.max, self.range.1))
        } else {
            Some(std::mem::replace(&mut self.min, self.range.0))
        }
    }

    /// `START WITH s INCREMENT BY i [MINVALUE m] [MAXVALUE n] [CYCLE]`, as both CREATE SEQUENCE
    /// and an identity column's options write them.
    pub fn options_sql(&self) -> String {
        let mut sql = format!("START WITH {} INCREMENT BY {}", self.start, self.increment);
        if let Some(min) = self.written_min() {
            let _ = write!(sql, " MINVALUE {min}");
        }
        if let Some(max) = self.written_max() {
            let _ = write!(sql, " MAXVALUE {max}");
        }
        if self.cycle {
            sql.push_str(" CYCLE");
        }
        sql
    }

    /// Redshift's IDENTITY has no bounds or CYCLE: what is lost and what that changes, when it
    /// changes the values given (a bound the sequence only starts from, MINVALUE counting up
    /// without CYCLE, changes none).
    pub fn redshift_loss(&self) -> Option<String> {
        if !self.cycle && self.limit().is_none() {
            return None;
        }
        // A bound at the type's end is none (written only as no bound counting the other way).
        let mut lost = Vec::new();
        if let Some(min) = self.written_min().filter(|&min| min != self.range.0) {
            lost.push(format!("MINVALUE {min}"));
        }
        if let Some(max) = self.written_max().filter(|&max| max != self.range.1) {
            lost.push(format!("MAXVALUE {max}"));
        }
        if self.cycle {
            lost.push("CYCLE".into());
        }
        let (last, first) = match self.ascending() {
            true => (self.max, self.min),
            false => (self.min, self.max),
        };
        let change = match self.cycle {
            true => format!("after {last} the source's sequence starts again from {first}, giving numbers it gave before; Redshift's identity never does and continues past {last}"),
            false => format!("the source's sequence stops with an error after {last}; Redshift's identity continues past it"),
        };
        Some(format!(
            "Redshift's IDENTITY has no bounds and never cycles: the source sequence's `{}` is not kept, and {change}",
            lost.join(" ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(start: i64, increment: i64, min: Option<i128>, max: Option<i128>) -> Identity {
        Identity {
            start,
            increment,
            min_value: min,
            max_value: max,
            ..Identity::default()
        }
    }

    /// Oracle's defaults as DBMS_METADATA writes them.
    const ORACLE_MAX: i128 = 9_999_999_999_999_999_999_999_999_999;
    const ORACLE_MIN: i128 = -99_999_999_999_999_999_999_999_999;

    #[test]
    fn bounds_beyond_the_type_and_defaults_are_not_written() {
        let oracle = TargetSequence::new(
            &identity(101, 1, Some(1), Some(ORACLE_MAX)),
            &LogicalType::BigInt,
        );
        assert_eq!(oracle.options_sql(), "START WITH 101 INCREMENT BY 1");
        assert_eq!(oracle.redshift_loss(), None);
        let down = TargetSequence::new(
            &identity(-1, -1, Some(ORACLE_MIN), Some(-1)),
            &LogicalType::BigInt,
        );
        assert_eq!(down.options_sql(), "START WITH -1 INCREMENT BY -1");
        // A bound within BIGINT but beyond the column's INTEGER.
        let int = TargetSequence::new(
            &identity(1, 1, None, Some(10_000_000_000)),
            &LogicalType::Integer,
        );
        assert_eq!(int.options_sql(), "START WITH 1 INCREMENT BY 1");
    }

    #[test]
    fn bounds_within_the_type_are_written() {
        let mut small = identity(5, 5, Some(5), Some(100));
        small.cycle = true;
        let small = TargetSequence::new(&small, &LogicalType::SmallInt);
        assert_eq!(
            small.options_sql(),
            "START WITH 5 INCREMENT BY 5 MINVALUE 5 MAXVALUE 100 CYCLE"
        );
        assert_eq!(
            small.redshift_loss().unwrap(),
            "Redshift's IDENTITY has no bounds and never cycles: the source sequence's `MINVALUE 5 MAXVALUE 100 CYCLE` is not kept, and after 100 the source's sequence starts again from 5, giving numbers it gave before; Redshift's identity never does and continues past 100"
        );
        // Counting down from a bound beyond the type down to -100: the upper bound is the
        // type's, which is not the target's default for a descending sequence (-1).
        let down = TargetSequence::new(
            &identity(50, -1, Some(-100), Some(ORACLE_MAX)),
            &LogicalType::BigInt,
        );
        assert_eq!(
            down.options_sql(),
            "START WITH 50 INCREMENT BY -1 MINVALUE -100 MAXVALUE 9223372036854775807"
        );
        assert_eq!(
            down.redshift_loss().unwrap(),
            "Redshift's IDENTITY has no bounds and never cycles: the source sequence's `MINVALUE -100` is not kept, and the source's sequence stops with an error after -100; Redshift's identity continues past it"
        );
    }

    #[test]
    fn a_lower_bound_counting_up_changes_nothing_without_bounds() {
        let from_ten = TargetSequence::new(&identity(10, 1, Some(10), None), &LogicalType::Integer);
        assert_eq!(
            from_ten.options_sql(),
            "START WITH 10 INCREMENT BY 1 MINVALUE 10"
        );
        assert_eq!(from_ten.redshift_loss(), None);
    }

    #[test]
    fn a_start_past_the_limit_wraps_or_drops_the_bound() {
        // pg_dump's `setval('s', 100, true)` with MAXVALUE 100: the next value is 101.
        let mut cycling = identity(101, 1, Some(1), Some(100));
        cycling.cycle = true;
        let mut cycling = TargetSequence::new(&cycling, &LogicalType::BigInt);
        assert_eq!(cycling.fit_start(), None);
        assert_eq!(
            cycling.options_sql(),
            "START WITH 1 INCREMENT BY 1 MAXVALUE 100 CYCLE"
        );
        let mut exhausted =
            TargetSequence::new(&identity(101, 1, None, Some(100)), &LogicalType::BigInt);
        assert_eq!(exhausted.fit_start(), Some(100));
        assert_eq!(exhausted.options_sql(), "START WITH 101 INCREMENT BY 1");
        let mut down =
            TargetSequence::new(&identity(-11, -1, Some(-10), None), &LogicalType::Integer);
        assert_eq!(down.fit_start(), Some(-10));
        assert_eq!(down.options_sql(), "START WITH -11 INCREMENT BY -1");
        let mut within =
            TargetSequence::new(&identity(7, 1, None, Some(100)), &LogicalType::BigInt);
        assert_eq!(within.fit_start(), None);
        assert_eq!(within.start, 7);
    }
}
