//! Where a stage lives: a local directory or an S3 bucket and prefix, opened as an [`ObjectStore`].

use crate::{StageError, StageOptions};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::ObjectStore;
use std::path::PathBuf;
use std::sync::Arc;

/// The store behind a stage and how to print the URL of one of its objects.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// Object paths are relative to `root`, an absolute, existing directory.
    Local { root: PathBuf },
    /// Object paths are keys in `bucket`.
    S3 { bucket: String },
}

impl Location {
    /// The URL a warehouse or a person uses for the object at `path`: `s3://bucket/key`, or the
    /// absolute file path.
    pub(crate) fn object_url(&self, path: &str) -> String {
        match self {
            Location::S3 { bucket } => format!("s3://{bucket}/{path}"),
            Location::Local { root } => root.join(path).display().to_string(),
        }
    }
}

/// Parses `url` and opens its store. Returns the store, the key prefix inside it, and the location.
pub(crate) fn open(
    url: &str,
    options: &StageOptions,
) -> Result<(Arc<dyn ObjectStore>, Path, Location), StageError> {
    let bad = |reason: String| StageError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    if url.trim().is_empty() {
        return Err(bad("empty".into()));
    }
    match url.split_once("://") {
        None => open_dir(url, PathBuf::from(url)),
        Some((scheme, _)) => {
            let parsed = ::url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
            match scheme.to_ascii_lowercase().as_str() {
                "file" => {
                    let dir = parsed
                        .to_file_path()
                        .map_err(|()| bad("a file:// URL needs an absolute local path".into()))?;
                    open_dir(url, dir)
                }
                "s3" | "s3a" => open_s3(url, &parsed, options),
                other => Err(bad(format!(
                    "unsupported scheme {other:?}: use a directory, file:///dir or s3://bucket/prefix"
                ))),
            }
        }
    }
}

fn open_dir(url: &str, dir: PathBuf) -> Result<(Arc<dyn ObjectStore>, Path, Location), StageError> {
    let bad = |reason: String| StageError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| bad(format!("cannot create directory {}: {e}", dir.display())))?;
    let root = dir
        .canonicalize()
        .map_err(|e| bad(format!("cannot resolve directory {}: {e}", dir.display())))?;
    let store = LocalFileSystem::new_with_prefix(&root)
        .map_err(|e| bad(e.to_string()))?
        // Parent directories of chunk objects are made on demand, and removed for nothing.
        .with_automatic_cleanup(false);
    Ok((Arc::new(store), Path::default(), Location::Local { root }))
}

/// The S3 client settings every S3 user of the workspace shares: the standard AWS environment first
/// (keys, region, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, ...), then the explicit `endpoint` and
/// `allow_http` overrides. Path-style requests (the builder's default) work with any S3 server.
pub fn s3_builder(bucket: &str, endpoint: Option<&str>, allow_http: bool) -> AmazonS3Builder {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if allow_http {
        builder = builder.with_allow_http(true);
    }
    builder
}

fn open_s3(
    url: &str,
    parsed: &::url::Url,
    options: &StageOptions,
) -> Result<(Arc<dyn ObjectStore>, Path, Location), StageError> {
    let bad = |reason: String| StageError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let bucket = parsed
        .host_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| bad("no bucket: expected s3://bucket/prefix".into()))?
        .to_string();
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("query strings and fragments are not allowed".into()));
    }
    let key_prefix = parsed.path().trim_matches('/');
    let prefix = Path::parse(key_prefix).map_err(|e| bad(format!("bad prefix: {e}")))?;
    let store = s3_builder(&bucket, options.endpoint.as_deref(), options.allow_http)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    Ok((Arc::new(store), prefix, Location::S3 { bucket }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new/stage");
        let (_, prefix, loc) = open(dir.to_str().unwrap(), &StageOptions::default()).unwrap();
        assert!(dir.is_dir(), "directory is created");
        assert_eq!(prefix, Path::default());
        let url = format!("file://{}", tmp.path().join("other").display());
        assert!(matches!(
            open(&url, &StageOptions::default()).unwrap().2,
            Location::Local { .. }
        ));

        let (_, prefix, loc_s3) =
            open("s3://bucket/some/prefix/", &StageOptions::default()).unwrap();
        assert_eq!(prefix.as_ref(), "some/prefix");
        assert_eq!(
            loc_s3.object_url("some/prefix/t/x.parquet"),
            "s3://bucket/some/prefix/t/x.parquet"
        );
        assert!(loc
            .object_url("t/x.parquet")
            .ends_with("/new/stage/t/x.parquet"));

        for bad in ["", "gs://b/x", "s3:///x", "s3://b/x?y=1", "s3://b/a//b"] {
            let err = open(bad, &StageOptions::default()).unwrap_err();
            assert!(matches!(err, StageError::InvalidUrl { .. }), "{bad}: {err}");
        }
    }
}
