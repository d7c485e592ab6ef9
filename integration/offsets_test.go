//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/offsets"
)

// commandResult is the outcome of one "sluice offsets" run.
type commandResult struct {
	stdout string
	stderr string
	status int
}

// runOffsetsCommand runs "sluice offsets args..." with the fixture's
// environment and waits for it to exit.
func (f *fixture) runOffsetsCommand(args ...string) commandResult {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sluiceBin, append([]string{"offsets"}, args...)...)
	cmd.Env = f.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		f.t.Fatalf("run sluice offsets %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		f.t.Fatalf("sluice offsets %s did not exit within 90s", strings.Join(args, " "))
	}
	return commandResult{stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.ExitCode()}
}

// showPosition runs "sluice offsets show" for the fixture's stream and
// parses the printed position. ok is false when the command failed.
func (f *fixture) showPosition() (p offsets.Position, ok bool) {
	f.t.Helper()
	result := f.runOffsetsCommand("show", f.stream)
	if result.status != 0 {
		return offsets.Position{}, false
	}
	p, err := offsets.ParsePosition([]byte(strings.TrimSpace(result.stdout)))
	if err != nil {
		f.t.Fatalf("sluice offsets show printed %q, which is no position: %v", result.stdout, err)
	}
	return p, true
}

// insertIDs inserts rows id = from to to into table t, one transaction
// each.
func (f *fixture) insertIDs(from, to int) {
	f.t.Helper()
	for id := from; id <= to; id++ {
		execSQL(f.t, f.conn, fmt.Sprintf("INSERT INTO %s.t VALUES (%d)", f.db, id))
	}
}

// idRange returns the ids from to to, in order.
func idRange(from, to int) []int {
	var ids []int
	for id := from; id <= to; id++ {
		ids = append(ids, id)
	}
	return ids
}

// recordIDs returns the id of each record keyed {"id":N}, in offset order.
func recordIDs(t *testing.T, records []record) []int {
	t.Helper()
	ids := make([]int, 0, len(records))
	for _, r := range records {
		var key struct {
			ID *int `json:"id"`
		}
		if err := json.Unmarshal([]byte(r.Key), &key); err != nil || key.ID == nil {
			t.Fatalf("record at offset %d has key %q, want {\"id\":N}", r.Offset, r.Key)
		}
		ids = append(ids, *key.ID)
	}
	return ids
}

// awaitIDs waits until table t's topic contains as many records as want has
// ids, then checks that their ids are exactly want, in offset order. It
// returns the records.
func (f *fixture) awaitIDs(want []int) []record {
	f.t.Helper()
	var got []record
	f.eventually(60*time.Second, fmt.Sprintf("%d records reach topic %s", len(want), f.topic("t")), func() bool {
		got = consumeAll(f.t, f.topic("t"))
		return len(got) >= len(want)
	})
	if ids := recordIDs(f.t, got); !slices.Equal(ids, want) {
		f.t.Fatalf("record ids in offset order are %v, want %v", ids, want)
	}
	return got
}

// eventPosition returns the binlog position that a change event names.
func eventPosition(t *testing.T, r record) offsets.Position {
	t.Helper()
	e := decodeEnvelope(t, r.Value)
	pos, err := strconv.ParseUint(e.Source.Pos.String(), 10, 32)
	if err != nil {
		t.Fatalf("source.pos %q of record at offset %d: %v", e.Source.Pos, r.Offset, err)
	}
	return offsets.Position{File: e.Source.File, Pos: uint32(pos)}
}

// awaitLog waits until the output of p contains fragment. It fails at once
// when p exits first.
func (f *fixture) awaitLog(p *process, fragment string) {
	f.t.Helper()
	f.eventually(60*time.Second, "sluice logs "+fragment, func() bool {
		if strings.Contains(p.output(), fragment) {
			return true
		}
		select {
		case <-p.done:
			f.t.Fatalf("sluice exited with status %d before it logged %s:\n%s", p.exit, fragment, p.output())
		default:
		}
		return false
	})
}

