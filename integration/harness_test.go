//go:build integration

// Package integration runs sluice as a separate process against the real
// MariaDB and Kafka that deploy/local starts (make up), and checks what
// read_committed consumers see.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Servers started by deploy/local/up.sh; the environment may point
// elsewhere with the same variable names the scripts use.
var (
	mysqlHost = envOr("MARIADB_HOST", "127.0.0.1")
	mysqlPort = envOr("MARIADB_PORT", "3307")
	kafkaAddr = envOr("KAFKA_HOST", "127.0.0.1") + ":" + envOr("KAFKA_PORT", "9092")
)

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// sluiceBin is the binary under test, built once by TestMain.
var sluiceBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sluiceBin = filepath.Join(dir, "sluice")
	build := exec.Command("go", "build", "-o", sluiceBin, "../cmd/sluice")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sluice:", err)
		os.Exit(1)
	}
	for _, addr := range []string{net.JoinHostPort(mysqlHost, mysqlPort), kafkaAddr} {
		conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "integration tests need MariaDB and Kafka: %s is not reachable (%v); run `make up` first\n", addr, err)
			os.Exit(1)
		}
		conn.Close()
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rootConn opens a connection as the local server's root user.
func rootConn(t testing.TB) *client.Conn {
	t.Helper()
	conn, err := client.Connect(net.JoinHostPort(mysqlHost, mysqlPort), "root", "", "")
	if err != nil {
		t.Fatalf("connect to MariaDB as root: %v", err)
	}
	if _, err := conn.Execute("SET NAMES utf8mb4"); err != nil {
		t.Fatalf("set names: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// exec runs SQL statements in order and fails the test on the first error.
func execSQL(t testing.TB, conn *client.Conn, statements ...string) {
	t.Helper()
	for _, s := range statements {
		if _, err := conn.Execute(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// fixture is one test's private database, topic prefix, stream and
// offsets directory, so tests never see each other's records.
type fixture struct {
	t        *testing.T
	db       string
	prefix   string
	stream   string
	suffix   string // the random number in db, prefix and stream
	offsets  string
	conn     *client.Conn
	extraEnv []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	name := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	suffix := fmt.Sprintf("%d", rand.IntN(1_000_000))
	f := &fixture{
		t:       t,
		db:      "it_" + name + "_" + suffix,
		prefix:  "it." + name + "." + suffix,
		stream:  "it-" + name + "-" + suffix,
		suffix:  suffix,
		offsets: t.TempDir(),
		conn:    rootConn(t),
	}
	execSQL(t, f.conn, "CREATE DATABASE "+f.db+" CHARACTER SET utf8mb4")
	t.Cleanup(func() {
		conn, err := client.Connect(net.JoinHostPort(mysqlHost, mysqlPort), "root", "", "")
		if err == nil {
			conn.Execute("DROP DATABASE IF EXISTS " + f.db)
			conn.Close()
		}
	})
	return f
}

func (f *fixture) topic(table string) string {
	return f.prefix + "." + f.db + "." + table
}

func (f *fixture) positionFile() string {
	return filepath.Join(f.offsets, f.stream, "position.json")
}

// env returns the environment of a sluice process for this fixture.
func (f *fixture) env(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"SLUICE_MYSQL_HOST=" + mysqlHost,
		"SLUICE_MYSQL_PORT=" + mysqlPort,
		"SLUICE_MYSQL_USER=sluice",
		"SLUICE_MYSQL_PASSWORD=sluice",
		fmt.Sprintf("SLUICE_SERVER_ID=%d", 2000+rand.IntN(100000)),
		"SLUICE_KAFKA_BROKERS=" + kafkaAddr,
		"SLUICE_TOPIC_PREFIX=" + f.prefix,
		"SLUICE_STREAM_ID=" + f.stream,
		"SLUICE_DATABASES=" + f.db,
		"SLUICE_OFFSETS_DIR=" + f.offsets,
		"SLUICE_LOG_FORMAT=json",
		"SLUICE_LOG_LEVEL=debug",
		"SLUICE_COMMIT_INTERVAL=50ms",
	}
	env = append(env, f.extraEnv...)
	return append(env, extra...)
}

// process is a running sluice.
type process struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
	exit   int
}

type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// start runs sluice with the fixture's environment plus extra variables.
func (f *fixture) start(extra ...string) *process {
	f.t.Helper()
	p := &process{cmd: exec.Command(sluiceBin), stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = f.env(extra...)
	out := &syncBuffer{b: p.stderr}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		f.t.Fatalf("start sluice: %v", err)
	}
	go func() {
		err := p.cmd.Wait()
		p.exit = p.cmd.ProcessState.ExitCode()
		if err != nil && p.exit == -1 {
			p.exit = -1 // killed by a signal
		}
		close(p.done)
	}()
	f.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if f.t.Failed() {
			f.t.Logf("sluice output:\n%s", p.output())
		}
	})
	return p
}

func (p *process) output() string {
	return p.stderr.String()
}

// startReady starts sluice and waits until it has taken its start
// position, so that changes made afterwards are captured.
func (f *fixture) startReady(extra ...string) *process {
	f.t.Helper()
	p := f.start(extra...)
	f.eventually(30*time.Second, "sluice saves its start position", func() bool {
		select {
		case <-p.done:
			f.t.Fatalf("sluice exited with status %d before it was ready:\n%s", p.exit, p.output())
		default:
		}
		// sluice logs where it starts before it saves that position, and
		// logs "streaming" only after the save.
		return strings.Contains(p.output(), `"message":"streaming"`)
	})
	return p
}

// wait waits for the process to exit and returns its status.
func (p *process) wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.exit
	case <-time.After(timeout):
		t.Fatalf("sluice did not exit within %s:\n%s", timeout, p.output())
		return 0
	}
}

