package source

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
)

// These tests feed MySQL 8.0 binlog events built by the kit in
// binlogkit_test.go through go-mysql's parser, the Reader and the JSON
// codec, as sluice handles a MySQL 8.0 server's stream.

// TestReaderJSONTextMySQL8 checks that a JSON column reaches the record as
// the text MySQL 8.0 prints for the stored binary JSON, which is what
// CAST(doc AS CHAR) returns.
func TestReaderJSONTextMySQL8(t *testing.T) {
	table := &kitTable{
		id: 81, database: "shop", name: "jf",
		columns:    []kitColumn{notNull(intColumn("id")), jsonColumn("doc")},
		primaryKey: []int{0},
	}
	cases := []struct {
		name string
		doc  jsonb
		want string
	}{
		{"double 1.0", jsonbObject(jsonbMember{"d", jsonbDoubleValue(1.0)}), `{"d": 1.0}`},
		{"decimal 1.0", jsonbObject(jsonbMember{"n", jsonbDecimal("1.0", 3, 1)}), `{"n": 1.0}`},
		{"double with exponent", jsonbObject(jsonbMember{"v", jsonbDoubleValue(6.02214076e23)}), `{"v": 6.02214076e23}`},
		{
			"time and datetime",
			jsonbObject(
				jsonbMember{"t", jsonbTime(0)},
				jsonbMember{"dt", jsonbDatetime(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC))},
			),
			`{"t": "00:00:00.000000", "dt": "2020-01-02 03:04:05.000000"}`,
		},
		{
			"64-bit integers",
			jsonbObject(
				jsonbMember{"u", jsonbUint64Value(math.MaxUint64)},
				jsonbMember{"i", jsonbInt64Value(math.MinInt64)},
				jsonbMember{"big", jsonbInt64Value(9007199254740993)},
			),
			`{"i": -9223372036854775808, "u": 18446744073709551615, "big": 9007199254740993}`,
		},
		{"uint32 above int32", jsonbObject(jsonbMember{"value", jsonbUint32Value(2147483648)}), `{"value": 2147483648}`},
		{"uint64 above int32", jsonbObject(jsonbMember{"value", jsonbUint64Value(2147483648)}), `{"value": 2147483648}`},
	}

	file := newBinlogFile("binlog.000007")
	from := offsets.Position{File: file.name, Pos: file.end, GTIDSet: gtidSet("1-9")}
	rows := make([][]any, len(cases))
	for i, c := range cases {
		rows[i] = []any{i + 1, c.doc}
	}
	txn := file.appendTransaction(kitUUID, 10,
		beginEvent(), tableMapEvent(table), writeRowsEvent(table, rows...), xidEvent(100))

	changes, end := readTransaction(t, newTestReader(t, from, file))
	if end.Position.Pos != txn.end {
		t.Errorf("end position = %d, want %d", end.Position.Pos, txn.end)
	}
	if len(changes) != len(cases) {
		t.Fatalf("read %d changes, want %d", len(changes), len(cases))
	}

	encoder := &codec.JSON{Connector: "mysql", Name: "sluice", Version: "test"}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			value, err := encoder.Value(&changes[i], 0)
			if err != nil {
				t.Fatalf("encode the change: %v", err)
			}
			var record struct {
				After struct {
					ID  int     `json:"id"`
					Doc *string `json:"doc"`
				} `json:"after"`
			}
			if err := json.Unmarshal(value, &record); err != nil {
				t.Fatalf("decode the record %s: %v", value, err)
			}
			if record.After.ID != i+1 {
				t.Errorf("after.id = %d, want %d", record.After.ID, i+1)
			}
			if record.After.Doc == nil {
				t.Fatalf("after.doc is null in %s", value)
			}
			if *record.After.Doc != c.want {
				t.Errorf("after.doc = %s\nwant        %s (MySQL 8.0's text of the stored value)", *record.After.Doc, c.want)
			}
		})
	}
}

