//go:build integration

package integration

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTransactionAllOrNothing kills sluice while it produces one large
// source transaction that writes two tables. A read_committed consumer sees
// either all of the transaction or none of it, and after the restart all of
// it, once.
func TestTransactionAllOrNothing(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(1000))",
		"CREATE TABLE b (id INT PRIMARY KEY, v VARCHAR(1000))",
	)
	admin, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)

	const rows = 20000
	p := f.startReady()
	killedMidway := false
	// A kill may land after the commit; then the transaction must be there
	// whole, and the next attempt tries again with new ids.
	for attempt := 0; attempt < 5 && !killedMidway; attempt++ {
		first := attempt*rows + 1
		last := first + rows - 1
		ends, err := adm.ListEndOffsets(context.Background(), f.topic("a"))
		if err != nil {
			t.Fatal(err)
		}
		before := int64(0)
		if end, ok := ends.Lookup(f.topic("a"), 0); ok && end.Err == nil {
			before = end.Offset
		}

		execSQL(t, f.conn,
			"BEGIN",
			fmt.Sprintf("INSERT INTO a SELECT seq, REPEAT('a', 500) FROM seq_%d_to_%d", first, last),
			fmt.Sprintf("INSERT INTO b SELECT seq, REPEAT('b', 500) FROM seq_%d_to_%d", first, last),
			"COMMIT",
		)
		// Records of an open transaction raise the high watermark.
		deadline := time.Now().Add(60 * time.Second)
		for {
			ends, err := adm.ListEndOffsets(context.Background(), f.topic("a"))
			if err == nil {
				if end, ok := ends.Lookup(f.topic("a"), 0); ok && end.Err == nil && end.Offset > before {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("sluice produced nothing of the transaction within 60s:\n%s", p.output())
			}
			time.Sleep(5 * time.Millisecond)
		}
		p.signal(syscall.SIGKILL)
		p.wait(t, 30*time.Second)

		seen := countIDs(t, consumeAll(t, f.topic("a"), f.topic("b")), first, last)
		switch seen {
		case 0:
			killedMidway = true
		case 2 * rows:
			t.Logf("attempt %d: the kill came after the commit; trying again", attempt)
		default:
			t.Fatalf("a read_committed consumer sees %d of the %d records of one source transaction, want all or none", seen, 2*rows)
		}
		p = f.startReady()
	}
	if !killedMidway {
		t.Fatalf("no kill landed inside the Kafka transaction in 5 attempts")
	}

	var got []record
	f.eventually(120*time.Second, "every transaction is committed", func() bool {
		got = consumeAll(t, f.topic("a"), f.topic("b"))
		return countIDs(t, got, 1, 1<<30) >= 2*rows
	})
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Topic+" "+r.Key]++
	}
	for key, count := range seen {
		if count != 1 {
			t.Errorf("%s: %d records, want 1", key, count)
		}
	}
	if len(got)%(2*rows) != 0 {
		t.Errorf("got %d records, want a multiple of %d (whole transactions)", len(got), 2*rows)
	}

	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}

// countIDs counts the records whose key id lies in [first, last].
func countIDs(t *testing.T, records []record, first, last int) int {
	t.Helper()
	count := 0
	for _, r := range records {
		var id int
		if _, err := fmt.Sscanf(r.Key, `{"id":%d}`, &id); err != nil {
			t.Fatalf("record key %q: %v", r.Key, err)
		}
		if id >= first && id <= last {
			count++
		}
	}
	return count
}
