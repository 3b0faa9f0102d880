//! [`StageError`]: what failed (which URL, object or manifest) and whether retrying can help.

use crate::Format;
use migrate_core::{ErrorClass, Retry};
use std::error::Error as StdError;

/// A boxed error from a library below us (Arrow, Parquet, the caller's input stream).
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong while staging. Every variant names the URL, object or manifest it
/// is about, so a message is useful on its own in a log.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The stage location can't be used (unknown scheme, no bucket, directory not creatable).
    #[error("invalid stage location {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// A chunk or manifest key that can't name an object (empty table name, `/` in it, ...).
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },

    /// The data can't be held exactly by the chosen format; nothing was written.
    #[error("{format} cannot hold column {column:?} ({data_type}): {reason}")]
    Unsupported {
        format: Format,
        column: String,
        data_type: String,
        reason: String,
    },

    /// The object store refused or failed an operation on `object`. The message is the store's,
    /// with an S3 error document (XML) shortened to its code and message, and what to do for
    /// the usual causes; `error` is not the error's `source()`, so that callers printing the
    /// chain don't repeat the raw text.
    #[error("{op} {object}: {}", readable_store_error(error))]
    Store {
        op: &'static str,
        object: String,
        error: object_store::Error,
    },

    /// The object exists already: a chunk attempt or a manifest is never overwritten.
    #[error("{object} already exists: {what}")]
    AlreadyExists { object: String, what: &'static str },

    /// Encoding batches into `object` failed (Parquet or CSV writer, or the upload under it).
    #[error("writing {object}: {source}")]
    Encode { object: String, source: BoxError },

    /// Decoding `object` failed (Parquet or CSV reader, or the download under it).
    #[error("reading {object}: {source}")]
    Decode { object: String, source: BoxError },

    /// What was read back differs from what was written: the object was replaced, truncated or
    /// corrupted. Never retried, never ignored.
    #[error("{object}: {what} mismatch: expected {expected}, found {actual}")]
    Mismatch {
        object: String,
        what: &'static str,
        expected: String,
        actual: String,
    },

    /// A manifest that can't be written (empty, mixed formats, missing objects) or read (bad JSON,
    /// sidecar disagreeing with the manifest).
    #[error("manifest {manifest}: {reason}")]
    Manifest { manifest: String, reason: String },

    /// The caller's batch stream failed while `object` was being written; the upload was aborted.
    #[error("input for {object} failed: {source}")]
    Input {
        object: String,
        retry: Retry,
        source: BoxError,
    },
}

impl StageError {
    pub(crate) fn store(
        op: &'static str,
        object: impl Into<String>,
        e: object_store::Error,
    ) -> Self {
        let object = object.into();
        match e {
            object_store::Error::AlreadyExists { .. } => StageError::AlreadyExists {
                object,
                what: "it was written before (by an earlier attempt or another writer)",
            },
            error => StageError::Store { op, object, error },
        }
    }
}

impl ErrorClass for StageError {
    fn retry(&self) -> Retry {
        match self {
            StageError::Store { error, .. } => classify_store(error),
            StageError::Encode { source, .. } | StageError::Decode { source, .. } => {
                classify_chain(source.as_ref())
            }
            StageError::Input { retry, .. } => *retry,
            StageError::InvalidUrl { .. }
            | StageError::InvalidKey { .. }
            | StageError::Unsupported { .. }
            | StageError::AlreadyExists { .. }
            | StageError::Mismatch { .. }
            | StageError::Manifest { .. } => Retry::Definite,
        }
    }
}

/// Classifies an object store error. Missing objects or buckets, refused permissions, failed
/// preconditions and bad paths are definite. Network trouble (connection, timeout, interrupted body)
/// and server errors (5xx, 408, 429, surfaced after object_store's own retries) are transient.
fn classify_store(e: &object_store::Error) -> Retry {
    use object_store::Error as E;
    match e {
        E::Generic { source, .. } => classify_chain(source.as_ref()),
        E::JoinError { .. } => Retry::Transient,
        _ => Retry::Definite,
    }
}