// compressedTestTables returns the tables of the compressed-transaction
// tests: orders, with a 64-bit unsigned and a JSON column, and customers,
// with utf8mb4 and latin1 columns.
func compressedTestTables() (orders, customers *kitTable) {
	orders = &kitTable{
		id: 90, database: "shop", name: "orders",
		columns: []kitColumn{
			notNull(intColumn("id")), varcharColumn("name", 40),
			bigintUnsignedColumn("amount"), jsonColumn("doc"),
		},
		primaryKey: []int{0},
	}
	customers = &kitTable{
		id: 91, database: "shop", name: "customers",
		columns: []kitColumn{
			notNull(intColumn("id")), varcharColumn("email", 100), latin1VarcharColumn("country", 2),
		},
		primaryKey: []int{0},
	}
	return orders, customers
}

// changeSummary is what two reads of the same transaction must agree on.
// The source position may differ.
type changeSummary struct {
	Table       string
	Op          codec.Op
	Before      []any
	After       []any
	GTID        string
	Row         int
	TimestampMs int64
}

func summarize(changes []codec.Change) []changeSummary {
	out := make([]changeSummary, len(changes))
	for i, c := range changes {
		out[i] = changeSummary{
			Table: c.Table.String(), Op: c.Op, Before: c.Before, After: c.After,
			GTID: c.Source.GTID, Row: c.Source.Row, TimestampMs: c.Source.TimestampMs,
		}
	}
	return out
}

// TestReaderCompressedTransaction checks that a transaction wrapped in a
// zstd TRANSACTION_PAYLOAD_EVENT gives the same changes as the same
// transaction written plain, and ends after the payload event.
func TestReaderCompressedTransaction(t *testing.T) {
	orders, _ := compressedTestTables()
	events := []event{
		beginEvent(),
		tableMapEvent(orders),
		writeRowsEvent(orders,
			[]any{1, "ada", uint64(math.MaxUint64), jsonbStringValue("x")},
			[]any{2, "grace", uint64(0), nil},
			[]any{3, "lin", uint64(42), jsonbInt16Value(7)},
		),
		tableMapEvent(orders),
		updateRowsEvent(orders, rowUpdate{
			before: []any{2, "grace", uint64(0), nil},
			after:  []any{2, "grace", uint64(5), jsonbTrue()},
		}),
		xidEvent(200),
	}

	plainFile := newBinlogFile("binlog.000021")
	plainFrom := offsets.Position{File: plainFile.name, Pos: plainFile.end, GTIDSet: gtidSet("1-30")}
	plainTxn := plainFile.appendTransaction(kitUUID, 31, events...)

	compressedFile := newBinlogFile("binlog.000021")
	compressedFrom := offsets.Position{File: compressedFile.name, Pos: compressedFile.end, GTIDSet: gtidSet("1-30")}
	compressedTxn := compressedFile.appendTransaction(kitUUID, 31, transactionPayloadEvent(events...))

	plain, plainEnd := readTransaction(t, newTestReader(t, plainFrom, plainFile))
	compressed, compressedEnd := readTransaction(t, newTestReader(t, compressedFrom, compressedFile))

	gtid := kitUUID.String() + ":31"
	timestampMs := int64(kitTimestamp) * 1000
	want := []changeSummary{
		{"shop.orders", codec.OpCreate, nil, []any{int32(1), "ada", uint64(math.MaxUint64), `"x"`}, gtid, 0, timestampMs},
		{"shop.orders", codec.OpCreate, nil, []any{int32(2), "grace", uint64(0), nil}, gtid, 1, timestampMs},
		{"shop.orders", codec.OpCreate, nil, []any{int32(3), "lin", uint64(42), "7"}, gtid, 2, timestampMs},
		{
			"shop.orders", codec.OpUpdate,
			[]any{int32(2), "grace", uint64(0), nil}, []any{int32(2), "grace", uint64(5), "true"},
			gtid, 0, timestampMs,
		},
	}
	if got := summarize(plain); !reflect.DeepEqual(got, want) {
		t.Errorf("plain transaction changes:\n got %+v\nwant %+v", got, want)
	}
	if got := summarize(compressed); !reflect.DeepEqual(got, want) {
		t.Errorf("compressed transaction changes:\n got %+v\nwant %+v", got, want)
	}

	// A plain change names its rows event. A compressed one names the
	// payload event, where reading the transaction again starts.
	for i, c := range plain {
		wantPos := plainTxn.events[2]
		if i == 3 {
			wantPos = plainTxn.events[4]
		}
		if c.Source.Pos != wantPos {
			t.Errorf("plain change %d: source pos = %d, want %d", i, c.Source.Pos, wantPos)
		}
	}
	for i, c := range compressed {
		if c.Source.Pos != compressedTxn.events[0] {
			t.Errorf("compressed change %d: source pos = %d, want the payload's start %d", i, c.Source.Pos, compressedTxn.events[0])
		}
	}

	wantPlainEnd := offsets.Position{ServerID: kitServerID, Flavor: mysql.MySQLFlavor, File: plainFile.name, Pos: plainTxn.end, GTIDSet: gtidSet("1-31")}
	if got := withoutCaptureTime(plainEnd.Position); got != wantPlainEnd {
		t.Errorf("plain end position = %+v, want %+v", got, wantPlainEnd)
	}
	wantCompressedEnd := offsets.Position{ServerID: kitServerID, Flavor: mysql.MySQLFlavor, File: compressedFile.name, Pos: compressedTxn.end, GTIDSet: gtidSet("1-31")}
	if got := withoutCaptureTime(compressedEnd.Position); got != wantCompressedEnd {
		t.Errorf("compressed end position = %+v, want %+v (the payload event's end)", got, wantCompressedEnd)
	}
}

