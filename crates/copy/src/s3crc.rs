//! Writes to S3 that carry a CRC32C additional checksum: PutObject, CreateMultipartUpload,
//! UploadPart and CompleteMultipartUpload. object_store 0.14 can't send one (its checksum option is
//! SHA-256 only, and every `x-amz-*` header must be signed, so none can be added beneath it).
//!
//! Requests are signed with object_store's own SigV4 signer and with the credential provider of the
//! [`AmazonS3`] the copy built from the environment (keys, session token, web identity, container
//! and instance credentials), and addressed as object_store addresses them (endpoint override,
//! path-style or virtual-hosted, region, `AWS_ALLOW_HTTP`), so credentials and endpoints behave
//! exactly as for the rest of the copy. Listing, HEAD, GET and DELETE stay on object_store, but for
//! directory markers (keys ending in `/`, which object_store's paths can't name): their PUT and
//! DELETE are sent here too.
//!
//! Contract: a server with additional checksums checks the CRC32C sent with the bytes and refuses
//! them when it differs (`BadDigest`: [`CopyError::ChecksumRejected`]); it echoes the value it
//! stored (`x-amz-checksum-crc32c`, or `<ChecksumCRC32C>` for a completed upload), returned in
//! [`Written::crc32c`]. A server without them ignores the header: `crc32c` is `None`, and the caller
//! verifies by ETag (MD5) alone.

use crate::dest::Meta;
use crate::error::CopyError;
use crate::ESCAPE_RESERVED;
use base64::Engine;
use bytes::Bytes;
use migrate_core::error_chain;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer};
use object_store::client::{HttpRequest, HttpRequestBody};
use object_store::path::Path;
use object_store::ClientConfigKey;
use percent_encoding::{utf8_percent_encode, AsciiSet};
use std::fmt::Write;
use std::time::Duration;

/// Key encoding of S3 (and of object_store, whose signer takes the path as it is sent): everything
/// but unreserved characters and `/`.
const KEY_ENCODE: &AsciiSet = &ESCAPE_RESERVED.remove(b'/');
/// Request headers (name, value).
type Headers = Vec<(String, String)>;

/// The base64 of the big-endian CRC32C, as S3 sends and stores it.
pub fn crc32c_base64(crc: u32) -> String {
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// The checksum S3 gives an object uploaded in parts with these CRC32Cs:
/// `base64(crc32c(crc_1 ‖ … ‖ crc_N))-N`, each `crc_i` as 4 big-endian bytes.
pub fn composite_crc32c(parts: &[u32]) -> String {
    let crc = parts
        .iter()
        .fold(0, |acc, p| crc32c::crc32c_append(acc, &p.to_be_bytes()));
    format!("{}-{}", crc32c_base64(crc), parts.len())
}

/// What the server answered to a write.
#[derive(Debug, Clone)]
pub struct Written {
    /// The ETag, normalized (unquoted, lower case).
    pub etag: String,
    /// The CRC32C the server stored (`base64`, or `base64-N` for a completed upload), when it
    /// echoed one.
    pub crc32c: Option<String>,
}

/// A part sent, as CompleteMultipartUpload lists it.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    pub etag: String,
    /// The part's CRC32C, when the server stored one for it.
    pub crc32c: Option<u32>,
}

