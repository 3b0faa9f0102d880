//! Connection URLs: `oracle://user:password@host:port/service_name`.

use crate::OracleError;

/// What the client library needs to log in; the password is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectParams {
    pub user: String,
    pub password: String,
    /// Easy Connect: `//host:port/service_name`.
    pub connect_string: String,
    /// `user@host:port/service_name`, for messages.
    pub endpoint: String,
}

impl std::fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectParams")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Reads `oracle://user:password@host[:port]/service_name` (port 1521 by default; user and
/// password percent-encoded). Without a password in the URL, `ORACLE_PASSWORD` is used.
pub fn parse_url(text: &str, env_password: Option<String>) -> Result<ConnectParams, OracleError> {
    let invalid = |message: &str| OracleError::InvalidUrl {
        message: message.to_string(),
    };
    let url = url::Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
    if url.scheme() != "oracle" {
        return Err(invalid(&format!(
            "the scheme is `{}`, not `oracle`",
            url.scheme()
        )));
    }
    let host = url.host_str().ok_or_else(|| invalid("no host"))?;
    let port = url.port().unwrap_or(1521);
    let service = url.path().trim_start_matches('/');
    if service.is_empty() || service.contains('/') {
        return Err(invalid(
            "the path must be the service name (FREEPDB1, ORCLPDB1...)",
        ));
    }
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let user = decode(url.username());
    if user.is_empty() {
        return Err(invalid("no user name"));
    }
    let password = match url.password() {
        Some(p) => decode(p),
        None => env_password
            .ok_or_else(|| invalid("no password (put it in the URL or in ORACLE_PASSWORD)"))?,
    };
    Ok(ConnectParams {
        endpoint: format!("{user}@{host}:{port}/{service}"),
        connect_string: format!("//{host}:{port}/{service}"),
        user,
        password,
    })
}

/// A schema or user name as Oracle stores it: a name given in lower case is upper-cased, as
/// Oracle does with unquoted names (`hr` is `HR`); a name with an upper-case letter is taken as
/// written (`"Sales"` stays `Sales`).
pub fn stored_name(name: &str) -> String {
    if name.chars().any(char::is_uppercase) {
        name.to_string()
    } else {
        name.to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_like_unquoted_names() {
        let names: Vec<String> = ["hr", "Sales", "APP_1", "c##migrate"]
            .into_iter()
            .map(stored_name)
            .collect();
        assert_eq!(names, ["HR", "Sales", "APP_1", "C##MIGRATE"]);
    }

    #[test]
    fn urls_become_easy_connect_strings_without_printing_passwords() {
        let p = parse_url("oracle://migrate:s%40cret@127.0.0.1:51521/FREEPDB1", None).unwrap();
        assert_eq!(p.connect_string, "//127.0.0.1:51521/FREEPDB1");
        assert_eq!(p.password, "s@cret");
        assert_eq!(p.endpoint, "migrate@127.0.0.1:51521/FREEPDB1");
        assert!(!format!("{p:?}").contains("s@cret"));
        let p = parse_url("oracle://c%23%23migrate@db/ORCL", Some("pw".into())).unwrap();
        assert_eq!((p.user.as_str(), p.password.as_str()), ("c##migrate", "pw"));
        assert_eq!(p.connect_string, "//db:1521/ORCL");
        for bad in [
            "postgres://u:p@h/db",
            "oracle://u:p@h/",
            "oracle://h/ORCL",
            "oracle://u@h/ORCL",
        ] {
            assert!(parse_url(bad, None).is_err(), "{bad}");
        }
    }
}
