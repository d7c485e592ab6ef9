//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// change is one expected record of a key: an op with the row's v column, or
// a tombstone.
type change struct {
	op string // "c", "u", "d", or "" for a tombstone
	v  string
}

// workload runs mixed single-row and multi-row transactions on table r and
// remembers the records each key must get, in order.
type workload struct {
	t    *testing.T
	conn *client.Conn
	rng  *rand.Rand

	mu       sync.Mutex
	expected map[string][]change // by key
	records  int

	live   []int // ids that exist now
	nextID int
	values map[int]int
}

func newWorkload(t *testing.T, conn *client.Conn, seed uint64) *workload {
	return &workload{
		t: t, conn: conn, rng: rand.New(rand.NewPCG(seed, seed+1)),
		expected: map[string][]change{}, values: map[int]int{}, nextID: 1,
	}
}

func (w *workload) expect(id int, c change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := fmt.Sprintf(`{"id":%d}`, id)
	w.expected[key] = append(w.expected[key], c)
	w.records++
}

// step runs one source transaction of a random kind.
func (w *workload) step() {
	size := 1
	if w.rng.IntN(4) == 0 {
		size = 2 + w.rng.IntN(40) // a multi-row transaction
	}
	var statements []string
	var pending []func()
	for i := 0; i < size; i++ {
		switch kind := w.rng.IntN(10); {
		case kind < 5 || len(w.live) == 0:
			id := w.nextID
			w.nextID++
			v := w.rng.IntN(1000)
			statements = append(statements, fmt.Sprintf("INSERT INTO r VALUES (%d, %d)", id, v))
			w.live = append(w.live, id)
			w.values[id] = v
			pending = append(pending, func() { w.expect(id, change{"c", fmt.Sprint(v)}) })
		case kind < 8:
			id := w.live[w.rng.IntN(len(w.live))]
			w.values[id]++
			v := w.values[id]
			statements = append(statements, fmt.Sprintf("UPDATE r SET v = %d WHERE id = %d", v, id))
			pending = append(pending, func() { w.expect(id, change{"u", fmt.Sprint(v)}) })
		default:
			index := w.rng.IntN(len(w.live))
			id := w.live[index]
			w.live = append(w.live[:index], w.live[index+1:]...)
			v := w.values[id]
			delete(w.values, id)
			statements = append(statements, fmt.Sprintf("DELETE FROM r WHERE id = %d", id))
			pending = append(pending, func() {
				w.expect(id, change{"d", fmt.Sprint(v)})
				w.expect(id, change{"", ""})
			})
		}
	}
	if _, err := w.conn.Execute("BEGIN"); err != nil {
		w.t.Errorf("begin: %v", err)
		return
	}
	for _, s := range statements {
		if _, err := w.conn.Execute(s); err != nil {
			w.t.Errorf("%s: %v", s, err)
			return
		}
	}
	if _, err := w.conn.Execute("COMMIT"); err != nil {
		w.t.Errorf("commit: %v", err)
		return
	}
	for _, p := range pending {
		p()
	}
}

// check compares the consumed records of table r with the expected ones:
// each key gets exactly its changes, in order, none lost or duplicated.
func (w *workload) check(got []record) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()

	byKey := map[string][]change{}
	for _, r := range got {
		if r.Value == nil {
			byKey[r.Key] = append(byKey[r.Key], change{"", ""})
			continue
		}
		e := decodeEnvelope(w.t, r.Value)
		row := e.After
		if e.Op == "d" {
			row = e.Before
		}
		byKey[r.Key] = append(byKey[r.Key], change{e.Op, fmt.Sprint(row["v"])})
	}
	if len(got) != w.records {
		w.t.Errorf("got %d records, want %d", len(got), w.records)
	}
	mismatches := 0
	for key, want := range w.expected {
		have := byKey[key]
		if fmt.Sprint(have) != fmt.Sprint(want) {
			mismatches++
			if mismatches <= 10 {
				w.t.Errorf("key %s: got %v, want %v", key, have, want)
			}
		}
	}
	for key, have := range byKey {
		if _, ok := w.expected[key]; !ok {
			w.t.Errorf("key %s: got %v, want no records", key, have)
		}
	}
	if mismatches > 10 {
		w.t.Errorf("%d keys differ in all", mismatches)
	}
}

// TestRestartExactlyOnce stops sluice with SIGTERM and kills it with SIGKILL
// at random points of a running load, restarting it each time, and checks
// that every change reaches Kafka once, in order per key.
func TestRestartExactlyOnce(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE r (id INT PRIMARY KEY, v INT)")

	seed := uint64(time.Now().UnixNano())
	t.Logf("workload seed %d", seed)
	loadConn := rootConn(t)
	execSQL(t, loadConn, "USE "+f.db)
	load := newWorkload(t, loadConn, seed)

	p := f.startReady()

	const transactions = 6000
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for i := 0; i < transactions && !t.Failed(); i++ {
			load.step()
		}
	}()

	rng := rand.New(rand.NewPCG(seed, 7))
	stops := 0
	for running := true; running; {
		select {
		case <-loadDone:
			running = false
			continue
		case <-time.After(time.Duration(100+rng.IntN(700)) * time.Millisecond):
		}
		if rng.IntN(2) == 0 {
			p.signal(syscall.SIGTERM)
			if status := p.wait(t, 30*time.Second); status != 0 {
				t.Fatalf("sluice exited with status %d after SIGTERM, want 0:\n%s", status, p.output())
			}
		} else {
			p.signal(syscall.SIGKILL)
			p.wait(t, 30*time.Second)
		}
		stops++
		p = f.startReady()
	}
	t.Logf("stopped and restarted sluice %d times during %d transactions (%d records)", stops, transactions, load.records)
	if stops < 3 {
		t.Errorf("the load ended after %d restarts; the test needs at least 3 to mean anything", stops)
	}

	var got []record
	f.eventually(90*time.Second, "every change is committed", func() bool {
		got = consumeAll(t, f.topic("r"))
		return len(got) >= load.records
	})
	load.check(got)

	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}
