//go:build integration

package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// expectStartFailure starts sluice with extra variables and checks that it
// exits with the given status and an output that contains each of wants.
// Credentials and tracker settings are configuration, so their errors exit
// with status 2.
func expectStartFailure(t *testing.T, f *fixture, status int, wants []string, extra ...string) string {
	t.Helper()
	p := f.start(append([]string{"SLUICE_STARTUP_TIMEOUT=5s"}, extra...)...)
	if got := p.wait(t, 60*time.Second); got != status {
		t.Fatalf("sluice exited with status %d, want %d:\n%s", got, status, p.output())
	}
	out := p.output()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "panic:") {
		t.Errorf("sluice panicked:\n%s", out)
	}
	return out
}

// TestBadPositionFileRejected starts sluice on a corrupt position file, on
// one that cannot be read, and on one saved from another server. Each
// stops the start with an error that names the problem, and the file is
// left as it was.
func TestBadPositionFileRejected(t *testing.T) {
	tests := []struct {
		name  string
		write func(path string)
		wants []string
	}{
		{"corrupt", func(path string) {
			if err := os.WriteFile(path, []byte(`{"file": "mysql-bin.0000`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"invalid stored position", "position.json", "move it away"}},
		{"unreadable", func(path string) {
			// A directory in the file's place fails to read even for root,
			// which file permissions would not stop.
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, []string{"read position file", "is a directory"}},
		{"other server", func(path string) {
			data := `{"server_id":424242,"flavor":"mariadb","file":"mariadb-bin.000001","pos":4,"captured_at":"2026-12-01T00:00:00Z"}`
			if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"server_id 424242", "only valid on the server that wrote it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path := f.positionFile()
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				t.Fatal(err)
			}
			tt.write(path)
			before, _ := os.ReadFile(path)

			expectStartFailure(t, f, 1, tt.wants)

			after, _ := os.ReadFile(path)
			if string(after) != string(before) {
				t.Errorf("the position file changed from %q to %q", before, after)
			}
		})
	}
}

// TestBadBlobCredentialsRejected starts sluice with a wrong Azure account
// key, and with a SAS that may only read. Both stop the start with an
// error that names the account or the missing permission.
func TestBadBlobCredentialsRejected(t *testing.T) {
	t.Run("wrong key", func(t *testing.T) {
		f := newFixture(t)
		env := trackerEnv(t, "azblob", f)
		for i, v := range env {
			if strings.HasPrefix(v, "SLUICE_OFFSETS_AZBLOB_KEY=") {
				env[i] = "SLUICE_OFFSETS_AZBLOB_KEY=" + strings.Repeat("A", 86) + "=="
			}
		}
		out := expectStartFailure(t, f, 2, []string{azuriteAccount, "SLUICE_OFFSETS_AZBLOB_KEY"}, env...)
		if strings.Contains(out, strings.Repeat("A", 86)) {
			t.Errorf("the output shows the key:\n%s", out)
		}
	})

	t.Run("read-only SAS", func(t *testing.T) {
		f := newFixture(t)
		credential, err := azblob.NewSharedKeyCredential(azuriteAccount, azuriteKey)
		if err != nil {
			t.Fatal(err)
		}
		values := sas.AccountSignatureValues{
			Protocol:      sas.ProtocolHTTPSandHTTP,
			ExpiryTime:    time.Now().Add(time.Hour).UTC(),
			Permissions:   (&sas.AccountPermissions{Read: true, List: true}).String(),
			ResourceTypes: (&sas.AccountResourceTypes{Service: true, Container: true, Object: true}).String(),
		}
		query, err := values.SignWithSharedKey(credential)
		if err != nil {
			t.Fatal(err)
		}
		connection := "BlobEndpoint=" + azuriteEndpoint() + ";SharedAccessSignature=" + query.Encode()
		out := expectStartFailure(t, f, 2, []string{"lack a permission", "sluice-readonly-"},
			"SLUICE_OFFSETS_TYPE=azblob",
			"SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING="+connection,
			"SLUICE_OFFSETS_AZBLOB_CONTAINER=sluice-readonly-"+f.suffix)
		if strings.Contains(out, query.Signature()) {
			t.Errorf("the output shows the SAS signature:\n%s", out)
		}
	})
}

// TestForeignTrackerTableRejected starts sluice with the mysql tracker on a
// table of the same name that another program made. The start stops with
// an error that names the table and what differs, and the table keeps its
// rows.
func TestForeignTrackerTableRejected(t *testing.T) {
	f := newFixture(t)
	conn := mysqlTrackerConn(t)
	table := trackerTableName("foreign")
	dropMySQLTableAtEnd(t, conn, table)
	execSQL(t, conn, "CREATE TABLE "+table+" (stream INT PRIMARY KEY, note TEXT)", "INSERT INTO "+table+" VALUES (1, 'keep me')")

	expectStartFailure(t, f, 2, []string{table, "missing columns", "SLUICE_OFFSETS_MYSQL_TABLE"},
		"SLUICE_OFFSETS_TYPE=mysql",
		"SLUICE_OFFSETS_MYSQL_DSN="+mysqlTrackerDSN("root", ""),
		"SLUICE_OFFSETS_MYSQL_TABLE="+table)

	result, err := conn.Execute("SELECT note FROM " + table)
	if err != nil {
		t.Fatalf("read the foreign table: %v", err)
	}
	if result.RowNumber() != 1 {
		t.Fatalf("the foreign table has %d rows, want 1", result.RowNumber())
	}
	if note, _ := result.GetString(0, 0); note != "keep me" {
		t.Errorf("the foreign table's row reads %q, want %q", note, "keep me")
	}
}

// TestTrackerReachableLate starts sluice while its mysql tracker's server
// does not listen yet. sluice retries until the server comes up within
// SLUICE_STARTUP_TIMEOUT, then streams.
func TestTrackerReachableLate(t *testing.T) {
	f := newFixture(t)
	mysqlTrackerConn(t) // creates the tracker's database
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE late (id INT PRIMARY KEY)")
	addr := freeAddr(t)
	p := f.start("SLUICE_OFFSETS_TYPE=mysql",
		"SLUICE_OFFSETS_MYSQL_DSN=root:@tcp("+addr+")/"+trackerDatabase,
		"SLUICE_OFFSETS_MYSQL_TABLE="+trackerTableName("late"),
		"SLUICE_STARTUP_TIMEOUT=60s")
	f.eventually(30*time.Second, "sluice retries the tracker", func() bool {
		return strings.Contains(p.output(), "the tracker's server is not reachable yet; retrying")
	})

	startProxyAt(t, addr, net.JoinHostPort(mysqlHost, mysqlPort))
	f.eventually(60*time.Second, "sluice streams", func() bool {
		return strings.Contains(p.output(), `"message":"streaming"`)
	})
	execSQL(t, f.conn, "INSERT INTO late VALUES (1)")
	f.eventually(30*time.Second, "the row is in Kafka", func() bool {
		return len(consumeAll(t, f.topic("late"))) == 1
	})
	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}

// TestTrackerNeverReachable starts sluice with a tracker server that does
// not come up: sluice exits with status 1 after SLUICE_STARTUP_TIMEOUT,
// with the address and the number of attempts.
func TestTrackerNeverReachable(t *testing.T) {
	f := newFixture(t)
	addr := freeAddr(t)
	p := f.start("SLUICE_OFFSETS_TYPE=mysql",
		"SLUICE_OFFSETS_MYSQL_DSN=root:@tcp("+addr+")/"+trackerDatabase,
		"SLUICE_STARTUP_TIMEOUT=3s")
	if status := p.wait(t, 60*time.Second); status != 1 {
		t.Fatalf("sluice exited with status %d, want 1:\n%s", status, p.output())
	}
	for _, want := range []string{addr, "connection refused", "within SLUICE_STARTUP_TIMEOUT=3s", "SLUICE_OFFSETS_MYSQL_DSN"} {
		if !strings.Contains(p.output(), want) {
			t.Errorf("the output does not contain %q:\n%s", want, p.output())
		}
	}
}