// TestReaderCompressedTwoTables checks a compressed transaction with a
// statement that deletes from two tables and a second statement.
func TestReaderCompressedTwoTables(t *testing.T) {
	orders, customers := compressedTestTables()
	file := newBinlogFile("binlog.000022")
	from := offsets.Position{File: file.name, Pos: file.end, GTIDSet: gtidSet("1-40")}
	txn := file.appendTransaction(kitUUID, 41, transactionPayloadEvent(
		beginEvent(),
		// DELETE c, o FROM customers c JOIN orders o ...: both TABLE_MAP
		// events first, then one rows event per table.
		tableMapEvent(customers),
		tableMapEvent(orders),
		withoutStatementEnd(deleteRowsEvent(customers, []any{7, "ada@example.com", "GB"})),
		deleteRowsEvent(orders, []any{70, "ada", uint64(3), nil}, []any{71, "ada", uint64(4), nil}),
		tableMapEvent(customers),
		writeRowsEvent(customers, []any{8, "lin@example.com", "\xe9\xe9"}),
		xidEvent(300),
	))

	r := newTestReader(t, from, file)
	changes, end := readTransaction(t, r)

	gtid := kitUUID.String() + ":41"
	timestampMs := int64(kitTimestamp) * 1000
	want := []changeSummary{
		{"shop.customers", codec.OpDelete, []any{int32(7), "ada@example.com", "GB"}, nil, gtid, 0, timestampMs},
		{"shop.orders", codec.OpDelete, []any{int32(70), "ada", uint64(3), nil}, nil, gtid, 0, timestampMs},
		{"shop.orders", codec.OpDelete, []any{int32(71), "ada", uint64(4), nil}, nil, gtid, 1, timestampMs},
		{"shop.customers", codec.OpCreate, nil, []any{int32(8), "lin@example.com", "\xe9\xe9"}, gtid, 0, timestampMs},
	}
	if got := summarize(changes); !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %+v\nwant %+v", got, want)
	}
	for i, c := range changes {
		if c.Source.Pos != txn.events[0] {
			t.Errorf("change %d: source pos = %d, want the payload's start %d", i, c.Source.Pos, txn.events[0])
		}
	}

	// The charset metadata reaches the record: latin1 bytes become UTF-8.
	if len(changes) == len(want) {
		columns := changes[3].Table.Columns
		if columns[1].Charset != "utf8mb4" || columns[2].Charset != "latin1" {
			t.Errorf("customers charsets = %q, %q, want utf8mb4, latin1", columns[1].Charset, columns[2].Charset)
		}
		value, err := (&codec.JSON{Connector: "mysql", Name: "sluice"}).Value(&changes[3], 0)
		if err != nil {
			t.Fatalf("encode the change: %v", err)
		}
		if !strings.Contains(string(value), `"after":{"id":8,"email":"lin@example.com","country":"éé"}`) {
			t.Errorf("record = %s, want after {id 8, lin@example.com, éé}", value)
		}
	}

	wantEnd := offsets.Position{ServerID: kitServerID, Flavor: mysql.MySQLFlavor, File: file.name, Pos: txn.end, GTIDSet: gtidSet("1-41")}
	if got := withoutCaptureTime(end.Position); got != wantEnd {
		t.Errorf("end position = %+v, want %+v (the payload event's end)", got, wantEnd)
	}
}