// awaitOpenTransaction waits until the Kafka transaction of the stream's
// producer is open.
func (f *fixture) awaitOpenTransaction() {
	f.t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		f.t.Fatal(err)
	}
	defer client.Close()
	admin := kadm.NewClient(client)
	id := "sluice-" + f.stream
	f.eventually(30*time.Second, "Kafka transaction "+id+" is open", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		described, err := admin.DescribeTransactions(ctx, id)
		return err == nil && described[id].State == "Ongoing"
	})
}

// serverBinlogFile returns the binlog file that the server writes now.
func serverBinlogFile(t *testing.T, f *fixture) string {
	t.Helper()
	res, err := f.conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatalf("SHOW MASTER STATUS: %v", err)
	}
	if len(res.Values) == 0 {
		t.Fatal("SHOW MASTER STATUS returned no row: the binary log is off")
	}
	file, err := res.GetStringByName(0, "File")
	if err != nil {
		t.Fatalf("SHOW MASTER STATUS: %v", err)
	}
	return file
}

// missingBinlogFile returns the name of the binlog file just before the
// server's oldest one, which the server does not have, as if it had been
// purged.
func missingBinlogFile(t *testing.T, f *fixture) string {
	t.Helper()
	res, err := f.conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		t.Fatalf("SHOW BINARY LOGS: %v", err)
	}
	if len(res.Values) == 0 {
		t.Fatal("SHOW BINARY LOGS returned no row: the binary log is off")
	}
	oldest, err := res.GetString(0, 0)
	if err != nil {
		t.Fatalf("SHOW BINARY LOGS: %v", err)
	}
	dot := strings.LastIndexByte(oldest, '.')
	number, err := strconv.Atoi(oldest[dot+1:])
	if dot < 0 || err != nil {
		t.Fatalf("binlog file name %q has no numeric suffix", oldest)
	}
	digits := len(oldest) - dot - 1
	return fmt.Sprintf("%s.%0*d", oldest[:dot], digits, number-1)
}

// TestSecondWorkerRejectedByFileLock starts a second sluice for a running
// stream. The file tracker's lock stops it before it can fence the first,
// which keeps streaming, and a worker started after the first stops gets
// the stream.
func TestSecondWorkerRejectedByFileLock(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	first := f.startReady()

	began := time.Now()
	second := f.start("SLUICE_STARTUP_TIMEOUT=3s")
	status := second.wait(t, 60*time.Second)
	elapsed := time.Since(began)
	if status != 1 {
		t.Errorf("second sluice exited with status %d, want 1", status)
	}
	out := second.output()
	for _, fragment := range []string{offsets.ErrHeld.Error(), f.stream, "SLUICE_STARTUP_TIMEOUT=3s"} {
		if !strings.Contains(out, fragment) {
			t.Errorf("output of the second sluice does not contain %q:\n%s", fragment, out)
		}
	}
	if elapsed > 20*time.Second {
		t.Errorf("second sluice exited after %s, want it to give up soon after its 3s startup timeout", elapsed)
	}
	select {
	case <-first.done:
		t.Fatalf("first sluice exited with status %d while the second started:\n%s", first.exit, first.output())
	default:
	}

	f.insertIDs(1, 5)
	f.awaitIDs(idRange(1, 5))
	stopCleanly(t, first)

	third := f.startReady()
	f.insertIDs(6, 10)
	f.awaitIDs(idRange(1, 10))
	stopCleanly(t, third)
}

// TestKafkaTrackerKillAndRestart kills sluice with SIGKILL while it
// streams with SLUICE_OFFSETS_TYPE=kafka, and checks that a restart
// resumes from the positions topic with every row exactly once, and that
// no position file is written.
func TestKafkaTrackerKillAndRestart(t *testing.T) {
	f := newFixture(t)
	f.extraEnv = []string{"SLUICE_OFFSETS_TYPE=kafka"}
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	p := f.startReady()

	f.insertIDs(1, 20)
	f.eventually(60*time.Second, "the first rows reach Kafka", func() bool {
		return len(consumeAll(t, f.topic("t"))) > 0
	})
	p.signal(syscall.SIGKILL)
	p.wait(t, 30*time.Second)

	f.insertIDs(21, 40)
	p = f.startReady()
	if !strings.Contains(p.output(), `"message":"resuming from the position in the positions topic"`) {
		t.Errorf("restarted sluice did not resume from the positions topic:\n%s", p.output())
	}
	f.insertIDs(41, 60)
	f.awaitIDs(idRange(1, 60))
	stopCleanly(t, p)

	if _, err := os.Stat(f.positionFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat %s: %v, want the file not to exist with the kafka tracker", f.positionFile(), err)
	}
}

