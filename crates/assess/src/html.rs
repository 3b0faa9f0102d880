//! The self-contained HTML report: one file, inline CSS, JS and SVG, no network access. Totals,
//! charts and the per-schema and preflight tables are written here (readable without
//! JavaScript); the objects and action items tables are built in the page from the embedded JSON
//! so that they can be sorted and filtered.

use crate::model::{Assessment, ObjectKind, Status, Totals};
use crate::text::human_bytes;
use std::fmt::Write as _;
use std::io::{self, Write};

const TEMPLATE: &str = include_str!("report.html");

/// Writes the HTML report.
pub fn write_html(assessment: &Assessment, mut out: impl Write) -> io::Result<()> {
    let data = serde_json::to_string(assessment).map_err(io::Error::other)?;
    // `</script>` inside a string would end the data block: `<\/` is the same JSON string.
    let data = data.replace("</", "<\\/");
    let title = format!(
        "Migration assessment: {} to {}",
        assessment.source.dialect, assessment.target
    );
    let subtitle = format!(
        "{}: {}",
        match assessment.source.kind {
            "live" => "live database",
            _ => "scripts",
        },
        assessment.source.inputs.join(", ")
    );
    let page = TEMPLATE
        .replace("{{TITLE}}", &escape(&title))
        .replace("{{SUBTITLE}}", &escape(&subtitle))
        .replace("{{GENERATOR}}", &escape(&assessment.generator))
        .replace(
            "{{MODEL_VERSION}}",
            &assessment.effort_model.version.to_string(),
        )
        .replace("{{SUMMARY}}", &summary(assessment))
        .replace("{{CHARTS}}", &charts(assessment))
        .replace("{{SCHEMAS}}", &schemas(assessment))
        .replace("{{PREFLIGHT}}", &preflight(assessment))
        .replace("{{DATA}}", &data);
    out.write_all(page.as_bytes())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn level(t: &Totals) -> String {
    format!(
        "{}-{}",
        t.migration_level
            .map_or("-".to_string(), |l| format!("{l:?}")),
        t.technical_level
    )
}

fn summary(a: &Assessment) -> String {
    let s = &a.summary;
    let mut cards = vec![
        ("total-objects", s.objects.total.to_string(), "objects"),
        (
            "total-automatic",
            s.objects.automatic.to_string(),
            "converted automatically",
        ),
        (
            "total-manual",
            (s.objects.simple + s.objects.medium + s.objects.significant).to_string(),
            "need an action",
        ),
        (
            "total-unsupported",
            s.objects.unsupported.to_string(),
            "unsupported",
        ),
        ("total-items", s.action_items.to_string(), "action items"),
        ("total-hours", format!("{:.1}", s.hours), "hours of work"),
        ("total-days", format!("{:.1}", s.days), "working days"),
        ("total-level", level(s), "ora2pg level"),
        (
            "total-lines",
            s.code_lines.to_string(),
            "lines of procedural code",
        ),
    ];
    if a.source.kind == "live" {
        cards.push(("total-rows", s.rows.to_string(), "rows"));
        let size = if a.tables_sized(None) {
            human_bytes(s.size_bytes)
        } else {
            "unknown".to_string()
        };
        cards.push(("total-size", size, "on disk"));
        cards.push((
            "total-lob",
            s.lob_bytes.map_or("unknown".to_string(), human_bytes),
            "of it LOB storage",
        ));
    }
    let mut html = String::from("<div class=\"cards\">");
    for (id, value, label) in cards {
        let _ = write!(
            html,
            "<div class=\"card\"><div class=\"v\" id=\"{id}\">{}</div><div class=\"l\">{label}</div></div>",
            escape(&value)
        );
    }
    html.push_str("</div>");
    html
}

fn color(status: Status) -> &'static str {
    match status {
        Status::Automatic => "#2e9d5b",
        Status::Simple => "#3b8fd9",
        Status::Medium => "#e0a526",
        Status::Significant => "#d9534f",
        Status::Unsupported => "#8e44ad",
    }
}

