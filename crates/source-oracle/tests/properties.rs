//! Properties of the redo reader and the value conversion over generated input: whatever LogMiner
//! writes, reading never panics, and every string or number written the way LogMiner writes it
//! reads back exactly.

use migrate_batch::ColumnBuilder;
use migrate_core::LogicalType;
use migrate_source_oracle::redo::{parse_redo, Literal};
use migrate_source_oracle::sql::{quote_ident, quote_literal};
use migrate_source_oracle::value::{append, parse_datetime};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn reading_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_redo(&text);
        let _ = parse_datetime(&text, "SYYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM");
        let _ = parse_datetime("2024-01-01", &text);
    }

    #[test]
    fn statement_shaped_noise_never_panics(
        pieces in prop::collection::vec(prop_oneof![
            Just("insert into "), Just("update "), Just("delete from "), Just("\"A\".\"T\""),
            Just("("), Just(")"), Just(","), Just(" = "), Just(" and "), Just(" IS NULL"),
            Just("'x''y'"), Just("-1.5E+3"), Just("HEXTORAW("), Just("UNISTR('\\00"), Just("||"),
            Just(" values "), Just(" set "), Just(" where "), Just("ROWID"), Just("."), Just("'"),
        ], 0..40)
    ) {
        let _ = parse_redo(&pieces.concat());
    }

    #[test]
    fn strings_and_numbers_read_back_exactly(
        values in prop::collection::vec(prop_oneof![
            "\\PC{1,40}".prop_map(|s| (s, true)),
            (any::<i64>(), 0u32..6).prop_map(|(n, scale)| {
                let digits = n.unsigned_abs().to_string();
                let text = if scale == 0 || digits.len() <= scale as usize {
                    digits
                } else {
                    let point = digits.len() - scale as usize;
                    format!("{}.{}", &digits[..point], &digits[point..])
                };
                (if n < 0 { format!("-{text}") } else { text }, false)
            }),
        ], 1..8)
    ) {
        let columns: Vec<String> = (0..values.len()).map(|i| quote_ident(&format!("C{i}"))).collect();
        let literals: Vec<String> = values
            .iter()
            .map(|(v, is_text)| if *is_text { quote_literal(v) } else { v.clone() })
            .collect();
        let sql = format!(
            "insert into \"APP\".\"T\"({}) values ({})",
            columns.join(","),
            literals.join(",")
        );
        let redo = parse_redo(&sql).unwrap();
        for (i, (value, is_text)) in values.iter().enumerate() {
            let read = redo.after(&format!("C{i}")).unwrap();
            if *is_text {
                prop_assert_eq!(read, &Literal::String(value.clone()));
            } else {
                prop_assert_eq!(read, &Literal::Number(value.clone()));
                // And the number converts to the same text as an unbounded NUMBER.
                let ty = LogicalType::Numeric;
                let mut builder = ColumnBuilder::new(&migrate_batch::data_type(&ty)).unwrap();
                append(&mut builder, &ty, read).unwrap();
                let array = builder.finish();
                let text = array.as_any().downcast_ref::<arrow_array::LargeStringArray>().unwrap().value(0).to_string();
                // Plain decimal text: no leading zeros, no trailing fraction zeros, no `-0`.
                let body = value.trim_start_matches('-');
                let (integer, fraction) = body.split_once('.').unwrap_or((body, ""));
                let integer = match integer.trim_start_matches('0') {
                    "" => "0",
                    digits => digits,
                };
                let fraction = fraction.trim_end_matches('0');
                let mut expected = if fraction.is_empty() {
                    integer.to_string()
                } else {
                    format!("{integer}.{fraction}")
                };
                if value.starts_with('-') && expected != "0" {
                    expected = format!("-{expected}");
                }
                prop_assert_eq!(text, expected);
            }
        }
    }
}
