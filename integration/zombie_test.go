//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// insertIDs inserts the rows from..to of table t, one transaction each.
func insertIDs(t *testing.T, f *fixture, from, to int) {
	t.Helper()
	for id := from; id <= to; id++ {
		execSQL(t, f.conn, fmt.Sprintf("INSERT INTO %s.t VALUES (%d)", f.db, id))
	}
}

// TestBlobLeaseRefusesSecondWorker starts a second sluice with the stream
// of a running one on the blob tracker. The lease keeps it out: it exits
// with an error that names the held stream before it produces anything,
// and the first goes on streaming every change once.
func TestBlobLeaseRefusesSecondWorker(t *testing.T) {
	f := newFixture(t)
	f.extraEnv = append(f.extraEnv, trackerEnv(t, "azblob", f)...)
	execSQL(t, f.conn, "CREATE TABLE "+f.db+".t (id INT PRIMARY KEY)")

	first := f.startReady()
	insertIDs(t, f, 1, 10)
	f.eventually(30*time.Second, "the first rows arrive", func() bool {
		return len(consumeAll(t, f.topic("t"))) >= 10
	})

	second := f.start("SLUICE_STARTUP_TIMEOUT=5s")
	if status := second.wait(t, 60*time.Second); status != 1 {
		t.Fatalf("the second sluice exited with status %d, want 1:\n%s", status, second.output())
	}
	out := second.output()
	for _, want := range []string{"stream is held by another worker", f.stream, "SLUICE_STARTUP_TIMEOUT"} {
		if !strings.Contains(out, want) {
			t.Errorf("the second sluice's output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "source server checked") && strings.Contains(out, "topics of the captured tables are ready") {
		t.Errorf("the second sluice got as far as producing:\n%s", out)
	}

	insertIDs(t, f, 11, 20)
	var got []record
	f.eventually(30*time.Second, "the first sluice streams on", func() bool {
		got = consumeAll(t, f.topic("t"))
		return len(got) >= 20
	})
	checkIDsOnce(t, got, 20)
	select {
	case <-first.done:
		t.Fatalf("the first sluice exited with status %d:\n%s", first.exit, first.output())
	default:
	}
}

// TestKafkaTrackerFencesOlderWorker starts a second sluice with the stream
// of a running one on the kafka tracker. Kafka fences the older producer,
// which stops with an error naming the takeover, and the newer streams every
// change once.
func TestKafkaTrackerFencesOlderWorker(t *testing.T) {
	f := newFixture(t)
	f.extraEnv = append(f.extraEnv, "SLUICE_OFFSETS_TYPE=kafka")
	execSQL(t, f.conn, "CREATE TABLE "+f.db+".t (id INT PRIMARY KEY)")

	older := f.startReady()
	insertIDs(t, f, 1, 10)
	f.eventually(30*time.Second, "the first rows arrive", func() bool {
		return len(consumeAll(t, f.topic("t"))) >= 10
	})

	newer := f.startReady()
	// The older learns of the fence at its next Kafka request.
	insertIDs(t, f, 11, 20)
	if status := older.wait(t, 60*time.Second); status != 1 {
		t.Fatalf("the older sluice exited with status %d, want 1:\n%s", status, older.output())
	}
	if out := older.output(); !strings.Contains(out, "took over this stream") {
		t.Errorf("the older sluice's output does not say it was fenced:\n%s", out)
	}

	insertIDs(t, f, 21, 30)
	var got []record
	f.eventually(30*time.Second, "the newer sluice streams every change", func() bool {
		got = consumeAll(t, f.topic("t"))
		return len(got) >= 30
	})
	checkIDsOnce(t, got, 30)
	select {
	case <-newer.done:
		t.Fatalf("the newer sluice exited with status %d:\n%s", newer.exit, newer.output())
	default:
	}
}
