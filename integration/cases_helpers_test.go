//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/offsets"
)

// expectRecord is one record a test expects on a topic: a change event, or
// a tombstone when op is "". A nil key expects a null (or empty) key.
type expectRecord struct {
	key    map[string]any
	op     string
	before map[string]any
	after  map[string]any
}

// b64 is the expected value of a binary column: a base64 string that
// decodes to exactly these bytes.
type b64 []byte

// hexBytes decodes hex digits for expected binary values and panics on a
// typo in the test itself.
func hexBytes(s string) b64 {
	out := make([]byte, len(s)/2)
	for i := range out {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			panic(fmt.Sprintf("invalid hex %q in test data", s))
		}
		out[i] = byte(v)
	}
	return out
}

// decodeObject parses a JSON object with number tokens kept as json.Number.
func decodeObject(t testing.TB, text []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode JSON object %s: %v", text, err)
	}
	return m
}

// checkValue compares one decoded JSON value with its expected value:
// number tokens as text, strings byte for byte, b64 values as the bytes
// they decode to, and nil as JSON null.
func checkValue(t testing.TB, where string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if got != nil {
			t.Errorf("%s: got %#v, want null", where, got)
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			t.Errorf("%s: got %#v, want the number %s", where, got, w)
			return
		}
		if g.String() != w.String() {
			t.Errorf("%s: got the number %s, want %s", where, g, w)
		}
	case string:
		g, ok := got.(string)
		if !ok {
			t.Errorf("%s: got %#v, want the string %q", where, got, w)
			return
		}
		if g != w {
			t.Errorf("%s: got %q (bytes % x), want %q (bytes % x)", where, g, []byte(g), w, []byte(w))
		}
	case b64:
		g, ok := got.(string)
		if !ok {
			t.Errorf("%s: got %#v, want base64 of % x", where, got, []byte(w))
			return
		}
		raw, err := base64.StdEncoding.DecodeString(g)
		if err != nil {
			t.Errorf("%s: %q is not standard base64: %v", where, g, err)
			return
		}
		if !bytes.Equal(raw, w) {
			t.Errorf("%s: %q decodes to %d bytes % x, want %d bytes % x", where, g, len(raw), raw, len(w), []byte(w))
		}
	default:
		t.Fatalf("%s: expected value of unsupported Go type %T in the test", where, want)
	}
}

// checkRow compares a decoded row image, column by column, and reports
// columns that are missing or not expected.
func checkRow(t testing.TB, where string, got, want map[string]any) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s: got %v, want null", where, got)
		}
		return
	}
	if got == nil {
		t.Errorf("%s: got null, want %v", where, want)
		return
	}
	for _, column := range slices.Sorted(maps.Keys(want)) {
		w := want[column]
		g, ok := got[column]
		if !ok {
			t.Errorf("%s: column %s is missing", where, column)
			continue
		}
		checkValue(t, where+"."+column, g, w)
	}
	for _, column := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[column]; !ok {
			t.Errorf("%s: unexpected column %s = %#v", where, column, got[column])
		}
	}
}

// checkTopic compares the records of one topic, in order, with the
// expected ones. Each field gets its own error so that a failure names the
// first wrong value.
func checkTopic(t testing.TB, f *fixture, table string, got []record, wants []expectRecord) {
	t.Helper()
	if len(got) != len(wants) {
		for i, r := range got {
			t.Logf("%s record %d: key %s value %s", table, i, r.Key, r.Value)
		}
		t.Errorf("%s: got %d records, want %d", table, len(got), len(wants))
	}
	for i := range min(len(got), len(wants)) {
		r, w := got[i], wants[i]
		where := fmt.Sprintf("%s record %d", table, i)
		if w.key == nil {
			if r.Key != "" {
				t.Errorf("%s: key %s, want a null key", where, r.Key)
			}
		} else {
			checkRow(t, where+" key", decodeObject(t, []byte(r.Key)), w.key)
		}
		if w.op == "" {
			if r.Value != nil {
				t.Errorf("%s: value %s, want a tombstone (null value)", where, r.Value)
			}
			continue
		}
		if r.Value == nil {
			t.Errorf("%s: a tombstone, want op %q", where, w.op)
			continue
		}
		e := decodeEnvelope(t, r.Value)
		if e.Op != w.op {
			t.Errorf("%s: op %q, want %q", where, e.Op, w.op)
		}
		checkRow(t, where+" before", e.Before, w.before)
		checkRow(t, where+" after", e.After, w.after)
		if e.Source.DB != f.db || e.Source.Table != table {
			t.Errorf("%s: source db %q table %q, want %q %q", where, e.Source.DB, e.Source.Table, f.db, table)
		}
	}
}

