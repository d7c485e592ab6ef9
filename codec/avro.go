package codec

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/linkedin/goavro/v2"

	"github.com/sluice-cdc/sluice/schema"
)

// Avro writes the change-event envelope of the JSON form (before, after,
// source, op, ts_ms) as Avro binary data. It returns the body only: the
// caller registers the schemas from Schemas and adds the wire-format
// header.
//
// Record names follow Debezium's: a table's records are Key, Value and
// Envelope in the namespace <Name>.<database>.<table>, and the source block
// is the record io.debezium.connector.<Connector>.Source. Each part of a
// name is made a valid Avro name by avroName.
//
// Avro is safe for concurrent use as long as its fields are not changed.
type Avro struct {
	// Connector is "mysql" or "mariadb", for source.connector and the name
	// of the source record.
	Connector string
	// Name is the logical server name, for source.name and the first part
	// of the namespace: the topic prefix.
	Name string
	// Version is sluice's version, for source.version.
	Version string
	// Options choose the representation of values where Avro leaves a
	// choice: Decimal, and the hash of hashed columns.
	Options Options
	// MaxCachedSchemas is the maximum number of table versions whose
	// schemas and codecs stay cached. The least recently used version is
	// dropped first. 0 means defaultMaxCachedSchemas.
	MaxCachedSchemas int

	mu     sync.Mutex
	cache  map[[sha256.Size]byte]*list.Element
	recent list.List // of *TableSchemas, most recently used first
}

// defaultMaxCachedSchemas bounds the cache when MaxCachedSchemas is 0. A
// dropped entry costs one rebuild of its codecs when its table comes back.
const defaultMaxCachedSchemas = 1024

// TableSchemas are the Avro schemas and codecs of one version of a table.
// Schemas shares each value among its callers, so none may change it.
// goavro documents its codecs as safe for concurrent use (README of v2.15.0).
type TableSchemas struct {
	// Topic is the topic the schemas were built for, from which a registry
	// client derives its subject names.
	Topic string
	// Namespace is the namespace of the Key, Value and Envelope records.
	Namespace string
	// KeySchema is the JSON text of the Key record, and KeyCodec its codec.
	// They are "" and nil for a table without a primary key.
	KeySchema string
	KeyCodec  *goavro.Codec
	// ValueSchema is the JSON text of the Envelope record, the schema of
	// record values, and ValueCodec its codec.
	ValueSchema string
	ValueCodec  *goavro.Codec

	fingerprint [sha256.Size]byte
	// options are the Avro's options when the schemas were built, so that
	// values always fit their schema.
	options     Options
	columnCount int
	keyFields   []avroField
	valueFields []avroField
	// valueName is the full name of the Value record, which names the
	// non-null branch of before and after.
	valueName string
}

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

// Schemas returns the schemas and codecs of table, building them on the
// first call for a table version. The cache key is a fingerprint of the
// table's names, columns, primary key and filter treatments, of topic, and
// of the Avro's Connector, Name and Options. So an identical table decoded
// again from another TABLE_MAP event gets the cached entry, and a table
// changed in place gets new schemas.
func (a *Avro) Schemas(table *schema.Table, topic string) (*TableSchemas, error) {
	fingerprint := a.fingerprint(table, topic)

	a.mu.Lock()
	defer a.mu.Unlock()
	if element, ok := a.cache[fingerprint]; ok {
		a.recent.MoveToFront(element)
		return element.Value.(*TableSchemas), nil
	}

	s, err := a.buildSchemas(table, topic)
	if err != nil {
		return nil, err
	}
	s.fingerprint = fingerprint
	if a.cache == nil {
		a.cache = make(map[[sha256.Size]byte]*list.Element)
	}
	a.cache[fingerprint] = a.recent.PushFront(s)

	limit := a.MaxCachedSchemas
	if limit <= 0 {
		limit = defaultMaxCachedSchemas
	}
	for a.recent.Len() > limit {
		oldest := a.recent.Back()
		a.recent.Remove(oldest)
		delete(a.cache, oldest.Value.(*TableSchemas).fingerprint)
	}
	return s, nil
}