/// Two inline SVG charts: objects per kind as bars stacked by status, and hours per status.
fn charts(a: &Assessment) -> String {
    let mut html = String::from("<div class=\"legend\">");
    for status in Status::ALL {
        let _ = write!(
            html,
            "<span><i style=\"background:{}\"></i>{}</span>",
            color(status),
            status.label()
        );
    }
    html.push_str("</div><div class=\"charts\">");
    // Objects by kind and status: one bar per kind, on a log-free linear scale of the largest.
    let kinds: Vec<(ObjectKind, &crate::model::StatusCounts)> = ObjectKind::ALL
        .into_iter()
        .filter_map(|k| a.summary.by_kind.get(k.key()).map(|c| (k, c)))
        .collect();
    let max = kinds.iter().map(|(_, c)| c.total).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (170.0, 300.0, 22.0);
    let height = row_h * kinds.len() as f64 + 8.0;
    let _ = write!(
        html,
        "<div class=\"chart\"><h3>Objects by kind and status</h3><svg id=\"chart-status\" role=\"img\" aria-label=\"objects by kind and status\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\" font-family=\"system-ui, sans-serif\">",
        w = label_w + bar_w + 60.0
    );
    for (row, (kind, counts)) in kinds.iter().enumerate() {
        let y = row as f64 * row_h + 4.0;
        let _ = write!(
            html,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1f2933\">{}</text>",
            label_w - 8.0,
            y + 13.0,
            kind.label()
        );
        let mut x = label_w;
        for status in Status::ALL {
            let n = counts.get(status);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = write!(
                html,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{}\"><title>{} {}: {n}</title></rect>",
                w.max(1.0),
                color(status),
                kind.label(),
                status.label()
            );
            x += w.max(1.0);
        }
        let _ = write!(
            html,
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#616e7c\">{}</text>",
            x + 6.0,
            y + 13.0,
            counts.total
        );
    }
    html.push_str("</svg></div>");
    // Hours by status.
    let hours: Vec<(Status, f64)> = Status::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                a.summary
                    .hours_by_status
                    .get(s.key())
                    .copied()
                    .unwrap_or(0.0),
            )
        })
        .collect();
    let max_hours = hours.iter().map(|(_, h)| *h).fold(0.0, f64::max).max(1e-9);
    let height = row_h * hours.len() as f64 + 8.0;
    let _ = write!(
        html,
        "<div class=\"chart\"><h3>Effort (hours) by status</h3><svg id=\"chart-effort\" role=\"img\" aria-label=\"hours by status\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\" font-family=\"system-ui, sans-serif\">",
        w = label_w + bar_w + 70.0
    );
    for (row, (status, h)) in hours.iter().enumerate() {
        let y = row as f64 * row_h + 4.0;
        let w = bar_w * h / max_hours;
        let _ = write!(
            html,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1f2933\">{}</text><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{}\"><title>{}: {h:.1} h</title></rect><text x=\"{:.1}\" y=\"{}\" fill=\"#616e7c\">{h:.1} h</text>",
            label_w - 8.0,
            y + 13.0,
            status.label(),
            w,
            color(*status),
            status.label(),
            label_w + w + 6.0,
            y + 13.0
        );
    }
    html.push_str("</svg></div></div>");
    html
}

fn schemas(a: &Assessment) -> String {
    let live = a.source.kind == "live";
    let mut html = String::from(
        "<div class=\"scroll\"><table id=\"schemas-table\"><thead><tr><th>Schema</th><th class=\"num\">Objects</th>",
    );
    for status in Status::ALL {
        let _ = write!(html, "<th class=\"num\">{}</th>", status.label());
    }
    html.push_str("<th class=\"num\">Action items</th><th class=\"num\">Hours</th><th class=\"num\">Days</th><th>ora2pg level</th><th class=\"num\">Code lines</th><th class=\"num\">Rows</th>");
    if live {
        html.push_str("<th class=\"num\">Size</th><th class=\"num\">LOB size</th>");
    }
    html.push_str("</tr></thead><tbody>");
    for t in a.schemas.iter().chain(std::iter::once(&a.summary)) {
        let all = std::ptr::eq(t, &a.summary);
        let name = if all {
            "<b>all</b>".to_string()
        } else if t.schema.is_empty() {
            "<span class=\"muted\">(none)</span>".to_string()
        } else {
            escape(&t.schema)
        };
        let _ = write!(
            html,
            "<tr><td>{name}</td><td class=\"num\">{}</td>",
            t.objects.total
        );
        for status in Status::ALL {
            let _ = write!(html, "<td class=\"num\">{}</td>", t.objects.get(status));
        }
        let _ = write!(
            html,
            "<td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{:.1}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            t.action_items,
            t.hours,
            t.days,
            level(t),
            t.code_lines,
            t.rows,
        );
        if live {
            // Unknown is not zero: sizes nobody could read, and LOB storage an engine does not
            // report apart, show a dash.
            let size = if a.tables_sized((!all).then_some(t.schema.as_str())) {
                human_bytes(t.size_bytes)
            } else {
                "-".to_string()
            };
            let _ = write!(
                html,
                "<td class=\"num\">{size}</td><td class=\"num\"{}>{}</td>",
                if t.lob_bytes.is_none() {
                    " title=\"not reported separately\""
                } else {
                    ""
                },
                t.lob_bytes.map_or("-".to_string(), human_bytes)
            );
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

fn preflight(a: &Assessment) -> String {
    if a.preflight.is_empty() {
        return String::new();
    }
    let t = &a.preflight_totals;
    let mut html = format!(
        "<section id=\"preflight\"><h2>Replication preflight</h2><p><span id=\"preflight-passed\">{}</span> passed, <span id=\"preflight-warning\">{}</span> warnings, <span id=\"preflight-blocker\">{}</span> blockers.</p><div class=\"scroll\"><table><thead><tr><th>Status</th><th>Code</th><th>Object</th><th>Found</th><th>Fix</th></tr></thead><tbody>",
        t.passed, t.warning, t.blocker
    );
    let mut checks: Vec<_> = a.preflight.iter().collect();
    checks.sort_by_key(|check| std::cmp::Reverse(check.status));
    for check in checks {
        let _ = write!(
            html,
            "<tr><td><span class=\"badge {s}\">{s}</span></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&check.code),
            escape(&check.object),
            escape(&check.message),
            escape(&check.fix),
            s = check.status.as_str()
        );
    }
    html.push_str("</tbody></table></div></section>");
    html
}
