//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// crashKills is how many times TestCrashEveryTracker kills sluice per
// tracker. make crash raises it with SLUICE_CRASH_KILLS.
func crashKills(t *testing.T) int {
	kills, err := strconv.Atoi(envOr("SLUICE_CRASH_KILLS", "20"))
	if err != nil || kills < 1 {
		t.Fatalf("SLUICE_CRASH_KILLS=%q is invalid: give a positive number", envOr("SLUICE_CRASH_KILLS", ""))
	}
	return kills
}

// trackerEnv returns the variables that make sluice keep its position in
// tracker, in a place of the test's own.
func trackerEnv(t *testing.T, tracker string, f *fixture) []string {
	switch tracker {
	case "file":
		return []string{"SLUICE_OFFSETS_TYPE=file"}
	case "kafka":
		return []string{"SLUICE_OFFSETS_TYPE=kafka"}
	case "azblob":
		settings := blobSettings(t)
		return []string{
			"SLUICE_OFFSETS_TYPE=azblob",
			"SLUICE_OFFSETS_AZBLOB_ACCOUNT=" + settings.Account,
			"SLUICE_OFFSETS_AZBLOB_KEY=" + settings.Key,
			"SLUICE_OFFSETS_AZBLOB_ENDPOINT=" + settings.Endpoint,
			"SLUICE_OFFSETS_AZBLOB_CONTAINER=" + settings.Container,
			"SLUICE_OFFSETS_AZBLOB_PREFIX=" + settings.Prefix,
			fmt.Sprintf("SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS=%d", settings.LeaseSeconds),
		}
	case "mysql":
		mysqlTrackerConn(t) // creates the tracker's database
		return []string{
			"SLUICE_OFFSETS_TYPE=mysql",
			"SLUICE_OFFSETS_MYSQL_DSN=" + mysqlTrackerDSN("root", ""),
			"SLUICE_OFFSETS_MYSQL_TABLE=" + trackerTableName("crash"),
		}
	case "postgres":
		return []string{
			"SLUICE_OFFSETS_TYPE=postgres",
			"SLUICE_OFFSETS_POSTGRES_DSN=" + postgresTrackerDSN(postgresPassword),
			"SLUICE_OFFSETS_POSTGRES_TABLE=" + trackerTableName("crash"),
		}
	}
	t.Fatalf("no test settings for tracker %q", tracker)
	return nil
}

// TestCrashEveryTracker kills sluice with SIGKILL at random points of a
// load of mixed single-row and multi-row transactions, with each tracker,
// and restarts it every time. Then it compares what read_committed
// consumers see with the source: nothing lost, nothing duplicated, order
// per key kept.
func TestCrashEveryTracker(t *testing.T) {
	for _, tracker := range []string{"file", "kafka", "azblob", "mysql", "postgres"} {
		t.Run(tracker, func(t *testing.T) {
			f := newFixture(t)
			f.extraEnv = append(f.extraEnv, trackerEnv(t, tracker, f)...)
			// A killed worker's blob lease stays until it expires, and the
			// restarted one waits for it.
			f.extraEnv = append(f.extraEnv, "SLUICE_STARTUP_TIMEOUT=60s")
			crashUnderLoad(t, f, crashKills(t))
		})
	}
}

func crashUnderLoad(t *testing.T, f *fixture, kills int) {
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE r (id INT PRIMARY KEY, v INT)")
	seed := uint64(time.Now().UnixNano())
	t.Logf("workload seed %d", seed)
	loadConn := rootConn(t)
	execSQL(t, loadConn, "USE "+f.db)
	load := newWorkload(t, loadConn, seed)

	p := f.startReady()
	stopLoad := make(chan struct{})
	loadDone := make(chan int)
	go func() {
		transactions := 0
		defer func() { loadDone <- transactions }()
		// At most 200 transactions a second, so that the load stays the
		// same size while a restart waits for a killed worker's lease.
		pace := time.NewTicker(5 * time.Millisecond)
		defer pace.Stop()
		for !t.Failed() {
			select {
			case <-stopLoad:
				return
			case <-pace.C:
			}
			load.step()
			transactions++
		}
	}()

	rng := rand.New(rand.NewPCG(seed, 11))
	for range kills {
		time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond) // a random point of the load, not a wait for a condition
		p.signal(syscall.SIGKILL)
		p.wait(t, 30*time.Second)
		p = f.startReady()
		if t.Failed() {
			break
		}
	}
	close(stopLoad)
	transactions := <-loadDone

	var got []record
	f.eventually(120*time.Second, "every change is committed", func() bool {
		got = consumeAll(t, f.topic("r"))
		return len(got) >= load.records
	})
	lost, duplicated := load.compare(got)
	t.Logf("%d kills during %d transactions: %d records expected, %d read, %d lost, %d duplicated",
		kills, transactions, load.records, len(got), lost, duplicated)
	load.check(got)

	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 60*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}

// compare counts the records missing from got and the records that got has
// more than once, key by key.
func (w *workload) compare(got []record) (lost, duplicated int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	have := map[string]int{}
	for _, r := range got {
		have[r.Key]++
	}
	for key, want := range w.expected {
		switch n := have[key]; {
		case n < len(want):
			lost += len(want) - n
		case n > len(want):
			duplicated += n - len(want)
		}
	}
	for key, n := range have {
		if _, ok := w.expected[key]; !ok {
			duplicated += n
		}
	}
	return lost, duplicated
}
