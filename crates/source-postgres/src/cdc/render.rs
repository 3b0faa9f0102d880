//! Values whose binary form capture does not decode (ranges, geometric types, money, extension
//! types such as `citext` or `hstore`, composite types, arrays of such elements) are converted
//! by the source server: a change batch's values of such a column go back to it as one array in
//! their binary form, and come out of the full load's own expression for the column
//! (`crate::read::choose`: the output function's text, `::numeric`, ...), so the target gets
//! exactly what a full load reads. Arrays have no array type of their own: their elements go
//! back instead, each comes out as `to_json`'s text, and the array's JSON is put together here
//! in its shape, as `to_json` of the whole array gives it. One round trip per change batch of a
//! table that has such columns.

use crate::read::array::{write_array, ArrayStyle};
use crate::read::decode::{utf8, Decoder, ValueError, Wire};
use crate::read::{base_type, choose, reads_as_json, text_of};
use crate::SourceError;
use arrow_array::ArrayRef;
use bytes::{BufMut, Bytes, BytesMut};
use migrate_core::Column;
use migrate_source::START_OVER;
use std::error::Error;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};
use tokio_postgres::{Client, Statement};

/// How the source converts a type's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Render {
    /// The values themselves, through the full load's expression for the column.
    Values,
    /// An array's elements (of this type oid), each through `to_json`.
    Elements(u32),
}

/// The values of one converted column gathered for a batch, and the decoder of what the server
/// returns for them.
pub(super) struct Unrendered {
    values: Vec<Option<Bytes>>,
    decoder: Decoder,
}

impl Unrendered {
    /// Gathers values converted into `decoder` (of the plan's wire for the column).
    pub fn new(decoder: Decoder) -> Unrendered {
        Unrendered {
            values: Vec::new(),
            decoder,
        }
    }

    /// A value in its binary `send` form; `None` for NULL (or a value not sent).
    pub fn push(&mut self, value: Option<Bytes>) {
        self.values.push(value);
    }

    /// The values converted so far (by [`Rendering::render`]), as an array.
    pub fn finish(&mut self) -> ArrayRef {
        self.decoder.finish()
    }
}

/// How one column's values are converted and put together.
enum Conversion {
    /// Each value by the full load's expression.
    Values,
    /// An array's elements, each as `to_json`'s text (`ArrayStyle::Json`) or as its output text
    /// (`ArrayStyle::Text`, when the full load reads the column as text), put together in that
    /// style.
    Elements(ArrayStyle),
}

/// One column of the plan.
struct Planned {
    /// Its name, for errors.
    name: String,
    conversion: Conversion,
    /// The wire of its expression's values.
    wire: Wire,
}

/// The statement converting a table's columns of such types:
/// `SELECT <expressions> FROM (SELECT unnest($1::t1[]) AS v0, ..., generate_series(...) AS n) u
/// ORDER BY n`.
pub(super) struct Rendering {
    statement: Statement,
    /// The table's name, for errors.
    table: String,
    columns: Vec<Planned>,
}