// TestKilledBeforeFirstCommitKeepsStart kills sluice before it commits
// any change, and checks that rows inserted while it is down are emitted
// after the restart: the start position must be saved before streaming,
// with every tracker. A long commit interval keeps sluice from committing
// the positions that other clients' transactions on the shared server
// produce, which would save a position too.
func TestKilledBeforeFirstCommitKeepsStart(t *testing.T) {
	for _, offsetsType := range []string{"file", "kafka"} {
		t.Run(offsetsType, func(t *testing.T) {
			f := newFixture(t)
			f.extraEnv = []string{"SLUICE_OFFSETS_TYPE=" + offsetsType}
			execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
			p := f.startReady("SLUICE_COMMIT_INTERVAL=10m")
			f.eventually(30*time.Second, "sluice offsets show prints the start position", func() bool {
				_, ok := f.showPosition()
				return ok
			})
			p.signal(syscall.SIGKILL)
			p.wait(t, 30*time.Second)

			f.insertIDs(1, 3)
			p = f.startReady()
			f.insertIDs(4, 6)
			f.awaitIDs(idRange(1, 6))
			stopCleanly(t, p)
		})
	}
}

// TestKafkaTrackerResumeBesideOpenTransaction restarts a stream with
// SLUICE_OFFSETS_TYPE=kafka while another producer holds a transaction
// open on the positions topic, as a worker of another stream does between
// producing its position and committing, or for up to its transaction
// timeout after it was killed there. The restart must still resume from
// the stream's newest committed position, without emitting rows twice.
func TestKafkaTrackerResumeBesideOpenTransaction(t *testing.T) {
	f := newFixture(t)
	// A positions topic of its own, so that the open transaction delays no
	// other test.
	positionsTopic := "it.positions." + f.stream
	f.extraEnv = []string{"SLUICE_OFFSETS_TYPE=kafka", "SLUICE_POSITIONS_TOPIC=" + positionsTopic}
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	p := f.startReady()
	f.insertIDs(1, 3)
	f.awaitIDs(idRange(1, 3))

	other, err := kgo.NewClient(
		kgo.SeedBrokers(kafkaAddr),
		kgo.TransactionalID("it-open-"+f.stream),
		kgo.TransactionTimeout(5*time.Minute),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.BeginTransaction(); err != nil {
		t.Fatalf("begin the other producer's transaction: %v", err)
	}
	defer other.EndTransaction(context.Background(), kgo.TryAbort)
	otherPosition := &kgo.Record{Topic: positionsTopic, Partition: 0, Key: []byte(f.stream + "-other"),
		Value: []byte(`{"server_id":1,"flavor":"mariadb","file":"mariadb-bin.000001","pos":4}`)}
	if err := other.ProduceSync(context.Background(), otherPosition).FirstErr(); err != nil {
		t.Fatalf("produce the other producer's position: %v", err)
	}

	f.insertIDs(4, 6)
	f.awaitIDs(idRange(1, 6))
	stopCleanly(t, p)

	p = f.startReady()
	f.insertIDs(7, 7)
	f.awaitIDs(idRange(1, 7))
	stopCleanly(t, p)
}

// TestOffsetsCommandSetRewinds checks "sluice offsets" show, list and set
// with each tracker that needs no other server: set is rejected while a
// worker runs, and setting an earlier position makes the next start emit
// the changes after it again.
func TestOffsetsCommandSetRewinds(t *testing.T) {
	for _, offsetsType := range []string{"file", "kafka"} {
		t.Run(offsetsType, func(t *testing.T) {
			testOffsetsCommandSetRewinds(t, offsetsType)
		})
	}
}

func testOffsetsCommandSetRewinds(t *testing.T, offsetsType string) {
	f := newFixture(t)
	f.extraEnv = []string{"SLUICE_OFFSETS_TYPE=" + offsetsType}
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	serverID := serverPosition(t, f.conn).ServerID

	first := f.startReady()
	f.insertIDs(1, 3)
	got := f.awaitIDs(idRange(1, 3))
	thirdRow := eventPosition(t, got[2])

	// A position after the third row's transaction, taken before any other
	// change of the captured table. Transactions of other clients of the
	// shared server move the saved position on while the worker runs.
	var mark offsets.Position
	f.eventually(30*time.Second, "sluice offsets show prints a position after "+thirdRow.String(), func() bool {
		p, ok := f.showPosition()
		mark = p
		return ok && p.Compare(thirdRow) > 0
	})
	if mark.ServerID != serverID {
		t.Errorf("printed server_id %d, want the server's %d", mark.ServerID, serverID)
	}
	if mark.Flavor != "mariadb" {
		t.Errorf("printed flavor %q, want mariadb", mark.Flavor)
	}
	if offsetsType == "file" && mark.Stream != f.stream {
		t.Errorf("printed stream %q, want %q", mark.Stream, f.stream)
	}

	markArg := mark.File + ":" + strconv.FormatUint(uint64(mark.Pos), 10)
	if offsetsType == "file" {
		// The file lock shows a running worker even while it is idle. The
		// kafka tracker finds a worker only while its Kafka transaction is
		// open, which the second worker below checks.
		rejected := f.runOffsetsCommand("set", f.stream, markArg)
		if rejected.status != 1 {
			t.Errorf("sluice offsets set beside an idle worker exited with status %d, want 1", rejected.status)
		}
		for _, fragment := range []string{fmt.Sprintf("a worker is running stream %q", f.stream), offsets.ErrHeld.Error()} {
			if !strings.Contains(rejected.stderr, fragment) {
				t.Errorf("sluice offsets set beside an idle worker: message does not contain %q:\n%s", fragment, rejected.stderr)
			}
		}
	}
	stopCleanly(t, first)

	// Once the worker has stopped, list prints the same position as show.
	stopped, ok := f.showPosition()
	if !ok {
		t.Fatal("sluice offsets show failed after the worker stopped")
	}
	listed := f.runOffsetsCommand("list")
	if listed.status != 0 {
		t.Fatalf("sluice offsets list exited with status %d: %s", listed.status, listed.stderr)
	}
	if line := f.stream + "\t" + stopped.String(); !slices.Contains(strings.Split(listed.stdout, "\n"), line) {
		t.Errorf("sluice offsets list does not print the line %q:\n%s", line, listed.stdout)
	}

	// A long commit interval keeps the Kafka transaction open after the
	// inserts, which is how the kafka tracker finds a running worker.
	second := f.startReady("SLUICE_COMMIT_INTERVAL=20s")
	f.insertIDs(4, 6)
	f.awaitOpenTransaction()
	rejected := f.runOffsetsCommand("set", f.stream, markArg)
	if rejected.status != 1 {
		t.Errorf("sluice offsets set while a worker runs exited with status %d, want 1", rejected.status)
	}
	if want := fmt.Sprintf("a worker is running stream %q", f.stream); !strings.Contains(rejected.stderr, want) {
		t.Errorf("sluice offsets set while a worker runs: message does not contain %q:\n%s", want, rejected.stderr)
	}
	stopCleanly(t, second)
	f.awaitIDs(idRange(1, 6))

	set := f.runOffsetsCommand("set", f.stream, markArg)
	if set.status != 0 {
		t.Fatalf("sluice offsets set exited with status %d: %s", set.status, set.stderr)
	}
	if want := fmt.Sprintf("stream %s: position set to %s\n", f.stream, markArg); set.stdout != want {
		t.Errorf("sluice offsets set printed %q, want %q", set.stdout, want)
	}
	afterSet, ok := f.showPosition()
	if !ok {
		t.Fatal("sluice offsets show failed after set")
	}
	if afterSet.File != mark.File || afterSet.Pos != mark.Pos {
		t.Errorf("sluice offsets show after set printed %s, want %s", afterSet, markArg)
	}

	// Rows 4 to 6 come after the set position, so they are emitted again.
	rewound := f.startReady()
	f.insertIDs(7, 7)
	f.awaitIDs([]int{1, 2, 3, 4, 5, 6, 4, 5, 6, 7})
	stopCleanly(t, rewound)
}

// TestOffsetsCommandDelete checks that after "sluice offsets delete" the
// next start begins at the server's current position: rows inserted while
// sluice was stopped are not emitted, rows inserted after the start are.
func TestOffsetsCommandDelete(t *testing.T) {
	for _, offsetsType := range []string{"file", "kafka"} {
		t.Run(offsetsType, func(t *testing.T) {
			testOffsetsCommandDelete(t, offsetsType)
		})
	}
}

func testOffsetsCommandDelete(t *testing.T, offsetsType string) {
	f := newFixture(t)
	f.extraEnv = []string{"SLUICE_OFFSETS_TYPE=" + offsetsType}
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")

	p := f.startReady()
	f.insertIDs(1, 3)
	f.awaitIDs(idRange(1, 3))
	if offsetsType == "file" {
		rejected := f.runOffsetsCommand("delete", f.stream)
		if rejected.status != 1 {
			t.Errorf("sluice offsets delete beside a running worker exited with status %d, want 1", rejected.status)
		}
		if want := fmt.Sprintf("a worker is running stream %q", f.stream); !strings.Contains(rejected.stderr, want) {
			t.Errorf("sluice offsets delete beside a running worker: message does not contain %q:\n%s", want, rejected.stderr)
		}
	}
	stopCleanly(t, p)

	deleted := f.runOffsetsCommand("delete", f.stream)
	if deleted.status != 0 {
		t.Fatalf("sluice offsets delete exited with status %d: %s", deleted.status, deleted.stderr)
	}
	if want := fmt.Sprintf("stream %s: position deleted\n", f.stream); deleted.stdout != want {
		t.Errorf("sluice offsets delete printed %q, want %q", deleted.stdout, want)
	}
	showResult := f.runOffsetsCommand("show", f.stream)
	if showResult.status != 1 {
		t.Errorf("sluice offsets show after delete exited with status %d, want 1; output %q", showResult.status, showResult.stdout)
	}
	if want := fmt.Sprintf("stream %q has no saved position", f.stream); !strings.Contains(showResult.stderr, want) {
		t.Errorf("sluice offsets show after delete: message does not contain %q:\n%s", want, showResult.stderr)
	}
	listed := f.runOffsetsCommand("list")
	if listed.status != 0 {
		t.Fatalf("sluice offsets list exited with status %d: %s", listed.status, listed.stderr)
	}
	if strings.Contains(listed.stdout, f.stream+"\t") {
		t.Errorf("sluice offsets list still prints stream %s after delete:\n%s", f.stream, listed.stdout)
	}
	if offsetsType == "file" {
		if _, err := os.Stat(f.positionFile()); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat %s after delete: %v, want the file not to exist", f.positionFile(), err)
		}
	}

	f.insertIDs(4, 6)
	p = f.startReady()
	if !strings.Contains(p.output(), `"message":"no saved position`) {
		t.Errorf("sluice did not start at the current position after delete:\n%s", p.output())
	}
	f.insertIDs(7, 9)
	f.awaitIDs([]int{1, 2, 3, 7, 8, 9})
	stopCleanly(t, p)
}

