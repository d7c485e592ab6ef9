package codec

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"sync"

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

// Key encodes the primary-key columns of row as a Key record. It returns
// nil for a table without a primary key. s must come from Schemas for
// table.
func (a *Avro) Key(s *TableSchemas, table *schema.Table, row []any) ([]byte, error) {
	if s.KeyCodec == nil {
		return nil, nil
	}
	return s.appendAvroRecord(make([]byte, 0, 16), table, "key column", s.keyFields, row)
}

// Value encodes a change as an Envelope record. nowMs is the processing
// time that goes into ts_ms. s must come from Schemas for change.Table.
func (a *Avro) Value(s *TableSchemas, change *Change, nowMs int64) ([]byte, error) {
	b := make([]byte, 0, 256)
	b, err := s.appendAvroRow(b, change.Table, change.Before)
	if err != nil {
		return nil, err
	}
	if b, err = s.appendAvroRow(b, change.Table, change.After); err != nil {
		return nil, err
	}
	b = a.appendAvroSource(b, change)
	b = appendAvroBytes(b, string(rune(change.Op)))
	return appendAvroLong(append(b, valueBranch), nowMs), nil // ts_ms
}
