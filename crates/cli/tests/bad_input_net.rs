//! Bad network settings, as a careless user gives them: a staging endpoint that is down, TLS
//! required of a server without it, a signal while the run waits to connect again. Each must end
//! soon, with exit code 2 and a message that names what failed, why, and what to check.

mod common;

use common::{mariadb_task, migrate_command, one, pg_task, replicate_args};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// A local port nothing listens on (connections to it are refused).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a local port")
        .local_addr()
        .expect("its address")
        .port()
}

/// Exit code and standard error of a run, after checking it did not panic.
fn refused(output: &Output) -> (Option<i32>, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status.code(), stderr)
}

/// S3 staging whose endpoint refuses connections: after object_store's own retries, the error
/// names the endpoint, the cause (not only "error sending request") and what to check; no target
/// table is made.
#[test]
fn an_s3_staging_endpoint_that_is_down_is_named_with_its_cause() {
    let (Some((source, target, _)), Some(s3)) = (pg_task("h10_s3down"), migrate_testkit::s3())
    else {
        return;
    };
    source
        .sql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')")
        .expect("source table");
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let staging = s3.unique_url("h10_s3down");
    let args = replicate_args(
        source.url(),
        target.url(),
        Path::new(&staging),
        &["--staging-endpoint", &endpoint],
    );
    let (code, stderr) = refused(
        &migrate_command(&args)
            .envs(s3.env())
            .output()
            .expect("run migrate"),
    );
    assert_eq!(code, Some(2), "{stderr}");
    let error = stderr
        .lines()
        .find(|line| line.starts_with("migrate: error:"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    for expected in [
        "writing a probe object to s3://",
        "Connection refused",
        &format!("no answer from the S3 endpoint {endpoint}: check that it is running"),
        "--staging-endpoint",
    ] {
        assert!(error.contains(expected), "{expected:?} is missing: {error}");
    }
    assert_eq!(
        one(
            &target,
            "SELECT count(*) FROM pg_tables WHERE tablename = 't'"
        ),
        "0",
        "no target table is prepared before staging is found writable"
    );

    // `copy` to S3 reads the same way.
    let dir = std::env::temp_dir().join(migrate_testkit::unique_name("h10_copydown"));
    std::fs::create_dir_all(&dir).expect("source dir");
    std::fs::write(dir.join("a.txt"), b"a").expect("source file");
    let (code, stderr) = refused(
        &migrate_command(&[
            "copy",
            dir.to_str().expect("utf-8 path"),
            &s3.unique_url("h10_copydown"),
            "--endpoint",
            &endpoint,
        ])
        .envs(s3.env())
        .output()
        .expect("run migrate"),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("Connection refused")
            && stderr.contains(&format!("no answer from the S3 endpoint {endpoint}")),
        "{stderr}"
    );
}

/// `sslmode=require` (PostgreSQL, source or target) and `ssl-mode=REQUIRED` (MariaDB) against
/// a server that offers no TLS: a definite refusal, reported at once (no retries) with what to
/// change.
#[test]
fn tls_required_of_a_server_without_it_fails_at_once() {
    let (Some((source, target, staging)), Some((mariadb, _, _))) =
        (pg_task("h10_notls"), mariadb_task("h10_notls"))
    else {
        return;
    };
    assert_eq!(
        one(&source, "SHOW ssl"),
        "off",
        "this test needs the PostgreSQL test server without TLS"
    );
    let have_ssl = mariadb
        .sql("SHOW VARIABLES LIKE 'have_ssl'")
        .expect("have_ssl");
    assert!(
        !have_ssl.contains("YES"),
        "this test needs the MariaDB test server without TLS: {have_ssl}"
    );
    source
        .sql("CREATE TABLE t (id int PRIMARY KEY)")
        .expect("source table");
    mariadb
        .sql("CREATE TABLE t (id int PRIMARY KEY)")
        .expect("source table");
    let pg_source = format!("{}?sslmode=require", source.url());
    let pg_target = format!("{}?sslmode=require", target.url());
    let my_source = format!("{}?ssl-mode=REQUIRED", mariadb.url());
    let cases = [
        (
            pg_source.as_str(),
            target.url(),
            "the server does not offer TLS: enable it on the server",
        ),
        (
            source.url(),
            pg_target.as_str(),
            "the server does not offer TLS: enable it on the server",
        ),
        (
            my_source.as_str(),
            target.url(),
            "the server does not offer TLS: enable TLS on the server",
        ),
    ];
    for (from, to, advice) in cases {
        let started = Instant::now();
        let (code, stderr) = refused(
            &migrate_command(&replicate_args(from, to, &staging, &[]))
                .output()
                .expect("run migrate"),
        );
        let took = started.elapsed();
        assert_eq!(code, Some(2), "{from} -> {to}: {stderr}");
        assert!(stderr.contains(advice), "{from} -> {to}: {stderr}");
        assert!(
            !stderr.contains("retrying"),
            "{from} -> {to}: a refusal of TLS is not retried: {stderr}"
        );
        assert!(
            took < Duration::from_secs(3),
            "{from} -> {to}: took {took:?}: {stderr}"
        );
    }
}

/// SIGINT or SIGTERM while the run waits to connect again to a target that is down: the wait
/// ends at once, and the run with it (exit code 2, the last connection error, naming the stop).
#[test]
fn a_signal_ends_the_wait_to_connect_again() {
    let Some((source, _, staging)) = pg_task("h10_sigconn") else {
        return;
    };
    source
        .sql("CREATE TABLE t (id int PRIMARY KEY)")
        .expect("source table");
    let target = format!("postgres://postgres@127.0.0.1:{}/x", free_port());
    for signal in ["-INT", "-TERM"] {
        let mut child = migrate_command(&replicate_args(source.url(), &target, &staging, &[]))
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run migrate");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut stderr = String::new();
        // The first retry is announced: the run is waiting (0.5 s, then 1, 2 and 4 s).
        for line in lines.by_ref() {
            let line = line.expect("stderr line");
            stderr.push_str(&line);
            stderr.push('\n');
            if line.contains("retrying in") {
                break;
            }
        }
        assert!(stderr.contains("retry 1 of 4"), "{stderr}");
        let signalled = Instant::now();
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        for line in lines {
            stderr.push_str(&line.expect("stderr line"));
            stderr.push('\n');
        }
        let code = child.wait().expect("wait for migrate").code();
        let took = signalled.elapsed();
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            took < Duration::from_millis(1500),
            "{signal}: migrate went on for {took:?} after the signal: {stderr}"
        );
        assert_eq!(code, Some(2), "{signal}: {stderr}");
        assert!(
            stderr.contains(
                "migrate: error: stopped by a signal while waiting to retry connecting to the target: cannot connect to the PostgreSQL warehouse at postgres@127.0.0.1:"
            ) && stderr.contains("Connection refused"),
            "{signal}: {stderr}"
        );
    }
}

/// `host:port` of a server's URL (`scheme://user@host:port/database`).
fn address(url: &str) -> &str {
    let server = url.split_once('@').map_or(url, |(_, server)| server);
    server.split('/').next().unwrap_or(server)
}

/// A `postgres://` URL at MariaDB's port, or a `mysql://` URL at PostgreSQL's: the error said
/// only "Connection reset by peer", "unknown message tag" or "connection closed"; it now says
/// that the server there may not be of the URL's kind, and which port to check. (The MySQL
/// client waits for the greeting a PostgreSQL server never sends, until the server gives up:
/// authentication_timeout, a minute by default.)
#[test]
fn a_url_at_the_port_of_another_kind_of_server_says_so() {
    let (Some(pg), Some(mariadb)) = (migrate_testkit::postgres(), migrate_testkit::mariadb())
    else {
        return;
    };
    let (pg_address, mariadb_address) = (address(pg.url()), address(mariadb.url()));
    let not_postgres = "may not be a PostgreSQL server: it did not answer in PostgreSQL's protocol";
    let not_mysql =
        "may not be a MySQL or MariaDB server: it closed the connection without the greeting";
    let cases = [
        (
            format!("postgres://postgres@{mariadb_address}/x"),
            format!("cannot connect to PostgreSQL at postgres@{mariadb_address}/x: "),
            not_postgres,
            "PostgreSQL listens on 5432",
        ),
        (
            format!("postgres://postgres@{mariadb_address}/x?sslmode=disable"),
            format!("cannot connect to PostgreSQL at postgres@{mariadb_address}/x: "),
            not_postgres,
            "PostgreSQL listens on 5432",
        ),
        (
            format!("mysql://root@{pg_address}/x"),
            format!("cannot connect to MySQL at root@{pg_address}/x: "),
            not_mysql,
            "MySQL and MariaDB listen on 3306",
        ),
    ];
    for (url, endpoint, hint, port) in cases {
        let (code, stderr) = refused(
            &migrate_command(&["assess", "--source", &url])
                .output()
                .expect("run migrate"),
        );
        assert_eq!(code, Some(2), "{url}: {stderr}");
        for expected in [endpoint.as_str(), hint, port, "check the URL's port"] {
            assert!(
                stderr.contains(expected),
                "{url}: {expected:?} is missing: {stderr}"
            );
        }
    }
}

/// The root cause of a TLS failure ("server does not support TLS") comes after the error it
/// explains and before the advice, for a PostgreSQL source and target alike: it came at the
/// end, after the advice.
#[test]
fn a_tls_failure_says_its_cause_before_the_advice() {
    let Some((source, target, staging)) = pg_task("h10_tlscause") else {
        return;
    };
    assert_eq!(
        one(&source, "SHOW ssl"),
        "off",
        "this test needs the PostgreSQL test server without TLS"
    );
    source
        .sql("CREATE TABLE t (id int PRIMARY KEY)")
        .expect("source table");
    let verify = "?sslmode=verify-full&sslrootcert=system";
    let (tls_source, tls_target) = (
        format!("{}{verify}", source.url()),
        format!("{}{verify}", target.url()),
    );
    let cases = [
        (
            vec!["assess", "--source", tls_source.as_str()],
            "cannot connect to PostgreSQL at",
        ),
        (
            replicate_args(source.url(), &tls_target, &staging, &[]),
            "cannot connect to the PostgreSQL warehouse at",
        ),
    ];
    for (args, what) in cases {
        let (code, stderr) = refused(&migrate_command(&args).output().expect("run migrate"));
        assert_eq!(code, Some(2), "{stderr}");
        let error = stderr
            .lines()
            .find(|line| line.starts_with("migrate: error:"))
            .unwrap_or_else(|| panic!("no error line: {stderr}"));
        assert!(
            error.contains(what)
                && error.contains(
                    "error performing TLS handshake: server does not support TLS; the server does not offer TLS: enable it on the server"
                ),
            "{error}"
        );
        assert!(error.ends_with("sslmode=disable"), "{error}");
    }
}