/// Walks an error's source chain for something that tells: an object store error, an HTTP transport
/// error, an I/O error, or an HTTP status in object_store's message. Unknown errors are definite:
/// retrying what we don't understand would hide it.
fn classify_chain(e: &(dyn StdError + 'static)) -> Retry {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(os) = err.downcast_ref::<object_store::Error>() {
            return classify_store(os);
        }
        if err
            .downcast_ref::<object_store::client::HttpError>()
            .is_some()
        {
            return Retry::Transient;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return classify_io(io);
        }
        if let Some(status) = http_status(&err.to_string()) {
            return if status >= 500 || status == 408 || status == 429 {
                Retry::Transient
            } else {
                Retry::Definite
            };
        }
        cur = err.source();
    }
    Retry::Definite
}

fn classify_io(e: &std::io::Error) -> Retry {
    use std::io::ErrorKind as K;
    // An io::Error may wrap an object store error (BufWriter's shutdown does that).
    if let Some(inner) = e.get_ref() {
        if let Some(os) = inner.downcast_ref::<object_store::Error>() {
            return classify_store(os);
        }
    }
    match e.kind() {
        K::TimedOut
        | K::Interrupted
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::ConnectionRefused
        | K::BrokenPipe
        | K::UnexpectedEof
        | K::WouldBlock => Retry::Transient,
        _ => Retry::Definite,
    }
}

/// `e`'s message, with the S3 error document an S3 server answered with (`<Error><Code>...`)
/// replaced by its code and message, followed by what to do for the usual codes; or, when no
/// answer came (connection refused, name not resolved, TLS, timeout), followed by the causes and
/// what to check.
pub fn readable_store_error(e: &object_store::Error) -> String {
    let text = e.to_string();
    if let Some(unanswered) = unanswered_request(&text, e) {
        return format!("{text}{unanswered}");
    }
    let Some(start) = text.find("<?xml").or_else(|| text.find("<Error>")) else {
        return text;
    };
    let element = |name: &str| {
        let open = format!("<{name}>");
        let from = text[start..].find(&open)? + start + open.len();
        let to = text[from..].find(&format!("</{name}>"))? + from;
        Some(&text[from..to])
    };
    let Some(code) = element("Code") else {
        return text;
    };
    let mut readable = format!("{}{code}", &text[..start]);
    if let Some(message) = element("Message").filter(|m| !m.is_empty()) {
        readable.push_str(&format!(" ({message})"));
    }
    let action = match code {
        "NoSuchBucket" => Some("create the bucket, or correct the bucket in the URL"),
        "AccessDenied" | "AllAccessDisabled" => Some(
            "allow these credentials s3:PutObject, s3:GetObject, s3:DeleteObject and s3:ListBucket on the prefix",
        ),
        "InvalidAccessKeyId" | "SignatureDoesNotMatch" => Some(
            "check the S3 credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the AWS profile's)",
        ),
        "PermanentRedirect" | "AuthorizationHeaderMalformed" => {
            Some("set AWS_REGION to the bucket's region")
        }
        _ => None,
    };
    if let Some(action) = action {
        readable.push_str(&format!(": {action}"));
    }
    readable
}