func withoutCaptureTime(p offsets.Position) offsets.Position {
	p.CapturedAt = time.Time{}
	return p
}

// TestReaderGTIDSetOutOfOrder checks the executed GTID set after each
// transaction when GNOs arrive out of order and leave a gap, across a
// binlog rotation.
func TestReaderGTIDSetOutOfOrder(t *testing.T) {
	table := &kitTable{
		id: 70, database: "shop", name: "events",
		columns:    []kitColumn{notNull(intColumn("id"))},
		primaryKey: []int{0},
	}
	transaction := func(f *binlogFile, gno int64) uint32 {
		return f.appendTransaction(kitUUID, gno,
			beginEvent(), tableMapEvent(table), writeRowsEvent(table, []any{int(gno)}), xidEvent(uint64(gno))).end
	}
	const ddl = "CREATE TABLE audit (id INT PRIMARY KEY)"

	// Each step the reader returns with End set, in order. gno is 0 for
	// the rotation, which ends no transaction.
	type expected struct {
		gno     int64
		ddl     string
		file    string
		end     uint32
		gtidSet string
	}
	first := newBinlogFile("binlog.000012")
	second := newBinlogFile("binlog.000013")
	from := offsets.Position{File: first.name, Pos: first.end, GTIDSet: gtidSet("1-20")}
	want := []expected{
		{gno: 25, file: first.name, end: transaction(first, 25), gtidSet: gtidSet("1-20:25")},
		{gno: 21, file: first.name, end: transaction(first, 21), gtidSet: gtidSet("1-21:25")},
		{gno: 22, ddl: ddl, file: first.name, end: first.appendDDL(kitUUID, 22, "shop", ddl).end, gtidSet: gtidSet("1-22:25")},
	}
	first.append(rotateEvent(second.name))
	want = append(want,
		expected{gno: 0, file: second.name, end: 4, gtidSet: gtidSet("1-22:25")},
		expected{gno: 23, file: second.name, end: transaction(second, 23), gtidSet: gtidSet("1-23:25")},
		expected{gno: 24, file: second.name, end: transaction(second, 24), gtidSet: gtidSet("1-25")},
	)

	r := newTestReader(t, from, first, second)
	for _, w := range want {
		name := "after GNO " + strconv.FormatInt(w.gno, 10)
		if w.gno == 0 {
			name = "after the rotation"
		}
		changes, step := readTransaction(t, r)
		if step.Position.GTIDSet != w.gtidSet {
			t.Errorf("%s: GTID set = %s, want %s", name, step.Position.GTIDSet, w.gtidSet)
		}
		if step.Position.File != w.file || step.Position.Pos != w.end {
			t.Errorf("%s: position = %s:%d, want %s:%d", name, step.Position.File, step.Position.Pos, w.file, w.end)
		}

		wantGTID := kitUUID.String() + ":" + strconv.FormatInt(w.gno, 10)
		switch {
		case w.gno == 0:
			if len(changes) != 0 || step.DDL != nil {
				t.Errorf("%s: %d changes and DDL %+v, want neither", name, len(changes), step.DDL)
			}
		case w.ddl != "":
			if step.DDL == nil || step.DDL.Statement != w.ddl || step.DDL.Source.GTID != wantGTID {
				t.Errorf("%s: DDL = %+v, want %q with gtid %s", name, step.DDL, w.ddl, wantGTID)
			}
		case len(changes) != 1:
			t.Errorf("%s: %d changes, want 1", name, len(changes))
		default:
			if changes[0].Source.GTID != wantGTID {
				t.Errorf("%s: change gtid = %s, want %s", name, changes[0].Source.GTID, wantGTID)
			}
			if changes[0].Source.File != w.file {
				t.Errorf("%s: change file = %s, want %s", name, changes[0].Source.File, w.file)
			}
		}
	}
}

