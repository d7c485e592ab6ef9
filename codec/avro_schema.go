package codec

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/linkedin/goavro/v2"

	"github.com/sluice-cdc/sluice/schema"
)

// avroField is one column's field in the Key or Value record.
type avroField struct {
	name  string // Avro field name
	index int    // index of the column in the table and its rows
	// column is a copy, so the fields never see later changes to the
	// table they were built from.
	column schema.Column
	hashed bool
	// nullable fields are unions of null and typ, with branch the name
	// goavro gives typ within a union.
	nullable bool
	typ      avroType
}

// avroType is the Avro schema of a column's non-NULL values.
type avroType struct {
	schema any // a primitive type name, or a schema object for a logical type
	// branch is goavro's name of the type within a union.
	branch string
	// zeroDates is true for DATE, DATETIME and TIMESTAMP, whose zero and
	// partial-zero values name no day and are written as null.
	zeroDates bool
}

// buildSchemas writes the Key and Envelope schemas of table and compiles
// their codecs.
func (a *Avro) buildSchemas(table *schema.Table, topic string) (*TableSchemas, error) {
	namespace := avroNamespace(a.Name, table.Database, table.Name)
	s := &TableSchemas{
		Topic:       topic,
		Namespace:   namespace,
		options:     a.Options,
		columnCount: len(table.Columns),
		valueName:   namespace + ".Value",
	}

	inKey := make([]bool, len(table.Columns))
	for _, index := range table.PrimaryKey {
		if index < 0 || index >= len(table.Columns) {
			return nil, fmt.Errorf("table %s: primary-key column index %d is out of range for %d columns",
				table, index, len(table.Columns))
		}
		inKey[index] = true
	}

	// Key columns are NOT NULL, so their fields need no null branch. Every
	// other field is a union with null and the default null, NOT NULL
	// columns included: the binlog does not carry column defaults, and a
	// plain field without a default would make the common ALTER TABLE ...
	// ADD COLUMN ... NOT NULL DEFAULT x incompatible under BACKWARD.
	for i := range table.Columns {
		column := &table.Columns[i]
		if column.Treatment == schema.ColumnExcluded {
			continue
		}
		field, err := a.Options.newAvroField(column, i, !inKey[i])
		if err != nil {
			return nil, fmt.Errorf("table %s: column %s: %w", table, column.Name, err)
		}
		s.valueFields = append(s.valueFields, field)
	}
	// An excluded column stays in the key, which needs it to identify the
	// row, as in the JSON form.
	for _, index := range table.PrimaryKey {
		field, err := a.Options.newAvroField(&table.Columns[index], index, false)
		if err != nil {
			return nil, fmt.Errorf("table %s: key column %s: %w", table, table.Columns[index].Name, err)
		}
		s.keyFields = append(s.keyFields, field)
	}
	if err := checkFieldNames(s.valueFields); err != nil {
		return nil, fmt.Errorf("table %s: %w", table, err)
	}
	if err := checkFieldNames(s.keyFields); err != nil {
		return nil, fmt.Errorf("table %s: key: %w", table, err)
	}

	envelope := avroRecordSchema{
		Type:      "record",
		Name:      "Envelope",
		Namespace: namespace,
		Fields: []avroFieldSchema{
			nullableField("before", avroRecordSchema{Type: "record", Name: "Value", Fields: fieldSchemas(s.valueFields)}),
			nullableField("after", s.valueName),
			{Name: "source", Type: sourceSchema(a.Connector)},
			{Name: "op", Type: "string"},
			nullableField("ts_ms", "long"),
		},
	}
	var err error
	if s.ValueSchema, s.ValueCodec, err = compileSchema(envelope); err != nil {
		return nil, fmt.Errorf("table %s: value schema: %w", table, err)
	}

	if len(s.keyFields) > 0 {
		key := avroRecordSchema{Type: "record", Name: "Key", Namespace: namespace, Fields: fieldSchemas(s.keyFields)}
		if s.KeySchema, s.KeyCodec, err = compileSchema(key); err != nil {
			return nil, fmt.Errorf("table %s: key schema: %w", table, err)
		}
	}
	return s, nil
}

