//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// largeWait bounds every wait of the tests in this file, with ample room
// for producing and consuming 200,000-row transactions.
const largeWait = 180 * time.Second

// newAdmin returns a Kafka admin client that is closed when the test ends.
// franz-go (v1.22) queries metadata at most once per MetadataMinAge, 5s by
// default, so a topic missing at the first poll would stay missing for that
// long while sluice fills it. The short age lets each poll find it.
func newAdmin(t *testing.T) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		t.Fatalf("create Kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// partitionOffsets returns the high watermark (read_uncommitted end) and
// the last stable offset (read_committed end) of partition 0 of topic. A
// topic that does not exist yet has both at 0.
func partitionOffsets(t *testing.T, adm *kadm.Client, topic string) (high, stable int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	if o, ok := ends.Lookup(topic, 0); ok && o.Err == nil {
		high = o.Offset
	}
	committed, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list committed offsets of %s: %v", topic, err)
	}
	if o, ok := committed.Lookup(topic, 0); ok && o.Err == nil {
		stable = o.Offset
	}
	return high, stable
}

// killWhileProducing waits until the high watermark of topic passes
// base+produced while the last stable offset is still below
// base+transactionSize, then kills p with SIGKILL. When the transaction
// commits first, it logs that and still kills p. It returns whether the kill
// landed inside the open Kafka transaction, and the offset that the last
// stable offset reaches once a restarted sluice has committed the
// transaction: at least the high watermark at the kill plus the
// transaction's size, because the aborted records stay in the log.
func killWhileProducing(t *testing.T, adm *kadm.Client, p *process, topic string, base, produced, transactionSize int64) (committedThrough int64, inside bool) {
	t.Helper()
	deadline := time.Now().Add(largeWait)
	for {
		select {
		case <-p.done:
			t.Fatalf("sluice exited with status %d while producing the transaction:\n%s", p.exit, p.output())
		default:
		}
		high, stable := partitionOffsets(t, adm, topic)
		if stable >= base+transactionSize {
			p.signal(syscall.SIGKILL)
			p.wait(t, 30*time.Second)
			t.Logf("the transaction was committed (last stable offset %d) before the kill; the kill did not land inside it", stable)
			return stable, false
		}
		if high >= base+produced {
			p.signal(syscall.SIGKILL)
			p.wait(t, 30*time.Second)
			t.Logf("killed sluice at high watermark %d, last stable offset %d (transaction starts at offset %d)", high, stable, base)
			return high + transactionSize, true
		}
		if time.Now().After(deadline) {
			t.Fatalf("high watermark of %s stayed at %d (last stable offset %d) for %s, want at least %d:\n%s",
				topic, high, stable, largeWait, base+produced, p.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitCommittedThrough waits until no transaction is open on topic and its
// last stable offset is at least offset, and returns that offset.
func awaitCommittedThrough(t *testing.T, f *fixture, adm *kadm.Client, topic string, offset int64) int64 {
	t.Helper()
	var high, stable int64
	f.eventually(largeWait, fmt.Sprintf("%s has committed through offset %d", topic, offset), func() bool {
		high, stable = partitionOffsets(t, adm, topic)
		return stable == high && stable >= offset
	})
	return stable
}

// limitedReporter is an error reporter that shows the first ten failed
// checks with t.Errorf and only counts the rest, so that one systematic bug
// over 400,000 records does not flood the output.
type limitedReporter struct {
	t        *testing.T
	failures int
}

func (r *limitedReporter) errorf(format string, args ...any) {
	r.t.Helper()
	r.failures++
	if r.failures <= 10 {
		r.t.Errorf(format, args...)
	}
}

func (r *limitedReporter) summarize() {
	r.t.Helper()
	if r.failures > 10 {
		r.t.Errorf("%d more failed checks not shown", r.failures-10)
	}
}

// TestHugeTransactionKilledTwice kills sluice with SIGKILL in the middle of
// a 200,000-row insert transaction and again in the middle of a
// 200,000-row update transaction, restarting it each time. A read_committed
// consumer then reads every change exactly once, in order per key.
func TestHugeTransactionKilledTwice(t *testing.T) {
	const rows = 200_000
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE lt (id INT PRIMARY KEY, v INT)")
	adm := newAdmin(t)
	topic := f.topic("lt")

	// The insert runs with autocommit, so it is one source transaction.
	p := f.startReady()
	execSQL(t, f.conn, fmt.Sprintf("INSERT INTO lt SELECT seq, seq FROM seq_1_to_%d", rows))
	committedThrough, inside := killWhileProducing(t, adm, p, topic, 0, 50_000, rows)
	if inside {
		if got := consumeAll(t, topic); len(got) != 0 {
			t.Errorf("a read_committed consumer sees %d records of the killed transaction, want 0", len(got))
		}
	}

	// The restarted sluice fences the killed one, which aborts its open
	// transaction, and produces the insert again after the aborted records.
	p = f.startReady()
	base := awaitCommittedThrough(t, f, adm, topic, committedThrough)

	execSQL(t, f.conn, "UPDATE lt SET v = v + 1")
	committedThrough, _ = killWhileProducing(t, adm, p, topic, base, 50_000, rows)

	p = f.startReady()
	awaitCommittedThrough(t, f, adm, topic, committedThrough)

	got := consumeAll(t, topic)
	if len(got) != 2*rows {
		t.Errorf("a read_committed consumer sees %d records, want %d", len(got), 2*rows)
	}

	report := &limitedReporter{t: t}
	seen := map[string]int{}    // "<id> <op>" -> count
	created := map[int64]bool{} // ids whose create record was already read
	for _, r := range got {
		var key struct{ ID int64 }
		if err := json.Unmarshal([]byte(r.Key), &key); err != nil || key.ID < 1 || key.ID > rows {
			report.errorf("offset %d: key %q, want {\"id\":N} with 1 <= N <= %d", r.Offset, r.Key, rows)
			continue
		}
		if r.Value == nil {
			report.errorf("offset %d: key %s has a tombstone, want a change event", r.Offset, r.Key)
			continue
		}
		e := decodeEnvelope(t, r.Value)
		seen[fmt.Sprintf("%d %s", key.ID, e.Op)]++

		switch e.Op {
		case "c":
			if e.Before != nil {
				report.errorf("offset %d: create of id %d has before %v, want null", r.Offset, key.ID, e.Before)
			}
			checkLargeRow(report, r.Offset, "create after", e.After, key.ID, key.ID)
			created[key.ID] = true
		case "u":
			if !created[key.ID] {
				report.errorf("offset %d: update of id %d comes before its create", r.Offset, key.ID)
			}
			checkLargeRow(report, r.Offset, "update before", e.Before, key.ID, key.ID)
			checkLargeRow(report, r.Offset, "update after", e.After, key.ID, key.ID+1)
		default:
			report.errorf("offset %d: id %d has op %q, want c or u", r.Offset, key.ID, e.Op)
		}
	}
	for id := int64(1); id <= rows; id++ {
		for _, op := range []string{"c", "u"} {
			if n := seen[fmt.Sprintf("%d %s", id, op)]; n != 1 {
				report.errorf("id %d op %s: %d records, want 1", id, op, n)
			}
		}
	}
	report.summarize()

	stopCleanly(t, p)
}

// checkLargeRow checks that a row image of table lt is exactly
// {"id": id, "v": v}.
func checkLargeRow(report *limitedReporter, offset int64, where string, row map[string]any, id, v int64) {
	report.t.Helper()
	if len(row) != 2 {
		report.errorf("offset %d: %s is %v, want id %d and v %d only", offset, where, row, id, v)
		return
	}
	if got, ok := row["id"].(json.Number); !ok || got.String() != strconv.FormatInt(id, 10) {
		report.errorf("offset %d: %s id is %#v, want %d", offset, where, row["id"], id)
	}
	if got, ok := row["v"].(json.Number); !ok || got.String() != strconv.FormatInt(v, 10) {
		report.errorf("offset %d: %s v is %#v, want %d", offset, where, row["v"], v)
	}
}

// ensureMaxAllowedPacket raises the server's max_allowed_packet to at least
// bytes for the rest of the test. It returns a new root connection when it
// raises the value, because only new connections take a new global value.
func ensureMaxAllowedPacket(t *testing.T, conn *client.Conn, bytes int64) *client.Conn {
	t.Helper()
	res, err := conn.Execute("SELECT @@GLOBAL.max_allowed_packet")
	if err != nil {
		t.Fatalf("read max_allowed_packet: %v", err)
	}
	old, _ := res.GetInt(0, 0)
	if old >= bytes {
		return conn
	}
	execSQL(t, conn, fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", bytes))
	t.Cleanup(func() {
		restore, err := client.Connect(net.JoinHostPort(mysqlHost, mysqlPort), "root", "", "")
		if err != nil {
			t.Errorf("restore max_allowed_packet to %d: %v", old, err)
			return
		}
		defer restore.Close()
		if _, err := restore.Execute(fmt.Sprintf("SET GLOBAL max_allowed_packet = %d", old)); err != nil {
			t.Errorf("restore max_allowed_packet to %d: %v", old, err)
		}
	})
	return rootConn(t)
}

// TestOversizeRowWaitsForLimit inserts a row whose record is larger than
// its topic takes, followed by a small row. sluice stops on the large
// record without writing the small one or moving its position. Once the
// topic and SLUICE_MAX_RECORD_BYTES take the record, a restart delivers
// both rows, whole, once each and in order.
func TestOversizeRowWaitsForLimit(t *testing.T) {
	const payloadBytes = 3 * 1024 * 1024
	const limitBytes = 8 * 1024 * 1024
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE big (id INT PRIMARY KEY, payload LONGTEXT)")
	saved := savedPosition(t, f)

	// REPEAT returns NULL when its result exceeds max_allowed_packet.
	conn := ensureMaxAllowedPacket(t, f.conn, 64*1024*1024)
	execSQL(t, conn, "USE "+f.db,
		fmt.Sprintf("INSERT INTO big VALUES (1, REPEAT('x', %d))", payloadBytes),
		"INSERT INTO big VALUES (2, 'small')",
	)
	res, err := conn.Execute("SELECT LENGTH(payload), SHA2(payload, 256) FROM big WHERE id = 1")
	if err != nil {
		t.Fatalf("read the payload of id 1: %v", err)
	}
	storedLength, _ := res.GetInt(0, 0)
	storedSHA, _ := res.GetString(0, 1)
	if storedLength != payloadBytes {
		t.Fatalf("MariaDB stored %d bytes for id 1, want %d", storedLength, payloadBytes)
	}

	// With the default limits the record stops the stream.
	expectFailure(t, f, saved, 1, []string{
		"table " + f.db + ".big",
		`key {\"id\":1}`,
		"record too large for its topic",
	})
	got := consumeAll(t, f.topic("big"))
	for _, r := range got {
		if r.Key == `{"id":2}` {
			t.Errorf("id 2 is committed at offset %d while id 1 is not delivered", r.Offset)
		}
	}
	if len(got) != 0 {
		t.Errorf("got %d records after the failure, want 0", len(got))
	}

	adm := newAdmin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	altered, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{
		Op:    kadm.SetConfig,
		Name:  "max.message.bytes",
		Value: kadm.StringPtr(strconv.Itoa(limitBytes)),
	}}, f.topic("big"))
	if err == nil {
		_, err = altered.On(f.topic("big"), nil)
	}
	if err != nil {
		t.Fatalf("set max.message.bytes of %s to %d: %v", f.topic("big"), limitBytes, err)
	}

	p := f.startReady(fmt.Sprintf("SLUICE_MAX_RECORD_BYTES=%d", limitBytes))
	f.eventually(largeWait, "both rows are committed", func() bool {
		got = consumeAll(t, f.topic("big"))
		return len(got) >= 2
	})
	if len(got) != 2 {
		t.Errorf("got %d records, want 2", len(got))
	}
	wantKeys := []string{`{"id":1}`, `{"id":2}`}
	for i := range min(len(got), len(wantKeys)) {
		if got[i].Key != wantKeys[i] {
			t.Errorf("record %d: key %s, want %s", i, got[i].Key, wantKeys[i])
		}
	}

	if len(got) > 0 && got[0].Key == `{"id":1}` && got[0].Value != nil {
		e := decodeEnvelope(t, got[0].Value)
		if e.Op != "c" {
			t.Errorf("id 1: op %q, want c", e.Op)
		}
		payload, ok := e.After["payload"].(string)
		if !ok {
			t.Fatalf("id 1: after.payload is %T, want a string", e.After["payload"])
		}
		if len(payload) != payloadBytes {
			t.Errorf("id 1: payload has %d bytes, want %d", len(payload), payloadBytes)
		}
		sum := sha256.Sum256([]byte(payload))
		if hex.EncodeToString(sum[:]) != storedSHA {
			t.Errorf("id 1: payload SHA-256 is %x, MariaDB's SHA2(payload, 256) is %s", sum, storedSHA)
		}
	}
	if len(got) > 1 && got[1].Key == `{"id":2}` && got[1].Value != nil {
		e := decodeEnvelope(t, got[1].Value)
		checkRow(t, "id 2 after", e.After, map[string]any{"id": json.Number("2"), "payload": "small"})
	}

	stopCleanly(t, p)
}

// TestSplitTransactionKilled makes one source transaction outlast half of
// a short Kafka transaction timeout, so sluice commits it in parts, kills
// sluice after the first part, and checks that every row still arrives
// once.
func TestSplitTransactionKilled(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE st (id INT PRIMARY KEY, v INT)")
	// At 1s the split comes after 0.5s, well before 600,000 rows are
	// produced even on a fast machine (about 290,000 rows/s in make bench).
	const rows = 600000
	env := []string{"SLUICE_TRANSACTION_TIMEOUT=1s"}
	p := f.startReady(env...)

	execSQL(t, f.conn, fmt.Sprintf("INSERT INTO %s.st SELECT seq, seq FROM seq_1_to_%d", f.db, rows))
	f.eventually(120*time.Second, "sluice splits the transaction", func() bool {
		return strings.Contains(p.output(), "source transaction too large for one Kafka transaction")
	})
	p.signal(syscall.SIGKILL)
	p.wait(t, 30*time.Second)
	// The first part is committed and visible before the transaction ends.
	committed := len(consumeAll(t, f.topic("st")))
	t.Logf("after the kill %d of %d rows are committed", committed, rows)
	if committed == 0 {
		t.Errorf("after a split no row is committed, want the rows before the split")
	}
	if committed >= rows {
		t.Logf("the kill came after the last part was committed; the restart checks nothing more")
	}

	p = f.startReady(env...)
	var got []record
	f.eventually(180*time.Second, "every row is committed", func() bool {
		got = consumeAll(t, f.topic("st"))
		return len(got) >= rows
	})
	checkIDsOnce(t, got, rows)

	stopCleanly(t, p)
}