// TestReaderGTIDSetAfterPurgedFloor checks that transactions right after a
// saved set that starts at 1 extend its interval.
func TestReaderGTIDSetAfterPurgedFloor(t *testing.T) {
	table := &kitTable{
		id: 71, database: "shop", name: "events",
		columns:    []kitColumn{notNull(intColumn("id"))},
		primaryKey: []int{0},
	}
	file := newBinlogFile("binlog.000040")
	from := offsets.Position{File: file.name, Pos: file.end, GTIDSet: gtidSet("1-100")}
	ends := map[int64]uint32{}
	for gno := int64(101); gno <= 103; gno++ {
		txn := file.appendTransaction(kitUUID, gno,
			beginEvent(), tableMapEvent(table), writeRowsEvent(table, []any{int(gno)}), xidEvent(uint64(gno)))
		ends[gno] = txn.end
	}

	r := newTestReader(t, from, file)
	for gno := int64(101); gno <= 103; gno++ {
		_, step := readTransaction(t, r)
		if want := gtidSet("1-" + strconv.FormatInt(gno, 10)); step.Position.GTIDSet != want {
			t.Errorf("after GNO %d: GTID set = %s, want %s", gno, step.Position.GTIDSet, want)
		}
		if step.Position.Pos != ends[gno] {
			t.Errorf("after GNO %d: position = %d, want %d", gno, step.Position.Pos, ends[gno])
		}
	}
}

// partialUpdateTestBinlog returns a binlog with one PARTIAL_UPDATE_ROWS_EVENT
// of two rows, in which one of two JSON columns is a vector of two diffs.
func partialUpdateTestBinlog() *binlogFile {
	table := &kitTable{
		id: 95, database: "shop", name: "docs",
		columns:    []kitColumn{notNull(intColumn("id")), jsonColumn("meta"), jsonColumn("doc")},
		primaryKey: []int{0},
	}
	before := jsonbObject(
		jsonbMember{"a", jsonbInt16Value(1)},
		jsonbMember{"c", jsonbTrue()},
		jsonbMember{"tags", jsonbArray(jsonbStringValue("x"))},
	)
	rows := []partialRow{
		{
			before: []any{1, jsonbStringValue("m1"), before},
			after:  []any{1, jsonbStringValue("m2"), nil},
			diffs: map[int][]partialDiff{2: {
				{op: diffReplace, path: "$.a", value: jsonbInt16Value(2)},
				{op: diffInsert, path: "$.tags[1]", value: jsonbStringValue("y")},
			}},
		},
		{
			before: []any{2, nil, before},
			after:  []any{2, nil, nil},
			diffs: map[int][]partialDiff{2: {
				{op: diffRemove, path: "$.c"},
				{op: diffReplace, path: "$.tags", value: jsonbArray()},
			}},
		},
	}
	file := newBinlogFile("binlog.000050")
	file.appendTransaction(kitUUID, 5,
		beginEvent(), tableMapEvent(table), partialUpdateRowsEvent(table, rows...), xidEvent(5))
	return file
}