// fingerprint returns the SHA-256 of everything the schemas of table
// depend on, each string prefixed with its length so that no two inputs
// share an encoding.
func (a *Avro) fingerprint(table *schema.Table, topic string) [sha256.Size]byte {
	b := make([]byte, 0, 256)
	appendText := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	appendNumber := func(n uint64) {
		b = binary.AppendUvarint(b, n)
	}

	appendText(a.Connector)
	appendText(a.Name)
	appendText(topic)
	appendNumber(uint64(a.Options.Decimal))
	appendNumber(uint64(a.Options.Time))
	appendNumber(uint64(a.Options.Binary))
	appendText(a.Options.HashSalt)

	appendText(table.Database)
	appendText(table.Name)
	appendNumber(uint64(len(table.Columns)))
	for i := range table.Columns {
		column := &table.Columns[i]
		appendText(column.Name)
		appendNumber(uint64(column.Type))
		appendNumber(uint64(column.Meta))
		if column.Unsigned {
			appendNumber(1)
		} else {
			appendNumber(0)
		}
		appendNumber(column.Collation)
		appendText(column.Charset)
		appendNumber(uint64(len(column.EnumValues)))
		for _, name := range column.EnumValues {
			appendText(name)
		}
		appendNumber(uint64(len(column.SetValues)))
		for _, name := range column.SetValues {
			appendText(name)
		}
		appendText(column.DataType)
		appendNumber(uint64(column.Treatment))
	}
	appendNumber(uint64(len(table.PrimaryKey)))
	for _, index := range table.PrimaryKey {
		appendNumber(uint64(index))
	}
	return sha256.Sum256(b)
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
		return avroType{schema: avroLogicalSchema{"long", "time-micros"}, branch: "long.time-micros"}, nil

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

// Key encodes the primary-key columns of row as a Key record. It returns
// nil for a table without a primary key. s must come from Schemas for
// table.
func (a *Avro) Key(s *TableSchemas, table *schema.Table, row []any) ([]byte, error) {
	if s.KeyCodec == nil {
		return nil, nil
	}
	if len(row) != s.columnCount {
		return nil, fmt.Errorf("table %s: a row has %d values for %d columns", table, len(row), s.columnCount)
	}
	record := make(map[string]any, len(s.keyFields))
	for i := range s.keyFields {
		field := &s.keyFields[i]
		v, err := s.options.avroFieldValue(field, row[field.index])
		if err != nil {
			return nil, fmt.Errorf("table %s: key column %s: %w", table, field.column.Name, err)
		}
		record[field.name] = v
	}
	key, err := s.KeyCodec.BinaryFromNative(nil, record)
	if err != nil {
		return nil, fmt.Errorf("table %s: encode Avro key: %w", table, err)
	}
	return key, nil
}

// Value encodes a change as an Envelope record. nowMs is the processing
// time that goes into ts_ms. s must come from Schemas for change.Table.
func (a *Avro) Value(s *TableSchemas, change *Change, nowMs int64) ([]byte, error) {
	before, err := s.avroRow(change.Table, change.Before)
	if err != nil {
		return nil, err
	}
	after, err := s.avroRow(change.Table, change.After)
	if err != nil {
		return nil, err
	}
	envelope := map[string]any{
		"before": before,
		"after":  after,
		"source": a.avroSource(change),
		"op":     string(rune(change.Op)),
		"ts_ms":  goavro.Union("long", nowMs),
	}
	value, err := s.ValueCodec.BinaryFromNative(nil, envelope)
	if err != nil {
		return nil, fmt.Errorf("table %s: encode Avro value: %w", change.Table, err)
	}
	return value, nil
}

// avroRow returns a row as the native form of the union of null and the
// Value record.
func (s *TableSchemas) avroRow(table *schema.Table, row []any) (any, error) {
	if row == nil {
		return nil, nil
	}
	if len(row) != s.columnCount {
		return nil, fmt.Errorf("table %s: a row has %d values for %d columns", table, len(row), s.columnCount)
	}
	record := make(map[string]any, len(s.valueFields))
	for i := range s.valueFields {
		field := &s.valueFields[i]
		v, err := s.options.avroFieldValue(field, row[field.index])
		if err != nil {
			return nil, fmt.Errorf("table %s: column %s: %w", table, field.column.Name, err)
		}
		record[field.name] = v
	}
	return goavro.Union(s.valueName, record), nil
}

// avroSource returns the source block of a change, with the fields and
// types of the JSON form's.
func (a *Avro) avroSource(change *Change) map[string]any {
	s := &change.Source
	var gtid any
	if s.GTID != "" {
		gtid = goavro.Union("string", validUTF8(s.GTID))
	}
	return map[string]any{
		"version":   validUTF8(a.Version),
		"connector": validUTF8(a.Connector),
		"name":      validUTF8(a.Name),
		"ts_ms":     s.TimestampMs,
		"snapshot":  "false",
		"db":        validUTF8(change.Table.Database),
		"table":     validUTF8(change.Table.Name),
		"server_id": int64(s.ServerID),
		"gtid":      gtid,
		"file":      validUTF8(s.File),
		"pos":       int64(s.Pos),
		"row":       int32(s.Row),
	}
}

// avroFieldValue returns the goavro native form of one column value of a
// field: the value itself, or for a nullable field nil or the value
// wrapped in its union branch.
func (o *Options) avroFieldValue(field *avroField, v any) (any, error) {
	var native any
	if v != nil {
		var err error
		if field.hashed {
			native, err = o.hashText(&field.column, v)
		} else {
			native, err = o.avroValue(&field.column, v)
		}
		if err != nil {
			return nil, err
		}
	}
	if native == nil {
		if !field.nullable {
			return nil, errors.New("the value is NULL, but the column is in the primary key and its Avro type has no null")
		}
		return nil, nil
	}
	if field.nullable {
		return goavro.Union(field.typ.branch, native), nil
	}
	return native, nil
}

// hashText returns the hex hash that the JSON form writes for a hashed
// column's value.
func (o *Options) hashText(column *schema.Column, v any) (string, error) {
	token, err := o.appendHashed(nil, column, v)
	if err != nil {
		return "", err
	}
	// The token is a JSON string of hex digits, which need no unescaping.
	return string(token[1 : len(token)-1]), nil
}

// avroValue returns the goavro native form of one non-NULL column value,
// as go-mysql's replication package decodes it, or nil for a zero or
// partial-zero date.
func (o *Options) avroValue(column *schema.Column, v any) (any, error) {
	switch column.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_YEAR:
		return avroInt(v)

	case mysql.MYSQL_TYPE_LONG:
		if column.Unsigned {
			return avroLong(v)
		}
		return avroInt(v)

	case mysql.MYSQL_TYPE_LONGLONG:
		if column.Unsigned {
			return avroUnsignedBigint(v)
		}
		return avroLong(v)

	case mysql.MYSQL_TYPE_FLOAT:
		f, ok := v.(float32)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return f, nil

	case mysql.MYSQL_TYPE_DOUBLE:
		f, ok := v.(float64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return f, nil

	case mysql.MYSQL_TYPE_NEWDECIMAL:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		if o.Decimal == DecimalDouble {
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid DECIMAL text %q: %w", text, err)
			}
			return f, nil
		}
		r, ok := new(big.Rat).SetString(text)
		if !ok {
			return nil, fmt.Errorf("invalid DECIMAL text %q", text)
		}
		return r, nil

	case mysql.MYSQL_TYPE_BIT:
		bits, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		width := bitWidth(column.Meta)
		if width == 1 {
			return bits != 0, nil
		}
		return bitBytes(uint64(bits), width), nil

	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		days, ok := epochDays(text)
		if !ok {
			return nil, nil
		}
		return int32(days), nil

	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		// go-mysql writes a TIMESTAMP as UTC text, so read as UTC it gives
		// the instant. A DATETIME read as UTC gives the microseconds of
		// local-timestamp-micros.
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		micros, ok := epochDatetime(text)
		if !ok {
			return nil, nil
		}
		return micros, nil

	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		micros, ok := timeMicros(text)
		if !ok {
			return nil, fmt.Errorf("invalid TIME text %q", text)
		}
		return micros, nil

	case mysql.MYSQL_TYPE_ENUM:
		index, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return validUTF8(enumMember(column, index)), nil

	case mysql.MYSQL_TYPE_SET:
		mask, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return validUTF8(setMembers(column, mask)), nil

	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB:
		return avroCharacterValue(column, v)

	case mysql.MYSQL_TYPE_JSON:
		doc, err := jsonDocument(column, v)
		if err != nil {
			return nil, err
		}
		return validUTF8(doc), nil

	case mysql.MYSQL_TYPE_GEOMETRY:
		raw, ok := v.([]byte)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("unsupported column type %d", column.Type)
}

// avroCharacterValue returns a CHAR, VARCHAR, TEXT, BINARY, VARBINARY or
// BLOB value: text as a UTF-8 string, bytes as they are stored.
func avroCharacterValue(column *schema.Column, v any) (any, error) {
	raw, err := characterBytes(column, v)
	if err != nil {
		return nil, err
	}
	if isMariaDBText(column) {
		text, ok := mariadbTypeText(column.DataType, raw)
		if !ok {
			length := 16
			if column.DataType == "inet4" {
				length = 4
			}
			return nil, fmt.Errorf("invalid MariaDB %s value of %d bytes; expected %d bytes",
				strings.ToUpper(column.DataType), len(raw), length)
		}
		return text, nil
	}
	if column.Charset == "binary" {
		return raw, nil
	}
	text, err := decodeText(column.Charset, raw)
	if err != nil {
		return nil, err
	}
	return validUTF8(text), nil
}

// integerOf returns a value of any Go integer type as an int64.
func integerOf(v any) (int64, error) {
	switch n := v.(type) {
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		if n > math.MaxInt64 {
			return 0, fmt.Errorf("integer %d is out of range for an Avro long", n)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("unexpected integer value %v of Go type %T", v, v)
}

func avroInt(v any) (any, error) {
	n, err := integerOf(v)
	if err != nil {
		return nil, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, fmt.Errorf("integer %d is out of range for an Avro int", n)
	}
	return int32(n), nil
}

func avroLong(v any) (any, error) {
	n, err := integerOf(v)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// avroUnsignedBigint returns a BIGINT UNSIGNED value as the *big.Rat that
// goavro takes for a decimal.
func avroUnsignedBigint(v any) (any, error) {
	if n, ok := v.(uint64); ok {
		return new(big.Rat).SetInt(new(big.Int).SetUint64(n)), nil
	}
	n, err := integerOf(v)
	if err != nil {
		return nil, err
	}
	return new(big.Rat).SetInt64(n), nil
}

// bitBytes returns the value of a BIT(width) column as big-endian bytes,
// as many as the width needs. An unknown width of 0 gets all 8 bytes.
func bitBytes(bits uint64, width int) []byte {
	length := (width + 7) / 8
	if length < 1 || length > 8 {
		length = 8
	}
	raw := binary.BigEndian.AppendUint64(nil, bits)
	return raw[8-length:]
}

// validUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, the text a JSON reader gets from the JSON form.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
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