impl Rendering {
    /// Plans the conversion of `columns` of `table` (each with its type oid and how it is
    /// converted), in the order their values are given to [`Rendering::render`].
    pub async fn plan(
        client: &Client,
        table: &str,
        columns: &[(u32, Render, &Column)],
    ) -> Result<Rendering, SourceError> {
        let doing = format!("planning the conversion of {table}'s captured values");
        // The type of each parameter's elements.
        let oids: Vec<u32> = columns
            .iter()
            .map(|(oid, render, _)| match render {
                Render::Values => *oid,
                Render::Elements(element) => *element,
            })
            .collect();
        // Each type by its quoted, qualified name: a bare `bit` or `character` in a cast means
        // bit(1) or char(1), and would cut the values sent back to one bit or character.
        let rows = client
            .query(
                "SELECT quote_ident(nspname) || '.' || quote_ident(typname), typdelim::text \
                   FROM unnest($1::oid[]) WITH ORDINALITY AS u(t, n) \
                   JOIN pg_type ON pg_type.oid = t JOIN pg_namespace ON pg_namespace.oid = typnamespace \
                  ORDER BY n",
                &[&oids],
            )
            .await
            .map_err(SourceError::query(doing.clone()))?;
        if rows.len() != columns.len() {
            return Err(SourceError::Capture {
                message: format!(
                    "{table}: the type of a captured column is no longer in the source's catalog"
                ),
                action: format!(
                    "check whether a type was dropped on the source; then {START_OVER}"
                ),
            });
        }
        let types: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
        let delimiters: Vec<char> = rows
            .iter()
            .map(|row| row.get::<_, String>(1).chars().next().unwrap_or(','))
            .collect();
        // In the SELECT list, not FROM: a FROM function returning a composite type would be
        // expanded into its fields. Set-returning functions there run in lockstep, the shorter
        // padded with NULLs up to the longest (an array column's elements outnumber the rows);
        // `n` keeps their order.
        let unnests: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, name)| format!("unnest(${}::{name}[]) AS v{i}", i + 1))
            .collect();
        let cardinalities: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, name)| format!("cardinality(${}::{name}[])", i + 1))
            .collect();
        let from = format!(
            "(SELECT {}, generate_series(1, greatest({})) AS n) u",
            unnests.join(", "),
            cardinalities.join(", ")
        );
        let values: Vec<String> = (0..columns.len()).map(|i| format!("u.v{i}")).collect();
        // The element types as the server resolves them (domains included), for the expressions.
        let described = client
            .prepare(&format!("SELECT {} FROM {from}", values.join(", ")))
            .await
            .map_err(SourceError::query(doing.clone()))?;
        if described.columns().len() != columns.len() {
            return Err(SourceError::Protocol {
                context: doing,
                message: format!(
                    "{} columns described for {} values",
                    described.columns().len(),
                    columns.len()
                ),
            });
        }
        let mut expressions = Vec::with_capacity(columns.len());
        let mut planned = Vec::with_capacity(columns.len());
        for (((value, (_, render, column)), element), delimiter) in values
            .iter()
            .zip(columns)
            .zip(described.columns())
            .zip(delimiters)
        {
            let (expression, wire, conversion) = match render {
                Render::Values => {
                    let read = choose(value, base_type(element.type_()), &column.data_type);
                    (read.expr, read.wire, Conversion::Values)
                }
                // What the full load's `to_json` or output function of the whole array writes
                // for each element.
                Render::Elements(_) if reads_as_json(&column.data_type) => (
                    format!("to_json({value})::text"),
                    Wire::Text,
                    Conversion::Elements(ArrayStyle::Json),
                ),
                Render::Elements(_) => (
                    text_of(value),
                    Wire::Text,
                    Conversion::Elements(ArrayStyle::Text { delimiter }),
                ),
            };
            Decoder::new(wire, &migrate_batch::data_type(&column.data_type)).ok_or_else(|| {
                SourceError::Unsupported {
                    table: table.to_string(),
                    column: column.name.value.clone(),
                    message: format!(
                        "type {} can't be extracted as {}",
                        column.source_type, column.data_type
                    ),
                }
            })?;
            expressions.push(expression);
            planned.push(Planned {
                name: column.name.value.clone(),
                conversion,
                wire,
            });
        }
        let statement = client
            .prepare(&format!(
                "SELECT {} FROM {from} ORDER BY n",
                expressions.join(", ")
            ))
            .await
            .map_err(SourceError::query(doing))?;
        Ok(Rendering {
            statement,
            table: table.to_string(),
            columns: planned,
        })
    }

    /// The wire of the values returned for column `index` of the plan.
    pub fn wire(&self, index: usize) -> Wire {
        self.columns[index].wire
    }

    /// Converts the gathered values of every planned column (in the plan's order) in one round
    /// trip, appending the results to their decoders.
    pub async fn render(
        &self,
        client: &Client,
        columns: &mut [&mut Unrendered],
    ) -> Result<(), RenderError> {
        let bad_value = |column: usize, row: usize, error: ValueError| RenderError::Value {
            column: self.columns[column].name.clone(),
            row,
            error,
        };
        // Per column, the values sent: the values, or every array's elements.
        let mut sent: Vec<Vec<Option<&[u8]>>> = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            let values = column.values.iter().map(|v| v.as_deref());
            sent.push(match self.columns[i].conversion {
                Conversion::Values => values.collect(),
                Conversion::Elements(_) => {
                    let mut elements = Vec::new();
                    let mut shape = String::new();
                    for (row, array) in values.enumerate() {
                        let Some(array) = array else { continue };
                        shape.clear();
                        write_array(&mut shape, array, &ArrayStyle::Json, |_, element| {
                            elements.push(element);
                            Ok(())
                        })
                        .map_err(|e| bad_value(i, row, e))?;
                    }
                    elements
                }
            });
        }
        let arrays: Vec<BinaryArray<'_>> = sent.iter().map(|v| BinaryArray(v)).collect();
        let params: Vec<&(dyn ToSql + Sync)> =
            arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let converted =
            client
                .query(&self.statement, &params)
                .await
                .map_err(SourceError::query(format!(
                    "converting captured values of {} on the source",
                    self.table
                )))?;
        let sent: Vec<usize> = sent.iter().map(Vec::len).collect();
        let longest = sent.iter().copied().max().unwrap_or(0);
        if converted.len() != longest {
            return Err(SourceError::Protocol {
                context: format!("converting captured values of {}", self.table),
                message: format!("{longest} values sent, {} returned", converted.len()),
            }
            .into());
        }
        for (i, column) in columns.iter_mut().enumerate() {
            let mut results = converted[..sent[i]].iter().map(|row| {
                let RawValue(value) = row.get(i);
                value
            });
            let style = match &self.columns[i].conversion {
                Conversion::Values => {
                    for (row, value) in results.enumerate() {
                        column
                            .decoder
                            .append(value)
                            .map_err(|e| bad_value(i, row, e))?;
                    }
                    column.values.clear();
                    continue;
                }
                Conversion::Elements(style) => style,
            };
            for (row, array) in column.values.iter().enumerate() {
                let Some(array) = array else {
                    column
                        .decoder
                        .append(None)
                        .map_err(|e| bad_value(i, row, e))?;
                    continue;
                };
                let mut written = String::with_capacity(array.len() * 2);
                write_array(&mut written, array, style, |out, _| {
                    let text = results.next().flatten().map(utf8).transpose()?;
                    style.write_element_text(out, text.as_deref());
                    Ok(())
                })
                .map_err(|e| bad_value(i, row, e))?;
                column
                    .decoder
                    .append(Some(written.as_bytes()))
                    .map_err(|e| bad_value(i, row, e))?;
            }
            column.values.clear();
        }
        Ok(())
    }
}

