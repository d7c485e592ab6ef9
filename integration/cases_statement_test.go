//go:build integration

package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/offsets"
)

// TestStatementFormatSessionStops writes rows from a session that switches
// its own binlog_format to STATEMENT and back, while the server stays at
// ROW. Statement events cannot be turned into rows, so sluice must stop with
// an error at the first one, keep its saved position before it, and never
// emit the later row-format change while the statement changes are missing.
func TestStatementFormatSessionStops(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE sb (id INT PRIMARY KEY, v VARCHAR(10))",
	)
	p := f.startReady(longCommitInterval)
	start := serverPosition(t, f.conn)

	statement := "INSERT INTO sb VALUES (2, 'stmt')"
	execSQL(t, f.conn,
		"INSERT INTO sb VALUES (1, 'row')",
		"SET SESSION binlog_format = 'STATEMENT'",
		statement,
		"UPDATE sb SET v = 'stmt2' WHERE id = 1",
		"SET SESSION binlog_format = 'ROW'",
		"INSERT INTO sb VALUES (3, 'row')",
	)

	checkStoppedAtStatement(t, f, p, start, statement, "UPDATE sb SET v = 'stmt2' WHERE id = 1")
}

// TestStatementFormatQualifiedTable writes a statement-format change from a
// session with no default database, naming the captured table with its
// database. The change is on a captured table although the binlog event
// carries no captured database, so sluice must stop just the same.
func TestStatementFormatQualifiedTable(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE sb (id INT PRIMARY KEY, v VARCHAR(10))",
	)
	p := f.startReady(longCommitInterval)
	start := serverPosition(t, f.conn)

	// rootConn opens a session without a default database.
	other := rootConn(t)
	statement := "INSERT INTO " + f.db + ".sb VALUES (2, 'stmt')"
	execSQL(t, other,
		"INSERT INTO "+f.db+".sb VALUES (1, 'row')",
		"SET SESSION binlog_format = 'STATEMENT'",
		statement,
		"SET SESSION binlog_format = 'ROW'",
		"INSERT INTO "+f.db+".sb VALUES (3, 'row')",
	)

	checkStoppedAtStatement(t, f, p, start, statement)
}

// longCommitInterval keeps the row-format insert of id 1 in the open Kafka
// transaction when the statement event arrives, so that every run tests
// whether sluice commits the whole source transactions it read before it
// stops.
const longCommitInterval = "SLUICE_COMMIT_INTERVAL=10s"

// checkStoppedAtStatement first checks that the binlog contains the
// statements as query events. Then sluice p must exit with an error that
// names statement format and the position, and its saved position must stay
// before the first statement event. The row-format insert of id 1 must have
// arrived, id 3 must not have arrived without id 2, and a restart must stop
// at the same place.
func checkStoppedAtStatement(t *testing.T, f *fixture, p *process, start offsets.Position, statements ...string) {
	t.Helper()

	// Self-check: the binlog contains the statements as query events.
	events := binlogEvents(t, f.conn, start, serverPosition(t, f.conn))
	var query, txnStart *binlogEvent
	for _, s := range statements {
		found := false
		for i := range events {
			if events[i].Type == "Query" && strings.Contains(events[i].Info, s) {
				found = true
				if query == nil {
					query = &events[i]
					if i > 0 && events[i-1].Type == "Gtid" {
						txnStart = &events[i-1]
					}
				}
				break
			}
		}
		if !found {
			for _, e := range events {
				t.Logf("%s:%d %s %s", e.File, e.Pos, e.Type, e.Info)
			}
			t.Fatalf("the binlog after %s has no query event with %q: the statement was not logged in statement format", start, s)
		}
	}
	if txnStart == nil {
		t.Fatalf("no GTID event precedes the query event at %s:%d", query.File, query.Pos)
	}

	// sluice either stops or, missing the statement, emits id 3.
	f.eventually(60*time.Second, "sluice exits or emits id 3", func() bool {
		select {
		case <-p.done:
			return true
		default:
		}
		for _, r := range consumeAll(t, f.topic("sb")) {
			if r.Key == `{"id":3}` {
				return true
			}
		}
		return false
	})
	exited := false
	select {
	case <-p.done:
		exited = true
	default:
		t.Errorf("sluice still runs after it emitted id 3, which follows the statement events")
	}
	out := p.output()
	if exited && p.exit == 0 {
		t.Errorf("sluice exited with status 0, want a non-zero status")
	}
	if !strings.Contains(out, "statement format") {
		t.Errorf("the output does not name statement format:\n%s", out)
	}
	queryAt := fmt.Sprintf("%s:%d", query.File, query.Pos)
	txnAt := fmt.Sprintf("%s:%d", txnStart.File, txnStart.Pos)
	if !strings.Contains(out, queryAt) && !strings.Contains(out, txnAt) {
		t.Errorf("the output names neither %s (query event) nor %s (its transaction):\n%s", queryAt, txnAt, out)
	}

	statementPos := offsets.Position{File: txnStart.File, Pos: uint32(txnStart.Pos)}
	saved := readPosition(t, f.positionFile())
	if saved.Compare(statementPos) > 0 {
		t.Errorf("the saved position %s is past the start %s of the statement's transaction", saved, statementPos)
	}

	has := map[string]bool{}
	for _, r := range consumeAll(t, f.topic("sb")) {
		if r.Value == nil {
			continue
		}
		e := decodeEnvelope(t, r.Value)
		has[r.Key+" "+e.Op] = true
	}
	if !has[`{"id":1} c`] {
		t.Errorf("no create record for id 1, written in row format before the statements")
	}
	if has[`{"id":3} c`] && !has[`{"id":2} c`] {
		t.Errorf("the create record of id 3 exists while id 2, written before it in statement format, is missing")
	}

	if !exited {
		return
	}
	// The stop is persistent: a restart fails at the same event.
	again := f.start(longCommitInterval)
	if status := again.wait(t, 60*time.Second); status == 0 {
		t.Errorf("the restarted sluice exited with status 0, want a non-zero status")
	}
	if !strings.Contains(again.output(), "statement format") {
		t.Errorf("the restarted sluice's output does not name statement format:\n%s", again.output())
	}
	if after := readPosition(t, f.positionFile()); after.Compare(saved) != 0 {
		t.Errorf("the restart moved the saved position from %s to %s", saved, after)
	}
}

func readPosition(t testing.TB, path string) offsets.Position {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the position file: %v", err)
	}
	pos, err := offsets.ParsePosition(data)
	if err != nil {
		t.Fatalf("position file %s: %v", path, err)
	}
	return pos
}
