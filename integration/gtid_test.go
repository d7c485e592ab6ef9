//go:build integration

package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/offsets"
)

// TestGTIDDomainsAcrossRestart writes half of its inserts in a second
// MariaDB GTID domain, restarts sluice between the halves, and checks
// that every insert arrives once and that the saved GTID set ends up at
// the server's: equal to it when no other client writes.
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
	target := f.awaitCaughtUp()

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
	// Other clients of the server may move the saved position on after
	// target, so the saved set lies between the server's set at target and
	// its set now.
	now := serverPosition(t, f.conn)
	if !gtidSetBetween(t, saved.GTIDSet, target.GTIDSet, now.GTIDSet) {
		t.Errorf("saved GTID set %q, want one that contains %q and is contained in %q",
			saved.GTIDSet, target.GTIDSet, now.GTIDSet)
	}
	stopCleanly(t, p)
}

// gtidSetBetween reports whether the MariaDB GTID set got contains low and
// is contained in high.
func gtidSetBetween(t *testing.T, got, low, high string) bool {
	t.Helper()
	sets := make([]mysql.GTIDSet, 3)
	for i, s := range []string{got, low, high} {
		set, err := mysql.ParseMariadbGTIDSet(s)
		if err != nil {
			t.Fatalf("GTID set %q: %v", s, err)
		}
		sets[i] = set
	}
	return sets[0].Contain(sets[1]) && sets[2].Contain(sets[0])
}
