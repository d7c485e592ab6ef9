//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// savedPosition runs sluice once so that the fixture has a position file,
// and returns the file's content.
func savedPosition(t *testing.T, f *fixture) []byte {
	t.Helper()
	p := f.startReady()
	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Fatalf("sluice exited with status %d after SIGTERM, want 0:\n%s", status, p.output())
	}
	data, err := os.ReadFile(f.positionFile())
	if err != nil {
		t.Fatalf("read position file: %v", err)
	}
	return data
}

// expectFailure runs sluice to its exit and checks the status, that the
// output names every fragment, that it did not panic, and that the saved
// position did not move.
func expectFailure(t *testing.T, f *fixture, saved []byte, status int, fragments []string, extra ...string) {
	t.Helper()
	p := f.start(extra...)
	got := p.wait(t, 60*time.Second)
	out := p.output()
	if got != status {
		t.Errorf("exit status %d, want %d; output:\n%s", got, status, out)
	}
	for _, fragment := range fragments {
		if !strings.Contains(out, fragment) {
			t.Errorf("output does not contain %q:\n%s", fragment, out)
		}
	}
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Errorf("sluice panicked:\n%s", out)
	}
	data, err := os.ReadFile(f.positionFile())
	if err != nil {
		t.Fatalf("read position file: %v", err)
	}
	if string(data) != string(saved) {
		t.Errorf("the saved position changed from %s to %s", saved, data)
	}
}

func TestStatementFormatRejected(t *testing.T) {
	f := newFixture(t)
	saved := savedPosition(t, f)

	execSQL(t, f.conn, "SET GLOBAL binlog_format = 'STATEMENT'")
	t.Cleanup(func() { execSQL(t, rootConn(t), "SET GLOBAL binlog_format = 'ROW'") })

	expectFailure(t, f, saved, 1, []string{
		"binlog_format is STATEMENT but must be ROW",
		"SET GLOBAL binlog_format = 'ROW'",
		"binlog_format=ROW under [mysqld]",
	})
}

func TestMissingPrivilegeRejected(t *testing.T) {
	f := newFixture(t)
	saved := savedPosition(t, f)

	user := fmt.Sprintf("noslave%d", rand.IntN(100000))
	execSQL(t, f.conn,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'pw'", user),
		fmt.Sprintf("GRANT SELECT, REPLICATION CLIENT ON *.* TO '%s'@'%%'", user),
	)
	t.Cleanup(func() { execSQL(t, rootConn(t), fmt.Sprintf("DROP USER '%s'@'%%'", user)) })

	expectFailure(t, f, saved, 1, []string{
		// The JSON log escapes the quotes around the user name.
		user + `\" lacks the privilege(s) REPLICATION SLAVE`,
		"GRANT REPLICATION SLAVE ON *.*",
	}, "SLUICE_MYSQL_USER="+user, "SLUICE_MYSQL_PASSWORD=pw")
}

func TestUnreachableBrokerRejected(t *testing.T) {
	f := newFixture(t)
	saved := savedPosition(t, f)

	expectFailure(t, f, saved, 1, []string{
		"reach Kafka brokers [127.0.0.1:1]",
		"check SLUICE_KAFKA_BROKERS",
	}, "SLUICE_KAFKA_BROKERS=127.0.0.1:1", "SLUICE_STARTUP_TIMEOUT=3s")
}

func TestInvalidVariableRejected(t *testing.T) {
	f := newFixture(t)
	saved := savedPosition(t, f)

	cases := []struct {
		name      string
		variable  string
		fragments []string
	}{
		{"port not a number", "SLUICE_MYSQL_PORT=abc", []string{`invalid value "abc" for SLUICE_MYSQL_PORT`, "sluice --help"}},
		{"negative interval", "SLUICE_COMMIT_INTERVAL=-1s", []string{"SLUICE_COMMIT_INTERVAL is -1s", "positive duration"}},
		{"server id zero", "SLUICE_SERVER_ID=0", []string{"SLUICE_SERVER_ID is 0"}},
		{"bad topic prefix", "SLUICE_TOPIC_PREFIX=has space", []string{`SLUICE_TOPIC_PREFIX "has space" is invalid`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectFailure(t, f, saved, 2, c.fragments, c.variable)
		})
	}
}
