package offsets

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestCheckStreamID(t *testing.T) {
	for _, stream := range []string{"a", "shop.orders-1_x", strings.Repeat("s", maxStreamLength)} {
		if err := checkStreamID(stream); err != nil {
			t.Errorf("checkStreamID(%q): %v", stream, err)
		}
	}
	for _, stream := range []string{"", ".", "..", "a/b", "white space", checkStream, strings.Repeat("s", maxStreamLength+1)} {
		if err := checkStreamID(stream); err == nil {
			t.Errorf("checkStreamID(%q) succeeded, want an error", stream)
		}
	}
}

func testPosition() Position {
	return Position{
		ServerID:   4294967295,
		Flavor:     "mysql",
		File:       "binlog.000042",
		Pos:        4294967295,
		GTIDSet:    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5",
		CapturedAt: time.Date(2026, 12, 4, 11, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		Stream:     "orders",
	}
}

func TestConnectHints(t *testing.T) {
	tests := []struct {
		dialect sqlDialect
		err     error
		want    string
	}{
		{mysqlDialect{}, fmt.Errorf("handshake: %w", &mysql.MyError{Code: mysql.ER_ACCESS_DENIED_ERROR}), "password in SLUICE_OFFSETS_MYSQL_DSN is wrong"},
		{mysqlDialect{}, &mysql.MyError{Code: mysql.ER_BAD_DB_ERROR}, "create the database"},
		{mysqlDialect{}, &mysql.MyError{Code: mysql.ER_DBACCESS_DENIED_ERROR}, "grant the user"},
		{postgresDialect{}, fmt.Errorf("connect: %w", &pgconn.PgError{Code: "28P01"}), "password in SLUICE_OFFSETS_POSTGRES_DSN is wrong"},
		{postgresDialect{}, &pgconn.PgError{Code: "3D000"}, "create the database"},
		{postgresDialect{}, &pgconn.PgError{Code: "28000"}, "pg_hba.conf"},
	}
	for _, tt := range tests {
		if got := tt.dialect.connectHint(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("%s connectHint(%v) = %q, want it to contain %q", tt.dialect.name(), tt.err, got, tt.want)
		}
	}
}

func TestConnectionLost(t *testing.T) {
	tests := []struct {
		dialect sqlDialect
		err     error
		want    bool
	}{
		{mysqlDialect{}, fmt.Errorf("exec: %w", io.ErrUnexpectedEOF), true},
		{mysqlDialect{}, mysql.ErrBadConn, true},
		{mysqlDialect{}, &mysql.MyError{Code: mysql.ER_SERVER_SHUTDOWN}, true},
		{mysqlDialect{}, &mysql.MyError{Code: 1927}, true},
		{mysqlDialect{}, &mysql.MyError{Code: mysql.ER_DUP_ENTRY}, false},
		{mysqlDialect{}, errors.New("unsupported argument type"), false},
		{postgresDialect{}, &pgconn.PgError{Code: "57P01"}, true},
		{postgresDialect{}, &pgconn.PgError{Code: "08006"}, true},
		{postgresDialect{}, fmt.Errorf("exec: %w", driver.ErrBadConn), true},
		{postgresDialect{}, &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{postgresDialect{}, &pgconn.PgError{Code: "42501"}, false},
		{postgresDialect{}, context.Canceled, false},
	}
	for _, tt := range tests {
		if got := tt.dialect.connectionLost(tt.err); got != tt.want {
			t.Errorf("%s connectionLost(%v) = %v, want %v", tt.dialect.name(), tt.err, got, tt.want)
		}
	}
}

func TestSQLTrackersRegistered(t *testing.T) {
	for _, tracker := range []struct{ name, variable string }{
		{"mysql", "SLUICE_OFFSETS_MYSQL_DSN"},
		{"postgres", "SLUICE_OFFSETS_POSTGRES_DSN"},
	} {
		if !IsRegistered(tracker.name) {
			t.Errorf("tracker %s is not registered", tracker.name)
			continue
		}
		var usage bytes.Buffer
		if err := Usage(&usage, tracker.name); err != nil {
			t.Fatalf("Usage(%s): %v", tracker.name, err)
		}
		if !strings.Contains(usage.String(), tracker.variable) {
			t.Errorf("Usage(%s) = %q, want it to name %s", tracker.name, usage.String(), tracker.variable)
		}
		if !strings.Contains(usage.String(), "(default sluice_positions)") {
			t.Errorf("Usage(%s) = %q, want the default table sluice_positions", tracker.name, usage.String())
		}
	}
}

func TestOpenSQLTrackerWithoutDSN(t *testing.T) {
	ctx := context.Background()
	t.Setenv("SLUICE_OFFSETS_MYSQL_DSN", "")
	t.Setenv("SLUICE_OFFSETS_POSTGRES_DSN", "")

	for _, tracker := range []struct{ name, want string }{
		{"mysql", "SLUICE_OFFSETS_MYSQL_DSN is not set"},
		{"postgres", "SLUICE_OFFSETS_POSTGRES_DSN is not set"},
	} {
		_, err := Open(ctx, tracker.name)
		if err == nil {
			t.Errorf("Open(%s) without a DSN succeeded, want an error", tracker.name)
			continue
		}
		if !strings.Contains(err.Error(), tracker.want) {
			t.Errorf("Open(%s) = %q, want it to contain %q", tracker.name, err, tracker.want)
		}
	}
}

func TestOpenSQLTrackerInvalidTable(t *testing.T) {
	ctx := context.Background()
	t.Setenv("SLUICE_OFFSETS_MYSQL_DSN", "u:p@tcp(127.0.0.1:1)/db")
	t.Setenv("SLUICE_OFFSETS_MYSQL_TABLE", "bad-name")

	_, err := Open(ctx, "mysql")
	if err == nil {
		t.Fatal("Open(mysql) with an invalid table name succeeded, want an error")
	}
	if want := `SLUICE_OFFSETS_MYSQL_TABLE "bad-name" is not a valid table name`; !strings.Contains(err.Error(), want) {
		t.Errorf("Open(mysql) = %q, want it to contain %q", err, want)
	}
}
