//! Connections to the test server that accepts TLS only (`migrate_testkit::postgres_tls`): its URL
//! asks for `sslmode=verify-full` against the test CA.

use migrate_pgconn::{is_tls_failure, PgConnector};

/// `url` with its query replaced by `query`.
fn with_query(url: &str, query: &str) -> String {
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    format!("{base}?{query}")
}

/// The test CA's file, from the server's URL.
fn test_ca(url: &str) -> String {
    url.split(['?', '&'])
        .find_map(|part| part.strip_prefix("sslrootcert="))
        .expect("the TLS server's URL names its CA")
        .to_string()
}

/// The server's port, from its URL.
fn port(url: &str) -> &str {
    url.split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .expect("a port")
}

/// Connects and says whether the session is encrypted.
async fn encrypted(url: &str) -> Result<bool, tokio_postgres::Error> {
    let connector = PgConnector::new(url).expect("valid settings");
    let (client, _) = connector.connect().await?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

#[tokio::test]
async fn verify_full_connects_encrypted_with_the_servers_ca() {
    let Some(server) = migrate_testkit::postgres_tls() else {
        return;
    };
    assert!(encrypted(server.url()).await.unwrap());
    // The key=value form, with the same settings.
    let ca = test_ca(server.url());
    let port = port(server.url());
    let key_values = format!(
        "host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=verify-full sslrootcert='{ca}'"
    );
    assert!(encrypted(&key_values).await.unwrap());
}

#[tokio::test]
async fn a_bundle_with_an_unusable_certificate_still_trusts_the_others() {
    let Some(server) = migrate_testkit::postgres_tls() else {
        return;
    };
    let ca = std::fs::read_to_string(test_ca(server.url())).unwrap();
    let bundle = std::env::temp_dir().join(migrate_testkit::unique_name("bundle"));
    // A block that is PEM but not a certificate webpki can use, then the test CA.
    std::fs::write(
        &bundle,
        format!("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n{ca}"),
    )
    .unwrap();
    let url = with_query(
        server.url(),
        &format!("sslmode=verify-full&sslrootcert={}", bundle.display()),
    );
    let encrypted = encrypted(&url).await;
    let _ = std::fs::remove_file(&bundle);
    assert!(encrypted.unwrap());
}

#[tokio::test]
async fn require_encrypts_without_checking_the_certificate() {
    let Some(server) = migrate_testkit::postgres_tls() else {
        return;
    };
    assert!(encrypted(&with_query(server.url(), "sslmode=require"))
        .await
        .unwrap());
    // The default, prefer, encrypts when the server offers it.
    assert!(encrypted(&with_query(server.url(), "")).await.unwrap());
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused_for_good() {
    let Some(server) = migrate_testkit::postgres_tls() else {
        return;
    };
    // The test CA is not among the public roots.
    let error = encrypted(&with_query(
        server.url(),
        "sslmode=verify-full&sslrootcert=system",
    ))
    .await
    .unwrap_err();
    assert!(is_tls_failure(&error), "{error:?}");
    let text = migrate_core::error_chain(&error);
    assert!(text.contains("UnknownIssuer"), "{text}");
}

#[tokio::test]
async fn verify_ca_accepts_a_certificate_for_another_name_and_verify_full_does_not() {
    let Some(server) = migrate_testkit::postgres_tls() else {
        return;
    };
    let ca = test_ca(server.url());
    let port = port(server.url());
    // The certificate is for 127.0.0.1 and localhost; hostaddr reaches the server under a name
    // the certificate does not have.
    let named = |mode: &str| {
        format!(
            "host=db.example hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres sslmode={mode} sslrootcert='{ca}'"
        )
    };
    assert!(encrypted(&named("verify-ca")).await.unwrap());
    let error = encrypted(&named("verify-full")).await.unwrap_err();
    assert!(is_tls_failure(&error), "{error:?}");
    let text = migrate_core::error_chain(&error);
    assert!(text.contains("not valid for name"), "{text}");
}

#[tokio::test]
async fn without_tls_the_server_refuses_and_says_so() {
    let Some(server) = migrate_testkit::postgres_tls() else {
        return;
    };
    let error = encrypted(&with_query(server.url(), "sslmode=disable"))
        .await
        .unwrap_err();
    assert!(!is_tls_failure(&error), "{error:?}");
    let text = migrate_core::error_chain(&error);
    assert!(text.contains("no encryption"), "{text}");
}

#[tokio::test]
async fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let Some(server) = migrate_testkit::postgres_tls() else {
        return;
    };
    // The server lets the role migrate_cert in with the test CA's client certificate only.
    server
        .sql("DO $$ BEGIN CREATE ROLE migrate_cert LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        .unwrap();
    let ca = test_ca(server.url());
    let dir = std::path::Path::new(&ca)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let url = |query: &str| {
        format!(
            "postgres://migrate_cert@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={ca}{query}",
            port(server.url())
        )
    };
    let with_certificate = url(&format!(
        "&sslcert={dir}/client.crt&sslkey={dir}/client.key"
    ));
    assert!(encrypted(&with_certificate).await.unwrap());
    let error = encrypted(&url("")).await.unwrap_err();
    let text = migrate_core::error_chain(&error);
    assert!(text.contains("certificate"), "{text}");
}
