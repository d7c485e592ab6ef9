package codec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/sluice-cdc/sluice/schema"
)

// JSON writes Debezium's change-event envelope without the schema part, as
// Debezium's JsonConverter writes it with schemas.enable=false, so consumers
// of Debezium's MySQL and MariaDB connectors read sluice's records unchanged.
type JSON struct {
	// Connector is "mysql" or "mariadb", for source.connector.
	Connector string
	// Name is the logical server name, for source.name: the topic prefix.
	Name string
	// Version is sluice's version, for source.version.
	Version string
	// Options choose the representation of values.
	Options Options

	buf []byte
}

// Key encodes the primary-key columns of row as a JSON object.
func (j *JSON) Key(table *schema.Table, row []any) ([]byte, error) {
	if len(table.PrimaryKey) == 0 {
		return nil, nil
	}
	b := make([]byte, 0, 16*len(table.PrimaryKey))
	b = append(b, '{')
	for i, index := range table.PrimaryKey {
		if i > 0 {
			b = append(b, ',')
		}
		column := &table.Columns[index]
		b = appendString(b, column.Name)
		b = append(b, ':')
		var err error
		// A hashed column is hashed in the key too, so its clear value
		// appears nowhere. An excluded column stays in the key, which
		// needs it to identify the row.
		if column.Treatment == schema.ColumnHashed {
			b, err = j.Options.appendHashed(b, column, row[index])
		} else {
			b, err = j.Options.appendValue(b, column, row[index])
		}
		if err != nil {
			return nil, fmt.Errorf("table %s: key column %s: %w", table, column.Name, err)
		}
	}
	return append(b, '}'), nil
}

// Value encodes a change as {"before","after","source","op","ts_ms"}.
func (j *JSON) Value(change *Change, nowMs int64) ([]byte, error) {
	b := j.buf[:0]
	var err error

	b = append(b, `{"before":`...)
	if b, err = j.Options.appendRow(b, change.Table, change.Before); err != nil {
		return nil, err
	}
	b = append(b, `,"after":`...)
	if b, err = j.Options.appendRow(b, change.Table, change.After); err != nil {
		return nil, err
	}

	b = append(b, `,"source":`...)
	b = j.appendSource(b, change)
	b = append(b, `,"op":"`...)
	b = append(b, byte(change.Op))
	b = append(b, `","ts_ms":`...)
	b = strconv.AppendInt(b, nowMs, 10)
	b = append(b, '}')

	j.buf = b
	// The buffer is reused for the next value, and the caller keeps this one.
	out := make([]byte, len(b))
	copy(out, b)
	return out, nil
}

// appendSource appends the source block of a change.
func (j *JSON) appendSource(b []byte, change *Change) []byte {
	s := &change.Source
	b = append(b, `{"version":`...)
	b = appendString(b, j.Version)
	b = append(b, `,"connector":`...)
	b = appendString(b, j.Connector)
	b = append(b, `,"name":`...)
	b = appendString(b, j.Name)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, s.TimestampMs, 10)
	b = append(b, `,"snapshot":"false","db":`...)
	b = appendString(b, change.Table.Database)
	b = append(b, `,"table":`...)
	b = appendString(b, change.Table.Name)
	b = append(b, `,"server_id":`...)
	b = strconv.AppendUint(b, uint64(s.ServerID), 10)
	b = append(b, `,"gtid":`...)
	if s.GTID == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, s.GTID)
	}
	b = append(b, `,"file":`...)
	b = appendString(b, s.File)
	b = append(b, `,"pos":`...)
	b = strconv.AppendUint(b, uint64(s.Pos), 10)
	b = append(b, `,"row":`...)
	b = strconv.AppendInt(b, int64(s.Row), 10)
	return append(b, '}')
}

// appendRow appends a row as a JSON object of column names to values, or
// null for a nil row.
func (o *Options) appendRow(b []byte, table *schema.Table, row []any) ([]byte, error) {
	if row == nil {
		return append(b, "null"...), nil
	}
	if len(row) != len(table.Columns) {
		return nil, fmt.Errorf("table %s: a row has %d values for %d columns", table, len(row), len(table.Columns))
	}
	b = append(b, '{')
	first := true
	for i := range table.Columns {
		column := &table.Columns[i]
		if column.Treatment == schema.ColumnExcluded {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, column.Name)
		b = append(b, ':')
		var err error
		if column.Treatment == schema.ColumnHashed {
			b, err = o.appendHashed(b, column, row[i])
		} else {
			b, err = o.appendValue(b, column, row[i])
		}
		if err != nil {
			return nil, fmt.Errorf("table %s: column %s: %w", table, column.Name, err)
		}
	}
	return append(b, '}'), nil
}

// appendHashed appends the hex SHA-256 of the salt followed by the value's
// text: the JSON string's content, or the JSON token of other values. NULL
// stays null.
func (o *Options) appendHashed(b []byte, column *schema.Column, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	token, err := o.appendValue(nil, column, v)
	if err != nil {
		return nil, err
	}
	text := token
	if len(token) > 0 && token[0] == '"' {
		var s string
		if err := json.Unmarshal(token, &s); err != nil {
			return nil, err
		}
		text = []byte(s)
	}
	sum := sha256.Sum256(append([]byte(o.HashSalt), text...))
	b = append(b, '"')
	b = hex.AppendEncode(b, sum[:])
	return append(b, '"'), nil
}

// SchemaChange encodes a DDL statement for the schema-changes topic, in the
// shape of Debezium's schema change events: the key names the database, the
// value carries the statement and its source.
func (j *JSON) SchemaChange(database, statement string, source *Source, nowMs int64) (key, value []byte) {
	key = append([]byte(`{"databaseName":`), appendString(nil, database)...)
	key = append(key, '}')

	change := &Change{Table: &schema.Table{Database: database}, Source: *source}
	b := append([]byte(`{"source":`), j.appendSource(nil, change)...)
	b = append(b, `,"databaseName":`...)
	b = appendString(b, database)
	b = append(b, `,"ddl":`...)
	b = appendString(b, statement)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, nowMs, 10)
	return key, append(b, '}')
}
