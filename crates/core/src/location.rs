//! Location rewriting: `--location-map FROM=TO`, as `migrate catalog` and `migrate copy` take it.
//!
//! A map is a list of prefix rules. A location is rewritten by the rule with the **longest** `FROM`
//! that is a prefix of it **at a path-segment boundary**: `hdfs://nn/ware` rewrites
//! `hdfs://nn/ware` and `hdfs://nn/ware/t1`, never `hdfs://nn/warehouse2`. A trailing `/` on either
//! side is not significant (`hdfs://nn/ware/=s3://b/w` is the same rule as `hdfs://nn/ware=s3://b/w`),
//! and the rest of the location after `FROM` is kept as it is. Matching is exact (case-sensitive),
//! since object stores and HDFS are.

use std::fmt;

/// One `FROM=TO` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRule {
    /// Without trailing `/`.
    pub from: String,
    /// Without trailing `/`.
    pub to: String,
}

/// Rules of `--location-map`, applied longest prefix first. Building one checks every rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationMap {
    /// Sorted by `from` length, longest first, so the first match is the longest.
    rules: Vec<LocationRule>,
}

/// A `--location-map` argument that can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationMapError {
    #[error("--location-map `{0}` has no `=`: write FROM=TO, e.g. hdfs://nn:8020/warehouse=s3://bucket/warehouse")]
    NoEquals(String),
    #[error("--location-map `{0}` has an empty FROM or TO: write FROM=TO, e.g. hdfs://nn:8020/warehouse=s3://bucket/warehouse")]
    Empty(String),
    #[error("--location-map gives FROM `{from}` twice (to `{first}` and to `{second}`): keep one")]
    Duplicate {
        from: String,
        first: String,
        second: String,
    },
    #[error("--location-map `{0}`: FROM and TO must each be a URI with a scheme (hdfs://, s3://, file:/...) or an absolute path")]
    NotALocation(String),
}

impl crate::ErrorClass for LocationMapError {
    fn retry(&self) -> crate::Retry {
        crate::Retry::Definite
    }
}

impl LocationRule {
    /// Parses `FROM=TO`. Either side may hold `=` (Hive partition directories: `.../dt=2024`):
    /// they are separated by the first `=` that is followed by a location, else the first `=`.
    pub fn parse(text: &str) -> Result<LocationRule, LocationMapError> {
        let (from, to) = text
            .match_indices('=')
            .map(|(at, _)| (&text[..at], &text[at + 1..]))
            .find(|(_, to)| is_location(to.trim()))
            .or_else(|| text.split_once('='))
            .ok_or_else(|| LocationMapError::NoEquals(text.to_string()))?;
        let (from, to) = (trim_slash(from.trim()), trim_slash(to.trim()));
        if from.is_empty() || to.is_empty() {
            return Err(LocationMapError::Empty(text.to_string()));
        }
        if !is_location(from) || !is_location(to) {
            return Err(LocationMapError::NotALocation(text.to_string()));
        }
        Ok(LocationRule {
            from: from.to_string(),
            to: to.to_string(),
        })
    }
}

/// A URI with a scheme (`hdfs://nn/w`, `s3://b`, `file:/tmp`) or an absolute path.
fn is_location(s: &str) -> bool {
    let scheme_valid = |scheme: &str| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    };
    s.starts_with('/')
        || s.split_once(':')
            .is_some_and(|(scheme, rest)| scheme_valid(scheme) && !rest.is_empty())
}

/// `s` without trailing slashes, except that a bare scheme root (`s3://`, `/`) is kept whole.
fn trim_slash(s: &str) -> &str {
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.ends_with(':') {
        s
    } else {
        trimmed
    }
}

impl LocationMap {
    /// A map from rules; the same FROM twice is an error (which one should win?).
    pub fn new(rules: Vec<LocationRule>) -> Result<LocationMap, LocationMapError> {
        let mut rules = rules;
        rules.sort_by(|a, b| b.from.len().cmp(&a.from.len()).then(a.from.cmp(&b.from)));
        for pair in rules.windows(2) {
            if pair[0].from == pair[1].from {
                return Err(LocationMapError::Duplicate {
                    from: pair[0].from.clone(),
                    first: pair[0].to.clone(),
                    second: pair[1].to.clone(),
                });
            }
        }
        Ok(LocationMap { rules })
    }

