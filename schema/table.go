// Package schema describes the tables whose rows sluice captures: column
// names, types, signedness, character sets and primary keys, as the binlog's
// TABLE_MAP events carry them when the server runs with
// binlog_row_metadata=FULL.
package schema

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// Column is one column of a captured table.
type Column struct {
	Name string
	// Type is the binlog column type (mysql.MYSQL_TYPE_*), and Meta its
	// type metadata: precision and scale for DECIMAL, fractional digits for
	// temporal types, length bytes for strings and blobs.
	Type byte
	Meta uint16
	// Unsigned is true for numeric columns declared UNSIGNED.
	Unsigned bool
	// Collation is the server's collation id for character, ENUM and SET
	// columns, and 0 for the others. Collation 63 ("binary") marks BINARY,
	// VARBINARY and BLOB columns.
	Collation uint64
	// Charset is the character set of Collation ("utf8mb4", "latin1",
	// "binary", ...), or "" for columns that are not character columns.
	Charset string
	// EnumValues and SetValues are the member names of ENUM and SET columns.
	EnumValues []string
	SetValues  []string
	// DataType is information_schema's DATA_TYPE where sluice looked it up,
	// such as "uuid" for a MariaDB UUID column that the binlog writes as
	// BINARY(16); "" otherwise.
	DataType string
	// Treatment is the capture filter's rule for the column's values:
	// written, left out or hashed.
	Treatment ColumnTreatment
}

// BinaryCollation is the id of the "binary" collation, which the server
// gives to BINARY, VARBINARY and BLOB columns.
const BinaryCollation = 63

// IsBinary reports whether the column holds bytes rather than text.
func (c *Column) IsBinary() bool {
	return c.Collation == BinaryCollation
}

// Table is a captured table at one point of the binlog.
type Table struct {
	Database string
	Name     string
	Columns  []Column
	// PrimaryKey holds the indexes into Columns of the key columns, in key
	// order: the primary key, or for a table without one the columns of a
	// unique index whose columns are all NOT NULL. It is empty for a table
	// with neither.
	PrimaryKey []int
	// KeyFromUniqueIndex is true when PrimaryKey comes from a unique index.
	KeyFromUniqueIndex bool
}

// ColumnIndex returns the index of the named column, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// String returns the qualified name of the table, `db.table`.
func (t *Table) String() string {
	return t.Database + "." + t.Name
}

// FromTableMap builds a Table from a TABLE_MAP event. It fails when the event
// carries no column names, which happens when the server writes
// binlog_row_metadata=MINIMAL.
func FromTableMap(e *replication.TableMapEvent) (*Table, error) {
	t := &Table{Database: string(e.Schema), Name: string(e.Table)}
	names := e.ColumnNameString()
	if len(names) != int(e.ColumnCount) {
		return nil, fmt.Errorf("%w: table %s.%s has %d column names for %d columns",
			ErrNoColumnNames, e.Schema, e.Table, len(names), e.ColumnCount)
	}

	unsigned := e.UnsignedMap()
	collations := e.CollationMap()
	enumSetCollations := e.EnumSetCollationMap()
	enums := e.EnumStrValueMap()
	sets := e.SetStrValueMap()

	t.Columns = make([]Column, e.ColumnCount)
	for i := range t.Columns {
		c := &t.Columns[i]
		c.Name = names[i]
		c.Type = realType(e.ColumnType[i], e.ColumnMeta[i])
		c.Meta = e.ColumnMeta[i]
		c.Unsigned = unsigned[i]
		c.Collation = collations[i]
		if coll, ok := enumSetCollations[i]; ok {
			c.Collation = coll
		}
		c.EnumValues = enums[i]
		c.SetValues = sets[i]
	}

	t.PrimaryKey = make([]int, len(e.PrimaryKey))
	for i, index := range e.PrimaryKey {
		if index >= e.ColumnCount {
			return nil, fmt.Errorf("table %s: primary-key column index %d is out of range for %d columns",
				t, index, e.ColumnCount)
		}
		t.PrimaryKey[i] = int(index)
	}
	return t, nil
}

// realType returns the type of a column that the binlog writes as
// MYSQL_TYPE_STRING: ENUM and SET columns are written with that type and
// their real type in the high byte of the metadata.
func realType(typ byte, meta uint16) byte {
	if typ != mysql.MYSQL_TYPE_STRING || meta < 256 {
		return typ
	}
	switch real := byte(meta >> 8); real {
	case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
		return real
	}
	return typ
}
