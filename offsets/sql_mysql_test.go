package offsets

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseMySQLDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want mysqlDSN
	}{
		{"root@tcp(127.0.0.1:3307)/offsets", mysqlDSN{user: "root", addr: "127.0.0.1:3307", database: "offsets"}},
		{"sluice:secret@tcp(db.example.com:3306)/sluice", mysqlDSN{user: "sluice", password: "secret", addr: "db.example.com:3306", database: "sluice"}},
		{"sluice:p@ss/w:rd@tcp(db)/sluice", mysqlDSN{user: "sluice", password: "p@ss/w:rd", addr: "db:3306", database: "sluice"}},
		{"sluice:@tcp(db:3306)/sluice", mysqlDSN{user: "sluice", addr: "db:3306", database: "sluice"}},
		{"u:p@tcp([::1]:3307)/db", mysqlDSN{user: "u", password: "p", addr: "[::1]:3307", database: "db"}},
		{"u:p@tcp([::1])/db", mysqlDSN{user: "u", password: "p", addr: "[::1]:3306", database: "db"}},
		{"u@unix(/run/mysqld/mysqld.sock)/db", mysqlDSN{user: "u", addr: "/run/mysqld/mysqld.sock", database: "db"}},
	}
	for _, tt := range tests {
		got, err := parseMySQLDSN(tt.dsn)
		if err != nil {
			t.Errorf("parseMySQLDSN(%q): %v", tt.dsn, err)
			continue
		}
		if got != tt.want {
			t.Errorf("parseMySQLDSN(%q) = %+v, want %+v", tt.dsn, got, tt.want)
		}
	}
}

func TestParseMySQLDSNErrors(t *testing.T) {
	const password = "hunter2"
	tests := []struct {
		dsn, want string
	}{
		{"", "SLUICE_OFFSETS_MYSQL_DSN is not set"},
		{"u:hunter2@tcp(h:3306)", "names no database"},
		{"u:hunter2@tcp(h:3306)/", "names no database"},
		{"u:hunter2@unix(/run/mysqld.sock)", "names no database"},
		{"u:hunter2@tcp(h:3306)/db?tls=true", "parameters after '?'"},
		{":hunter2@tcp(h)/db", "names no user"},
		{"hunter2/db", "names no user"},
		{"u:hunter2@h:3306/db", "tcp(host:port)"},
		{"u:hunter2@tcp(h:3306/db", "tcp(host:port)"},
		{"u:hunter2@tcp()/db", "tcp(host:port)"},
		{"u:hunter2@tcp(h:99999)/db", `invalid port "99999"`},
		{"u:hunter2@tcp(h:port)/db", `invalid port "port"`},
		{"u:hunter2@tcp(::1)/db", "IPv6 address in brackets"},
		{"u:hunter2@tcp(:3306)/db", "names no host"},
		{"u:hunter2@unix(relative.sock)/db", "unix(/path/to/socket)"},
	}
	for _, tt := range tests {
		_, err := parseMySQLDSN(tt.dsn)
		if err == nil {
			t.Errorf("parseMySQLDSN(%q) succeeded, want an error containing %q", tt.dsn, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseMySQLDSN(%q) = %q, want it to contain %q", tt.dsn, err, tt.want)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("parseMySQLDSN(%q) = %q, which contains the password", tt.dsn, err)
		}
	}
}

var mysqlPlaceholder = regexp.MustCompile(`\?`)

func TestMySQLStatements(t *testing.T) {
	statements := mysqlDialect{}.statements("sluice_positions")

	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS `sluice_positions` (",
		"`stream` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL",
		"PRIMARY KEY (`stream`)",
		"ENGINE=InnoDB",
	} {
		if !strings.Contains(statements.create, want) {
			t.Errorf("create = %s\nwant it to contain %s", statements.create, want)
		}
	}
	for _, want := range []string{"INSERT INTO `sluice_positions` (", "ON DUPLICATE KEY UPDATE", "`updated_at` = UTC_TIMESTAMP(6)"} {
		if !strings.Contains(statements.save, want) {
			t.Errorf("save = %s\nwant it to contain %s", statements.save, want)
		}
	}
	if strings.Contains(statements.save, "VALUES(") {
		t.Errorf("save = %s\nuses VALUES(), which MySQL 8.0.20 deprecated", statements.save)
	}

	args := mysqlDialect{}.saveArgs("orders", []byte(`{"file":"binlog.000042"}`), testPosition())
	if got := len(mysqlPlaceholder.FindAllString(statements.save, -1)); got != len(args) {
		t.Errorf("save has %d placeholders but saveArgs returns %d arguments", got, len(args))
	}
	if got := len(mysqlPlaceholder.FindAllString(statements.load, -1)); got != 1 {
		t.Errorf("load = %s, has %d placeholders, want 1", statements.load, got)
	}
	if got := len(mysqlPlaceholder.FindAllString(statements.delete, -1)); got != 1 {
		t.Errorf("delete = %s, has %d placeholders, want 1", statements.delete, got)
	}
	if want := "SELECT `stream` FROM `sluice_positions`"; statements.list != want {
		t.Errorf("list = %s, want %s", statements.list, want)
	}
}

func TestMySQLSaveArgs(t *testing.T) {
	args := mysqlDialect{}.saveArgs("orders", []byte(`{}`), testPosition())
	want := []any{"orders", "{}", int64(4294967295), "binlog.000042", int64(4294967295),
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "2026-12-04 10:00:00.123456"}
	want = append(want, want[1:]...)
	if fmt.Sprint(args) != fmt.Sprint(want) {
		t.Errorf("saveArgs = %v\nwant %v", args, want)
	}

	p := testPosition()
	p.CapturedAt = time.Time{}
	args = mysqlDialect{}.saveArgs("orders", []byte(`{}`), p)
	if args[6] != nil || args[12] != nil {
		t.Errorf("captured_at arguments = %v and %v for a zero time, want nil", args[6], args[12])
	}
}