/// When `e`'s chain holds an HTTP transport error (the request got no answer), the causes its
/// message leaves out and what to check, starting with ": ". object_store prints only reqwest's
/// top line ("error sending request"); the cause ("Connection refused", "dns error") is below it.
fn unanswered_request(text: &str, e: &(dyn StdError + 'static)) -> Option<String> {
    use object_store::client::{HttpError, HttpErrorKind};
    let mut cur = Some(e);
    while let Some(err) = cur {
        // A body that can't be decoded came from a server that answered.
        if err
            .downcast_ref::<HttpError>()
            .is_some_and(|http| http.kind() != HttpErrorKind::Decode)
        {
            break;
        }
        cur = err.source();
    }
    // The HttpError's message already holds its source's (reqwest's) own line.
    let mut cause = cur?.source()?.source();
    let mut readable = String::new();
    while let Some(err) = cause {
        let line = err.to_string();
        if !text.contains(&line) && !readable.contains(&line) {
            readable.push_str(&format!(": {line}"));
        }
        cause = err.source();
    }
    // object_store's message reads "... Error performing PUT http://host:port/bucket/key in ...".
    let endpoint = text
        .rsplit_once("Error performing ")
        .and_then(|(_, rest)| rest.split(' ').nth(1))
        .and_then(|uri| {
            let (scheme, rest) = uri.split_once("://")?;
            Some(format!("{scheme}://{}", rest.split('/').next()?))
        })
        .map_or_else(
            || "the S3 endpoint".to_string(),
            |e| format!("the S3 endpoint {e}"),
        );
    readable.push_str(&format!(
        ": no answer from {endpoint}: check that it is running and reachable from here, and that \
         it is the right one (set by --staging-endpoint or --endpoint, else AWS_ENDPOINT_URL, else \
         AWS's endpoint for AWS_REGION)"
    ));
    Some(readable)
}

/// object_store's retry error hides its status code in a private type; its message reads
/// "... status code: 503 Service Unavailable ...". Returns that code.
fn http_status(message: &str) -> Option<u16> {
    let rest = &message[message.find("status code: ")? + "status code: ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|s| (100..600).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(msg: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: msg.to_string().into(),
        }
    }

    #[test]
    fn status_codes_decide_generic_errors() {
        assert_eq!(
            classify_store(&generic(
                "Error performing PUT in 1s - Server returned non-2xx status code: 503 Service Unavailable: slow down"
            )),
            Retry::Transient
        );
        assert_eq!(
            classify_store(&generic(
                "Server returned non-2xx status code: 400 Bad Request: bad digest"
            )),
            Retry::Definite
        );
        assert_eq!(
            classify_store(&generic("status code: 429 Too Many")),
            Retry::Transient
        );
        assert_eq!(classify_store(&generic("something else")), Retry::Definite);
    }

    #[test]
    fn s3_error_documents_read_as_code_message_and_action() {
        let e = generic(
            "Error performing PUT http://h/b/k in 4ms - Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><Resource>/b/k</Resource><RequestId>1</RequestId></Error>",
        );
        assert_eq!(
            readable_store_error(&e),
            "Generic S3 error: Error performing PUT http://h/b/k in 4ms - Server returned non-2xx status code: 404 Not Found: NoSuchBucket (The specified bucket does not exist): create the bucket, or correct the bucket in the URL"
        );
        let e = generic("status code: 403 Forbidden: <Error><Code>Odd</Code></Error>");
        assert_eq!(
            readable_store_error(&e),
            "Generic S3 error: status code: 403 Forbidden: Odd"
        );
        let plain = generic("connection refused");
        assert_eq!(readable_store_error(&plain), plain.to_string());
    }

    #[test]
    fn io_and_nested_errors() {
        let timeout = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "slow disk",
            )),
        };
        assert_eq!(classify_store(&timeout), Retry::Transient);
        let not_found = object_store::Error::NotFound {
            path: "b/x".into(),
            source: "NoSuchBucket".into(),
        };
        assert_eq!(classify_store(&not_found), Retry::Definite);
        // A Parquet error wrapping an object store error is classified by the inner error.
        let wrapped = StageError::Encode {
            object: "s3://b/t/000000-0.parquet".into(),
            source: Box::new(parquet::errors::ParquetError::External(Box::new(
                std::io::Error::from(std::io::ErrorKind::ConnectionReset),
            ))),
        };
        assert_eq!(wrapped.retry(), Retry::Transient);
        let exists = StageError::store(
            "put",
            "s3://b/m.json",
            object_store::Error::AlreadyExists {
                path: "m.json".into(),
                source: "exists".into(),
            },
        );
        assert!(matches!(exists, StageError::AlreadyExists { .. }));
        assert_eq!(exists.retry(), Retry::Definite);
    }
}
