//! Binlog positions in the seam's text form (`file:pos;gtid=...`), the GTID state carried along
//! the stream, and MariaDB's GTID event (type 0xa2), which `mysql_common` does not decode.

use crate::SourceError;
use std::collections::BTreeMap;

/// A position parsed from [`migrate_source::Position`] text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BinlogCursor {
    pub file: String,
    pub pos: u64,
    pub gtid: Option<String>,
}

impl BinlogCursor {
    /// `binlog.000003:4567` or `binlog.000003:4567;gtid=0-1-42,1-1-7` (MariaDB) or
    /// `...;gtid=<uuid>:1-42` (MySQL).
    pub fn parse(text: &str) -> Result<BinlogCursor, SourceError> {
        let invalid = |message: String| SourceError::InvalidPosition {
            position: text.to_string(),
            message,
        };
        let (location, gtid) = match text.split_once(';') {
            Some((location, rest)) => {
                let gtid = rest
                    .strip_prefix("gtid=")
                    .ok_or_else(|| invalid(format!("`{rest}` is not `gtid=...`")))?;
                (
                    location,
                    Some(gtid.trim().to_string()).filter(|g| !g.is_empty()),
                )
            }
            None => (text, None),
        };
        let (file, pos) = location
            .rsplit_once(':')
            .ok_or_else(|| invalid("no `:` between the binlog file and the position".into()))?;
        let pos: u64 = pos
            .trim()
            .parse()
            .map_err(|_| invalid(format!("`{pos}` is not a byte position")))?;
        let file = file.trim();
        if file.is_empty() || pos < 4 {
            return Err(invalid(
                "the file is empty or the position is before the first event (4)".into(),
            ));
        }
        Ok(BinlogCursor {
            file: file.to_string(),
            pos,
            gtid,
        })
    }
}

/// The base name and sequence number of a binlog file (`mariadb-bin.000012`: `mariadb-bin`, 12):
/// the server numbers its files in the order it writes them.
pub(crate) fn log_sequence(file: &str) -> Option<(&str, u64)> {
    let (base, number) = file.rsplit_once('.')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, number.parse().ok()?))
}

/// `file:pos`, with `;gtid=...` when the GTID state is known.
pub(crate) fn format_position(file: &str, pos: u64, gtid: Option<&str>) -> String {
    match gtid.filter(|g| !g.is_empty()) {
        Some(gtid) => format!("{file}:{pos};gtid={gtid}"),
        None => format!("{file}:{pos}"),
    }
}

/// MariaDB's GTID state: the last `domain-server-sequence` of each replication domain, as
/// `@@gtid_binlog_pos` prints it (and `@slave_connect_state` takes it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MariaGtidState {
    domains: BTreeMap<u32, (u32, u64)>,
}

impl MariaGtidState {
    pub fn parse(text: &str) -> Option<MariaGtidState> {
        let mut domains = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut fields = part.split('-');
            let domain = fields.next()?.parse().ok()?;
            let server = fields.next()?.parse().ok()?;
            let sequence = fields.next()?.parse().ok()?;
            if fields.next().is_some() {
                return None;
            }
            domains.insert(domain, (server, sequence));
        }
        Some(MariaGtidState { domains })
    }

    /// The first GTID of this state that `server` (a server's `@@gtid_binlog_pos`) has not
    /// reached, as `domain-server-sequence`: a sequence number after the server's last one of its
    /// domain, or a domain the server never logged. With the server's last GTID of that domain.
    pub fn unreached(&self, server: &MariaGtidState) -> Option<(String, Option<String>)> {
        self.domains
            .iter()
            .find_map(|(domain, gtid)| match server.domains.get(domain) {
                None => Some((gtid_text(*domain, *gtid), None)),
                Some(last) if last.1 < gtid.1 => {
                    Some((gtid_text(*domain, *gtid), Some(gtid_text(*domain, *last))))
                }
                Some(_) => None,
            })
    }

    /// The first domain of `oldest` (the state a server's oldest binlog file starts from: the
    /// transactions before it are purged) that this state stands before: with a sequence number
    /// before `oldest`'s, or not named here at all (a stream would start at the domain's first
    /// transaction). With this state's GTID of that domain, if any, and `oldest`'s. A domain
    /// that `oldest` does not name began after it, in a file the server still has.
    pub fn purged(&self, oldest: &MariaGtidState) -> Option<(u32, Option<String>, String)> {
        oldest.domains.iter().find_map(|(domain, first)| {
            let first_text = gtid_text(*domain, *first);
            match self.domains.get(domain) {
                None => Some((*domain, None, first_text)),
                Some(own) if own.1 < first.1 => {
                    Some((*domain, Some(gtid_text(*domain, *own)), first_text))
                }
                Some(_) => None,
            }
        })
    }

    pub fn apply(&mut self, gtid: MariaGtid) {
        self.domains
            .insert(gtid.domain, (gtid.server, gtid.sequence));
    }
}

