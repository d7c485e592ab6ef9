//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/offsets"
)

// useMinimalMetadata makes the server write binlog_row_metadata=MINIMAL
// for the rest of the test.
func useMinimalMetadata(t *testing.T, f *fixture) {
	t.Helper()
	execSQL(t, f.conn, "SET GLOBAL binlog_row_metadata = 'MINIMAL'")
	t.Cleanup(func() { execSQL(t, rootConn(t), "SET GLOBAL binlog_row_metadata = 'FULL'") })
}

// TestMinimalMetadataAlterAndReplay streams a table whose events carry no
// column names while its columns change, then reads the same binlog again
// from a position before the changes, and checks every record against the
// columns of its own time in both runs. The replay decodes the old events
// with the schema history that the first run recorded.
func TestMinimalMetadataAlterAndReplay(t *testing.T) {
	f := newFixture(t)
	useMinimalMetadata(t, f)
	execSQL(t, f.conn, "USE "+f.db,
		"CREATE TABLE sc (id INT PRIMARY KEY, a VARCHAR(10), b INT UNSIGNED, e ENUM('x','y'))")
	p := f.startReady()
	before, err := (&offsets.FileTracker{Dir: f.offsets}).Load(context.Background(), f.stream)
	if err != nil {
		t.Fatalf("read the start position: %v", err)
	}

	// Without column names in the binlog, sluice describes a table from
	// information_schema when it reads a DDL statement, so each change must
	// be read before the next ALTER.
	steps := []string{
		"INSERT INTO sc VALUES (1, 'x', 4294967295, 'y')",
		"ALTER TABLE sc ADD COLUMN c INT DEFAULT 7 AFTER id",
		"INSERT INTO sc VALUES (2, 8, 'y', 20, 'x')",
		"ALTER TABLE sc DROP COLUMN a",
		"INSERT INTO sc VALUES (3, 9, 30, 'y')",
		"ALTER TABLE sc CHANGE b b_renamed BIGINT",
		"INSERT INTO sc VALUES (4, 10, 40, 'x')",
		"UPDATE sc SET b_renamed = 41 WHERE id = 1",
	}
	for _, step := range steps {
		execSQL(t, f.conn, "USE "+f.db, step)
		f.awaitCaughtUp()
	}
	want := []struct{ before, after string }{
		{"null", `{"id":1,"a":"x","b":4294967295,"e":"y"}`},
		{"null", `{"id":2,"c":8,"a":"y","b":20,"e":"x"}`},
		{"null", `{"id":3,"c":9,"b":30,"e":"y"}`},
		{"null", `{"id":4,"c":10,"b_renamed":40,"e":"x"}`},
		{`{"id":1,"c":7,"b_renamed":4294967295,"e":"y"}`, `{"id":1,"c":7,"b_renamed":41,"e":"y"}`},
	}
	live := f.awaitCount("sc", len(want))
	checkRawRows(t, "live run", live, want)
	stopCleanly(t, p)

	// The replay keeps the stream and its schema history but starts from
	// the old position, with its own topics and positions topic so that
	// neither the first run's records nor its committed position interfere.
	if err := (&offsets.FileTracker{Dir: f.offsets}).Save(context.Background(), f.stream, before); err != nil {
		t.Fatalf("rewind the position: %v", err)
	}
	replayPrefix := f.prefix + ".replay"
	p = f.startReady("SLUICE_TOPIC_PREFIX="+replayPrefix, "SLUICE_POSITIONS_TOPIC="+replayPrefix+".positions")
	replayTopic := replayPrefix + "." + f.db + ".sc"
	var replay []record
	f.eventually(60*time.Second, "the replay commits every record", func() bool {
		replay = consumeAll(t, replayTopic)
		return len(replay) >= len(want)
	})
	checkRawRows(t, "replay", replay, want)
	compareWithoutPrefix(t, live, replay, f.prefix, replayPrefix)
	stopCleanly(t, p)
}

// checkRawRows compares the before and after objects of records as JSON
// text, so that the column order counts too.
func checkRawRows(t *testing.T, run string, got []record, want []struct{ before, after string }) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d records, want %d", run, len(got), len(want))
	}
	for i, w := range want {
		var envelope struct {
			Before json.RawMessage `json:"before"`
			After  json.RawMessage `json:"after"`
		}
		if err := json.Unmarshal(got[i].Value, &envelope); err != nil {
			t.Fatalf("%s record %d: %v", run, i, err)
		}
		if !bytes.Equal(envelope.Before, []byte(w.before)) {
			t.Errorf("%s record %d: before %s, want %s", run, i, envelope.Before, w.before)
		}
		if !bytes.Equal(envelope.After, []byte(w.after)) {
			t.Errorf("%s record %d: after %s, want %s", run, i, envelope.After, w.after)
		}
	}
}