// newAvroField returns the field of column, which is at index in its
// table. A hashed column is a string field of the hash.
func (o *Options) newAvroField(column *schema.Column, index int, nullable bool) (avroField, error) {
	typ, err := o.avroColumnType(column)
	if err != nil {
		return avroField{}, err
	}
	field := avroField{
		name:     avroName(column.Name),
		index:    index,
		column:   *column,
		hashed:   column.Treatment == schema.ColumnHashed,
		nullable: nullable || typ.zeroDates,
		typ:      typ,
	}
	if field.hashed {
		field.typ = avroType{schema: "string", branch: "string"}
		field.nullable = nullable
	}
	return field, nil
}

// checkFieldNames rejects two columns whose names become the same Avro
// field name, such as "a-b" and "a_b".
func checkFieldNames(fields []avroField) error {
	columns := make(map[string]string, len(fields))
	for i := range fields {
		f := &fields[i]
		if other, ok := columns[f.name]; ok {
			return fmt.Errorf("columns %q and %q both get the Avro field name %q; exclude or rename one of them",
				other, f.column.Name, f.name)
		}
		columns[f.name] = f.column.Name
	}
	return nil
}

// avroColumnType returns the Avro type of a column's values, by the Go
// types go-mysql decodes them to (see appendValue).
func (o *Options) avroColumnType(column *schema.Column) (avroType, error) {
	switch column.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_YEAR:
		return avroType{schema: "int", branch: "int"}, nil

	case mysql.MYSQL_TYPE_LONG:
		if column.Unsigned {
			return avroType{schema: "long", branch: "long"}, nil
		}
		return avroType{schema: "int", branch: "int"}, nil

	case mysql.MYSQL_TYPE_LONGLONG:
		if column.Unsigned {
			// 18446744073709551615 has 20 digits and does not fit a long.
			return decimalType(20, 0), nil
		}
		return avroType{schema: "long", branch: "long"}, nil

	case mysql.MYSQL_TYPE_FLOAT:
		return avroType{schema: "float", branch: "float"}, nil

	case mysql.MYSQL_TYPE_DOUBLE:
		return avroType{schema: "double", branch: "double"}, nil

	case mysql.MYSQL_TYPE_NEWDECIMAL:
		if o.Decimal == DecimalDouble {
			return avroType{schema: "double", branch: "double"}, nil
		}
		// DecimalString and DecimalPrecise both get Avro's exact decimal:
		// a string would hide the number from Avro readers.
		precision, scale := int(column.Meta>>8), int(column.Meta&0xff)
		if precision < 1 || scale > precision {
			return avroType{}, fmt.Errorf("DECIMAL metadata %#04x gives the invalid precision %d and scale %d",
				column.Meta, precision, scale)
		}
		return decimalType(precision, scale), nil

	case mysql.MYSQL_TYPE_BIT:
		if bitWidth(column.Meta) == 1 {
			return avroType{schema: "boolean", branch: "boolean"}, nil
		}
		return avroType{schema: "bytes", branch: "bytes"}, nil

	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return avroType{schema: avroLogicalSchema{"int", "date"}, branch: "int.date", zeroDates: true}, nil

	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
		// goavro v2.15.0 does not know local-timestamp-micros and treats
		// the type as a plain long, also in union branch names.
		return avroType{schema: avroLogicalSchema{"long", "local-timestamp-micros"}, branch: "long", zeroDates: true}, nil

	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		return avroType{schema: avroLogicalSchema{"long", "timestamp-micros"}, branch: "long.timestamp-micros", zeroDates: true}, nil

	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		// A plain long of signed microseconds. TIME is a duration from
		// -838:59:59 to 838:59:59, and Avro's time-micros is a time of day:
		// readers such as fastavro reject its values outside one day.
		return avroType{schema: "long", branch: "long"}, nil

	case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET, mysql.MYSQL_TYPE_JSON:
		return avroType{schema: "string", branch: "string"}, nil

	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB:
		if column.Charset == "binary" && !isMariaDBText(column) {
			return avroType{schema: "bytes", branch: "bytes"}, nil
		}
		return avroType{schema: "string", branch: "string"}, nil

	case mysql.MYSQL_TYPE_GEOMETRY:
		return avroType{schema: "bytes", branch: "bytes"}, nil
	}
	return avroType{}, fmt.Errorf("unsupported column type %d", column.Type)
}