// onlyRowsEvent returns the single rows event among events.
func onlyRowsEvent(t *testing.T, events []*replication.BinlogEvent) *replication.RowsEvent {
	t.Helper()
	var found []*replication.RowsEvent
	for _, ev := range events {
		if e, ok := ev.Event.(*replication.RowsEvent); ok {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rows events among %s, want 1", len(found), kitEventTypes(events))
	}
	return found[0]
}

// TestBinlogKitPartialUpdate checks the kit's PARTIAL_UPDATE_ROWS_EVENT with
// go-mysql's own decoder, which shares no code with sluice: whole before
// images, a whole document for the JSON column without diffs, and a
// JsonDiff for the one with diffs.
func TestBinlogKitPartialUpdate(t *testing.T) {
	events := parseBinlog(t, newGoMySQLParser(), partialUpdateTestBinlog())
	rowsEvent := onlyRowsEvent(t, events)
	if len(rowsEvent.Rows) != 4 {
		t.Fatalf("%d row images, want 4", len(rowsEvent.Rows))
	}

	wantBefore := []any{int32(1), `"m1"`, `{"a":1,"c":true,"tags":["x"]}`}
	if !reflect.DeepEqual(rowsEvent.Rows[0], wantBefore) {
		t.Errorf("before image = %#v, want %#v", rowsEvent.Rows[0], wantBefore)
	}
	if got := rowsEvent.Rows[1][1]; got != `"m2"` {
		t.Errorf("after image meta = %#v, want the whole document \"m2\"", got)
	}
	if rowsEvent.Rows[3][1] != nil {
		t.Errorf("row image 3: meta = %#v, want NULL", rowsEvent.Rows[3][1])
	}
	// go-mysql v1.16.0 returns the first diff of a vector only.
	checkDiff := func(image int, want replication.JsonDiff) {
		t.Helper()
		diff, ok := rowsEvent.Rows[image][2].(*replication.JsonDiff)
		if !ok {
			t.Fatalf("row image %d: doc = %#v, want a *replication.JsonDiff", image, rowsEvent.Rows[image][2])
		}
		if *diff != want {
			t.Errorf("row image %d: doc diff = %+v, want %+v", image, *diff, want)
		}
	}
	checkDiff(1, replication.JsonDiff{Op: replication.JsonDiffOperationReplace, Path: "$.a", Value: "2"})
	checkDiff(3, replication.JsonDiff{Op: replication.JsonDiffOperationRemove, Path: "$.c"})
}

// TestReaderPartialUpdateParses checks that a parser with NewReader's
// options reads the kit's PARTIAL_UPDATE_ROWS_EVENT without error and
// applies both diffs of each vector.
func TestReaderPartialUpdateParses(t *testing.T) {
	events := parseBinlog(t, newTestParser(), partialUpdateTestBinlog())
	rowsEvent := onlyRowsEvent(t, events)
	if len(rowsEvent.Rows) != 4 {
		t.Fatalf("%d row images, want 4", len(rowsEvent.Rows))
	}
	want := []any{
		`{"a": 1, "c": true, "tags": ["x"]}`,
		`{"a": 2, "c": true, "tags": ["x", "y"]}`,
		`{"a": 1, "c": true, "tags": ["x"]}`,
		`{"a": 1, "tags": []}`,
	}
	for i, row := range rowsEvent.Rows {
		if row[2] != want[i] {
			t.Errorf("row image %d: doc = %#v, want %#v", i, row[2], want[i])
		}
	}
}

// TestBinlogKitChecksums checks that every event of a kit binlog carries
// a valid CRC32, by parsing it with checksum verification on.
func TestBinlogKitChecksums(t *testing.T) {
	orders, _ := compressedTestTables()
	file := newBinlogFile("binlog.000060")
	file.appendTransaction(kitUUID, 1,
		beginEvent(), tableMapEvent(orders),
		writeRowsEvent(orders, []any{1, "ada", uint64(1), jsonbNull()}), xidEvent(1))
	file.appendTransaction(kitUUID, 2, transactionPayloadEvent(
		beginEvent(), tableMapEvent(orders),
		deleteRowsEvent(orders, []any{1, "ada", uint64(1), jsonbNull()}), xidEvent(2)))
	file.appendDDL(kitUUID, 3, "shop", "DROP TABLE orders")
	file.append(rotateEvent("binlog.000061"))

	parser := newTestParser()
	parser.SetVerifyChecksum(true)
	var types []replication.EventType
	for i, raw := range file.events {
		ev, err := parser.Parse(raw)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		types = append(types, ev.Header.EventType)
	}
	want := []replication.EventType{
		replication.FORMAT_DESCRIPTION_EVENT,
		replication.GTID_EVENT, replication.QUERY_EVENT, replication.TABLE_MAP_EVENT, replication.WRITE_ROWS_EVENTv2, replication.XID_EVENT,
		replication.GTID_EVENT, replication.TRANSACTION_PAYLOAD_EVENT,
		replication.GTID_EVENT, replication.QUERY_EVENT,
		replication.ROTATE_EVENT,
	}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("event types = %v, want %v", types, want)
	}

	raw := file.events[len(file.events)-1]
	corrupt := append([]byte(nil), raw...)
	corrupt[eventHeaderLength] ^= 0xff
	// go-mysql formats ErrChecksumMismatch into its error with %v, so
	// errors.Is cannot find it.
	if _, err := parser.Parse(corrupt); err == nil || !strings.Contains(err.Error(), replication.ErrChecksumMismatch.Error()) {
		t.Errorf("a corrupted event parsed with error %v, want a checksum mismatch", err)
	}
}

