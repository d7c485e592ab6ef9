package source

// This file is a kit that builds MySQL 8.0 binlog events byte by byte. No
// MySQL 8 server runs in the test environment, so tests use it to feed
// MySQL-only forms (compressed transactions, partial JSON updates, MySQL
// GTIDs, binary JSON) through go-mysql's BinlogParser and the Reader, the
// way a replication stream delivers them.
//
// The kit writes binlogs as a server with binlog_checksum=CRC32 (MySQL
// 8.0's default) and binlog_row_metadata=FULL does: every event in a file
// ends with the CRC32 of its header and body, and the events inside a
// compressed transaction payload carry no checksum. The formats follow
// MySQL 8.0's binlog_event.h, rows_event.h, json_binary.h and json_diff.h.

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"
	"github.com/rs/zerolog"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/schema"
)

// binlogEventType is the type code of a binlog event header, as MySQL's
// binlog_event.h numbers them.
type binlogEventType byte

const (
	eventStartV3            binlogEventType = 1
	eventQuery              binlogEventType = 2
	eventRotate             binlogEventType = 4
	eventLoad               binlogEventType = 6
	eventCreateFile         binlogEventType = 8
	eventAppendBlock        binlogEventType = 9
	eventExecLoad           binlogEventType = 10
	eventDeleteFile         binlogEventType = 11
	eventNewLoad            binlogEventType = 12
	eventFormatDescription  binlogEventType = 15
	eventXID                binlogEventType = 16
	eventBeginLoadQuery     binlogEventType = 17
	eventExecuteLoadQuery   binlogEventType = 18
	eventTableMap           binlogEventType = 19
	eventWriteRowsV1        binlogEventType = 23
	eventUpdateRowsV1       binlogEventType = 24
	eventDeleteRowsV1       binlogEventType = 25
	eventIncident           binlogEventType = 26
	eventWriteRowsV2        binlogEventType = 30
	eventUpdateRowsV2       binlogEventType = 31
	eventDeleteRowsV2       binlogEventType = 32
	eventGTID               binlogEventType = 33
	eventAnonymousGTID      binlogEventType = 34
	eventTransactionContext binlogEventType = 36
	eventViewChange         binlogEventType = 37
	eventPartialUpdateRows  binlogEventType = 39
	eventTransactionPayload binlogEventType = 40
	// eventHeartbeatV2 is the highest type a MySQL 8.0
	// FORMAT_DESCRIPTION_EVENT lists a post-header length for.
	eventHeartbeatV2 binlogEventType = 41
)

const (
	eventHeaderLength = 19
	checksumLength    = 4
	// binlogChecksumCRC32 is the checksum algorithm code that the
	// FORMAT_DESCRIPTION_EVENT announces.
	binlogChecksumCRC32 = 1

	// kitServerID and kitTimestamp go into every event header: the
	// source's server_id, and the time the events were written in seconds
	// since the epoch (2026-01-01T00:00:00Z).
	kitServerID  uint32 = 1
	kitTimestamp uint32 = 1767225600
	// kitServerVersion is the version the FORMAT_DESCRIPTION_EVENT names,
	// and kitServerVersionID the same version as GTID events store it.
	kitServerVersion   = "8.0.36"
	kitServerVersionID = 80036
)

// Collation ids of the character columns the kit's tables use.
const (
	collationLatin1  = 8
	collationBinary  = 63
	collationUTF8mb4 = 255 // utf8mb4_0900_ai_ci, MySQL 8.0's default
)

// kitUUID is the server uuid of the GTIDs in constructed binlogs.
var kitUUID = uuid.MustParse("3e11fa47-71ca-11e1-9e33-c80aa9429562")

// event is one binlog event before it is placed in a file: its type, the
// header flags, and the body (post-header and payload, without checksum).
type event struct {
	typ   binlogEventType
	flags uint16
	body  []byte
}

// encode returns the event's bytes. logPos is the header's log position,
// the file offset at which the event ends (0 inside a compressed payload).
// With checksum set, the CRC32 of the header and body follows the body.
func (e event) encode(logPos uint32, checksum bool) []byte {
	size := eventHeaderLength + len(e.body)
	if checksum {
		size += checksumLength
	}
	b := make([]byte, 0, size)
	b = binary.LittleEndian.AppendUint32(b, kitTimestamp)
	b = append(b, byte(e.typ))
	b = binary.LittleEndian.AppendUint32(b, kitServerID)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = binary.LittleEndian.AppendUint32(b, logPos)
	b = binary.LittleEndian.AppendUint16(b, e.flags)
	b = append(b, e.body...)
	if checksum {
		b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	}
	return b
}

// fileSize returns the number of bytes the event takes in a binlog file,
// checksum included.
func (e event) fileSize() uint32 {
	return uint32(eventHeaderLength + len(e.body) + checksumLength)
}

// binlogFile lays out events as MySQL 8.0 writes a binlog file: the magic
// bytes, a FORMAT_DESCRIPTION_EVENT at offset 4, then each event with its
// end offset as log position and its CRC32 after it.
type binlogFile struct {
	name string
	// events are the encoded events in file order.
	events [][]byte
	// end is the offset at which the next event starts.
	end uint32
	// sequence counts the file's transactions, for the logical clock of
	// GTID events.
	sequence int64
}

// transactionOffsets is where a transaction landed in a binlog file.
type transactionOffsets struct {
	// start is the offset of the GTID event, and events are the offsets of
	// the events after it, in order.
	start  uint32
	events []uint32
	// end is the offset after the last event, where reading resumes.
	end uint32
}

func newBinlogFile(name string) *binlogFile {
	f := &binlogFile{name: name, end: uint32(len(replication.BinLogFileHeader))}
	f.append(formatDescriptionEvent())
	return f
}

// append adds an event and returns the offsets at which it starts and ends.
func (f *binlogFile) append(e event) (start, end uint32) {
	start = f.end
	f.end += e.fileSize()
	f.events = append(f.events, e.encode(f.end, true))
	return start, f.end
}

