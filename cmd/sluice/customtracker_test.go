//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/offsets/trackertest"
)

// memorySettings are the settings of the memory-test tracker. It reads a
// variable that sluice already documents, because
// TestReadmeConfigurationTable requires the README to list the variables
// of every registered tracker.
type memorySettings struct {
	// Dir names the store: trackers opened with the same directory share
	// their positions, as a real tracker shares its database.
	Dir string `envconfig:"SLUICE_OFFSETS_DIR" default:"./offsets"`
}

func init() {
	offsets.Register("memory-test", func(_ context.Context, s *memorySettings) (offsets.Tracker, error) {
		return &memoryTracker{store: memoryStoreOf(s.Dir)}, nil
	})
}

var memoryStores = struct {
	sync.Mutex
	byDir map[string]*memoryStore
}{byDir: map[string]*memoryStore{}}

// memoryStoreOf returns the store named dir, creating it on first use.
func memoryStoreOf(dir string) *memoryStore {
	memoryStores.Lock()
	defer memoryStores.Unlock()
	store, ok := memoryStores.byDir[dir]
	if !ok {
		store = &memoryStore{positions: map[string]offsets.Position{}}
		memoryStores.byDir[dir] = store
	}
	return store
}

// memoryStore keeps positions in memory and records every save.
type memoryStore struct {
	mu        sync.Mutex
	positions map[string]offsets.Position
	saves     []memorySave
}

// memorySave is one call of Save.
type memorySave struct {
	stream   string
	position offsets.Position
}

func (s *memoryStore) savesSoFar() []memorySave {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.saves)
}

// memoryTracker is a custom tracker as a build of sluice could register
// it: an offsets.Tracker that is not a Holder.
type memoryTracker struct {
	store *memoryStore
}

var memoryStreamID = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func checkMemoryStream(stream string) error {
	if !memoryStreamID.MatchString(stream) {
		return fmt.Errorf("invalid stream id %q: use letters, digits, '.', '_' and '-'", stream)
	}
	return nil
}

func (m *memoryTracker) Load(_ context.Context, stream string) (offsets.Position, error) {
	if err := checkMemoryStream(stream); err != nil {
		return offsets.Position{}, err
	}
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return m.store.positions[stream], nil
}

func (m *memoryTracker) Save(_ context.Context, stream string, p offsets.Position) error {
	if err := checkMemoryStream(stream); err != nil {
		return err
	}
	if p.IsZero() || p.Pos == 0 {
		return fmt.Errorf("%w: cannot save %s as the position of stream %q", offsets.ErrInvalidPosition, p, stream)
	}
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	m.store.positions[stream] = p
	m.store.saves = append(m.store.saves, memorySave{stream: stream, position: p})
	return nil
}

func (m *memoryTracker) Delete(_ context.Context, stream string) error {
	if err := checkMemoryStream(stream); err != nil {
		return err
	}
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	delete(m.store.positions, stream)
	return nil
}

func (m *memoryTracker) List(context.Context) ([]string, error) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	streams := make([]string, 0, len(m.store.positions))
	for stream := range m.store.positions {
		streams = append(streams, stream)
	}
	slices.Sort(streams)
	return streams, nil
}

func (m *memoryTracker) Check(context.Context) error { return nil }

func (m *memoryTracker) Close() error { return nil }

