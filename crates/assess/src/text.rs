//! The terminal summary: totals per schema and per object kind, the heaviest action items and
//! the preflight, coloured when the output is a terminal.

use crate::model::{Assessment, ObjectKind, Status};
use migrate_core::{CheckStatus, Severity};
use std::io::{self, Write};

/// How many action items and preflight problems the terminal shows (the JSON and HTML have all).
const SHOWN: usize = 15;

struct Paint {
    color: bool,
}

impl Paint {
    fn status(&self, status: Status, text: &str) -> String {
        let code = match status {
            Status::Automatic => "32",
            Status::Simple => "36",
            Status::Medium => "33",
            Status::Significant => "31",
            Status::Unsupported => "35",
        };
        self.wrap(code, text)
    }

    fn check(&self, status: CheckStatus, text: &str) -> String {
        let code = match status {
            CheckStatus::Passed => "32",
            CheckStatus::Warning => "33",
            CheckStatus::Blocker => "31",
        };
        self.wrap(code, text)
    }

    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// `1.5 GiB`, `12.0 KiB`, `512 B`: binary units, one decimal.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Writes the summary; `color` adds ANSI colours (pass true only for a terminal).
pub fn write_text(assessment: &Assessment, color: bool, mut out: impl Write) -> io::Result<()> {
    let p = Paint { color };
    let s = &assessment.summary;
    writeln!(
        out,
        "{} {} ({}) -> {}",
        p.bold("assessment of"),
        assessment.source.inputs.join(", "),
        assessment.source.dialect,
        assessment.target
    )?;
    let info = assessment
        .action_items
        .iter()
        .filter(|item| item.severity == Severity::Info)
        .count();
    writeln!(
        out,
        "{} objects, {} action items ({info} info), {:.1} hours ({:.1} days); ora2pg level {}-{}; {} lines of procedural code",
        s.objects.total,
        s.action_items,
        s.hours,
        s.days,
        s.migration_level.map_or("-".to_string(), |l| format!("{l:?}")),
        s.technical_level,
        s.code_lines
    )?;
    if assessment.source.kind == "live" {
        if assessment.tables_sized(None) {
            writeln!(
                out,
                "{} rows, {} on disk, of which LOB storage {}",
                s.rows,
                human_bytes(s.size_bytes),
                s.lob_bytes.map_or(
                    "unknown (not reported separately by this engine)".to_string(),
                    human_bytes
                )
            )?;
        } else {
            writeln!(out, "{} rows; sizes unknown (see the findings)", s.rows)?;
        }
    }
    writeln!(out)?;
    // Status by kind.
    let widths = [18, 8, 10, 8, 8, 12, 12, 8];
    let header = [
        "kind",
        "total",
        "automatic",
        "simple",
        "medium",
        "significant",
        "unsupported",
        "hours",
    ];
    let line: Vec<String> = header
        .iter()
        .zip(widths)
        .map(|(h, w)| format!("{h:>w$}", w = w))
        .collect();
    writeln!(out, "{}", p.bold(&line.join(" ")))?;
    for kind in ObjectKind::ALL {
        let Some(counts) = s.by_kind.get(kind.key()) else {
            continue;
        };
        let hours: f64 = assessment
            .objects
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.hours)
            .sum();
        let mut cells = vec![
            format!("{:>18}", kind.label()),
            format!("{:>8}", counts.total),
        ];
        for (status, w) in Status::ALL.into_iter().zip(&widths[2..7]) {
            let n = counts.get(status);
            let cell = format!("{n:>w$}", w = *w);
            cells.push(if n > 0 { p.status(status, &cell) } else { cell });
        }
        cells.push(format!("{hours:>8.1}"));
        writeln!(out, "{}", cells.join(" "))?;
    }
    if assessment.schemas.len() > 1 {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            p.bold(&format!(
                "{:>18} {:>8} {:>8} {:>8} {:>6}",
                "schema", "objects", "hours", "days", "level"
            ))
        )?;
        for t in &assessment.schemas {
            let name = if t.schema.is_empty() {
                "(none)"
            } else {
                &t.schema
            };
            writeln!(
                out,
                "{:>18} {:>8} {:>8.1} {:>8.1} {:>6}",
                name,
                t.objects.total,
                t.hours,
                t.days,
                format!(
                    "{}-{}",
                    t.migration_level
                        .map_or("-".to_string(), |l| format!("{l:?}")),
                    t.technical_level
                )
            )?;
        }
    }
    if !assessment.action_items.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.bold("heaviest action items"))?;
        for item in assessment.action_items.iter().take(SHOWN) {
            writeln!(
                out,
                "  {} {:>6.1}h [{}] {}: {}",
                p.status(item.status, &format!("{:<11}", item.status.key())),
                item.hours,
                item.code,
                item.object,
                item.message
            )?;
        }
        if assessment.action_items.len() > SHOWN {
            writeln!(
                out,
                "  ... {} more (see --format json or html)",
                assessment.action_items.len() - SHOWN
            )?;
        }
    }
    if !assessment.preflight.is_empty() {
        let t = &assessment.preflight_totals;
        writeln!(out)?;
        writeln!(
            out,
            "{} {} passed, {} warnings, {} blockers",
            p.bold("replication preflight:"),
            t.passed,
            t.warning,
            t.blocker
        )?;
        let mut problems: Vec<_> = assessment
            .preflight
            .iter()
            .filter(|c| c.status != CheckStatus::Passed)
            .collect();
        problems.sort_by_key(|check| std::cmp::Reverse(check.status));
        for check in problems.iter().take(SHOWN) {
            writeln!(
                out,
                "  {} [{}] {}: {} -> {}",
                p.check(check.status, &format!("{:<7}", check.status.as_str())),
                check.code,
                check.object,
                check.message,
                check.fix
            )?;
        }
        if problems.len() > SHOWN {
            writeln!(
                out,
                "  ... {} more (see --format json or html)",
                problems.len() - SHOWN
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