// settle waits until sluice has committed every change made so far on
// f.conn: it inserts a row into a marker table and waits for that row's
// record. Sluice commits source transactions in binlog order, so every
// earlier change is committed by then. It returns the committed records of
// the given tables.
func (f *fixture) settle(tables ...string) []record {
	f.t.Helper()
	execSQL(f.t, f.conn,
		"CREATE TABLE IF NOT EXISTS "+f.db+".settle_marker (id INT AUTO_INCREMENT PRIMARY KEY)",
		"INSERT INTO "+f.db+".settle_marker VALUES ()",
	)
	res, err := f.conn.Execute("SELECT LAST_INSERT_ID()")
	if err != nil {
		f.t.Fatalf("read the marker id: %v", err)
	}
	id, _ := res.GetInt(0, 0)
	markerKey := fmt.Sprintf(`{"id":%d}`, id)
	f.eventually(60*time.Second, "the marker row "+markerKey+" is committed", func() bool {
		for _, r := range consumeAll(f.t, f.topic("settle_marker")) {
			if r.Key == markerKey {
				return true
			}
		}
		return false
	})

	topics := make([]string, len(tables))
	for i, table := range tables {
		topics[i] = f.topic(table)
	}
	return consumeAll(f.t, topics...)
}

// awaitCount waits until the topic of table contains at least count
// committed records and returns them all.
func (f *fixture) awaitCount(table string, count int) []record {
	f.t.Helper()
	var got []record
	f.eventually(60*time.Second, fmt.Sprintf("%s contains %d records", f.topic(table), count), func() bool {
		got = consumeAll(f.t, f.topic(table))
		return len(got) >= count
	})
	return got
}

// serverPosition reads the source's current binlog position, in the form
// sluice saves it, through a root connection. The GTID set is read first,
// so that with other clients writing it may lag the file position but not
// run ahead of it.
func serverPosition(t testing.TB, conn *client.Conn) offsets.Position {
	t.Helper()
	res, err := conn.Execute("SELECT @@gtid_binlog_pos, @@server_id")
	if err != nil {
		t.Fatalf("read gtid_binlog_pos and server_id: %v", err)
	}
	gtids, _ := res.GetString(0, 0)
	serverID, _ := res.GetUint(0, 1)

	res, err = conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatalf("SHOW MASTER STATUS: %v", err)
	}
	if len(res.Values) == 0 {
		t.Fatal("SHOW MASTER STATUS returned no row: the binary log is off")
	}
	file, _ := res.GetStringByName(0, "File")
	pos, _ := res.GetUintByName(0, "Position")
	return offsets.Position{
		ServerID:   uint32(serverID),
		Flavor:     mysql.MariaDBFlavor,
		File:       file,
		Pos:        uint32(pos),
		GTIDSet:    gtids,
		CapturedAt: time.Now().UTC(),
	}
}

// startFrom starts another sluice on the fixture's database and topic
// prefix, under a new stream whose saved position is pos, and waits until it
// has resumed there. Its records go to the same topics as the fixture's
// own stream.
func (f *fixture) startFrom(stream string, pos offsets.Position, extra ...string) *process {
	f.t.Helper()
	tracker := &offsets.FileTracker{Dir: f.offsets}
	if err := tracker.Save(context.Background(), stream, pos); err != nil {
		f.t.Fatalf("write the position of stream %s: %v", stream, err)
	}
	return f.startReady(append([]string{"SLUICE_STREAM_ID=" + stream}, extra...)...)
}

// stopCleanly stops sluice with SIGTERM and fails unless it exits with 0.
func stopCleanly(t testing.TB, p *process) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}

var tsField = regexp.MustCompile(`"ts_ms":-?[0-9]+`)

// withoutTimes blanks the ts_ms fields of a record value, the only fields
// that depend on when sluice read an event or when the row was written.
func withoutTimes(value []byte) []byte {
	return tsField.ReplaceAll(value, []byte(`"ts_ms":0`))
}