// appendTransaction adds a row-based transaction: the GTID event of
// sid:gno followed by events, which normally start with BEGIN and end with
// XID, or are one TRANSACTION_PAYLOAD_EVENT.
func (f *binlogFile) appendTransaction(sid uuid.UUID, gno int64, events ...event) transactionOffsets {
	return f.appendGTIDGroup(sid, gno, 0, events)
}

// appendDDL adds a DDL statement as MySQL logs it: a GTID event flagged as
// possibly holding statements, then the QUERY_EVENT alone, with no BEGIN
// and no XID.
func (f *binlogFile) appendDDL(sid uuid.UUID, gno int64, database, statement string) transactionOffsets {
	return f.appendGTIDGroup(sid, gno, gtidFlagMayHaveStatements, []event{queryEvent(database, statement)})
}

func (f *binlogFile) appendGTIDGroup(sid uuid.UUID, gno int64, flags byte, events []event) transactionOffsets {
	var rest uint32
	for _, e := range events {
		rest += e.fileSize()
	}
	f.sequence++

	// The GTID event contains the length of the whole transaction, its own
	// size included. That size depends on how many bytes the
	// length-encoded length takes, so recompute until both agree.
	length := uint64(rest)
	gtid := gtidEvent(flags, sid, gno, f.sequence, length)
	for uint64(gtid.fileSize()+rest) != length {
		length = uint64(gtid.fileSize() + rest)
		gtid = gtidEvent(flags, sid, gno, f.sequence, length)
	}

	var placed transactionOffsets
	placed.start, _ = f.append(gtid)
	for _, e := range events {
		start, end := f.append(e)
		placed.events = append(placed.events, start)
		placed.end = end
	}
	return placed
}

// formatDescriptionEvent returns the FORMAT_DESCRIPTION_EVENT of a MySQL
// 8.0 server with binlog_checksum=CRC32.
func formatDescriptionEvent() event {
	b := binary.LittleEndian.AppendUint16(nil, 4) // binlog format version
	version := make([]byte, 50)
	copy(version, kitServerVersion)
	b = append(b, version...)
	b = binary.LittleEndian.AppendUint32(b, kitTimestamp) // creation time
	b = append(b, eventHeaderLength)
	b = append(b, mysql80PostHeaderLengths()...)
	b = append(b, binlogChecksumCRC32)
	return event{typ: eventFormatDescription, body: b}
}

// mysql80PostHeaderLengths returns the post-header length of each event
// type from 1 to 41, the table a MySQL 8.0 FORMAT_DESCRIPTION_EVENT
// carries. go-mysql reads the table id size of TABLE_MAP and rows events
// from it.
func mysql80PostHeaderLengths() []byte {
	lengths := map[binlogEventType]byte{
		eventStartV3: 56, eventQuery: 13, eventRotate: 8, eventLoad: 18,
		eventCreateFile: 4, eventAppendBlock: 4, eventExecLoad: 4, eventDeleteFile: 4,
		eventNewLoad: 18, eventFormatDescription: 92, eventBeginLoadQuery: 4,
		eventExecuteLoadQuery: 26, eventTableMap: 8,
		eventWriteRowsV1: 8, eventUpdateRowsV1: 8, eventDeleteRowsV1: 8, eventIncident: 2,
		eventWriteRowsV2: 10, eventUpdateRowsV2: 10, eventDeleteRowsV2: 10,
		eventGTID: 25, eventAnonymousGTID: 25, eventTransactionContext: 18, eventViewChange: 52,
		eventPartialUpdateRows: 10, eventTransactionPayload: 40,
	}
	table := make([]byte, eventHeartbeatV2)
	for typ, length := range lengths {
		table[typ-1] = length
	}
	return table
}

const (
	// gtidFlagMayHaveStatements marks a GTID event whose transaction may
	// hold statements rather than only rows (MySQL's FLAG_MAY_HAVE_SBR).
	gtidFlagMayHaveStatements = 1
	// gtidLogicalTimestampTypeCode introduces the logical clock fields.
	gtidLogicalTimestampTypeCode = 2
)

// gtidEvent returns a MySQL 8.0 GTID_EVENT for sid:gno. sequence is the
// transaction's number in the file's logical clock, and transactionLength
// the bytes of the whole transaction, this event included. The immediate
// and original commit times are both kitTimestamp, and the immediate and
// original server versions both kitServerVersionID, so each is written
// once, with its high bit clear.
func gtidEvent(flags byte, sid uuid.UUID, gno, sequence int64, transactionLength uint64) event {
	b := []byte{flags}
	b = append(b, sid[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(gno))
	b = append(b, gtidLogicalTimestampTypeCode)
	b = binary.LittleEndian.AppendUint64(b, uint64(sequence-1)) // last_committed
	b = binary.LittleEndian.AppendUint64(b, uint64(sequence))   // sequence_number
	b = appendUint56(b, uint64(kitTimestamp)*1_000_000)         // commit time in microseconds
	b = appendLengthEncoded(b, transactionLength)
	b = binary.LittleEndian.AppendUint32(b, kitServerVersionID)
	return event{typ: eventGTID, body: b}
}

// Status variable codes of a QUERY_EVENT (Q_FLAGS2_CODE, Q_SQL_MODE_CODE
// and Q_CHARSET_CODE).
const (
	queryStatusFlags2  = 0
	queryStatusSQLMode = 1
	queryStatusCharset = 4
)

// queryEvent returns a QUERY_EVENT of a statement run with database as the
// session's default database ("" for none): BEGIN, or a DDL statement.
func queryEvent(database, statement string) event {
	var status []byte
	status = append(status, queryStatusFlags2)
	status = binary.LittleEndian.AppendUint32(status, 0)
	status = append(status, queryStatusSQLMode)
	status = binary.LittleEndian.AppendUint64(status, 0)
	// The client, connection and server character sets, as collation ids.
	status = append(status, queryStatusCharset)
	for range 3 {
		status = binary.LittleEndian.AppendUint16(status, collationUTF8mb4)
	}

	b := binary.LittleEndian.AppendUint32(nil, 8) // thread id
	b = binary.LittleEndian.AppendUint32(b, 0)    // execution time in seconds
	b = append(b, byte(len(database)))
	b = binary.LittleEndian.AppendUint16(b, 0) // error code
	b = binary.LittleEndian.AppendUint16(b, uint16(len(status)))
	b = append(b, status...)
	b = append(b, database...)
	b = append(b, 0)
	b = append(b, statement...)
	return event{typ: eventQuery, body: b}
}

// beginEvent returns the QUERY_EVENT that starts a transaction.
func beginEvent() event {
	return queryEvent("", "BEGIN")
}

// xidEvent returns the XID_EVENT that commits a transaction.
func xidEvent(xid uint64) event {
	return event{typ: eventXID, body: binary.LittleEndian.AppendUint64(nil, xid)}
}

// rotateEvent returns the ROTATE_EVENT that ends a binlog file and names
// the next one, to be read from offset 4.
func rotateEvent(next string) event {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(replication.BinLogFileHeader)))
	return event{typ: eventRotate, body: append(b, next...)}
}