/// Why gathered values could not be converted.
pub(super) enum RenderError {
    /// The value of `column` in gathered row `row` (0 for the first row since the last
    /// conversion) has no exact representation in the batch.
    Value {
        column: String,
        row: usize,
        error: ValueError,
    },
    /// The conversion query failed or the server answered out of protocol.
    Source(SourceError),
}

impl From<SourceError> for RenderError {
    fn from(error: SourceError) -> RenderError {
        RenderError::Source(error)
    }
}

/// Values in their binary `send` form, sent as a one-dimensional array of the parameter's
/// element type (`array_recv`'s format).
#[derive(Debug)]
struct BinaryArray<'a>(&'a [Option<&'a [u8]>]);

impl ToSql for BinaryArray<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let Kind::Array(element) = ty.kind() else {
            return Err(format!("{ty} is not an array type").into());
        };
        let length =
            |n: usize| i32::try_from(n).map_err(|_| format!("{n} is too long for an array"));
        // Dimensions (none when empty), has-nulls, the element type, then length and lower bound.
        let dimensions = i32::from(!self.0.is_empty());
        out.put_i32(dimensions);
        out.put_i32(i32::from(self.0.iter().any(Option::is_none)));
        out.put_u32(element.oid());
        if dimensions == 1 {
            out.put_i32(length(self.0.len())?);
            out.put_i32(1);
        }
        for value in self.0 {
            match value {
                Some(bytes) => {
                    out.put_i32(length(bytes.len())?);
                    out.put_slice(bytes);
                }
                None => out.put_i32(-1),
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Array(_))
    }

    to_sql_checked!();
}

/// A result value as the server sent it (binary), whatever its type.
struct RawValue<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(RawValue(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(RawValue(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
