//! PostgreSQL domains read from a live source by `migrate convert --source`: what the converted
//! tables take is what the source's take.

mod common;

use common::migrate;

/// A column that is an array of a NOT NULL domain (directly, or through a domain over an array
/// of it) refuses NULL elements on the source: the converted column gets that as a CHECK on its
/// elements (it was lost without a finding), and the target refuses what the source refuses.
#[test]
fn live_arrays_of_a_not_null_domain_still_refuse_null_elements() {
    let Some(server) = migrate_testkit::postgres() else {
        return;
    };
    let source = server.create_database("domain_array_live_src");
    source
        .sql(
            "CREATE DOMAIN pos AS integer NOT NULL;
             CREATE DOMAIN positions AS pos[] CHECK (cardinality(VALUE) < 4);
             CREATE TABLE t (id integer PRIMARY KEY, a pos[], p positions);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let output = migrate(&["convert", "--target", "postgres", "--source", source.url()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let target = server.create_database("domain_array_live_dst");
    target
        .sql(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    let inserts = [
        "INSERT INTO public.t VALUES (1, '{1,2}', '{3}')",
        "INSERT INTO public.t VALUES (2, '{{1,2},{3,4}}', NULL)",
        "INSERT INTO public.t VALUES (3, NULL, '{}')",
        "INSERT INTO public.t VALUES (4, '{1,NULL}', NULL)",
        "INSERT INTO public.t VALUES (5, '{{1,2},{NULL,4}}', NULL)",
        "INSERT INTO public.t VALUES (6, NULL, '{NULL}')",
        "INSERT INTO public.t VALUES (7, NULL, '{1,2,3,4}')",
    ];
    let rows = "SELECT id, a, p FROM public.t ORDER BY id";
    assert_eq!(
        common::same_verdicts(&source, &target, &inserts, rows),
        [true, true, true, false, false, false, false],
        "{stdout}"
    );
}
