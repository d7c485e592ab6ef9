//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTableWithoutPrimaryKey streams a table that has no primary key,
// duplicate rows included. Every change must arrive once, in order, on one
// partition, with the null key that the README documents for such tables.
// A second sluice over the same binlog range must write the same keys.
func TestTableWithoutPrimaryKey(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE np (a INT, b VARCHAR(10))",
	)
	live := f.startReady()
	start := serverPosition(t, f.conn)

	execSQL(t, f.conn,
		"INSERT INTO np VALUES (1, 'x'), (1, 'x'), (2, 'y')",
		"UPDATE np SET b = 'z' WHERE a = 1 LIMIT 1",
		"DELETE FROM np WHERE a = 2",
	)

	row := func(a, b string) map[string]any { return map[string]any{"a": n(a), "b": b} }
	wants := []expectRecord{
		{op: "c", after: row("1", "x")},
		{op: "c", after: row("1", "x")},
		{op: "c", after: row("2", "y")},
		{op: "u", before: row("1", "x"), after: row("1", "z")},
		{op: "d", before: row("2", "y")},
	}
	first := f.settle("np")
	checkTopic(t, f, "np", first, wants)

	raw := consumeRaw(t, f.topic("np"))
	if len(raw) != len(first) {
		t.Errorf("read %d records of %s the second time, %d the first time", len(raw), f.topic("np"), len(first))
	}
	for i, r := range raw {
		if r.Key != nil {
			t.Errorf("np record %d: key %q, want null", i, r.Key)
		}
		if r.Partition != raw[0].Partition {
			t.Errorf("np record %d: partition %d, want %d like record 0", i, r.Partition, raw[0].Partition)
		}
	}
	stopCleanly(t, live)

	replay := f.startFrom(f.stream+"-replay", start)
	all := f.awaitCount("np", 2*len(first))
	compareRuns(t, first, all[len(first):])
	stopCleanly(t, replay)
}

// TestMinimalRowImageSession updates rows from a session that set its own
// binlog_row_image to MINIMAL while the server stays at FULL. MariaDB 10.11
// still logs whole images for a table without a primary key, so that update
// must stream as usual. For a table with a primary key the images contain only
// the key and the changed columns, so sluice must stop with an error rather
// than emit the missing columns as null.
func TestMinimalRowImageSession(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE np (a INT, b VARCHAR(10))",
		"CREATE TABLE pk (id INT PRIMARY KEY, a INT, b VARCHAR(10))",
		"INSERT INTO np VALUES (1, 'x')",
		"INSERT INTO pk VALUES (1, 7, 'x')",
	)
	p := f.startReady()

	execSQL(t, f.conn,
		"SET SESSION binlog_row_image = 'MINIMAL'",
		"UPDATE np SET b = 'z' WHERE a = 1",
		"UPDATE pk SET b = 'z' WHERE id = 1",
		"SET SESSION binlog_row_image = 'FULL'",
		"INSERT INTO pk VALUES (2, 8, 'y')",
	)

	// sluice either stops or, having passed the partial images, emits id 2.
	f.eventually(60*time.Second, "sluice exits or emits id 2", func() bool {
		select {
		case <-p.done:
			return true
		default:
		}
		for _, r := range consumeAll(t, f.topic("pk")) {
			if r.Key == `{"id":2}` {
				return true
			}
		}
		return false
	})

	checkTopic(t, f, "np", consumeAll(t, f.topic("np")), []expectRecord{
		{op: "u", before: map[string]any{"a": n("1"), "b": "x"}, after: map[string]any{"a": n("1"), "b": "z"}},
	})
	for i, r := range consumeAll(t, f.topic("pk")) {
		where := fmt.Sprintf("pk record %d", i)
		switch {
		case r.Key == `{"id":2}` && r.Value != nil:
			checkRow(t, where+" after", decodeEnvelope(t, r.Value).After, map[string]any{"id": n("2"), "a": n("8"), "b": "y"})
		case r.Key == `{"id":1}` && r.Value != nil:
			e := decodeEnvelope(t, r.Value)
			if e.Op != "u" {
				t.Errorf("%s: op %q, want u", where, e.Op)
			}
			checkRow(t, where+" before", e.Before, map[string]any{"id": n("1"), "a": n("7"), "b": "x"})
			checkRow(t, where+" after", e.After, map[string]any{"id": n("1"), "a": n("7"), "b": "z"})
		default:
			t.Errorf("%s: unexpected key %s with value %s", where, r.Key, r.Value)
		}
	}

	select {
	case <-p.done:
		if p.exit == 0 {
			t.Errorf("sluice exited with status 0, want a non-zero status")
		}
	default:
		t.Errorf("sluice still runs after it emitted id 2, which follows the partial images")
	}
	if !strings.Contains(p.output(), "binlog_row_image") {
		t.Errorf("the output does not name binlog_row_image:\n%s", p.output())
	}
}