impl std::fmt::Display for MariaGtidState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (domain, gtid)) in self.domains.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&gtid_text(*domain, *gtid))?;
        }
        Ok(())
    }
}

/// `domain-server-sequence`.
fn gtid_text(domain: u32, (server, sequence): (u32, u64)) -> String {
    format!("{domain}-{server}-{sequence}")
}

/// One MariaDB GTID: what a GTID event (0xa2) starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MariaGtid {
    pub domain: u32,
    pub server: u32,
    pub sequence: u64,
    /// `FL_STANDALONE`: a transaction without a closing XID/COMMIT (DDL): the event group ends
    /// with its single QUERY event.
    pub standalone: bool,
}

/// The GTID event's flag of event groups that have no COMMIT/XID (DDL).
const FL_STANDALONE: u8 = 1;

/// Decodes a MariaDB GTID event's body (after the 19-byte header, checksum removed):
/// `seq_no: u64 LE, domain_id: u32 LE, flags2: u8, ...`; the server id is the header's.
pub(crate) fn decode_maria_gtid(body: &[u8], server: u32) -> Option<MariaGtid> {
    let sequence = u64::from_le_bytes(body.get(0..8)?.try_into().ok()?);
    let domain = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?);
    let flags = *body.get(12)?;
    Some(MariaGtid {
        domain,
        server,
        sequence,
        standalone: flags & FL_STANDALONE != 0,
    })
}

/// A MySQL GTID set (`3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7,<uuid>:1-3`): the executed
/// transactions of each source server, as intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MysqlGtidSet {
    /// Lower-case uuid text -> sorted, disjoint, non-adjacent closed intervals.
    servers: BTreeMap<String, Vec<(u64, u64)>>,
}

impl MysqlGtidSet {
    pub fn parse(text: &str) -> Option<MysqlGtidSet> {
        let mut set = MysqlGtidSet::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut fields = part.split(':');
            let uuid = fields.next()?.trim().to_ascii_lowercase();
            if uuid.len() != 36 {
                return None;
            }
            for interval in fields {
                let (start, end) = match interval.split_once('-') {
                    Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
                    None => {
                        let n = interval.trim().parse().ok()?;
                        (n, n)
                    }
                };
                if start > end || start == 0 {
                    return None;
                }
                let intervals = set.servers.entry(uuid.clone()).or_default();
                intervals.push((start, end));
                normalize(intervals);
            }
        }
        Some(set)
    }

    /// Adds transaction `gno` of server `uuid`.
    pub fn add(&mut self, uuid: &str, gno: u64) {
        let intervals = self.servers.entry(uuid.to_ascii_lowercase()).or_default();
        intervals.push((gno, gno));
        normalize(intervals);
    }
}

fn normalize(intervals: &mut Vec<(u64, u64)>) {
    intervals.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
    for &(start, end) in intervals.iter() {
        match merged.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    *intervals = merged;
}

impl std::fmt::Display for MysqlGtidSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (uuid, intervals)) in self.servers.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(uuid)?;
            for (start, end) in intervals {
                if start == end {
                    write!(f, ":{start}")?;
                } else {
                    write!(f, ":{start}-{end}")?;
                }
            }
        }
        Ok(())
    }
}

