// Package codec turns captured row changes into Kafka record keys and values.
package codec

import "github.com/sluice-cdc/sluice/schema"

// Op is the kind of change a record describes, with Debezium's codes.
type Op byte

const (
	OpCreate Op = 'c'
	OpUpdate Op = 'u'
	OpDelete Op = 'd'
	// OpTruncate is a TRUNCATE TABLE: a change with no rows.
	OpTruncate Op = 't'
)

// Source is the binlog location of a change, as the `source` block of a
// Debezium change event carries it.
type Source struct {
	// ServerID is the source server's server_id, from the event header.
	ServerID uint32
	// GTID is the transaction's global transaction id, or "" when the
	// server writes none.
	GTID string
	File string
	// Pos is the binlog offset at which the rows event starts.
	Pos uint32
	// Row is the index of the row within its rows event.
	Row int
	// TimestampMs is the event's commit time on the server, in milliseconds
	// since the Unix epoch. The binlog stores whole seconds.
	TimestampMs int64
}

// Change is one row change: the row before and after it, in table column
// order, as go-mysql's replication package decodes them. Before is nil for
// a create and After is nil for a delete.
type Change struct {
	Table  *schema.Table
	Op     Op
	Before []any
	After  []any
	Source Source
}

// Codec encodes changes. Implementations are not safe for concurrent use.
type Codec interface {
	// Key returns the record key of a row: its primary-key columns. It
	// returns nil for a table without a primary key.
	Key(table *schema.Table, row []any) ([]byte, error)
	// Value returns the record value of a change. nowMs is the processing
	// time that goes into the envelope's top-level ts_ms.
	Value(change *Change, nowMs int64) ([]byte, error)
}