// TestBinlogKitGTIDEvent checks the fields go-mysql reads from a kit GTID
// event, the transaction length among them.
func TestBinlogKitGTIDEvent(t *testing.T) {
	orders, _ := compressedTestTables()
	file := newBinlogFile("binlog.000061")
	txn := file.appendTransaction(kitUUID, 77,
		beginEvent(), tableMapEvent(orders),
		writeRowsEvent(orders, []any{1, strings.Repeat("a", 150), uint64(1), jsonbStringValue(strings.Repeat("b", 200))}),
		xidEvent(1))

	events := parseBinlog(t, newGoMySQLParser(), file)
	gtid, ok := events[1].Event.(*replication.GTIDEvent)
	if !ok {
		t.Fatalf("event 1 is %s, want a GTID event", events[1].Header.EventType)
	}
	if next, err := gtid.GTIDNext(); err != nil || next.String() != kitUUID.String()+":77" {
		t.Errorf("GTID = %v (%v), want %s:77", next, err, kitUUID)
	}
	if want := uint64(txn.end - txn.start); gtid.TransactionLength != want {
		t.Errorf("transaction length = %d, want %d", gtid.TransactionLength, want)
	}
	if gtid.ImmediateCommitTimestamp != uint64(kitTimestamp)*1_000_000 || gtid.OriginalCommitTimestamp != gtid.ImmediateCommitTimestamp {
		t.Errorf("commit timestamps = %d, %d, want both %d", gtid.ImmediateCommitTimestamp, gtid.OriginalCommitTimestamp, uint64(kitTimestamp)*1_000_000)
	}
	if gtid.ImmediateServerVersion != kitServerVersionID || gtid.OriginalServerVersion != kitServerVersionID {
		t.Errorf("server versions = %d, %d, want both %d", gtid.ImmediateServerVersion, gtid.OriginalServerVersion, kitServerVersionID)
	}
	if gtid.SequenceNumber != 1 || gtid.LastCommitted != 0 {
		t.Errorf("logical clock = %d, %d, want last_committed 0, sequence_number 1", gtid.LastCommitted, gtid.SequenceNumber)
	}
}