// kitColumn is a column of a kitTable, with what TABLE_MAP events carry
// about it.
type kitColumn struct {
	name string
	// typ is the binlog column type (mysql.MYSQL_TYPE_*), and meta its
	// type metadata as TABLE_MAP events write it.
	typ      byte
	meta     uint16
	unsigned bool
	nullable bool
	// collation is the collation id of a character column, 0 for others.
	collation uint64
}

// intColumn returns a nullable INT column. Its values are Go integers.
func intColumn(name string) kitColumn {
	return kitColumn{name: name, typ: mysql.MYSQL_TYPE_LONG, nullable: true}
}

// bigintUnsignedColumn returns a nullable BIGINT UNSIGNED column. Its
// values are uint64.
func bigintUnsignedColumn(name string) kitColumn {
	return kitColumn{name: name, typ: mysql.MYSQL_TYPE_LONGLONG, unsigned: true, nullable: true}
}

// varcharColumn returns a nullable VARCHAR(chars) column in utf8mb4. Its
// values are strings of the encoded bytes.
func varcharColumn(name string, chars int) kitColumn {
	return kitColumn{name: name, typ: mysql.MYSQL_TYPE_VARCHAR, meta: uint16(4 * chars), nullable: true, collation: collationUTF8mb4}
}

// latin1VarcharColumn returns a nullable VARCHAR(chars) column in latin1.
func latin1VarcharColumn(name string, chars int) kitColumn {
	return kitColumn{name: name, typ: mysql.MYSQL_TYPE_VARCHAR, meta: uint16(chars), nullable: true, collation: collationLatin1}
}

// jsonColumn returns a nullable JSON column. Its values are jsonb.
func jsonColumn(name string) kitColumn {
	// The metadata is the size of the length before each value.
	return kitColumn{name: name, typ: mysql.MYSQL_TYPE_JSON, meta: 4, nullable: true}
}

// notNull returns the column declared NOT NULL.
func notNull(c kitColumn) kitColumn {
	c.nullable = false
	return c
}

// kitTable is a table as TABLE_MAP events describe it with
// binlog_row_metadata=FULL.
type kitTable struct {
	id       uint64
	database string
	name     string
	columns  []kitColumn
	// primaryKey is the indexes into columns of the key, in key order.
	primaryKey []int
}

// Optional metadata field types of a TABLE_MAP_EVENT.
const (
	tableMapSignedness       = 1
	tableMapDefaultCharset   = 2
	tableMapColumnName       = 4
	tableMapSimplePrimaryKey = 8
	tableMapColumnVisibility = 12
)

// tableMapFlagBitLenExact is the flag MySQL sets on every TABLE_MAP_EVENT
// (TM_BIT_LEN_EXACT_F).
const tableMapFlagBitLenExact = 1

// tableMapEvent returns the TABLE_MAP_EVENT of a table, with the optional
// metadata that binlog_row_metadata=FULL adds.
func tableMapEvent(t *kitTable) event {
	b := appendUint48(nil, t.id)
	b = binary.LittleEndian.AppendUint16(b, tableMapFlagBitLenExact)
	b = append(b, byte(len(t.database)))
	b = append(b, t.database...)
	b = append(b, 0)
	b = append(b, byte(len(t.name)))
	b = append(b, t.name...)
	b = append(b, 0)

	b = appendLengthEncoded(b, uint64(len(t.columns)))
	for _, c := range t.columns {
		b = append(b, c.typ)
	}
	meta := columnMetadata(t.columns)
	b = appendLengthEncoded(b, uint64(len(meta)))
	b = append(b, meta...)
	b = append(b, lsbBitmap(len(t.columns), func(i int) bool { return t.columns[i].nullable })...)
	b = append(b, optionalMetadata(t)...)
	return event{typ: eventTableMap, body: b}
}

// columnMetadata returns the metadata block of a TABLE_MAP_EVENT: the type
// metadata of each column that has any, in column order.
func columnMetadata(columns []kitColumn) []byte {
	var b []byte
	for _, c := range columns {
		switch c.typ {
		case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG:
		case mysql.MYSQL_TYPE_VARCHAR:
			b = binary.LittleEndian.AppendUint16(b, c.meta)
		case mysql.MYSQL_TYPE_JSON:
			b = append(b, byte(c.meta))
		default:
			panic(fmt.Sprintf("binlog kit: column type %d is not supported; add it to columnMetadata and appendValue", c.typ))
		}
	}
	return b
}

// optionalMetadata returns the optional metadata fields of a
// TABLE_MAP_EVENT in the order MySQL 8.0 writes them, each as type,
// length-encoded size and value.
func optionalMetadata(t *kitTable) []byte {
	var b []byte
	field := func(typ byte, value []byte) {
		b = append(b, typ)
		b = appendLengthEncoded(b, uint64(len(value)))
		b = append(b, value...)
	}

	var unsigned []bool
	for _, c := range t.columns {
		if isNumericType(c.typ) {
			unsigned = append(unsigned, c.unsigned)
		}
	}
	if len(unsigned) > 0 {
		field(tableMapSignedness, msbBitmap(unsigned))
	}
	if charsets := defaultCharsetField(t.columns); charsets != nil {
		field(tableMapDefaultCharset, charsets)
	}

	var names []byte
	for _, c := range t.columns {
		names = appendLengthEncoded(names, uint64(len(c.name)))
		names = append(names, c.name...)
	}
	field(tableMapColumnName, names)

	if len(t.primaryKey) > 0 {
		var key []byte
		for _, index := range t.primaryKey {
			key = appendLengthEncoded(key, uint64(index))
		}
		field(tableMapSimplePrimaryKey, key)
	}

	visible := make([]bool, len(t.columns))
	for i := range visible {
		visible[i] = true
	}
	field(tableMapColumnVisibility, msbBitmap(visible))
	return b
}