func decimalType(precision, scale int) avroType {
	return avroType{
		schema: avroDecimalSchema{Type: "bytes", LogicalType: "decimal", Precision: precision, Scale: scale},
		branch: "bytes.decimal",
	}
}

// isMariaDBText reports whether column is a MariaDB UUID, INET6 or INET4
// column, which the binlog writes as BINARY(n) and sluice as text.
func isMariaDBText(column *schema.Column) bool {
	if column.Charset != "binary" || column.Type != mysql.MYSQL_TYPE_STRING {
		return false
	}
	switch column.DataType {
	case "uuid", "inet6", "inet4":
		return true
	}
	return false
}

// avroName returns s as a valid Avro name, which consists of ASCII letters,
// digits and '_' and does not start with a digit: every other character
// becomes '_', and so does a leading digit. "" becomes "_". Distinct
// inputs can give the same name ("a-b" and "a_b").
func avroName(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
			sb.WriteRune(r)
		case '0' <= r && r <= '9' && i > 0:
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	if sb.Len() == 0 {
		return "_"
	}
	return sb.String()
}

// avroNamespace returns the namespace <prefix>.<database>.<table> with each
// part made a valid Avro name. Dots in the prefix stay as namespace
// separators, and dots in database and table names become '_'. An empty
// prefix is left out.
func avroNamespace(prefix, database, table string) string {
	var parts []string
	if prefix != "" {
		for _, part := range strings.Split(prefix, ".") {
			parts = append(parts, avroName(part))
		}
	}
	parts = append(parts, avroName(database), avroName(table))
	return strings.Join(parts, ".")
}

// The types below write Avro schemas as JSON, with fields in a fixed
// order.

type avroRecordSchema struct {
	Type      string            `json:"type"`
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Fields    []avroFieldSchema `json:"fields"`
}

type avroFieldSchema struct {
	Name string `json:"name"`
	Type any    `json:"type"`
	// Default is the JSON text of the default value, or empty for none.
	Default json.RawMessage `json:"default,omitempty"`
}

type avroLogicalSchema struct {
	Type        string `json:"type"`
	LogicalType string `json:"logicalType"`
}

type avroDecimalSchema struct {
	Type        string `json:"type"`
	LogicalType string `json:"logicalType"`
	Precision   int    `json:"precision"`
	Scale       int    `json:"scale"`
}

// nullableField returns a field of the union of null and typ, with null
// as its default so that readers of a newer schema can read records
// without the field.
func nullableField(name string, typ any) avroFieldSchema {
	return avroFieldSchema{Name: name, Type: []any{"null", typ}, Default: json.RawMessage("null")}
}

func fieldSchemas(fields []avroField) []avroFieldSchema {
	schemas := make([]avroFieldSchema, len(fields))
	for i := range fields {
		f := &fields[i]
		if f.nullable {
			schemas[i] = nullableField(f.name, f.typ.schema)
		} else {
			schemas[i] = avroFieldSchema{Name: f.name, Type: f.typ.schema}
		}
	}
	return schemas
}

// sourceSchema returns the source record, with the fields of the JSON
// form's source block.
func sourceSchema(connector string) avroRecordSchema {
	return avroRecordSchema{
		Type:      "record",
		Name:      "Source",
		Namespace: "io.debezium.connector." + avroName(connector),
		Fields: []avroFieldSchema{
			{Name: "version", Type: "string"},
			{Name: "connector", Type: "string"},
			{Name: "name", Type: "string"},
			{Name: "ts_ms", Type: "long"},
			{Name: "snapshot", Type: "string"},
			{Name: "db", Type: "string"},
			{Name: "table", Type: "string"},
			{Name: "server_id", Type: "long"},
			nullableField("gtid", "string"),
			{Name: "file", Type: "string"},
			{Name: "pos", Type: "long"},
			{Name: "row", Type: "int"},
		},
	}
}

// compileSchema returns the JSON text of a record schema and its codec.
func compileSchema(record avroRecordSchema) (string, *goavro.Codec, error) {
	text, err := json.Marshal(record)
	if err != nil {
		return "", nil, err
	}
	codec, err := goavro.NewCodec(string(text))
	if err != nil {
		return "", nil, err
	}
	return string(text), codec, nil
}