// TestOffsetsCommandBadInput checks the exit status and message of
// "sluice offsets" for invalid positions and an unknown stream.
func TestOffsetsCommandBadInput(t *testing.T) {
	for _, offsetsType := range []string{"file", "kafka"} {
		t.Run(offsetsType, func(t *testing.T) {
			f := newFixture(t)
			f.extraEnv = []string{"SLUICE_OFFSETS_TYPE=" + offsetsType}
			execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
			file, size, tableMap := lastTableMap(t, f)
			cases := []struct {
				args    []string
				status  int
				message string
			}{
				{[]string{"set", f.stream, "nonsense"}, 2, `position "nonsense" is invalid: write it as FILE:POS`},
				{[]string{"set", f.stream, "mariadb-bin.000001:first"}, 2, `binlog offset "first" is invalid`},
				{[]string{"set", f.stream, "mariadb-bin.000001:3"}, 2, `binlog offset "3" is invalid`},
				{[]string{"set", f.stream, "binlog:4"}, 2, `binlog file name "binlog" has no numeric suffix`},
				{[]string{"set", f.stream, "mariadb-bin.999999:4"}, 1, `has no binlog file "mariadb-bin.999999"`},
				// Other writers may add to the file, but max_binlog_size (1 GiB at
				// most) keeps it far from this offset.
				{[]string{"set", f.stream, fmt.Sprintf("%s:%d", file, size+1<<30)}, 1,
					fmt.Sprintf("offset %d is past the end of %s, which has ", size+1<<30, file)},
				{[]string{"set", f.stream, file + ":5"}, 1, "offset 5 of " + file + " is not where an event starts"},
				{[]string{"set", f.stream, fmt.Sprintf("%s:%d", file, tableMap)}, 1,
					fmt.Sprintf("offset %d of %s is inside a transaction, at a Table_map event", tableMap, file)},
				{[]string{"set", f.stream, fmt.Sprintf("%s:%d", file, size), "0-1-999999999"}, 1,
					`GTID set "0-1-999999999" is not contained in the server's gtid_binlog_pos`},
				{[]string{"set", f.stream, fmt.Sprintf("%s:%d", file, size), "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"}, 1,
					`is in mysql's form, but the server at`},
				{[]string{"set", f.stream, "../binlog.000001:4"}, 2, `binlog file name "../binlog.000001" is not a base name`},
				{[]string{"show", f.stream}, 1, fmt.Sprintf("stream %q has no saved position", f.stream)},
				{[]string{"rewind", f.stream}, 2, `invalid arguments "rewind ` + f.stream + `"`},
			}
			for _, c := range cases {
				result := f.runOffsetsCommand(c.args...)
				if result.status != c.status {
					t.Errorf("sluice offsets %s exited with status %d, want %d", strings.Join(c.args, " "), result.status, c.status)
				}
				if !strings.Contains(result.stderr, c.message) {
					t.Errorf("sluice offsets %s: message does not contain %q:\n%s", strings.Join(c.args, " "), c.message, result.stderr)
				}
			}
			// None of the rejected commands saved a position.
			showResult := f.runOffsetsCommand("show", f.stream)
			if showResult.status != 1 {
				t.Errorf("sluice offsets show after the rejected commands exited with status %d, want 1; output %q", showResult.status, showResult.stdout)
			}
		})
	}
}