// defaultCharsetField returns the DEFAULT_CHARSET field: the collation most
// character columns use, then a pair of character column index and
// collation for each character column that differs. It returns nil for a
// table without character columns.
func defaultCharsetField(columns []kitColumn) []byte {
	var collations []uint64
	for _, c := range columns {
		if isCharacterType(c.typ) {
			collations = append(collations, c.collation)
		}
	}
	if len(collations) == 0 {
		return nil
	}

	counts := map[uint64]int{}
	common := collations[0]
	for _, collation := range collations {
		counts[collation]++
		if counts[collation] > counts[common] {
			common = collation
		}
	}

	b := appendLengthEncoded(nil, common)
	for i, collation := range collations {
		if collation != common {
			b = appendLengthEncoded(b, uint64(i))
			b = appendLengthEncoded(b, collation)
		}
	}
	return b
}

// isNumericType reports whether TABLE_MAP signedness covers a column type.
func isNumericType(typ byte) bool {
	switch typ {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG,
		mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_FLOAT,
		mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_YEAR:
		return true
	}
	return false
}

// isCharacterType reports whether TABLE_MAP charset fields cover a column
// type. JSON is not covered.
func isCharacterType(typ byte) bool {
	switch typ {
	case mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_BLOB:
		return true
	}
	return false
}

// rowsFlagStatementEnd marks the last rows event of a statement
// (STMT_END_F). go-mysql clears its table maps after such an event.
const rowsFlagStatementEnd = 1

// rowUpdate is one row of an UPDATE_ROWS_EVENT: the whole row before and
// after the update, with nil for NULL.
type rowUpdate struct {
	before []any
	after  []any
}

// writeRowsEvent returns a WRITE_ROWS_EVENT v2 of rows, each with one
// value per column of t, nil for NULL.
func writeRowsEvent(t *kitTable, rows ...[]any) event {
	b := rowsHeader(t, 1)
	for _, row := range rows {
		b = appendRowImage(b, t, row)
	}
	return event{typ: eventWriteRowsV2, body: b}
}

// deleteRowsEvent returns a DELETE_ROWS_EVENT v2 of rows.
func deleteRowsEvent(t *kitTable, rows ...[]any) event {
	b := rowsHeader(t, 1)
	for _, row := range rows {
		b = appendRowImage(b, t, row)
	}
	return event{typ: eventDeleteRowsV2, body: b}
}

// updateRowsEvent returns an UPDATE_ROWS_EVENT v2 of rows.
func updateRowsEvent(t *kitTable, rows ...rowUpdate) event {
	b := rowsHeader(t, 2)
	for _, row := range rows {
		b = appendRowImage(b, t, row.before)
		b = appendRowImage(b, t, row.after)
	}
	return event{typ: eventUpdateRowsV2, body: b}
}

// withoutStatementEnd returns a rows event without the STMT_END_F flag,
// for a statement that changes several tables and so writes several rows
// events after its TABLE_MAP events. The kit's rows events carry the flag
// by default.
func withoutStatementEnd(e event) event {
	body := slices.Clone(e.body)
	flags := binary.LittleEndian.Uint16(body[6:]) &^ rowsFlagStatementEnd
	binary.LittleEndian.PutUint16(body[6:], flags)
	return event{typ: e.typ, flags: e.flags, body: body}
}

// rowsHeader returns the start of a v2 rows event body: table id, flags,
// empty extra data, column count, and one columns-present bitmap per image
// with every column present, as binlog_row_image=FULL writes them.
func rowsHeader(t *kitTable, images int) []byte {
	b := appendUint48(nil, t.id)
	b = binary.LittleEndian.AppendUint16(b, rowsFlagStatementEnd)
	// The extra data length counts its own two bytes: no extra data.
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = appendLengthEncoded(b, uint64(len(t.columns)))
	present := lsbBitmap(len(t.columns), func(int) bool { return true })
	for range images {
		b = append(b, present...)
	}
	return b
}

// appendRowImage appends one row image: a bitmap of the NULL columns, then
// the value of each other column.
func appendRowImage(b []byte, t *kitTable, row []any) []byte {
	if len(row) != len(t.columns) {
		panic(fmt.Sprintf("binlog kit: row of %d values for table %s with %d columns", len(row), t.name, len(t.columns)))
	}
	b = append(b, lsbBitmap(len(row), func(i int) bool { return row[i] == nil })...)
	for i, v := range row {
		if v != nil {
			b = appendValue(b, t.columns[i], v)
		}
	}
	return b
}

// appendValue appends a column value as rows events store it.
func appendValue(b []byte, c kitColumn, v any) []byte {
	switch c.typ {
	case mysql.MYSQL_TYPE_LONG:
		return binary.LittleEndian.AppendUint32(b, uint32(integerValue(v)))
	case mysql.MYSQL_TYPE_LONGLONG:
		if u, ok := v.(uint64); ok {
			return binary.LittleEndian.AppendUint64(b, u)
		}
		return binary.LittleEndian.AppendUint64(b, uint64(integerValue(v)))
	case mysql.MYSQL_TYPE_VARCHAR:
		s := v.(string)
		// The length takes one byte when the column's maximum size in
		// bytes fits in one, else two.
		if c.meta < 256 {
			b = append(b, byte(len(s)))
		} else {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		}
		return append(b, s...)
	case mysql.MYSQL_TYPE_JSON:
		doc := v.(jsonb).doc()
		b = binary.LittleEndian.AppendUint32(b, uint32(len(doc)))
		return append(b, doc...)
	}
	panic(fmt.Sprintf("binlog kit: column type %d is not supported; add it to columnMetadata and appendValue", c.typ))
}

