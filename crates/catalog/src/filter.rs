//! `--database` / `--table` filters: shell-style wildcards (`*` any run, `?` one character),
//! compared case-insensitively as Hive and Glue compare names.

/// Names to include; an empty filter includes everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    databases: Vec<String>,
    /// `db.table` or `table` patterns (the latter match in every database).
    tables: Vec<(Option<String>, String)>,
}

impl Filter {
    /// From `--database` and `--table` values. A table pattern may be qualified (`sales.fact_*`).
    pub fn new(databases: &[String], tables: &[String]) -> Filter {
        Filter {
            databases: databases.iter().map(|d| d.to_lowercase()).collect(),
            tables: tables
                .iter()
                .map(|t| match t.split_once('.') {
                    Some((db, t)) => (Some(db.to_lowercase()), t.to_lowercase()),
                    None => (None, t.to_lowercase()),
                })
                .collect(),
        }
    }

    /// Whether a database is selected: by `--database`, or by a qualified `--table` pattern
    /// naming it, or by default when only unqualified table patterns (or none) are given.
    pub fn database(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        if self.databases.iter().any(|p| wildcard(p, &name)) {
            return true;
        }
        if self
            .tables
            .iter()
            .any(|(db, _)| db.as_deref().is_some_and(|p| wildcard(p, &name)))
        {
            return true;
        }
        self.databases.is_empty() && self.tables.iter().all(|(db, _)| db.is_none())
    }

    /// Whether `--table` patterns were given: then a database none of whose tables they
    /// select is not selected either (a mistyped table name must not migrate its database).
    pub fn selects_tables(&self) -> bool {
        !self.tables.is_empty()
    }

    /// Whether a table of a selected database is selected.
    pub fn table(&self, database: &str, name: &str) -> bool {
        if !self.database(database) {
            return false;
        }
        let (database, name) = (database.to_lowercase(), name.to_lowercase());
        self.tables.is_empty()
            || self.tables.iter().any(|(db, t)| {
                db.as_deref().is_none_or(|p| wildcard(p, &database)) && wildcard(t, &name)
            })
    }
}

/// `*` matches any run of characters, `?` one character; everything else itself.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point (the last `*`): linear for practical patterns.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("*", ""));
        assert!(wildcard("sales_*", "sales_2024"));
        assert!(!wildcard("sales_*", "sale_2024"));
        assert!(wildcard("t?_x", "t1_x"));
        assert!(!wildcard("t?_x", "t12_x"));
        assert!(wildcard("*_fact_*", "db_fact_orders"));
        assert!(wildcard("a*b*c", "aXbYbZc"));
        assert!(!wildcard("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn filters() {
        let all = Filter::new(&[], &[]);
        assert!(all.database("x") && all.table("x", "y"));
        let f = Filter::new(&["Sales*".into()], &["fact_*".into()]);
        assert!(f.database("sales_eu"));
        assert!(!f.database("hr"));
        assert!(f.table("sales_eu", "FACT_orders"));
        assert!(!f.table("sales_eu", "dim_customer"));
        assert!(!f.table("hr", "fact_x"));
        let q = Filter::new(&[], &["hr.emp*".into()]);
        assert!(q.database("hr"));
        assert!(q.table("hr", "employees"));
        assert!(!q.table("sales", "employees"));
    }
}
