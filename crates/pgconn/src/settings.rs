//! The TLS settings of a connection URL: the libpq parameters tokio-postgres does not know
//! (`sslrootcert`, `sslcert`, `sslkey`, and `sslmode` beyond `require`), taken out of the URL
//! before the driver parses the rest.

use crate::SettingsError;

/// The parameters this crate reads itself.
const TLS_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// A URL without its TLS parameters, and those (key, decoded value) in URL order.
type Split = (String, Vec<(&'static str, String)>);

/// `url` without its TLS parameters, and those parameters.
pub(crate) fn split_tls_parameters(url: &str) -> Result<Split, SettingsError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        split_uri(url)
    } else {
        split_key_values(url)
    }
}

fn tls_key(key: &str) -> Option<&'static str> {
    TLS_KEYS.iter().copied().find(|k| *k == key)
}

/// `postgres://...?a=b&sslmode=verify-full`: the query's TLS pairs are removed.
fn split_uri(url: &str) -> Result<Split, SettingsError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), Vec::new()));
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match tls_key(key) {
            Some(key) => taken.push((key, percent_decode(value, key)?)),
            None => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, taken))
}

fn percent_decode(value: &str, key: &str) -> Result<String, SettingsError> {
    let bad = || SettingsError::Url(format!("the value of {key} is not valid percent-encoding"));
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// `host=db sslmode=verify-full sslrootcert='/a b/ca.pem'`: the TLS pairs are cut out of the
/// text (the rest keeps its own quoting).
fn split_key_values(text: &str) -> Result<Split, SettingsError> {
    let mut rest = String::with_capacity(text.len());
    let mut taken = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut copied_up_to = 0;
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(SettingsError::Url(format!(
                "`{key}` in the connection string is not followed by `=` (expected key=value pairs)"
            )));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut value = String::new();
        let mut closed = !quoted;
        while let Some((_, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    closed = true;
                    break;
                }
                c if !quoted && c.is_whitespace() => break,
                c => value.push(c),
            }
        }
        if !closed {
            return Err(SettingsError::Url(format!(
                "the quoted value of `{key}` in the connection string has no closing quote"
            )));
        }
        let end = chars.peek().map_or(text.len(), |&(i, _)| i);
        if let Some(key) = tls_key(&key) {
            rest.push_str(&text[copied_up_to..start]);
            copied_up_to = end;
            taken.push((key, value));
        }
    }
    rest.push_str(&text[copied_up_to..]);
    Ok((rest.trim().to_string(), taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_leave_a_uri_and_the_rest_stays() {
        let (rest, taken) = split_tls_parameters(
            "postgres://u:p@h:5/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fa%20b.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@h:5/db?application_name=x");
        assert_eq!(
            taken,
            vec![
                ("sslmode", "verify-full".to_string()),
                ("sslrootcert", "/tmp/a b.pem".to_string())
            ]
        );
        let (rest, taken) = split_tls_parameters("postgresql://h/db?sslmode=require").unwrap();
        assert_eq!(rest, "postgresql://h/db");
        assert_eq!(taken, vec![("sslmode", "require".to_string())]);
        assert!(split_tls_parameters("postgres://h/db?sslrootcert=%zz").is_err());
    }

    #[test]
    fn tls_parameters_leave_a_key_value_string_with_its_quoting() {
        let (rest, taken) = split_tls_parameters(
            r"host=h sslmode = verify-ca password='a \'b' sslrootcert='/x y/ca.pem' dbname=d",
        )
        .unwrap();
        assert_eq!(rest, r"host=h password='a \'b'  dbname=d");
        assert_eq!(
            taken,
            vec![
                ("sslmode", "verify-ca".to_string()),
                ("sslrootcert", "/x y/ca.pem".to_string())
            ]
        );
        assert!(split_tls_parameters("host=h sslrootcert='/x").is_err());
        assert!(split_tls_parameters("host").is_err());
    }
}
