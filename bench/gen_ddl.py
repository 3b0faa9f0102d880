#!/usr/bin/env python3
"""Writes a synthetic Oracle schema export in the style of DBMS_METADATA.GET_DDL.

Usage: gen_ddl.py TABLES OUT.sql

Deterministic: the same TABLES always gives the same bytes, so runs compare like with like.
Each table has 5 to 35 columns (20 on average, so 10,000 tables hold about 200,000 columns) of
NUMBER(p,s), VARCHAR2(n CHAR|BYTE), DATE, TIMESTAMP, CLOB and a few others, a primary key with its
USING INDEX storage clause, NOT NULL/CHECK/UNIQUE/foreign-key constraints, the physical
attributes DBMS_METADATA prints, a LOB storage clause for CLOB columns, range partitions on every
50th table, and COMMENT ON statements.
"""

import random
import sys

STORAGE = (
    "STORAGE(INITIAL 65536 NEXT 1048576 MINEXTENTS 1 MAXEXTENTS 2147483645\n"
    "  PCTINCREASE 0 FREELISTS 1 FREELIST GROUPS 1\n"
    "  BUFFER_POOL DEFAULT FLASH_CACHE DEFAULT CELL_FLASH_CACHE DEFAULT)"
)


def column_type(rng):
    """A column type, weighted roughly like a business schema."""
    pick = rng.random()
    if pick < 0.30:
        precision = rng.choice([5, 9, 10, 12, 18, 38])
        return f"NUMBER({precision},{rng.choice([0, 0, 2, 4])})"
    if pick < 0.35:
        return "NUMBER"
    if pick < 0.60:
        return f"VARCHAR2({rng.choice([1, 10, 30, 100, 255, 4000])} {rng.choice(['CHAR', 'BYTE'])})"
    if pick < 0.72:
        return "DATE"
    if pick < 0.80:
        return f"TIMESTAMP ({rng.choice([0, 3, 6, 9])})"
    if pick < 0.83:
        return "TIMESTAMP (6) WITH TIME ZONE"
    if pick < 0.86:
        return "CLOB"
    if pick < 0.90:
        return f"CHAR({rng.choice([1, 2, 3])} BYTE)"
    if pick < 0.93:
        return f"NVARCHAR2({rng.choice([50, 200])})"
    if pick < 0.96:
        return "FLOAT(126)"
    if pick < 0.98:
        return "RAW(16)"
    return "BINARY_DOUBLE"


def table_ddl(rng, schema, index, out):
    name = f"T{index:05d}"
    qualified = f'"{schema}"."{name}"'
    count = rng.randint(5, 35)
    columns = [("ID", "NUMBER(18,0)")]
    columns += [(f"C{c:03d}", column_type(rng)) for c in range(1, count)]
    partitioned = index % 50 == 0
    if partitioned:
        columns[1] = ("C001", "DATE")
    parent = None
    if index > 1 and rng.random() < 0.3:
        parent = f"T{rng.randint(1, index - 1):05d}"
        columns[-1] = ("PARENT_ID", "NUMBER(18,0)")

    lines = []
    for column, ty in columns:
        line = f'\t"{column}" {ty}'
        if column == "ID" or (column == "C001" and partitioned):
            line += " NOT NULL ENABLE"
        elif ty.startswith("VARCHAR2") and rng.random() < 0.05:
            line += " DEFAULT 'N/A'"
        elif ty.startswith("NUMBER(") and rng.random() < 0.05:
            line += f' CHECK ("{column}" >= 0) ENABLE'
        elif ty == "DATE" and rng.random() < 0.10:
            line += " DEFAULT SYSDATE"
        lines.append(line)
    lines.append(
        f'\t CONSTRAINT "{name}_PK" PRIMARY KEY ("ID")\n'
        "  USING INDEX PCTFREE 10 INITRANS 2 MAXTRANS 255 COMPUTE STATISTICS\n"
        f'  {STORAGE}\n  TABLESPACE "USERS"  ENABLE'
    )
    if rng.random() < 0.2:
        lines.append(f'\t CONSTRAINT "{name}_UK" UNIQUE ("{columns[2][0]}") ENABLE')
    if parent:
        lines.append(
            f'\t CONSTRAINT "{name}_FK" FOREIGN KEY ("PARENT_ID")\n'
            f'\t  REFERENCES "{schema}"."{parent}" ("ID") ENABLE'
        )

    out.write(f"\n  CREATE TABLE {qualified}\n   (")
    out.write(", \n".join(lines))
    out.write(
        "\n   ) SEGMENT CREATION IMMEDIATE\n"
        "  PCTFREE 10 PCTUSED 40 INITRANS 1 MAXTRANS 255\n"
        " NOCOMPRESS LOGGING\n"
        f"  {STORAGE}\n"
        '  TABLESPACE "USERS"'
    )
    for column, ty in columns:
        if ty == "CLOB":
            out.write(
                f'\n LOB ("{column}") STORE AS SECUREFILE (\n'
                '  TABLESPACE "USERS" ENABLE STORAGE IN ROW CHUNK 8192\n'
                f"  NOCACHE LOGGING  NOCOMPRESS  KEEP_DUPLICATES\n  {STORAGE})"
            )
    if partitioned:
        out.write('\n  PARTITION BY RANGE ("C001")\n (')
        out.write(
            ",\n ".join(
                f'PARTITION "P{year}" VALUES LESS THAN '
                f"(TO_DATE(' {year + 1}-01-01 00:00:00', 'SYYYY-MM-DD HH24:MI:SS', "
                "'NLS_CALENDAR=GREGORIAN'))"
                for year in range(2020, 2025)
            )
        )
        out.write(")")
    out.write(" ;\n")

    out.write(f"\n   COMMENT ON TABLE {qualified}  IS 'Synthetic table {index}';\n")
    for column, _ in columns[1:3]:
        out.write(
            f"\n   COMMENT ON COLUMN {qualified}.\"{column}\" IS 'Column {column} of {name}, it''s described';\n"
        )
    return len(columns)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tables = int(sys.argv[1])
    rng = random.Random(20260101)
    total = 0
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        for index in range(1, tables + 1):
            total += table_ddl(rng, "BENCH", index, out)
    print(f"{tables} tables, {total} columns", file=sys.stderr)


if __name__ == "__main__":
    main()