// lockedBuffer is a bytes.Buffer that the worker's logger and the test may
// use at the same time.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func envOrDefault(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// waitFor polls cond every 50ms until it holds, and fails the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCustomTrackerEndToEnd registers a tracker from this test package,
// checks it with trackertest, and runs the worker in this process with
// SLUICE_OFFSETS_TYPE=memory-test against the local MariaDB and Kafka
// (make up).
func TestCustomTrackerEndToEnd(t *testing.T) {
	mysqlAddr := net.JoinHostPort(envOrDefault("MARIADB_HOST", "127.0.0.1"), envOrDefault("MARIADB_PORT", "3307"))
	kafkaAddr := envOrDefault("KAFKA_HOST", "127.0.0.1") + ":" + envOrDefault("KAFKA_PORT", "9092")

	t.Setenv("SLUICE_OFFSETS_DIR", t.TempDir())
	trackertest.Run(t, "memory-", func(t *testing.T) offsets.Tracker {
		tracker, err := offsets.Open(context.Background(), "memory-test")
		if err != nil {
			t.Fatalf("open the memory-test tracker: %v", err)
		}
		return tracker
	})
	if t.Failed() {
		return
	}

	suffix := fmt.Sprint(rand.IntN(1_000_000))
	db := "it_custom_tracker_" + suffix
	prefix := "it.custom_tracker." + suffix
	stream := "it-custom-tracker-" + suffix
	dir := t.TempDir()

	root, err := client.Connect(mysqlAddr, "root", "", "")
	if err != nil {
		t.Fatalf("connect to MariaDB at %s as root (make up starts it): %v", mysqlAddr, err)
	}
	defer root.Close()
	for _, statement := range []string{
		"CREATE DATABASE " + db,
		"CREATE TABLE " + db + ".t (id INT PRIMARY KEY)",
	} {
		if _, err := root.Execute(statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}
	defer root.Execute("DROP DATABASE IF EXISTS " + db)

	host, port, _ := net.SplitHostPort(mysqlAddr)
	for name, value := range map[string]string{
		"SLUICE_MYSQL_HOST":      host,
		"SLUICE_MYSQL_PORT":      port,
		"SLUICE_MYSQL_USER":      "sluice",
		"SLUICE_MYSQL_PASSWORD":  "sluice",
		"SLUICE_SERVER_ID":       fmt.Sprint(200_000 + rand.IntN(100_000)),
		"SLUICE_KAFKA_BROKERS":   kafkaAddr,
		"SLUICE_TOPIC_PREFIX":    prefix,
		"SLUICE_STREAM_ID":       stream,
		"SLUICE_DATABASES":       db,
		"SLUICE_OFFSETS_TYPE":    "memory-test",
		"SLUICE_OFFSETS_DIR":     dir,
		"SLUICE_LOG_FORMAT":      "json",
		"SLUICE_LOG_LEVEL":       "debug",
		"SLUICE_COMMIT_INTERVAL": "50ms",
	} {
		t.Setenv(name, value)
	}

	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	var status int
	exited := make(chan struct{})
	go func() {
		status = runContext(ctx, nil, io.Discard, &logs)
		close(exited)
	}()
	defer func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
		}
		if t.Failed() {
			t.Logf("sluice output:\n%s", logs.String())
		}
	}()

	waitFor(t, 30*time.Second, "the worker takes its start position", func() bool {
		select {
		case <-exited:
			t.Fatalf("the worker exited with status %d before it was ready", status)
		default:
		}
		return strings.Contains(logs.String(), `"message":"no saved position`)
	})
	store := memoryStoreOf(dir)
	waitFor(t, 30*time.Second, "the worker saves its start position", func() bool {
		return len(store.savesSoFar()) > 0
	})

	const rows = 5
	for id := 1; id <= rows; id++ {
		statement := fmt.Sprintf("INSERT INTO %s.t VALUES (%d)", db, id)
		if _, err := root.Execute(statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}

	topic := prefix + "." + db + ".t"
	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(kafkaAddr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var keys []string
	var lastRecord *kgo.Record
	deadline := time.Now().Add(60 * time.Second)
	for len(keys) < rows && time.Now().Before(deadline) {
		pollCtx, pollCancel := context.WithTimeout(context.Background(), time.Second)
		fetches := consumer.PollFetches(pollCtx)
		pollCancel()
		fetches.EachRecord(func(r *kgo.Record) {
			keys = append(keys, string(r.Key))
			lastRecord = r
		})
	}
	var wantKeys []string
	for id := 1; id <= rows; id++ {
		wantKeys = append(wantKeys, fmt.Sprintf(`{"id":%d}`, id))
	}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("record keys in topic %s are %v, want %v", topic, keys, wantKeys)
	}

	// Every commit saves the position it ends at, so the last save lies
	// after the binlog event of the last row.
	lastEvent := recordSourcePosition(t, lastRecord.Value)
	waitFor(t, 30*time.Second, "the tracker gets a position after "+lastEvent.String(), func() bool {
		saves := store.savesSoFar()
		return saves[len(saves)-1].position.Compare(lastEvent) > 0
	})
	saves := store.savesSoFar()
	if len(saves) < 2 {
		t.Errorf("the tracker got %d saves, want the start position and at least one commit", len(saves))
	}
	for i, save := range saves {
		if save.stream != stream {
			t.Errorf("save %d is for stream %q, want %q", i, save.stream, stream)
		}
		if i > 0 && save.position.Compare(saves[i-1].position) <= 0 {
			t.Errorf("save %d stores %s, which is not after save %d's %s", i, save.position, i-1, saves[i-1].position)
		}
	}

	cancel()
	select {
	case <-exited:
		if status != exitOK {
			t.Errorf("runContext returned %d after its context was cancelled, want %d", status, exitOK)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop within 30s of its context being cancelled")
	}
	if !strings.Contains(logs.String(), `"message":"stopped"`) {
		t.Errorf("the worker did not log its clean stop:\n%s", logs.String())
	}
}

// recordSourcePosition returns the binlog file and offset that a change
// event's source block names.
func recordSourcePosition(t *testing.T, value []byte) offsets.Position {
	t.Helper()
	var event struct {
		Source struct {
			File string `json:"file"`
			Pos  uint32 `json:"pos"`
		} `json:"source"`
	}
	if err := json.Unmarshal(value, &event); err != nil {
		t.Fatalf("decode change event %s: %v", value, err)
	}
	return offsets.Position{File: event.Source.File, Pos: event.Source.Pos}
}
