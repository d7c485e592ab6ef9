package source

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/schema"
)

// catalog reads from information_schema what TABLE_MAP events do not carry:
// the unique keys of tables without a primary key, and MariaDB's UUID,
// INET4 and INET6 column types, which the binlog writes as BINARY.
//
// NOTE: information_schema describes the table as it is now. An event read
// long after an ALTER that changed these facts is described with the newer
// ones. With binlog_row_metadata=FULL, names, types and primary keys still
// come from the event itself.
type catalog struct {
	cfg  *Config
	conn *client.Conn
	// tables caches what was read, by "db.table", until the next DDL
	// statement.
	tables map[string]*tableFacts
}

type tableFacts struct {
	// uniqueKey names the columns of the first unique index whose columns
	// are all NOT NULL, for a table without a primary key.
	uniqueKey []string
	// dataTypes maps column names to information_schema's DATA_TYPE.
	dataTypes map[string]string
}

func newCatalog(cfg *Config) *catalog {
	return &catalog{cfg: cfg, tables: map[string]*tableFacts{}}
}

// connection returns the catalog's connection, opening it when needed.
func (c *catalog) connection() (*client.Conn, error) {
	if c.conn == nil {
		conn, err := connect(context.Background(), c.cfg)
		if err != nil {
			return nil, err
		}
		c.conn = conn
	}
	return c.conn, nil
}

func (c *catalog) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// facts returns the unique key and data types of db.table as
// information_schema describes them. A table that no longer exists gets
// empty facts.
func (c *catalog) facts(db, table string) (*tableFacts, error) {
	name := db + "." + table
	if f, ok := c.tables[name]; ok {
		return f, nil
	}
	f, err := c.read(db, table)
	if err != nil {
		// One retry on a fresh connection: the old one may have timed out
		// while the stream was idle.
		c.close()
		if f, err = c.read(db, table); err != nil {
			return nil, fmt.Errorf("read the columns and keys of %s from information_schema: %w", name, err)
		}
	}
	c.tables[name] = f
	return f, nil
}

func (c *catalog) read(db, table string) (*tableFacts, error) {
	conn, err := c.connection()
	if err != nil {
		return nil, err
	}
	f := &tableFacts{dataTypes: map[string]string{}}

	res, err := conn.Execute(
		"SELECT COLUMN_NAME, LOWER(DATA_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		db, table)
	if err != nil {
		return nil, err
	}
	for row := range res.Values {
		column, _ := res.GetString(row, 0)
		dataType, _ := res.GetString(row, 1)
		f.dataTypes[column] = dataType
	}

	res, err = conn.Execute(
		"SELECT INDEX_NAME, COLUMN_NAME, NULLABLE FROM information_schema.STATISTICS "+
			"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX",
		db, table)
	if err != nil {
		return nil, err
	}
	var current string
	var columns []string
	usable := true
	flush := func() {
		if f.uniqueKey == nil && current != "" && current != "PRIMARY" && usable && len(columns) > 0 {
			f.uniqueKey = columns
		}
	}
	for row := range res.Values {
		index, _ := res.GetString(row, 0)
		column, _ := res.GetString(row, 1)
		nullable, _ := res.GetString(row, 2)
		if index != current {
			flush()
			current, columns, usable = index, nil, true
		}
		columns = append(columns, column)
		if nullable != "" {
			usable = false // a unique index allows many rows with NULL in it
		}
	}
	flush()
	return f, nil
}

// describe reads the columns and primary key of db.table, for events that
// carry no column names.
func (c *catalog) describe(db, table string) (*schema.Described, error) {
	d, err := c.readDescription(db, table)
	if err != nil {
		c.close() // one retry on a fresh connection
		if d, err = c.readDescription(db, table); err != nil {
			return nil, fmt.Errorf("describe %s.%s from information_schema: %w", db, table, err)
		}
	}
	if len(d.Columns) == 0 {
		return nil, fmt.Errorf("table %s.%s is not in information_schema: it was dropped or renamed after the event "+
			"sluice is reading, and with binlog_row_metadata=MINIMAL its columns are unknown; set binlog_row_metadata=FULL", db, table)
	}
	return d, nil
}

var binaryDataTypes = map[string]bool{
	"binary": true, "varbinary": true, "tinyblob": true, "blob": true, "mediumblob": true, "longblob": true,
	"uuid": true, "inet4": true, "inet6": true,
}

func (c *catalog) readDescription(db, table string) (*schema.Described, error) {
	conn, err := c.connection()
	if err != nil {
		return nil, err
	}
	res, err := conn.Execute(
		"SELECT COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME, '') FROM information_schema.COLUMNS "+
			"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", db, table)
	if err != nil {
		return nil, err
	}
	d := &schema.Described{}
	for row := range res.Values {
		var column schema.DescribedColumn
		column.Name, _ = res.GetString(row, 0)
		column.DataType, _ = res.GetString(row, 1)
		columnType, _ := res.GetString(row, 2)
		column.Charset, _ = res.GetString(row, 3)
		column.Unsigned = strings.Contains(strings.ToLower(columnType), "unsigned")
		if binaryDataTypes[column.DataType] {
			column.Charset = "binary"
		}
		switch column.DataType {
		case "enum":
			if column.EnumValues, err = schema.ParseMembers(columnType); err != nil {
				return nil, err
			}
		case "set":
			if column.SetValues, err = schema.ParseMembers(columnType); err != nil {
				return nil, err
			}
		}
		d.Columns = append(d.Columns, column)
	}

	res, err = conn.Execute(
		"SELECT CCSA.CHARACTER_SET_NAME FROM information_schema.TABLES T "+
			"JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA ON CCSA.COLLATION_NAME = T.TABLE_COLLATION "+
			"WHERE T.TABLE_SCHEMA = ? AND T.TABLE_NAME = ?", db, table)
	if err != nil {
		return nil, err
	}
	if len(res.Values) > 0 {
		d.Charset, _ = res.GetString(0, 0)
	}

	res, err = conn.Execute(
		"SELECT COLUMN_NAME FROM information_schema.STATISTICS "+
			"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX", db, table)
	if err != nil {
		return nil, err
	}
	for row := range res.Values {
		name, _ := res.GetString(row, 0)
		d.PrimaryKey = append(d.PrimaryKey, name)
	}
	return d, nil
}

// databaseCharset returns the default character set of db, or "" when it
// cannot be read.
func (c *catalog) databaseCharset(db string) string {
	for attempt := 0; attempt < 2; attempt++ {
		conn, err := c.connection()
		if err != nil {
			return ""
		}
		res, err := conn.Execute("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db)
		if err != nil {
			c.close()
			continue
		}
		if len(res.Values) == 0 {
			return ""
		}
		charset, _ := res.GetString(0, 0)
		return charset
	}
	return ""
}

// apply completes a table built from a TABLE_MAP event with the facts.
// It reports whether the table has a key.
func (f *tableFacts) apply(table *schema.Table) bool {
	for i := range table.Columns {
		table.Columns[i].DataType = f.dataTypes[table.Columns[i].Name]
	}
	if len(table.PrimaryKey) > 0 {
		return true
	}
	if len(f.uniqueKey) == 0 {
		return false
	}
	key := make([]int, 0, len(f.uniqueKey))
	for _, name := range f.uniqueKey {
		index := table.ColumnIndex(name)
		if index < 0 {
			return false // the event predates the index's columns
		}
		key = append(key, index)
	}
	table.PrimaryKey = key
	table.KeyFromUniqueIndex = true
	return true
}