// compareRuns checks that two runs of sluice over the same binlog range
// wrote the same keys and the same values byte for byte, apart from ts_ms.
func compareRuns(t testing.TB, first, second []record) {
	t.Helper()
	if len(first) != len(second) {
		t.Errorf("the first run wrote %d records, the second %d", len(first), len(second))
	}
	for i := range min(len(first), len(second)) {
		a, b := first[i], second[i]
		if a.Key != b.Key {
			t.Errorf("record %d: key %s in the first run, %s in the second", i, a.Key, b.Key)
		}
		if (a.Value == nil) != (b.Value == nil) {
			t.Errorf("record %d: value %s in the first run, %s in the second", i, a.Value, b.Value)
			continue
		}
		if !bytes.Equal(withoutTimes(a.Value), withoutTimes(b.Value)) {
			t.Errorf("record %d differs apart from ts_ms:\nfirst run:  %s\nsecond run: %s", i, a.Value, b.Value)
		}
	}
}

// binlogRows reads the row images that the binlog contains for one table
// between two positions of the same server, as go-mysql decodes them. Tests
// use it to check that an edge case really occurred in the binlog. An update
// contributes its before and its after image.
func binlogRows(t testing.TB, from, to offsets.Position, db, table string) [][]any {
	t.Helper()
	port, err := strconv.ParseUint(mysqlPort, 10, 16)
	if err != nil {
		t.Fatalf("MariaDB port %q: %v", mysqlPort, err)
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:                uint32(200000 + rand.IntN(100000)),
		Flavor:                  mysql.MariaDBFlavor,
		Host:                    mysqlHost,
		Port:                    uint16(port),
		User:                    "root",
		TimestampStringLocation: time.UTC,
		DisableRetrySync:        true,
		Logger:                  slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	stream, err := syncer.StartSync(mysql.Position{Name: from.File, Pos: from.Pos})
	if err != nil {
		t.Fatalf("read the binlog from %s: %v", from, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	file := from.File
	var rows [][]any
	for {
		ev, err := stream.GetEvent(ctx)
		if err != nil {
			t.Fatalf("read the binlog from %s up to %s: %v", from, to, err)
		}
		switch e := ev.Event.(type) {
		case *replication.RotateEvent:
			file = string(e.NextLogName)
		case *replication.RowsEvent:
			if string(e.Table.Schema) == db && string(e.Table.Table) == table {
				rows = append(rows, e.Rows...)
			}
		}
		reached := offsets.Position{File: file, Pos: ev.Header.LogPos}
		if ev.Header.LogPos != 0 && reached.Compare(to) >= 0 {
			return rows
		}
	}
}

// binlogEvent is one row of SHOW BINLOG EVENTS.
type binlogEvent struct {
	File      string
	Pos       uint64 // where the event starts
	Type      string
	EndLogPos uint64
	Info      string
}

// binlogEvents lists the events of the binlog from one position up to
// another, through a root connection, in pages of 1000 so that the writes
// of other sessions in between do not cut the list short.
func binlogEvents(t testing.TB, conn *client.Conn, from, to offsets.Position) []binlogEvent {
	t.Helper()
	files := []string{from.File}
	if to.File != from.File {
		files = append(files, to.File)
	}

	var events []binlogEvent
	for _, file := range files {
		pos := uint64(4) // the first event after the binlog file's magic number
		if file == from.File {
			pos = uint64(from.Pos)
		}
		for {
			query := fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d LIMIT 1000", file, pos)
			res, err := conn.Execute(query)
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			for i := range res.Values {
				var e binlogEvent
				e.File, _ = res.GetStringByName(i, "Log_name")
				e.Pos, _ = res.GetUintByName(i, "Pos")
				e.Type, _ = res.GetStringByName(i, "Event_type")
				e.EndLogPos, _ = res.GetUintByName(i, "End_log_pos")
				e.Info, _ = res.GetStringByName(i, "Info")
				events = append(events, e)
				pos = e.EndLogPos
			}
			if len(res.Values) < 1000 || (file == to.File && pos >= uint64(to.Pos)) {
				break
			}
		}
	}
	return events
}

// rawRecord is a consumed record whose key keeps the difference between
// null and empty.
type rawRecord struct {
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
}

// consumeRaw reads the committed records of one topic with read_committed
// isolation until two polls in a row return nothing.
func consumeRaw(t testing.TB, topic string) []rawRecord {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(kafkaAddr),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	var out []rawRecord
	for quiet := 0; quiet < 2; {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fetches := cl.PollFetches(ctx)
		cancel()
		if fetches.NumRecords() == 0 {
			quiet++
			continue
		}
		quiet = 0
		fetches.EachRecord(func(r *kgo.Record) {
			out = append(out, rawRecord{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value})
		})
	}
	return out
}