    /// Parses every `FROM=TO` argument.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<LocationMap, LocationMapError> {
        let rules = args
            .iter()
            .map(|a| LocationRule::parse(a.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        LocationMap::new(rules)
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> &[LocationRule] {
        &self.rules
    }

    /// The rewritten location, or `None` when no rule applies (the location stays as it is).
    pub fn rewrite(&self, location: &str) -> Option<String> {
        self.rules.iter().find_map(|rule| {
            let rest = location.strip_prefix(rule.from.as_str())?;
            // A segment boundary: the whole location, or FROM followed by `/` (or FROM itself
            // ending in `/`, as a bare root like `s3://` does).
            if rest.is_empty() || rest.starts_with('/') {
                Some(format!("{}{rest}", rule.to))
            } else if rule.from.ends_with('/') {
                // The boundary's `/` was part of FROM: put one back unless TO ends in one.
                let sep = if rule.to.ends_with('/') { "" } else { "/" };
                Some(format!("{}{sep}{rest}", rule.to))
            } else {
                None
            }
        })
    }

    /// `location` rewritten, or unchanged when no rule applies.
    pub fn apply(&self, location: &str) -> String {
        self.rewrite(location)
            .unwrap_or_else(|| location.to_string())
    }
}

impl fmt::Display for LocationRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(rules: &[&str]) -> LocationMap {
        LocationMap::parse(rules).unwrap()
    }

    #[test]
    fn rewrites_at_segment_boundaries_only() {
        let m = map(&["hdfs://nn/ware=s3://b/w"]);
        assert_eq!(m.rewrite("hdfs://nn/ware").as_deref(), Some("s3://b/w"));
        assert_eq!(
            m.rewrite("hdfs://nn/ware/db.db/t/p=1").as_deref(),
            Some("s3://b/w/db.db/t/p=1")
        );
        assert_eq!(m.rewrite("hdfs://nn/warehouse2/t"), None);
        assert_eq!(m.rewrite("hdfs://nn2/ware/t"), None);
        assert_eq!(m.apply("hdfs://nn/warehouse2"), "hdfs://nn/warehouse2");
    }

    #[test]
    fn longest_prefix_wins_whatever_the_order() {
        for rules in [
            ["hdfs://nn/w=s3://a", "hdfs://nn/w/special=s3://b/sp"],
            ["hdfs://nn/w/special=s3://b/sp", "hdfs://nn/w=s3://a"],
        ] {
            let m = map(&rules);
            assert_eq!(m.apply("hdfs://nn/w/special/x"), "s3://b/sp/x");
            assert_eq!(m.apply("hdfs://nn/w/specialist"), "s3://a/specialist");
            assert_eq!(m.apply("hdfs://nn/w/other"), "s3://a/other");
        }
    }

    #[test]
    fn trailing_slashes_do_not_matter() {
        let m = map(&["hdfs://nn:8020/warehouse/=s3://bucket/warehouse/"]);
        assert_eq!(
            m.apply("hdfs://nn:8020/warehouse/t"),
            "s3://bucket/warehouse/t"
        );
        assert_eq!(
            m.apply("hdfs://nn:8020/warehouse/"),
            "s3://bucket/warehouse/"
        );
        // A bare root keeps its slashes and matches everything under it.
        let root = map(&["hdfs://=s3://b/all"]);
        assert_eq!(root.apply("hdfs://nn/x"), "s3://b/all/nn/x");
        let root = map(&["hdfs://=s3://"]);
        assert_eq!(root.apply("hdfs://nn/x"), "s3://nn/x");
        let root = map(&["hdfs://nn=s3://b/all"]);
        assert_eq!(root.apply("hdfs://nn/x"), "s3://b/all/x");
    }

    #[test]
    fn either_side_may_hold_an_equals_sign() {
        let rule = |text: &str| {
            let r = LocationRule::parse(text).expect(text);
            (r.from, r.to)
        };
        let pair = |from: &str, to: &str| (from.to_string(), to.to_string());
        assert_eq!(
            rule("hdfs://nn/w/t/dt=2024=s3://lake/t/dt=2024"),
            pair("hdfs://nn/w/t/dt=2024", "s3://lake/t/dt=2024")
        );
        assert_eq!(
            rule("/data/k=v=file:/mnt/k=v"),
            pair("/data/k=v", "file:/mnt/k=v")
        );
        assert_eq!(rule("hdfs://nn/w=/mnt/w"), pair("hdfs://nn/w", "/mnt/w"));
        assert_eq!(
            map(&["hdfs://nn/w/dt=1=s3://b/one"]).apply("hdfs://nn/w/dt=1/part-0"),
            "s3://b/one/part-0"
        );
    }

    #[test]
    fn bad_rules_are_explained() {
        assert!(matches!(
            LocationRule::parse("hdfs://nn/w"),
            Err(LocationMapError::NoEquals(_))
        ));
        assert!(matches!(
            LocationRule::parse("=s3://b"),
            Err(LocationMapError::Empty(_))
        ));
        assert!(matches!(
            LocationRule::parse("hdfs://nn/w="),
            Err(LocationMapError::Empty(_))
        ));
        assert!(matches!(
            LocationRule::parse("warehouse=s3://b"),
            Err(LocationMapError::NotALocation(_))
        ));
        assert!(matches!(
            LocationRule::parse("hdfs://nn/w=lake/w"),
            Err(LocationMapError::NotALocation(_))
        ));
        let dup = LocationMap::parse(&["hdfs://a/=s3://x", "hdfs://a=s3://y"]).unwrap_err();
        assert!(dup.to_string().contains("twice"), "{dup}");
        assert!(LocationRule::parse("hdfs://nn/w")
            .unwrap_err()
            .to_string()
            .contains("FROM=TO"));
    }
}