// TestMinimalMetadataUnknownPast starts sluice from a position before a
// table changed, without its schema history: the old events cannot be
// decoded, and sluice must stop with an error instead of guessing.
func TestMinimalMetadataUnknownPast(t *testing.T) {
	f := newFixture(t)
	useMinimalMetadata(t, f)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE sc (id INT PRIMARY KEY, a VARCHAR(10))")
	saved := savedPosition(t, f)

	execSQL(t, f.conn, "USE "+f.db,
		"INSERT INTO sc VALUES (1, 'x')",
		"ALTER TABLE sc DROP COLUMN a, ADD COLUMN n INT",
	)
	if err := os.Remove(filepath.Join(f.offsets, f.stream, "schema-history.jsonl")); err != nil {
		t.Fatalf("remove the schema history: %v", err)
	}
	expectFailure(t, f, saved, 1, []string{
		"the table changed after this event was written",
		"binlog_row_metadata=FULL",
	})
	if got := consumeAll(t, f.topic("sc")); len(got) != 0 {
		t.Errorf("got %d records, want none", len(got))
	}
}

// awaitCaughtUp waits until sluice has committed the server's current
// binlog position, so it has read every change made so far, and returns
// that position.
func (f *fixture) awaitCaughtUp() offsets.Position {
	f.t.Helper()
	target := serverPosition(f.t, f.conn)
	tracker := &offsets.FileTracker{Dir: f.offsets}
	f.eventually(30*time.Second, "sluice commits "+target.String(), func() bool {
		saved, err := tracker.Load(context.Background(), f.stream)
		return err == nil && saved.Compare(target) >= 0
	})
	return target
}

// TestMinimalMetadataStoppedAcrossAlters changes a table several times
// while sluice is stopped. The binlog carries no column names and
// information_schema only shows the last columns, so sluice must apply
// each ALTER TABLE to the columns it recorded before.
func TestMinimalMetadataStoppedAcrossAlters(t *testing.T) {
	f := newFixture(t)
	useMinimalMetadata(t, f)
	execSQL(t, f.conn, "USE "+f.db,
		"CREATE TABLE sc (id INT PRIMARY KEY, a VARCHAR(10), b INT UNSIGNED, e ENUM('x','y'))")
	p := f.startReady()
	execSQL(t, f.conn, "USE "+f.db, "INSERT INTO sc VALUES (1, 'x', 4294967295, 'y')")
	f.awaitCaughtUp()
	stopCleanly(t, p)

	execSQL(t, f.conn, "USE "+f.db,
		"ALTER TABLE sc ADD COLUMN c INT DEFAULT 7 AFTER id",
		"INSERT INTO sc VALUES (2, 8, 'y', 20, 'x')",
		"ALTER TABLE sc DROP COLUMN a",
		"INSERT INTO sc VALUES (3, 9, 30, 'y')",
		"ALTER TABLE sc CHANGE b b_renamed BIGINT",
		"INSERT INTO sc VALUES (4, 10, 40, 'x')",
		"UPDATE sc SET b_renamed = 41 WHERE id = 1",
	)
	p = f.startReady()
	want := []struct{ before, after string }{
		{"null", `{"id":1,"a":"x","b":4294967295,"e":"y"}`},
		{"null", `{"id":2,"c":8,"a":"y","b":20,"e":"x"}`},
		{"null", `{"id":3,"c":9,"b":30,"e":"y"}`},
		{"null", `{"id":4,"c":10,"b_renamed":40,"e":"x"}`},
		{`{"id":1,"c":7,"b_renamed":4294967295,"e":"y"}`, `{"id":1,"c":7,"b_renamed":41,"e":"y"}`},
	}
	checkRawRows(t, "restarted run", f.awaitCount("sc", len(want)), want)
	stopCleanly(t, p)
}

// TestMinimalMetadataCreateAndRenameWhileStopped creates and renames
// tables while sluice is stopped, then changes them, so their earlier
// events can only be decoded from the statements themselves.
func TestMinimalMetadataCreateAndRenameWhileStopped(t *testing.T) {
	f := newFixture(t)
	useMinimalMetadata(t, f)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE old_name (id INT PRIMARY KEY, v VARCHAR(10))")
	p := f.startReady()
	stopCleanly(t, p)

	execSQL(t, f.conn, "USE "+f.db,
		"CREATE TABLE fresh (id BIGINT UNSIGNED NOT NULL, label VARCHAR(10), PRIMARY KEY (id)) DEFAULT CHARSET=latin1",
		"INSERT INTO fresh VALUES (18446744073709551615, 'café')",
		"RENAME TABLE old_name TO new_name",
		"INSERT INTO new_name VALUES (1, 'x')",
		"ALTER TABLE fresh DROP COLUMN label, ADD COLUMN n INT",
		"ALTER TABLE new_name DROP COLUMN v",
	)
	p = f.startReady()
	checkRawRows(t, "fresh", f.awaitCount("fresh", 1), []struct{ before, after string }{
		{"null", `{"id":18446744073709551615,"label":"café"}`},
	})
	checkRawRows(t, "new_name", f.awaitCount("new_name", 1), []struct{ before, after string }{
		{"null", `{"id":1,"v":"x"}`},
	})
	stopCleanly(t, p)
}