/// The 16 bytes of a MySQL server uuid as text.
pub(crate) fn uuid_text(sid: &[u8; 16]) -> String {
    let hex = migrate_core::hex(sid);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        let p = BinlogCursor::parse("mariadb-bin.000012:4567;gtid=0-1-42,1-2-7").unwrap();
        assert_eq!(p.file, "mariadb-bin.000012");
        assert_eq!(p.pos, 4567);
        assert_eq!(p.gtid.as_deref(), Some("0-1-42,1-2-7"));
        assert_eq!(
            format_position(&p.file, p.pos, p.gtid.as_deref()),
            "mariadb-bin.000012:4567;gtid=0-1-42,1-2-7"
        );
        let p = BinlogCursor::parse("binlog.000003:4").unwrap();
        assert_eq!((p.file.as_str(), p.pos, p.gtid), ("binlog.000003", 4, None));
        for bad in ["binlog.000003", "binlog.000003:x", ":5", "f:2", "f:9;gtd=1"] {
            assert!(
                matches!(
                    BinlogCursor::parse(bad),
                    Err(SourceError::InvalidPosition { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn mariadb_gtid_states_follow_events() {
        let mut state = MariaGtidState::parse("0-1-42,3-9-1").unwrap();
        state.apply(MariaGtid {
            domain: 0,
            server: 2,
            sequence: 43,
            standalone: false,
        });
        state.apply(MariaGtid {
            domain: 1,
            server: 1,
            sequence: 5,
            standalone: false,
        });
        assert_eq!(state.to_string(), "0-2-43,1-1-5,3-9-1");
        assert!(MariaGtidState::parse("0-1").is_none());
        assert_eq!(MariaGtidState::parse("").unwrap().to_string(), "");
    }

    #[test]
    fn binlog_files_are_ordered_by_their_number() {
        assert_eq!(
            log_sequence("mariadb-bin.000012"),
            Some(("mariadb-bin", 12))
        );
        assert_eq!(log_sequence("my.bin.log.000003"), Some(("my.bin.log", 3)));
        for unnumbered in ["binlog", "binlog.", "binlog.00x1", "binlog.+12"] {
            assert_eq!(log_sequence(unnumbered), None, "{unnumbered}");
        }
    }

    #[test]
    fn mariadb_gtid_states_reached_by_a_server() {
        let server = MariaGtidState::parse("0-1-42,1-2-7").unwrap();
        for reached in ["0-1-42", "0-3-41,1-2-7", ""] {
            let state = MariaGtidState::parse(reached).unwrap();
            assert_eq!(state.unreached(&server), None, "{reached}");
        }
        let ahead = MariaGtidState::parse("0-1-42,1-2-8").unwrap();
        assert_eq!(
            ahead.unreached(&server),
            Some(("1-2-8".into(), Some("1-2-7".into())))
        );
        let unknown = MariaGtidState::parse("5-1-1").unwrap();
        assert_eq!(unknown.unreached(&server), Some(("5-1-1".into(), None)));
    }

    #[test]
    fn mariadb_gtid_states_the_server_purged() {
        // The server's oldest binlog file starts after 0-1-100 and 2-5-9; domain 1 began later.
        let oldest = MariaGtidState::parse("0-1-100,2-5-9").unwrap();
        for kept in ["0-1-100,2-5-9", "0-2-150,1-1-3,2-5-10"] {
            let state = MariaGtidState::parse(kept).unwrap();
            assert_eq!(state.purged(&oldest), None, "{kept}");
        }
        let before = MariaGtidState::parse("0-1-99,2-5-9").unwrap();
        assert_eq!(
            before.purged(&oldest),
            Some((0, Some("0-1-99".into()), "0-1-100".into()))
        );
        // Another server's GTID of the domain is compared by its sequence number all the same.
        let other = MariaGtidState::parse("0-1-100,2-7-3").unwrap();
        assert_eq!(
            other.purged(&oldest),
            Some((2, Some("2-7-3".into()), "2-5-9".into()))
        );
        let without = MariaGtidState::parse("0-1-120,1-1-3").unwrap();
        assert_eq!(without.purged(&oldest), Some((2, None, "2-5-9".into())));
        let nothing_purged = MariaGtidState::default();
        assert_eq!(before.purged(&nothing_purged), None);
    }

    #[test]
    fn mariadb_gtid_events_are_decoded_by_hand() {
        // seq 42, domain 3, flags2 = FL_STANDALONE | FL_GROUP_COMMIT_ID, commit id 9.
        let mut body = 42u64.to_le_bytes().to_vec();
        body.extend(3u32.to_le_bytes());
        body.push(0x03);
        body.extend(9u64.to_le_bytes());
        let gtid = decode_maria_gtid(&body, 7).unwrap();
        assert_eq!(
            gtid,
            MariaGtid {
                domain: 3,
                server: 7,
                sequence: 42,
                standalone: true
            }
        );
        assert!(decode_maria_gtid(&body[..10], 7).is_none());
    }

    #[test]
    fn mysql_gtid_sets_merge_intervals() {
        let uuid = "3E11FA47-71CA-11E1-9E33-C80AA9429562";
        let mut set = MysqlGtidSet::parse(&format!("{uuid}:1-5:7")).unwrap();
        set.add(uuid, 6);
        assert_eq!(set.to_string(), format!("{}:1-7", uuid.to_lowercase()));
        set.add("00000000-0000-0000-0000-000000000001", 3);
        assert_eq!(
            set.to_string(),
            format!(
                "00000000-0000-0000-0000-000000000001:3,{}:1-7",
                uuid.to_lowercase()
            )
        );
        assert!(MysqlGtidSet::parse("nope:1").is_none());
        assert!(MysqlGtidSet::parse(&format!("{uuid}:5-1")).is_none());
        assert_eq!(
            uuid_text(&[
                0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42,
                0x95, 0x62
            ]),
            uuid.to_lowercase()
        );
    }
}
