//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/offsets"
)

// TestAlterTableMidStream changes a table's columns between its row
// changes and checks each record against the columns valid when it was
// written. Three runs read the same binlog: sluice running throughout,
// sluice stopped across the ALTERs, and sluice started afterwards from a
// position saved before them.
func TestAlterTableMidStream(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db)
	before := serverPosition(t, f.conn)

	variant := func(name string) (prefix, stream string, env []string) {
		prefix, stream = f.prefix+"."+name, f.stream+"-"+name
		return prefix, stream, []string{"SLUICE_TOPIC_PREFIX=" + prefix, "SLUICE_STREAM_ID=" + stream}
	}
	throughoutPrefix, _, throughoutEnv := variant("throughout")
	stoppedPrefix, _, stoppedEnv := variant("stopped")
	seededPrefix, seededStream, seededEnv := variant("seeded")

	throughout := f.startReady(throughoutEnv...)
	stopped := f.startReady(stoppedEnv...)

	execSQL(t, f.conn,
		"CREATE TABLE sc (id INT PRIMARY KEY, a VARCHAR(10), b INT)",
		"INSERT INTO sc VALUES (1, 'x', 10)",
	)
	topic := func(prefix string) string { return prefix + "." + f.db + ".sc" }
	f.eventually(30*time.Second, "the first insert is committed", func() bool {
		return len(consumeAll(t, topic(stoppedPrefix))) == 1
	})
	stopCleanly(t, stopped)

	execSQL(t, f.conn,
		"ALTER TABLE sc ADD COLUMN c INT DEFAULT 7 AFTER id",
		"INSERT INTO sc VALUES (2, 8, 'y', 20)",
		"ALTER TABLE sc DROP COLUMN a",
		"INSERT INTO sc VALUES (3, 9, 30)",
		"ALTER TABLE sc CHANGE b b_renamed BIGINT",
		"INSERT INTO sc VALUES (4, 10, 40)",
		"UPDATE sc SET b_renamed = 41 WHERE id = 1",
	)
	stopped = f.startReady(stoppedEnv...)
	tracker := &offsets.FileTracker{Dir: f.offsets}
	if err := tracker.Save(context.Background(), seededStream, before); err != nil {
		t.Fatalf("seed the position: %v", err)
	}
	seeded := f.startReady(seededEnv...)

	want := []struct{ op, before, after string }{
		{"c", "", `{"id":1,"a":"x","b":10}`},
		{"c", "", `{"id":2,"c":8,"a":"y","b":20}`},
		{"c", "", `{"id":3,"c":9,"b":30}`},
		{"c", "", `{"id":4,"c":10,"b_renamed":40}`},
		{"u", `{"id":1,"c":7,"b_renamed":10}`, `{"id":1,"c":7,"b_renamed":41}`},
	}
	runs := map[string][]record{}
	for _, prefix := range []string{throughoutPrefix, stoppedPrefix, seededPrefix} {
		var got []record
		f.eventually(60*time.Second, "the update is committed to "+topic(prefix), func() bool {
			got = consumeAll(t, topic(prefix))
			return len(got) >= len(want)
		})
		runs[prefix] = got
		if len(got) != len(want) {
			t.Fatalf("%s: got %d records, want %d", topic(prefix), len(got), len(want))
		}
		for i, w := range want {
			var envelope struct {
				Op     string          `json:"op"`
				Before json.RawMessage `json:"before"`
				After  json.RawMessage `json:"after"`
			}
			if err := json.Unmarshal(got[i].Value, &envelope); err != nil {
				t.Fatalf("%s record %d: %v", topic(prefix), i, err)
			}
			wantBefore := w.before
			if wantBefore == "" {
				wantBefore = "null"
			}
			if envelope.Op != w.op {
				t.Errorf("%s record %d: op %q, want %q", topic(prefix), i, envelope.Op, w.op)
			}
			if !bytes.Equal(envelope.Before, []byte(wantBefore)) {
				t.Errorf("%s record %d: before %s, want %s", topic(prefix), i, envelope.Before, wantBefore)
			}
			if !bytes.Equal(envelope.After, []byte(w.after)) {
				t.Errorf("%s record %d: after %s, want %s", topic(prefix), i, envelope.After, w.after)
			}
		}
	}
	compareWithoutPrefix(t, runs[throughoutPrefix], runs[stoppedPrefix], throughoutPrefix, stoppedPrefix)
	compareWithoutPrefix(t, runs[throughoutPrefix], runs[seededPrefix], throughoutPrefix, seededPrefix)

	for _, p := range []*process{throughout, stopped, seeded} {
		stopCleanly(t, p)
	}
}

// compareWithoutPrefix compares two runs written under different topic
// prefixes, which also appear as source.name in the values.
func compareWithoutPrefix(t *testing.T, first, second []record, firstPrefix, secondPrefix string) {
	t.Helper()
	renamed := make([]record, len(second))
	for i, r := range second {
		renamed[i] = r
		renamed[i].Value = bytes.ReplaceAll(r.Value, []byte(`"name":"`+secondPrefix+`"`), []byte(`"name":"`+firstPrefix+`"`))
	}
	compareRuns(t, first, renamed)
}