func (p *process) signal(sig syscall.Signal) {
	p.cmd.Process.Signal(sig)
}

// eventually polls cond until it holds or timeout passes.
func (f *fixture) eventually(timeout time.Duration, what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out after %s waiting until %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// record is one consumed Kafka record.
type record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Value     []byte // nil for a tombstone
}

// batchCounter counts the record batches a consumer reads, including
// batches of aborted transactions that read_committed never returns.
type batchCounter struct{ read atomic.Int64 }

func (c *batchCounter) OnFetchBatchRead(kgo.BrokerMetadata, string, int32, kgo.FetchBatchMetrics) {
	c.read.Add(1)
}

// consumeAll reads every committed record of the topics, with
// read_committed isolation, up to their last stable offsets at the time of
// the call. Missing topics count as empty.
func consumeAll(t testing.TB, topics ...string) []record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	admin, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ends, err := kadm.NewClient(admin).ListCommittedOffsets(ctx, topics...)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	partitions := map[string]map[int32]kgo.Offset{}
	remaining := map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset <= 0 {
			return
		}
		if partitions[o.Topic] == nil {
			partitions[o.Topic] = map[int32]kgo.Offset{}
			remaining[o.Topic] = map[int32]int64{}
		}
		partitions[o.Topic][o.Partition] = kgo.NewOffset().AtStart()
		remaining[o.Topic][o.Partition] = o.Offset
	})
	if len(partitions) == 0 {
		return nil
	}

	batches := &batchCounter{}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(kafkaAddr),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(partitions),
		kgo.WithHooks(batches),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	var out []record
	quiet := 0
	var lastRead int64
	for len(remaining) > 0 && quiet < 3 {
		pollCtx, pollCancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pollCtx)
		pollCancel()
		if ctx.Err() != nil {
			t.Fatalf("consuming %v timed out", topics)
		}
		if fetches.NumRecords() == 0 {
			// Transaction markers at the end are never returned. A poll that
			// read only aborted batches still made progress, though.
			if read := batches.read.Load(); read == lastRead {
				quiet++
			} else {
				lastRead = read
			}
			continue
		}
		quiet = 0
		fetches.EachRecord(func(r *kgo.Record) {
			end := remaining[r.Topic][r.Partition]
			if r.Offset >= end {
				return
			}
			out = append(out, record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: string(r.Key), Value: r.Value})
			if r.Offset >= end-2 {
				delete(remaining[r.Topic], r.Partition)
				if len(remaining[r.Topic]) == 0 {
					delete(remaining, r.Topic)
				}
			}
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Offset < out[j].Offset
	})
	return out
}

// envelope is the part of a change event the tests compare. Numbers stay
// json.Number so that large integers keep every digit.
type envelope struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
	Source struct {
		Version   string      `json:"version"`
		Connector string      `json:"connector"`
		Name      string      `json:"name"`
		TsMs      json.Number `json:"ts_ms"`
		Snapshot  string      `json:"snapshot"`
		DB        string      `json:"db"`
		Table     string      `json:"table"`
		ServerID  json.Number `json:"server_id"`
		GTID      *string     `json:"gtid"`
		File      string      `json:"file"`
		Pos       json.Number `json:"pos"`
		Row       json.Number `json:"row"`
	} `json:"source"`
	Op   string      `json:"op"`
	TsMs json.Number `json:"ts_ms"`
}

func decodeEnvelope(t testing.TB, value []byte) envelope {
	t.Helper()
	var e envelope
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decode change event %s: %v", value, err)
	}
	return e
}

// checkIDsOnce checks that records keyed {"id":N} hold ids 1 to count, each
// exactly once.
func checkIDsOnce(t *testing.T, got []record, count int) {
	t.Helper()
	if len(got) != count {
		t.Errorf("got %d records, want %d", len(got), count)
	}
	seen := make(map[string]bool, len(got))
	for _, r := range got {
		if seen[r.Key] {
			t.Fatalf("key %s arrived twice", r.Key)
		}
		seen[r.Key] = true
	}
	for id := 1; id <= count; id++ {
		if key := fmt.Sprintf(`{"id":%d}`, id); !seen[key] {
			t.Fatalf("key %s is missing", key)
		}
	}
}
