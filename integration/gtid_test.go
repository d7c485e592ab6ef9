//go:build integration

package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/offsets"
)

// TestGTIDDomainsAcrossRestart writes half of its inserts in a second
// MariaDB GTID domain, restarts sluice between the halves, and checks
// that every insert arrives once and that the saved GTID set ends up equal
// to the server's.
func TestGTIDDomainsAcrossRestart(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE g (id INT PRIMARY KEY)")
	p := f.startReady()

	insert := func(from, to, domain int) {
		t.Helper()
		execSQL(t, f.conn, fmt.Sprintf("SET SESSION gtid_domain_id = %d", domain))
		for id := from; id <= to; id++ {
			execSQL(t, f.conn, fmt.Sprintf("INSERT INTO %s.g VALUES (%d)", f.db, id))
		}
	}
	insert(1, 20, 0)
	insert(21, 40, 1)
	f.awaitCaughtUp()
	stopCleanly(t, p)

	insert(41, 60, 1)
	insert(61, 80, 0)
	execSQL(t, f.conn, "SET SESSION gtid_domain_id = 0")
	p = f.startReady()
	f.awaitCaughtUp()

	got := consumeAll(t, f.topic("g"))
	if len(got) != 80 {
		t.Errorf("got %d records, want 80", len(got))
	}
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Key]++
	}
	for id := 1; id <= 80; id++ {
		if key := fmt.Sprintf(`{"id":%d}`, id); seen[key] != 1 {
			t.Errorf("%s: %d records, want 1", key, seen[key])
		}
	}

	saved, err := (&offsets.FileTracker{Dir: f.offsets}).Load(context.Background(), f.stream)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.conn.Execute("SELECT @@gtid_binlog_pos")
	if err != nil {
		t.Fatal(err)
	}
	server, _ := res.GetString(0, 0)
	if !sameGTIDSet(saved.GTIDSet, server) {
		t.Errorf("saved GTID set %q, want the server's gtid_binlog_pos %q", saved.GTIDSet, server)
	}
	stopCleanly(t, p)
}

// sameGTIDSet compares MariaDB GTID positions regardless of domain order.
func sameGTIDSet(a, b string) bool {
	split := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, part := range strings.Split(s, ",") {
			m[part] = true
		}
		return m
	}
	ma, mb := split(a), split(b)
	if len(ma) != len(mb) {
		return false
	}
	for k := range ma {
		if !mb[k] {
			return false
		}
	}
	return true
}