// lastTableMap returns the server's current binlog file, its size, and
// the offset of its last Table_map event.
func lastTableMap(t *testing.T, f *fixture) (file string, size, tableMap uint64) {
	t.Helper()
	logs, err := f.conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		t.Fatal(err)
	}
	last := len(logs.Values) - 1
	file, _ = logs.GetString(last, 0)
	size, _ = logs.GetUint(last, 1)
	events, err := f.conn.Execute("SHOW BINLOG EVENTS IN '" + file + "'")
	if err != nil {
		t.Fatal(err)
	}
	for row := range events.Values {
		if kind, _ := events.GetString(row, 2); kind == "Table_map" {
			tableMap, _ = events.GetUint(row, 1)
		}
	}
	if tableMap == 0 {
		t.Fatalf("%s has no Table_map event", file)
	}
	return file, size, tableMap
}

// TestBinlogRotationMovesSavedPosition checks that a binlog rotation moves
// the saved position into the new file while no captured table changes,
// so that purging old files cannot strand a quiet stream.
func TestBinlogRotationMovesSavedPosition(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	p := f.startReady()

	// sluice logs that it starts at the current position before it saves
	// that position.
	tracker := &offsets.FileTracker{Dir: f.offsets}
	var before offsets.Position
	var err error
	f.eventually(30*time.Second, "sluice saves its start position", func() bool {
		before, err = tracker.Load(context.Background(), f.stream)
		return err == nil && !before.IsZero()
	})

	execSQL(t, f.conn, "FLUSH BINARY LOGS")
	// Other clients of the shared server may rotate the binlog too, so the
	// saved file is compared with the server's current file at each poll.
	// NOTE: their transactions also move the saved position. On a busy
	// server this passes without the rotation, and only a quiet server
	// checks the rotation alone.
	var saved offsets.Position
	f.eventually(30*time.Second, "the saved position names the server's current binlog file", func() bool {
		saved, err = tracker.Load(context.Background(), f.stream)
		if err != nil {
			t.Fatalf("load the saved position: %v", err)
		}
		return saved.File == serverBinlogFile(t, f)
	})
	if saved.Compare(before) <= 0 {
		t.Errorf("saved position %s is not after the start position %s", saved, before)
	}
	stopCleanly(t, p)

	saved, err = tracker.Load(context.Background(), f.stream)
	if err != nil {
		t.Fatalf("load the saved position: %v", err)
	}
	printed, ok := f.showPosition()
	if !ok {
		t.Fatal("sluice offsets show failed")
	}
	if printed.File != saved.File || printed.Pos != saved.Pos {
		t.Errorf("sluice offsets show printed %s, want the position file's %s", printed, saved)
	}
}