func integerValue(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case uint32:
		return int64(n)
	}
	panic(fmt.Sprintf("binlog kit: %v of Go type %T is not an integer value", v, v))
}

// diffOperation is the operation of one change in a JSON diff vector,
// numbered as MySQL's enum_json_diff_operation.
type diffOperation byte

const (
	diffReplace diffOperation = 0
	diffInsert  diffOperation = 1
	diffRemove  diffOperation = 2
)

// partialDiff is one change of a JSON column in a partial update (a
// Json_diff in MySQL), as JSON_SET, JSON_REPLACE and JSON_REMOVE log it.
type partialDiff struct {
	op diffOperation
	// path is a MySQL JSON path such as `$.a[2]`.
	path string
	// value is the new value at path. It is not written for diffRemove.
	value jsonb
}

// partialRow is one row of a PARTIAL_UPDATE_ROWS_EVENT, as MySQL writes an
// UPDATE of JSON columns with binlog_row_value_options=PARTIAL_JSON.
type partialRow struct {
	// before is the whole row before the update, nil for NULL.
	before []any
	// after is the row after the update. Its entries at the indexes in
	// diffs are not written.
	after []any
	// diffs maps the index of a JSON column to the changes that turn its
	// before document into its after document. The after image contains
	// this diff vector in place of the whole document.
	diffs map[int][]partialDiff
}

// rowValueOptionPartialJSON is the binlog_row_value_options bit that
// announces partial JSON values in an after image.
const rowValueOptionPartialJSON = 1

// partialUpdateRowsEvent returns a PARTIAL_UPDATE_ROWS_EVENT (type 39) of
// rows. Each before image is a whole row. Each after image starts with
// binlog_row_value_options with the PARTIAL_JSON bit and a bitmap with one
// bit per JSON column of the table, set for the columns whose value is a
// diff vector.
func partialUpdateRowsEvent(t *kitTable, rows ...partialRow) event {
	b := rowsHeader(t, 2)
	for _, row := range rows {
		b = appendRowImage(b, t, row.before)
		b = appendPartialImage(b, t, row)
	}
	return event{typ: eventPartialUpdateRows, body: b}
}

// appendPartialImage appends the after image of a partial update.
func appendPartialImage(b []byte, t *kitTable, row partialRow) []byte {
	if len(row.after) != len(t.columns) {
		panic(fmt.Sprintf("binlog kit: row of %d values for table %s with %d columns", len(row.after), t.name, len(t.columns)))
	}
	b = appendLengthEncoded(b, rowValueOptionPartialJSON)

	var partial []bool
	for i, c := range t.columns {
		if c.typ == mysql.MYSQL_TYPE_JSON {
			_, ok := row.diffs[i]
			partial = append(partial, ok)
		}
	}
	b = append(b, lsbBitmap(len(partial), func(i int) bool { return partial[i] })...)

	isNull := func(i int) bool {
		_, diffed := row.diffs[i]
		return row.after[i] == nil && !diffed
	}
	b = append(b, lsbBitmap(len(t.columns), isNull)...)
	for i, v := range row.after {
		if diffs, ok := row.diffs[i]; ok {
			vector := jsonDiffVector(diffs)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(vector)))
			b = append(b, vector...)
		} else if v != nil {
			b = appendValue(b, t.columns[i], v)
		}
	}
	return b
}

// jsonDiffVector encodes diffs as MySQL's Json_diff_vector writes them:
// for each change the operation byte, the length-encoded path, and unless
// it removes, the length-encoded binary JSON value.
func jsonDiffVector(diffs []partialDiff) []byte {
	var b []byte
	for _, d := range diffs {
		b = append(b, byte(d.op))
		b = appendLengthEncoded(b, uint64(len(d.path)))
		b = append(b, d.path...)
		if d.op != diffRemove {
			doc := d.value.doc()
			b = appendLengthEncoded(b, uint64(len(doc)))
			b = append(b, doc...)
		}
	}
	return b
}

// Header fields of a TRANSACTION_PAYLOAD_EVENT, and the zstd compression
// type.
const (
	payloadFieldEnd              = 0
	payloadFieldSize             = 1
	payloadFieldCompressionType  = 2
	payloadFieldUncompressedSize = 3
	payloadCompressionZstd       = 0
)

// transactionPayloadEvent returns a TRANSACTION_PAYLOAD_EVENT (type 40) as
// MySQL 8.0.20 and later write it with binlog_transaction_compression=ON:
// the events of a transaction after its GTID event, from BEGIN to XID,
// each with log position 0 and no checksum, compressed together as one
// zstd frame.
func transactionPayloadEvent(events ...event) event {
	var raw []byte
	for _, e := range events {
		raw = append(raw, e.encode(0, false)...)
	}
	encoder, err := zstd.NewWriter(nil)
	if err != nil {
		panic(err)
	}
	compressed := encoder.EncodeAll(raw, nil)
	encoder.Close()

	b := appendPayloadField(nil, payloadFieldCompressionType, payloadCompressionZstd)
	b = appendPayloadField(b, payloadFieldUncompressedSize, uint64(len(raw)))
	b = appendPayloadField(b, payloadFieldSize, uint64(len(compressed)))
	b = appendLengthEncoded(b, payloadFieldEnd)
	b = append(b, compressed...)
	return event{typ: eventTransactionPayload, body: b}
}

// appendPayloadField appends one header field of a TRANSACTION_PAYLOAD_EVENT
// as MySQL writes it: type, size of the value, and value, each
// length-encoded.
//
// NOTE: go-mysql v1.16.0 reads the type and size as single bytes and the
// value as a fixed-length integer, so it misreads sizes of 251 and more.
// It does not use them: the compressed data is the rest of the event.
func appendPayloadField(b []byte, field byte, value uint64) []byte {
	encoded := appendLengthEncoded(nil, value)
	b = appendLengthEncoded(b, uint64(field))
	b = appendLengthEncoded(b, uint64(len(encoded)))
	return append(b, encoded...)
}