// TestBinlogKitJSONB checks the kit's binary JSON encoder against
// go-mysql's decoder: nested containers, inlined and offset scalars, the
// large format, opaque values, and MySQL's key order.
func TestBinlogKitJSONB(t *testing.T) {
	long := strings.Repeat("x", 70000)
	cases := []struct {
		name string
		doc  jsonb
		want string
	}{
		{
			"nested small containers",
			jsonbObject(
				jsonbMember{"b", jsonbObject(jsonbMember{"c", jsonbDoubleValue(1.5)})},
				jsonbMember{"a", jsonbArray(
					jsonbInt16Value(1), jsonbInt16Value(-2), jsonbUint16Value(65535), jsonbInt32Value(70000),
					jsonbUint32Value(4000000000), jsonbTrue(), jsonbFalse(), jsonbNull(), jsonbStringValue("s"),
				)},
			),
			`{"a":[1,-2,65535,70000,4000000000,true,false,null,"s"],"b":{"c":1.5}}`,
		},
		{
			"large object",
			jsonbObject(
				jsonbMember{"big", jsonbStringValue(long)},
				jsonbMember{"n", jsonbInt16Value(-5)},
				jsonbMember{"m", jsonbUint16Value(65535)},
				jsonbMember{"p", jsonbInt32Value(-70000)},
				jsonbMember{"q", jsonbUint32Value(4000000000)},
			),
			`{"m":65535,"n":-5,"p":-70000,"q":4000000000,"big":"` + long + `"}`,
		},
		{
			"large array",
			jsonbArray(jsonbStringValue(long), jsonbInt16Value(-1), jsonbInt32Value(123456), jsonbObject()),
			`["` + long + `",-1,123456,{}]`,
		},
		{
			"opaque decimals and temporals",
			jsonbArray(
				jsonbDecimal("-12.345", 10, 3),
				jsonbDecimal("123456789012345678.123456789012", 30, 12),
				jsonbDecimal("0.5", 1, 1),
				jsonbDate(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)),
				jsonbTime(-(838*time.Hour + 59*time.Minute + 59*time.Second + 500*time.Millisecond)),
				jsonbDatetime(time.Date(1999, 12, 31, 23, 59, 58, 123456000, time.UTC)),
			),
			`[-12.345,123456789012345678.123456789012,0.5,"2024-02-29","-838:59:59.500000","1999-12-31 23:59:58.123456"]`,
		},
		{
			"key order",
			jsonbObject(
				jsonbMember{"bb", jsonbInt16Value(1)}, jsonbMember{"a", jsonbInt16Value(2)},
				jsonbMember{"ab", jsonbInt16Value(3)}, jsonbMember{"ccc", jsonbInt16Value(4)},
			),
			`{"a":2,"ab":3,"bb":1,"ccc":4}`,
		},
	}
	if got := jsonbObject(jsonbMember{"big", jsonbStringValue(long)}).typ; got != jsonbTypeLargeObject {
		t.Errorf("object over 64 KiB has type %#x, want the large object type %#x", got, jsonbTypeLargeObject)
	}

	table := &kitTable{
		id: 96, database: "shop", name: "kit",
		columns:    []kitColumn{notNull(intColumn("id")), jsonColumn("doc")},
		primaryKey: []int{0},
	}
	rows := make([][]any, len(cases))
	for i, c := range cases {
		rows[i] = []any{i, c.doc}
	}
	file := newBinlogFile("binlog.000070")
	file.appendTransaction(kitUUID, 1, beginEvent(), tableMapEvent(table), writeRowsEvent(table, rows...), xidEvent(1))
	events := parseBinlog(t, newGoMySQLParser(), file)
	rowsEvent, ok := events[4].Event.(*replication.RowsEvent)
	if !ok || len(rowsEvent.Rows) != len(cases) {
		t.Fatalf("event 4 of %s is not the rows event of %d rows", kitEventTypes(events), len(cases))
	}

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := rowsEvent.Rows[i][1].(string)
			if !ok {
				t.Fatalf("doc = %#v, want a string", rowsEvent.Rows[i][1])
			}
			// go-mysql's text has no spaces and keeps the stored key order,
			// so comparing compact texts checks values and order.
			if got != c.want {
				t.Errorf("doc = %.300s\nwant  %.300s", got, c.want)
			}
			if keys, want := objectKeys(t, got), objectKeys(t, c.want); !reflect.DeepEqual(keys, want) {
				t.Errorf("keys = %v, want %v", keys, want)
			}
		})
	}
}

// objectKeys returns the keys of the JSON text's top-level object in text
// order, or nil for another value.
func objectKeys(t *testing.T, text string) []string {
	t.Helper()
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.UseNumber()
	first, err := decoder.Token()
	if err != nil || first != json.Delim('{') {
		return nil
	}
	var keys []string
	for decoder.More() {
		key, err := decoder.Token()
		if err != nil {
			t.Fatalf("read key of %.100s: %v", text, err)
		}
		keys = append(keys, key.(string))
		var value json.RawMessage
		if err := decoder.Decode(&value); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("read value of %.100s: %v", text, err)
		}
	}
	return keys
}