// TestPurgedPositionStopsStart saves a position in a binlog file that the
// server does not have. The start then stops with the ways out, unless
// SLUICE_PURGED_POSITION=current, which starts at the current position.
func TestPurgedPositionStopsStart(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	p := f.startReady()
	f.insertIDs(1, 3)
	f.awaitIDs(idRange(1, 3))
	stopCleanly(t, p)

	// sluice offsets set rejects a file that the server does not have, so
	// the position goes to the file tracker and the positions topic as a
	// worker would have saved it before the file was purged.
	missing := missingBinlogFile(t, f)
	purged := missing + ":4"
	position := offsets.Position{File: missing, Pos: 4, CapturedAt: time.Now().UTC()}
	if set := f.runOffsetsCommand("set", f.stream, purged); set.status != 1 || !strings.Contains(set.stderr, "has no binlog file") {
		t.Errorf("sluice offsets set %s exited with status %d, want 1 for a missing file: %s", purged, set.status, set.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := (&offsets.FileTracker{Dir: f.offsets}).Save(ctx, f.stream, position); err != nil {
		t.Fatalf("save %s to the file tracker: %v", purged, err)
	}
	topic, err := offsets.NewKafkaTracker([]string{kafkaAddr}, "__sluice_positions")
	if err != nil {
		t.Fatal(err)
	}
	defer topic.Close()
	if err := topic.Save(ctx, f.stream, position); err != nil {
		t.Fatalf("save %s to the positions topic: %v", purged, err)
	}
	saved, err := os.ReadFile(f.positionFile())
	if err != nil {
		t.Fatalf("read position file: %v", err)
	}

	began := time.Now()
	failed := f.start("SLUICE_STARTUP_TIMEOUT=20s")
	status := failed.wait(t, 60*time.Second)
	elapsed := time.Since(began)
	if status != 1 {
		t.Errorf("sluice exited with status %d on a purged position, want 1", status)
	}
	if elapsed >= 20*time.Second {
		t.Errorf("sluice exited after %s, want it to stop within its 20s startup timeout", elapsed)
	}
	out := failed.output()
	for _, fragment := range []string{
		"the saved position " + purged, "purged", "sluice offsets delete " + f.stream, "SLUICE_PURGED_POSITION=current",
	} {
		if !strings.Contains(out, fragment) {
			t.Errorf("output does not contain %q:\n%s", fragment, out)
		}
	}
	if data, err := os.ReadFile(f.positionFile()); err != nil || !bytes.Equal(data, saved) {
		t.Errorf("position file after the failed start contains %s (error %v), want it unchanged: %s", data, err, saved)
	}

	f.insertIDs(4, 6)
	p = f.start("SLUICE_PURGED_POSITION=current")
	f.awaitLog(p, `"saved_position":"`+purged+`"`)
	for _, fragment := range []string{`"level":"warn"`, "binlog file was purged", "Changes between the two positions are not emitted"} {
		if !strings.Contains(p.output(), fragment) {
			t.Errorf("output of the start with SLUICE_PURGED_POSITION=current does not contain %q:\n%s", fragment, p.output())
		}
	}
	f.insertIDs(7, 9)
	got := f.awaitIDs([]int{1, 2, 3, 7, 8, 9})
	last := eventPosition(t, got[len(got)-1])
	tracker := &offsets.FileTracker{Dir: f.offsets}
	f.eventually(30*time.Second, "sluice saves a position after "+last.String(), func() bool {
		current, err := tracker.Load(context.Background(), f.stream)
		return err == nil && current.Compare(last) > 0
	})
	stopCleanly(t, p)
}