// appendLengthEncoded appends a length-encoded integer, the MySQL protocol's
// variable-size form.
func appendLengthEncoded(b []byte, v uint64) []byte {
	switch {
	case v < 251:
		return append(b, byte(v))
	case v < 1<<16:
		return binary.LittleEndian.AppendUint16(append(b, 0xfc), uint16(v))
	case v < 1<<24:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), v)
}

// appendUint48 appends the low six bytes of v, little-endian: the size of
// table ids in TABLE_MAP and rows events.
func appendUint48(b []byte, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(b, v)[:len(b)+6]
}

// appendUint56 appends the low seven bytes of v, little-endian.
func appendUint56(b []byte, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(b, v)[:len(b)+7]
}

// lsbBitmap returns a bitmap of n bits, the first in the lowest bit of the
// first byte, as rows events and TABLE_MAP null bits use.
func lsbBitmap(n int, set func(i int) bool) []byte {
	b := make([]byte, (n+7)/8)
	for i := range n {
		if set(i) {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return b
}

// msbBitmap returns a bitmap with the first bit in the highest bit of the
// first byte, as the signedness and visibility metadata use.
func msbBitmap(bits []bool) []byte {
	b := make([]byte, (len(bits)+7)/8)
	for i, set := range bits {
		if set {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	return b
}

// Type bytes of MySQL's binary JSON format.
const (
	jsonbTypeSmallObject byte = 0x00
	jsonbTypeLargeObject byte = 0x01
	jsonbTypeSmallArray  byte = 0x02
	jsonbTypeLargeArray  byte = 0x03
	jsonbTypeLiteral     byte = 0x04
	jsonbTypeInt16       byte = 0x05
	jsonbTypeUint16      byte = 0x06
	jsonbTypeInt32       byte = 0x07
	jsonbTypeUint32      byte = 0x08
	jsonbTypeInt64       byte = 0x09
	jsonbTypeUint64      byte = 0x0a
	jsonbTypeDouble      byte = 0x0b
	jsonbTypeString      byte = 0x0c
	jsonbTypeOpaque      byte = 0x0f

	jsonbLiteralNull  byte = 0x00
	jsonbLiteralTrue  byte = 0x01
	jsonbLiteralFalse byte = 0x02
)

// jsonb is a value in MySQL's binary JSON format (JSONB): its type byte and
// the bytes that follow it.
type jsonb struct {
	typ  byte
	data []byte
}

// jsonbMember is one member of a JSON object.
type jsonbMember struct {
	key   string
	value jsonb
}

// doc returns the value as a JSON column stores it: the type byte, then
// the value.
func (v jsonb) doc() []byte {
	return append([]byte{v.typ}, v.data...)
}

// inlineValue returns the value that a container stores in the value's
// entry instead of an offset, and whether the value is stored that way.
// Literals and 16-bit integers are inlined in small and large containers,
// 32-bit integers only in large ones. MySQL writes an inlined INT16
// sign-extended to the entry's size (attempt_inline_value in
// sql-common/json_binary.cc).
func (v jsonb) inlineValue(large bool) (uint32, bool) {
	switch v.typ {
	case jsonbTypeLiteral:
		return uint32(v.data[0]), true
	case jsonbTypeInt16:
		return uint32(int32(int16(binary.LittleEndian.Uint16(v.data)))), true
	case jsonbTypeUint16:
		return uint32(binary.LittleEndian.Uint16(v.data)), true
	case jsonbTypeInt32, jsonbTypeUint32:
		return binary.LittleEndian.Uint32(v.data), large
	}
	return 0, false
}

func jsonbNull() jsonb  { return jsonb{typ: jsonbTypeLiteral, data: []byte{jsonbLiteralNull}} }
func jsonbTrue() jsonb  { return jsonb{typ: jsonbTypeLiteral, data: []byte{jsonbLiteralTrue}} }
func jsonbFalse() jsonb { return jsonb{typ: jsonbTypeLiteral, data: []byte{jsonbLiteralFalse}} }

func jsonbInt16Value(v int16) jsonb {
	return jsonb{typ: jsonbTypeInt16, data: binary.LittleEndian.AppendUint16(nil, uint16(v))}
}

func jsonbUint16Value(v uint16) jsonb {
	return jsonb{typ: jsonbTypeUint16, data: binary.LittleEndian.AppendUint16(nil, v)}
}

func jsonbInt32Value(v int32) jsonb {
	return jsonb{typ: jsonbTypeInt32, data: binary.LittleEndian.AppendUint32(nil, uint32(v))}
}

func jsonbUint32Value(v uint32) jsonb {
	return jsonb{typ: jsonbTypeUint32, data: binary.LittleEndian.AppendUint32(nil, v)}
}

func jsonbInt64Value(v int64) jsonb {
	return jsonb{typ: jsonbTypeInt64, data: binary.LittleEndian.AppendUint64(nil, uint64(v))}
}

func jsonbUint64Value(v uint64) jsonb {
	return jsonb{typ: jsonbTypeUint64, data: binary.LittleEndian.AppendUint64(nil, v)}
}

func jsonbDoubleValue(v float64) jsonb {
	return jsonb{typ: jsonbTypeDouble, data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))}
}

// jsonbStringValue returns a JSON string: its length in the variable-size
// form of binary JSON, then its bytes.
func jsonbStringValue(s string) jsonb {
	return jsonb{typ: jsonbTypeString, data: append(appendJSONBLength(nil, len(s)), s...)}
}

// jsonbOpaqueValue returns an opaque value: a MySQL column type, the length
// of the data, and the data in that type's binary form.
func jsonbOpaqueValue(fieldType byte, data []byte) jsonb {
	b := appendJSONBLength([]byte{fieldType}, len(data))
	return jsonb{typ: jsonbTypeOpaque, data: append(b, data...)}
}

// jsonbDecimal returns a DECIMAL(precision, scale) value given as text,
// such as "-12.50", as MySQL stores one in JSON: an opaque NEWDECIMAL
// value that contains precision, scale and the binary decimal.
func jsonbDecimal(text string, precision, scale int) jsonb {
	data := append([]byte{byte(precision), byte(scale)}, decimalBinary(text, precision, scale)...)
	return jsonbOpaqueValue(mysql.MYSQL_TYPE_NEWDECIMAL, data)
}

// jsonbTime returns a TIME value as MySQL stores one in JSON: an opaque
// value that contains the packed time as a little-endian int64.
func jsonbTime(d time.Duration) jsonb {
	return jsonbOpaqueValue(mysql.MYSQL_TYPE_TIME, binary.LittleEndian.AppendUint64(nil, uint64(packTime(d))))
}

// jsonbDatetime returns a DATETIME value, the wall-clock fields of t, as
// MySQL stores one in JSON.
func jsonbDatetime(t time.Time) jsonb {
	return jsonbOpaqueValue(mysql.MYSQL_TYPE_DATETIME, binary.LittleEndian.AppendUint64(nil, uint64(packDatetime(t))))
}

// jsonbDate returns a DATE value, the date of t, as MySQL stores one in
// JSON: packed like a DATETIME at midnight.
func jsonbDate(t time.Time) jsonb {
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return jsonbOpaqueValue(mysql.MYSQL_TYPE_DATE, binary.LittleEndian.AppendUint64(nil, uint64(packDatetime(midnight))))
}

// packTime packs a TIME value as MySQL does: hours, minutes and seconds in
// the bits from 24 up, microseconds below, negated for a negative time.
func packTime(d time.Duration) int64 {
	negative := d < 0
	if negative {
		d = -d
	}
	seconds := int64(d / time.Second)
	micros := int64(d % time.Second / time.Microsecond)
	hms := (seconds/3600)<<12 | (seconds/60%60)<<6 | seconds%60
	packed := hms<<24 | micros
	if negative {
		packed = -packed
	}
	return packed
}

// packDatetime packs a DATETIME value as MySQL does: year*13+month and day
// above 17 bits of hours, minutes and seconds, all above 24 bits of
// microseconds.
func packDatetime(t time.Time) int64 {
	ymd := (int64(t.Year())*13+int64(t.Month()))<<5 | int64(t.Day())
	hms := int64(t.Hour())<<12 | int64(t.Minute())<<6 | int64(t.Second())
	return (ymd<<17|hms)<<24 | int64(t.Nanosecond()/1000)
}

// decimalGroupBytes is the number of bytes a group of 0 to 9 decimal digits
// takes in MySQL's binary DECIMAL.
var decimalGroupBytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

// decimalBinary encodes a decimal number given as text in MySQL's binary
// DECIMAL(precision, scale) form. The integer digits are stored from the
// most significant: first the digits that do not fill a group of nine,
// then groups of nine in four big-endian bytes each. The fraction digits
// follow in groups of nine from the point, then the digits left over. A
// negative number has every byte inverted, and the top bit of the first
// byte is flipped so that the bytes sort like the numbers.
func decimalBinary(text string, precision, scale int) []byte {
	negative := strings.HasPrefix(text, "-")
	intPart, fracPart, _ := strings.Cut(strings.TrimPrefix(text, "-"), ".")
	intPart = strings.TrimLeft(intPart, "0")
	intDigits := precision - scale
	if len(intPart) > intDigits || len(fracPart) > scale {
		panic(fmt.Sprintf("binlog kit: %s does not fit DECIMAL(%d,%d)", text, precision, scale))
	}
	intPart = strings.Repeat("0", intDigits-len(intPart)) + intPart
	fracPart += strings.Repeat("0", scale-len(fracPart))

	lead := intDigits % 9
	b := appendDecimalGroup(nil, intPart[:lead])
	for i := lead; i < intDigits; i += 9 {
		b = appendDecimalGroup(b, intPart[i:i+9])
	}
	full := scale - scale%9
	for i := 0; i < full; i += 9 {
		b = appendDecimalGroup(b, fracPart[i:i+9])
	}
	b = appendDecimalGroup(b, fracPart[full:])

	if negative {
		for i := range b {
			b[i] ^= 0xff
		}
	}
	b[0] ^= 0x80
	return b
}

// appendDecimalGroup appends a group of up to nine digits as a big-endian
// integer of decimalGroupBytes[len(digits)] bytes.
func appendDecimalGroup(b []byte, digits string) []byte {
	if digits == "" {
		return b
	}
	value, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		panic(fmt.Sprintf("binlog kit: invalid decimal digits %q", digits))
	}
	for i := decimalGroupBytes[len(digits)] - 1; i >= 0; i-- {
		b = append(b, byte(value>>(8*i)))
	}
	return b
}

// appendJSONBLength appends a length in binary JSON's variable-size form:
// seven bits per byte, lowest first, with the high bit set on every byte
// but the last.
func appendJSONBLength(b []byte, n int) []byte {
	for n >= 0x80 {
		b = append(b, byte(n&0x7f)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// jsonbArray returns an array of values.
func jsonbArray(values ...jsonb) jsonb {
	return jsonbContainer(jsonbTypeSmallArray, jsonbTypeLargeArray, nil, values)
}

// jsonbObject returns an object of members, whose keys must differ. Like
// MySQL it stores the members sorted by key length, then by key bytes,
// which is also the order MySQL prints them in.
func jsonbObject(members ...jsonbMember) jsonb {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, func(a, b jsonbMember) int {
		return cmp.Or(cmp.Compare(len(a.key), len(b.key)), strings.Compare(a.key, b.key))
	})
	keys := make([]string, len(sorted))
	values := make([]jsonb, len(sorted))
	for i, m := range sorted {
		keys[i], values[i] = m.key, m.value
	}
	return jsonbContainer(jsonbTypeSmallObject, jsonbTypeLargeObject, keys, values)
}

// jsonbContainer encodes an object (keys not nil) or array in the small
// format, with 2-byte counts and offsets, or in the large format with
// 4-byte ones when the small one would pass 64 KiB, as MySQL chooses.
func jsonbContainer(smallType, largeType byte, keys []string, values []jsonb) jsonb {
	if data, ok := encodeJSONBContainer(keys, values, false); ok {
		return jsonb{typ: smallType, data: data}
	}
	data, _ := encodeJSONBContainer(keys, values, true)
	return jsonb{typ: largeType, data: data}
}

// encodeJSONBContainer lays out a container: element count and total size,
// an entry per key (offset and length), an entry per value (type byte and
// offset, or the inlined value), then the keys, then the values that are
// not inlined. Offsets count from the start of the container. It returns
// false when the small format cannot hold the container.
func encodeJSONBContainer(keys []string, values []jsonb, large bool) ([]byte, bool) {
	offsetSize := 2
	if large {
		offsetSize = 4
	}
	putOffset := func(b []byte, v uint32) {
		if large {
			binary.LittleEndian.PutUint32(b, v)
		} else {
			binary.LittleEndian.PutUint16(b, uint16(v))
		}
	}
	keyEntrySize := offsetSize + 2
	valueEntrySize := 1 + offsetSize
	keyEntries := 2 * offsetSize
	valueEntries := keyEntries + len(keys)*keyEntrySize

	b := make([]byte, valueEntries+len(values)*valueEntrySize)
	for i, key := range keys {
		entry := keyEntries + i*keyEntrySize
		putOffset(b[entry:], uint32(len(b)))
		binary.LittleEndian.PutUint16(b[entry+offsetSize:], uint16(len(key)))
		b = append(b, key...)
	}
	for i, v := range values {
		entry := valueEntries + i*valueEntrySize
		b[entry] = v.typ
		if inline, ok := v.inlineValue(large); ok {
			putOffset(b[entry+1:], inline)
			continue
		}
		putOffset(b[entry+1:], uint32(len(b)))
		b = append(b, v.data...)
	}

	if !large && len(b) > math.MaxUint16 {
		return nil, false
	}
	putOffset(b, uint32(len(values)))
	putOffset(b[offsetSize:], uint32(len(b)))
	return b, true
}

// newTestParser returns a BinlogParser set up as NewReader sets up
// go-mysql's BinlogSyncer, which hands these options to its parser. A
// change to the syncer's decoding options in NewReader belongs here too.
func newTestParser() *replication.BinlogParser {
	p := newGoMySQLParser()
	p.SetRowsEventDecodeFunc(decodeRowsEvent)
	return p
}

// newGoMySQLParser returns a BinlogParser with NewReader's options but
// without sluice's own JSON decoding: go-mysql alone decodes the rows.
// Kit checks use it to read the kit's bytes with a decoder that shares no
// code with sluice.
func newGoMySQLParser() *replication.BinlogParser {
	p := replication.NewBinlogParser()
	p.SetFlavor(mysql.MySQLFlavor)
	p.SetTimestampStringLocation(time.UTC)
	p.SetRenderJSONAsMySQLText(true)
	return p
}

// parseBinlog parses the events of files in order with parser, as a
// replication stream delivers them: each file from its
// FORMAT_DESCRIPTION_EVENT on.
func parseBinlog(t *testing.T, parser *replication.BinlogParser, files ...*binlogFile) []*replication.BinlogEvent {
	t.Helper()
	var events []*replication.BinlogEvent
	for _, f := range files {
		for i, raw := range f.events {
			ev, err := parser.Parse(raw)
			if err != nil {
				t.Fatalf("parse event %d of %s: %v", i, f.name, err)
			}
			events = append(events, ev)
		}
	}
	return events
}

// testMySQLServer returns what Inspect returns for a MySQL 8.0 server with
// binlog_row_metadata=FULL.
func testMySQLServer() *Server {
	return &Server{
		Version:  kitServerVersion,
		Flavor:   mysql.MySQLFlavor,
		ServerID: kitServerID,
		Charsets: map[uint64]string{
			collationLatin1:  "latin1",
			collationBinary:  "binary",
			collationUTF8mb4: "utf8mb4",
		},
		RowMetadata: "FULL",
	}
}

// newTestReader returns a Reader that starts at from and reads the events
// of files, parsed by newTestParser, from a streamer instead of a server.
// Its fields are set as NewReader sets them, with a filter that captures
// every table and a schema history in memory. Its catalog would connect to
// 127.0.0.1 port 1, so a table without a primary key in its TABLE_MAP
// fails the read instead of reaching a server.
func newTestReader(t *testing.T, from offsets.Position, files ...*binlogFile) *Reader {
	t.Helper()
	cfg := &Config{Host: "127.0.0.1", Port: 1, ReplicaID: 100, Filter: &schema.Filter{}, ConnectTimeout: time.Second}
	server := testMySQLServer()

	gtids, err := mysql.ParseGTIDSet(server.Flavor, from.GTIDSet)
	if err != nil {
		t.Fatalf("parse GTID set %q: %v", from.GTIDSet, err)
	}
	history, err := loadHistory("")
	if err != nil {
		t.Fatal(err)
	}

	stream := replication.NewBinlogStreamer()
	for _, ev := range parseBinlog(t, newTestParser(), files...) {
		if err := stream.AddEventToStreamer(ev); err != nil {
			t.Fatal(err)
		}
	}

	return &Reader{
		cfg:            cfg,
		server:         server,
		log:            zerolog.Nop(),
		stream:         stream,
		file:           from.File,
		gtids:          gtids,
		txnStart:       from,
		skipRowsEvents: from.SkipRowsEvents,
		tables:         map[uint64]*cachedTable{},
		catalog:        newCatalog(cfg),
		history:        history,
		keyless:        map[string]bool{},
	}
}

// readTransaction calls Next until a step ends a transaction, and returns
// the changes read on the way and that last step. It fails the test on an
// error, or when no such step comes within five seconds.
func readTransaction(t *testing.T, r *Reader) ([]codec.Change, Step) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var changes []codec.Change
	for {
		step, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("read the binlog: %v", err)
		}
		changes = append(changes, step.Changes...)
		if step.End {
			return changes, step
		}
	}
}

// gtidSet returns the GTID set text of kitUUID with the given intervals,
// such as "1-20:25".
func gtidSet(intervals string) string {
	return kitUUID.String() + ":" + intervals
}

// kitEventTypes returns the type of each event, for failure messages.
func kitEventTypes(events []*replication.BinlogEvent) string {
	names := make([]string, len(events))
	for i, ev := range events {
		names[i] = ev.Header.EventType.String()
	}
	return strings.Join(names, ", ")
}
