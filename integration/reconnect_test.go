//go:build integration

package integration

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReconnectAfterKilledConnection kills sluice's binlog connection on the
// server during a load, twice, and checks that sluice reconnects by itself
// and that every change still arrives once, in order per key.
func TestReconnectAfterKilledConnection(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE r (id INT PRIMARY KEY, v INT)")
	loadConn := rootConn(t)
	execSQL(t, loadConn, "USE "+f.db)
	seed := uint64(time.Now().UnixNano())
	t.Logf("workload seed %d", seed)
	load := newWorkload(t, loadConn, seed)

	p := f.startReady()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for i := 0; i < 3000 && !t.Failed(); i++ {
			load.step()
		}
	}()

	for kill := 1; kill <= 2; kill++ {
		time.Sleep(time.Duration(300*kill) * time.Millisecond) // let the load run between kills
		// sluice opens its binlog connection after it logs "streaming", and
		// after a lost connection only once a backoff has passed.
		f.eventually(30*time.Second, fmt.Sprintf("kill %d finds a binlog dump connection of sluice", kill), func() bool {
			return killBinlogDumps(t, f) > 0
		})
		f.eventually(30*time.Second, "sluice reconnects", func() bool {
			return strings.Count(p.output(), "binlog connection lost") >= kill
		})
	}
	<-loadDone

	var got []record
	f.eventually(90*time.Second, "every change is committed", func() bool {
		got = consumeAll(t, f.topic("r"))
		return len(got) >= load.records
	})
	load.check(got)

	select {
	case <-p.done:
		t.Fatalf("sluice exited with status %d instead of reconnecting:\n%s", p.exit, p.output())
	default:
	}
	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}

// killBinlogDumps kills the server threads that stream the binlog to the
// sluice user and returns how many it killed.
func killBinlogDumps(t *testing.T, f *fixture) int {
	t.Helper()
	res, err := f.conn.Execute("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump' AND USER = 'sluice'")
	if err != nil {
		t.Fatalf("list binlog dump threads: %v", err)
	}
	killed := 0
	for row := range res.Values {
		id, _ := res.GetInt(row, 0)
		if _, err := f.conn.Execute(fmt.Sprintf("KILL CONNECTION %d", id)); err == nil {
			killed++
		}
	}
	return killed
}
