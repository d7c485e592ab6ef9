package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// ErrNoColumnNames is wrapped by the error FromTableMap returns for an event
// without column names, as servers with binlog_row_metadata=MINIMAL write.
var ErrNoColumnNames = errors.New("TABLE_MAP event without column names")

// Described is a table as information_schema describes it: what a TABLE_MAP
// event of binlog_row_metadata=MINIMAL leaves out.
type Described struct {
	Columns    []DescribedColumn `json:"columns"`
	PrimaryKey []string          `json:"primary_key,omitempty"`
	// Charset is the table's default character set, which text columns
	// added later without one of their own get.
	Charset string `json:"charset,omitempty"`
}

// DescribedColumn is one column of a Described table.
type DescribedColumn struct {
	Name string `json:"name"`
	// DataType is information_schema's DATA_TYPE, in lower case.
	DataType   string   `json:"data_type"`
	Unsigned   bool     `json:"unsigned,omitempty"`
	Charset    string   `json:"charset,omitempty"`
	EnumValues []string `json:"enum_values,omitempty"`
	SetValues  []string `json:"set_values,omitempty"`
}

// binlogTypes lists the binlog column types each DATA_TYPE may be written
// as, to check that a description fits an event.
var binlogTypes = map[string][]byte{
	"tinyint":   {mysql.MYSQL_TYPE_TINY},
	"smallint":  {mysql.MYSQL_TYPE_SHORT},
	"mediumint": {mysql.MYSQL_TYPE_INT24},
	"int":       {mysql.MYSQL_TYPE_LONG},
	"bigint":    {mysql.MYSQL_TYPE_LONGLONG},
	"decimal":   {mysql.MYSQL_TYPE_NEWDECIMAL},
	"float":     {mysql.MYSQL_TYPE_FLOAT},
	"double":    {mysql.MYSQL_TYPE_DOUBLE},
	"bit":       {mysql.MYSQL_TYPE_BIT},
	"year":      {mysql.MYSQL_TYPE_YEAR},
	"date":      {mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE},
	"datetime":  {mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2},
	"timestamp": {mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2},
	"time":      {mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2},
	"char":      {mysql.MYSQL_TYPE_STRING},
	"binary":    {mysql.MYSQL_TYPE_STRING},
	"uuid":      {mysql.MYSQL_TYPE_STRING},
	"inet4":     {mysql.MYSQL_TYPE_STRING},
	"inet6":     {mysql.MYSQL_TYPE_STRING},
	"varchar":   {mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING},
	"varbinary": {mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING},
	"enum":      {mysql.MYSQL_TYPE_ENUM},
	"set":       {mysql.MYSQL_TYPE_SET},
	// MySQL has a JSON type; MariaDB's JSON is LONGTEXT.
	"json": {mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_BLOB},
}

func init() {
	for _, t := range []string{"tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob"} {
		binlogTypes[t] = []byte{mysql.MYSQL_TYPE_BLOB}
	}
	for _, t := range []string{"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection"} {
		binlogTypes[t] = []byte{mysql.MYSQL_TYPE_GEOMETRY}
	}
}

// FromDescription builds a Table from a TABLE_MAP event without column
// names and a description of the same table. It fails when the description
// does not fit the event's columns, which means the table changed between
// the event and the description.
func FromDescription(e *replication.TableMapEvent, d *Described) (*Table, error) {
	t := &Table{Database: string(e.Schema), Name: string(e.Table)}
	if len(d.Columns) != int(e.ColumnCount) {
		return nil, fmt.Errorf("table %s: the binlog event has %d columns but the table's description has %d: "+
			"the table changed after this event was written", t, e.ColumnCount, len(d.Columns))
	}
	t.Columns = make([]Column, e.ColumnCount)
	for i := range t.Columns {
		described := &d.Columns[i]
		c := &t.Columns[i]
		c.Name = described.Name
		c.Type = realType(e.ColumnType[i], e.ColumnMeta[i])
		c.Meta = e.ColumnMeta[i]
		c.Unsigned = described.Unsigned
		c.Charset = described.Charset
		c.DataType = described.DataType
		c.EnumValues = described.EnumValues
		c.SetValues = described.SetValues
		if c.Charset == "binary" {
			c.Collation = BinaryCollation
		}
		if allowed, ok := binlogTypes[described.DataType]; ok && !containsByte(allowed, c.Type) {
			return nil, fmt.Errorf("table %s: column %d (%s) is %s in the table's description but binlog type %d in the event: "+
				"the table changed after this event was written", t, i+1, c.Name, described.DataType, c.Type)
		}
	}
	for _, name := range d.PrimaryKey {
		index := t.ColumnIndex(name)
		if index < 0 {
			return nil, fmt.Errorf("table %s: primary-key column %s is not among the columns", t, name)
		}
		t.PrimaryKey = append(t.PrimaryKey, index)
	}
	return t, nil
}

func containsByte(list []byte, b byte) bool {
	for _, x := range list {
		if x == b {
			return true
		}
	}
	return false
}

// ParseMembers reads the member list of an ENUM or SET column type as
// information_schema's COLUMN_TYPE writes it: enum('a','b”c').
func ParseMembers(columnType string) ([]string, error) {
	open := strings.IndexByte(columnType, '(')
	if open < 0 || !strings.HasSuffix(columnType, ")") {
		return nil, fmt.Errorf("invalid ENUM or SET type %q", columnType)
	}
	list := columnType[open+1 : len(columnType)-1]
	var members []string
	for i := 0; i < len(list); {
		if list[i] != '\'' {
			return nil, fmt.Errorf("invalid ENUM or SET type %q: expected a quote at offset %d", columnType, open+1+i)
		}
		var sb strings.Builder
		i++
		for {
			if i >= len(list) {
				return nil, fmt.Errorf("invalid ENUM or SET type %q: unterminated member", columnType)
			}
			if list[i] == '\'' {
				if i+1 < len(list) && list[i+1] == '\'' {
					sb.WriteByte('\'')
					i += 2
					continue
				}
				i++
				break
			}
			if list[i] == '\\' && i+1 < len(list) {
				sb.WriteByte(list[i+1])
				i += 2
				continue
			}
			sb.WriteByte(list[i])
			i++
		}
		members = append(members, sb.String())
		if i < len(list) {
			if list[i] != ',' {
				return nil, fmt.Errorf("invalid ENUM or SET type %q: expected a comma at offset %d", columnType, open+1+i)
			}
			i++
		}
	}
	return members, nil
}