/// Signs and sends the data-carrying writes of one bucket (see the module docs).
#[derive(Debug)]
pub struct ChecksumWriter {
    http: reqwest::Client,
    store: std::sync::Arc<AmazonS3>,
    region: String,
    /// `https://s3.REGION.amazonaws.com/BUCKET`, `ENDPOINT/BUCKET`, or the endpoint itself when
    /// virtual-hosted (as object_store builds it).
    bucket_endpoint: String,
    /// Server-side encryption headers configured in the environment (SSE-S3, SSE-KMS).
    encryption: Vec<(&'static str, String)>,
}

impl ChecksumWriter {
    /// The writer of the bucket `builder` is configured for, signing with `store`'s credentials.
    /// `None` when the configuration asks for what this writer does not do (S3 Express One Zone,
    /// SSE-C customer keys, requester pays, unsigned requests): such copies write through
    /// object_store and are verified by ETag.
    pub fn new(
        builder: &AmazonS3Builder,
        store: std::sync::Arc<AmazonS3>,
    ) -> Result<Option<ChecksumWriter>, CopyError> {
        let get = |k: AmazonS3ConfigKey| builder.get_config_value(&k);
        let flag = |k: AmazonS3ConfigKey| get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let enc = |name: &str| name.parse().ok().and_then(|k| builder.get_config_value(&k));
        let sse = enc("aws_server_side_encryption");
        if flag(AmazonS3ConfigKey::S3Express)
            || flag(AmazonS3ConfigKey::RequestPayer)
            || flag(AmazonS3ConfigKey::SkipSignature)
            || sse
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("sse-c"))
        {
            return Ok(None);
        }
        let invalid = |reason: String| CopyError::Invalid(format!("S3 configuration: {reason}"));
        let bucket = get(AmazonS3ConfigKey::Bucket).ok_or_else(|| invalid("no bucket".into()))?;
        let region = get(AmazonS3ConfigKey::Region).unwrap_or_else(|| "us-east-1".into());
        let endpoint =
            get(AmazonS3ConfigKey::S3Endpoint).or_else(|| get(AmazonS3ConfigKey::Endpoint));
        let bucket_endpoint = match (endpoint, flag(AmazonS3ConfigKey::VirtualHostedStyleRequest)) {
            (Some(e), true) => e.trim_end_matches('/').to_string(),
            (Some(e), false) => format!("{}/{bucket}", e.trim_end_matches('/')),
            (None, true) => format!("https://{bucket}.s3.{region}.amazonaws.com"),
            (None, false) => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        };
        let allow_http = builder
            .get_config_value(&AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if bucket_endpoint.starts_with("http://") && !allow_http {
            return Err(invalid(format!(
                "{bucket_endpoint} is plain http: allow it with AWS_ALLOW_HTTP=true"
            )));
        }
        let mut encryption = Vec::new();
        if let Some(t) = sse {
            encryption.push(("x-amz-server-side-encryption", t));
        }
        if let Some(k) = enc("aws_sse_kms_key_id") {
            encryption.push(("x-amz-server-side-encryption-aws-kms-key-id", k));
        }
        if let Some(b) = enc("aws_sse_bucket_key_enabled") {
            encryption.push(("x-amz-server-side-encryption-bucket-key-enabled", b));
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Between two reads of the answer (a whole part may take long to send).
            .read_timeout(Duration::from_secs(120))
            .pool_idle_timeout(Duration::from_secs(30));
        // As object_store: AWS_PROXY_URL, else reqwest's (and object_store's) HTTPS_PROXY/HTTP_PROXY.
        if let Some(proxy) =
            builder.get_config_value(&AmazonS3ConfigKey::Client(ClientConfigKey::ProxyUrl))
        {
            let proxy = reqwest::Proxy::all(&proxy)
                .map_err(|e| invalid(format!("proxy URL {proxy:?}: {e}")))?;
            http = http.proxy(proxy);
        }
        let http = http
            .build()
            .map_err(|e| invalid(format!("HTTP client: {e}")))?;
        Ok(Some(ChecksumWriter {
            http,
            store,
            region,
            bucket_endpoint,
            encryption,
        }))
    }

    /// The URL of the object `key` (a key, not a [`Path`]: a directory marker's ends in `/`).
    fn url(&self, key: &str, query: &[(&str, &str)]) -> String {
        let mut url = format!(
            "{}/{}",
            self.bucket_endpoint,
            utf8_percent_encode(key, KEY_ENCODE)
        );
        for (i, (k, v)) in query.iter().enumerate() {
            let _ = write!(
                url,
                "{}{k}={}",
                if i == 0 { '?' } else { '&' },
                utf8_percent_encode(v, ESCAPE_RESERVED)
            );
        }
        url
    }

    /// Sends one signed request; returns the answer's headers and body when it is a success.
    async fn send(
        &self,
        op: &'static str,
        shown: &str,
        method: http::Method,
        url: String,
        headers: Headers,
        body: Bytes,
    ) -> Result<(http::HeaderMap, Bytes), CopyError> {
        let unreachable = |message: String| CopyError::S3Unreachable {
            op,
            path: shown.to_string(),
            message,
        };
        let credential = self
            .store
            .credentials()
            .get_credential()
            .await
            .map_err(|e| CopyError::store("get credentials for", shown, e))?;
        let mut request = http::Request::builder().method(method.clone()).uri(&url);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        // The payload is not hashed (as for the rest of the copy: see plan.rs); the CRC32C header,
        // signed, protects it end to end.
        let mut signed: HttpRequest = request
            .body(HttpRequestBody::empty())
            .map_err(|e| unreachable(format!("cannot build the request: {e}")))?;
        AwsAuthorizer::new(&credential, "s3", &self.region)
            .with_sign_payload(false)
            .try_authorize(&mut signed, None)
            .map_err(|e| CopyError::store("sign", shown, e))?;
        let response = self
            .http
            .request(method, &url)
            .headers(signed.headers().clone())
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = response.status().as_u16();
        let answer_headers = response.headers().clone();
        let answer = response
            .bytes()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        // CompleteMultipartUpload may fail after a 200 (the error is then in the body).
        if (200..300).contains(&status) && !is_error_body(&answer) {
            return Ok((answer_headers, answer));
        }
        let code = xml_text(&answer, "Code").unwrap_or_default();
        let message = xml_text(&answer, "Message")
            .unwrap_or_else(|| String::from_utf8_lossy(&answer[..answer.len().min(300)]).into());
        if code == "BadDigest" || code == "InvalidDigest" {
            return Err(CopyError::ChecksumRejected {
                path: shown.to_string(),
                expected: headers
                    .iter()
                    .find(|(n, _)| *n == "x-amz-checksum-crc32c")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                message: format!("{code}: {message}"),
            });
        }
        Err(CopyError::S3 {
            op,
            path: shown.to_string(),
            status,
            code,
            message,
        })
    }

    /// `headers` with the encryption settings and the user metadata (`x-amz-meta-*`).
    fn with_meta(&self, meta: &Meta, mut headers: Headers) -> Headers {
        headers.extend(
            self.encryption
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone())),
        );
        headers.extend(
            meta.iter()
                .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone())),
        );
        headers
    }

    /// PutObject of a whole file with its CRC32C; `shown` names it in errors.
    pub async fn put(
        &self,
        path: &Path,
        shown: &str,
        data: Bytes,
        crc: u32,
        meta: &Meta,
    ) -> Result<Written, CopyError> {
        let headers = self.with_meta(
            meta,
            vec![("x-amz-checksum-crc32c".into(), crc32c_base64(crc))],
        );
        let (h, _) = self
            .send(
                "put",
                shown,
                http::Method::PUT,
                self.url(path.as_ref(), &[]),
                headers,
                data,
            )
            .await?;
        Ok(written(&h, None))
    }

    /// PutObject of the directory marker `key` (ending in `/`): the empty object S3A's `mkdirs`
    /// writes for an empty directory, with S3A's content type.
    pub async fn put_marker(&self, key: &str, shown: &str) -> Result<(), CopyError> {
        let headers = self.with_meta(
            &Meta::new(),
            vec![("content-type".into(), "application/x-directory".into())],
        );
        let url = self.url(key, &[]);
        self.send("put", shown, http::Method::PUT, url, headers, Bytes::new())
            .await
            .map(|_| ())
    }

    /// DeleteObject of the directory marker `key` (ending in `/`). S3 answers a key that is not
    /// there with success too.
    pub async fn delete_marker(&self, key: &str, shown: &str) -> Result<(), CopyError> {
        let url = self.url(key, &[]);
        self.send(
            "delete",
            shown,
            http::Method::DELETE,
            url,
            Vec::new(),
            Bytes::new(),
        )
        .await
        .map(|_| ())
    }

    /// CreateMultipartUpload announcing CRC32C part checksums; returns the upload id.
    pub async fn create_upload(
        &self,
        path: &Path,
        shown: &str,
        meta: &Meta,
    ) -> Result<String, CopyError> {
        let headers = self.with_meta(
            meta,
            vec![("x-amz-checksum-algorithm".into(), "CRC32C".into())],
        );
        let url = self.url(path.as_ref(), &[("uploads", "")]);
        let (_, body) = self
            .send(
                "create multipart upload",
                shown,
                http::Method::POST,
                url,
                headers,
                Bytes::new(),
            )
            .await?;
        xml_text(&body, "UploadId").ok_or_else(|| CopyError::S3 {
            op: "create multipart upload",
            path: shown.to_string(),
            status: 200,
            code: String::new(),
            message: "the answer has no UploadId".into(),
        })
    }

    /// UploadPart `idx` (0-based) with its CRC32C.
    pub async fn put_part(
        &self,
        path: &Path,
        shown: &str,
        upload_id: &str,
        idx: usize,
        data: Bytes,
        crc: u32,
    ) -> Result<Written, CopyError> {
        let number = (idx + 1).to_string();
        let url = self.url(
            path.as_ref(),
            &[("partNumber", &number), ("uploadId", upload_id)],
        );
        let headers = vec![("x-amz-checksum-crc32c".into(), crc32c_base64(crc))];
        let (h, _) = self
            .send("upload part", shown, http::Method::PUT, url, headers, data)
            .await?;
        Ok(written(&h, None))
    }

    /// CompleteMultipartUpload, listing each part's CRC32C the server stored. The answer's
    /// `crc32c` is the object's composite checksum when the server reports one.
    pub async fn complete(
        &self,
        path: &Path,
        shown: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<Written, CopyError> {
        let mut body = String::from("<CompleteMultipartUpload>");
        for (i, p) in parts.iter().enumerate() {
            let _ = write!(
                body,
                "<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag>",
                i + 1,
                xml_escape(&p.etag)
            );
            if let Some(crc) = p.crc32c {
                let _ = write!(
                    body,
                    "<ChecksumCRC32C>{}</ChecksumCRC32C>",
                    crc32c_base64(crc)
                );
            }
            body.push_str("</Part>");
        }
        body.push_str("</CompleteMultipartUpload>");
        let url = self.url(path.as_ref(), &[("uploadId", upload_id)]);
        let headers = vec![("content-type".into(), "application/xml".into())];
        let (h, answer) = self
            .send(
                "complete multipart upload",
                shown,
                http::Method::POST,
                url,
                headers,
                Bytes::from(body),
            )
            .await?;
        let etag = xml_text(&answer, "ETag").map(|e| crate::digest::normalize_etag(&e));
        let crc = xml_text(&answer, "ChecksumCRC32C");
        let mut w = written(&h, crc);
        if let Some(e) = etag {
            w.etag = e;
        }
        Ok(w)
    }

    /// The CRC32C the server stored for an object (HEAD with `x-amz-checksum-mode: ENABLED`):
    /// `base64` for a single PUT, `base64-N` for a multipart upload; `None` when it has none.
    pub async fn stored_crc32c(
        &self,
        path: &Path,
        shown: &str,
    ) -> Result<Option<String>, CopyError> {
        let headers = vec![("x-amz-checksum-mode".into(), "ENABLED".into())];
        let (h, _) = self
            .send(
                "head",
                shown,
                http::Method::HEAD,
                self.url(path.as_ref(), &[]),
                headers,
                Bytes::new(),
            )
            .await?;
        Ok(written(&h, None).crc32c)
    }
}

