//! Columns of a JSON object's members, by a table of names and kinds.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::Int64Builder;
use arrow_schema::{DataType, Field};

use super::builders::{DictionaryColumn, NumberCell, NumberColumns, TextColumn};
use super::json_object::JsonObject;

/// How a member becomes a column (all nullable): see [`MemberColumns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Member {
    /// An identifier: `Dictionary(Int32, Utf8)` of a JSON string
    /// ([`JsonObject::take_string`]).
    Dictionary,
    /// Free text: `Utf8` of a JSON string ([`JsonObject::take_string`]).
    Text,
    /// An integer: `Int64` ([`JsonObject::take_integer`]).
    Integer,
    /// A number: `Float64` `name` and `Utf8` `name_text`, by the
    /// [exact-text rule](super#the-exact-text-of-numbers) ([`NumberCell::of_json`]).
    Number,
}

#[derive(Debug)]
enum Builder {
    Dictionary(DictionaryColumn),
    Text(TextColumn),
    Integer(Int64Builder),
    Number(NumberColumns),
}

/// The columns of the members a table names, in the table's order: each row takes its
/// members from a [`JsonObject`]; a member of another kind than its column's stays in the
/// object (for the `extra` column), so no value is dropped.
#[derive(Debug)]
pub struct MemberColumns {
    table: &'static [(&'static str, Member)],
    builders: Vec<Builder>,
}

impl MemberColumns {
    /// The fields of `table`'s columns.
    pub fn fields(table: &[(&str, Member)]) -> Vec<Field> {
        let mut fields = Vec::new();
        for &(name, member) in table {
            match member {
                Member::Dictionary => fields.push(DictionaryColumn::field(name, true)),
                Member::Text => fields.push(TextColumn::field(name, true)),
                Member::Integer => fields.push(Field::new(name, DataType::Int64, true)),
                Member::Number => fields.extend(NumberColumns::fields(name, &format!("{name}_text"))),
            }
        }
        fields
    }

    /// Empty columns of `table`.
    pub fn new(table: &'static [(&'static str, Member)]) -> Self {
        let builders = table
            .iter()
            .map(|(_, member)| match member {
                Member::Dictionary => Builder::Dictionary(DictionaryColumn::new()),
                Member::Text => Builder::Text(TextColumn::new()),
                Member::Integer => Builder::Integer(Int64Builder::new()),
                Member::Number => Builder::Number(NumberColumns::new()),
            })
            .collect();
        MemberColumns { table, builders }
    }

    /// Appends one row: takes each member of the table from `object`. An error when a
    /// text column is full (see [`TextColumn::append`]).
    pub fn append(&mut self, object: &mut JsonObject<'_>) -> crate::Result<()> {
        for ((name, _), builder) in self.table.iter().zip(&mut self.builders) {
            match builder {
                Builder::Dictionary(column) => column.append(object.take_string(name).as_deref())?,
                Builder::Text(column) => column.append(object.take_string(name).as_deref())?,
                Builder::Integer(column) => column.append_option(object.take_integer(name)),
                Builder::Number(columns) => columns.append(&NumberCell::of_json(object.take(name))),
            }
        }
        Ok(())
    }

    /// The columns so far, in the order of [`fields`](Self::fields); empty afterwards.
    pub fn finish(&mut self) -> Vec<ArrayRef> {
        let mut columns = Vec::new();
        for builder in &mut self.builders {
            match builder {
                Builder::Dictionary(column) => columns.push(column.finish()),
                Builder::Text(column) => columns.push(column.finish()),
                Builder::Integer(column) => columns.push(Arc::new(column.finish())),
                Builder::Number(number) => columns.extend(number.finish()),
            }
        }
        columns
    }
}