fn written(h: &http::HeaderMap, body_crc: Option<String>) -> Written {
    let text = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Written {
        etag: text("etag")
            .map(|e| crate::digest::normalize_etag(&e))
            .unwrap_or_default(),
        crc32c: body_crc.or_else(|| text("x-amz-checksum-crc32c")),
    }
}

fn is_error_body(body: &[u8]) -> bool {
    let head = &body[..body.len().min(200)];
    String::from_utf8_lossy(head).contains("<Error>")
}

/// The text of the first `<tag>` element of an S3 XML answer, unescaped.
fn xml_text(body: &[u8], tag: &str) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    let open = format!("<{tag}>");
    let start = s.find(&open)? + open.len();
    let end = start + s[start..].find(&format!("</{tag}>"))?;
    Some(xml_unescape(&s[start..end]))
}

/// Resolves the five named entities and numeric references (`&#34;`, `&#x22;`).
fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let c = match entity {
            "quot" => Some('"'),
            "apos" => Some('\''),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        // RFC 3720 test vector: 32 bytes of zeros.
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c_base64(0x8a91_36aa), "ipE2qg==");
        // The composite is the CRC32C of the concatenated big-endian part checksums.
        let parts = [crc32c::crc32c(b"hello "), crc32c::crc32c(b"world")];
        let mut cat = Vec::new();
        cat.extend_from_slice(&parts[0].to_be_bytes());
        cat.extend_from_slice(&parts[1].to_be_bytes());
        assert_eq!(
            composite_crc32c(&parts),
            format!("{}-2", crc32c_base64(crc32c::crc32c(&cat)))
        );
        assert_eq!(
            xml_text(b"<a><ETag>&quot;x&quot;</ETag></a>", "ETag").as_deref(),
            Some("\"x\"")
        );
        assert_eq!(xml_unescape("&#34;a&#x22;&amp;b&bogus;"), "\"a\"&b&bogus;");
        assert!(is_error_body(
            b"<?xml version=\"1.0\"?><Error><Code>X</Code></Error>"
        ));
    }

    /// The writer against the real S3 server: right checksums are stored and echoed, wrong ones
    /// refused as verification failures, multipart objects get the composite checksum.
    #[test]
    fn real_server_stores_and_checks_crc32c() {
        use migrate_core::{ErrorClass, Retry};
        let Some(s3) = migrate_testkit::s3() else {
            return;
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let builder =
                migrate_stage::s3_builder(s3.bucket(), None, true).with_unsigned_payload(true);
            let store = std::sync::Arc::new(builder.clone().build().unwrap());
            let w = ChecksumWriter::new(&builder, store)
                .unwrap()
                .expect("a plain configuration gets the writer");
            let prefix = migrate_testkit::unique_name("crc_writer");
            let meta: Meta = vec![(crate::dest::META_MTIME, "123".to_string())];

            // Single PUT: a wrong CRC32C is refused (BadDigest), a verification failure.
            let key = Path::from(format!("{prefix}/one ü.txt"));
            let data = Bytes::from_static(b"hello crc32c");
            let crc = crc32c::crc32c(&data);
            let err = w
                .put(&key, "one", data.clone(), crc ^ 1, &meta)
                .await
                .unwrap_err();
            assert!(matches!(err, CopyError::ChecksumRejected { .. }), "{err}");
            assert_eq!(err.retry(), Retry::Transient, "re-read and re-sent");
            let ok = w.put(&key, "one", data.clone(), crc, &meta).await.unwrap();
            assert_eq!(ok.crc32c, Some(crc32c_base64(crc)));
            assert_eq!(ok.etag, crate::digest::hex(&crate::digest::md5(&data)));
            assert_eq!(
                w.stored_crc32c(&key, "one").await.unwrap(),
                Some(crc32c_base64(crc))
            );

            // Multipart: 5 MiB + 1 byte.
            let key = Path::from(format!("{prefix}/multi"));
            let p1 = Bytes::from(vec![7u8; 5 << 20]);
            let p2 = Bytes::from_static(b"x");
            let (c1, c2) = (crc32c::crc32c(&p1), crc32c::crc32c(&p2));
            let id = w.create_upload(&key, "multi", &meta).await.unwrap();
            let err = w
                .put_part(&key, "multi", &id, 0, p1.clone(), c1 ^ 1)
                .await
                .unwrap_err();
            assert!(matches!(err, CopyError::ChecksumRejected { .. }), "{err}");
            let a = w.put_part(&key, "multi", &id, 0, p1, c1).await.unwrap();
            let b = w.put_part(&key, "multi", &id, 1, p2, c2).await.unwrap();
            assert_eq!(a.crc32c, Some(crc32c_base64(c1)));
            assert_eq!(b.crc32c, Some(crc32c_base64(c2)));
            let parts = [
                CompletedPart {
                    etag: a.etag,
                    crc32c: Some(c1),
                },
                CompletedPart {
                    etag: b.etag,
                    crc32c: Some(c2),
                },
            ];
            let done = w.complete(&key, "multi", &id, &parts).await.unwrap();
            let composite = composite_crc32c(&[c1, c2]);
            assert!(done.etag.ends_with("-2"), "{done:?}");
            assert_eq!(
                w.stored_crc32c(&key, "multi").await.unwrap().as_deref(),
                Some(composite.as_str())
            );
            if let Some(c) = &done.crc32c {
                assert_eq!(c, &composite);
            }

            // A part of an upload that does not exist: a definite 4xx.
            let err = w
                .put_part(
                    &key,
                    "multi",
                    "no-such-upload",
                    0,
                    Bytes::from_static(b"y"),
                    crc32c::crc32c(b"y"),
                )
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    CopyError::S3 {
                        status: 400..=499,
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(err.retry(), Retry::Definite, "{err}");
        });
    }
}
