//go:build integration

package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/offsets/trackertest"
)

// PostgreSQL started by deploy/local/postgres.sh, with the variable names
// of deploy/local/env.sh.
var (
	postgresHost     = envOr("POSTGRES_HOST", "127.0.0.1")
	postgresPort     = envOr("POSTGRES_PORT", "5433")
	postgresUser     = envOr("POSTGRES_USER", "sluice")
	postgresPassword = envOr("POSTGRES_PASSWORD", "sluice")
	postgresDatabase = envOr("POSTGRES_DB", "sluice")
)

// trackerDatabase is the MariaDB database of the mysql tracker's tables.
const trackerDatabase = "sluice_offsets_test"

// wrongPassword is a password that no test server accepts.
const wrongPassword = "not-the-password-5f3a91"

// trackerTableName returns a table name of its own for each test run.
func trackerTableName(prefix string) string {
	return fmt.Sprintf("%s_%06d", prefix, rand.IntN(1_000_000))
}

func mysqlTrackerDSN(user, password string) string {
	return user + ":" + password + "@tcp(" + net.JoinHostPort(mysqlHost, mysqlPort) + ")/" + trackerDatabase
}

func postgresTrackerDSN(password string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(postgresUser, password),
		Host:     net.JoinHostPort(postgresHost, postgresPort),
		Path:     "/" + postgresDatabase,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// mysqlTrackerConn returns a root connection to trackerDatabase, which it
// creates when missing.
func mysqlTrackerConn(t *testing.T) *client.Conn {
	t.Helper()
	conn := rootConn(t)
	execSQL(t, conn, "CREATE DATABASE IF NOT EXISTS "+trackerDatabase+" CHARACTER SET utf8mb4")
	if err := conn.UseDB(trackerDatabase); err != nil {
		t.Fatalf("use %s: %v", trackerDatabase, err)
	}
	return conn
}

// dropMySQLTableAtEnd drops table of trackerDatabase when the test ends.
func dropMySQLTableAtEnd(t *testing.T, conn *client.Conn, table string) {
	t.Cleanup(func() {
		if _, err := conn.Execute("DROP TABLE IF EXISTS " + table); err != nil {
			t.Errorf("drop table %s: %v", table, err)
		}
	})
}

// postgresTrackerConn connects to the local PostgreSQL as the tracker's
// user.
func postgresTrackerConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, postgresTrackerDSN(postgresPassword))
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s: %v; run `make up` first", net.JoinHostPort(postgresHost, postgresPort), err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// dropPostgresTableAtEnd drops table when the test ends.
func dropPostgresTableAtEnd(t *testing.T, conn *pgx.Conn, table string) {
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table); err != nil {
			t.Errorf("drop table %s: %v", table, err)
		}
	})
}

func TestMySQLTrackerConformance(t *testing.T) {
	table := trackerTableName("positions")
	conn := mysqlTrackerConn(t)
	dropMySQLTableAtEnd(t, conn, table)
	t.Setenv("SLUICE_OFFSETS_MYSQL_DSN", mysqlTrackerDSN("root", ""))
	t.Setenv("SLUICE_OFFSETS_MYSQL_TABLE", table)

	trackertest.Run(t, "mysql-", func(t *testing.T) offsets.Tracker {
		tracker, err := offsets.Open(context.Background(), "mysql")
		if err != nil {
			t.Fatalf("open mysql tracker: %v", err)
		}
		return tracker
	})

	// The columns beside position copy its fields.
	result, err := conn.Execute("SELECT server_id, binlog_file, binlog_pos, gtid_set, "+
		"DATE_FORMAT(captured_at, '%Y-%m-%d %H:%i:%s.%f'), updated_at IS NOT NULL FROM "+table+" WHERE stream = ?",
		"mysql-round-trip")
	if err != nil {
		t.Fatalf("read the row of mysql-round-trip: %v", err)
	}
	if result.RowNumber() != 1 {
		t.Fatalf("table %s has %d rows for mysql-round-trip, want 1", table, result.RowNumber())
	}
	want := []string{"7", "mysql-bin.000012", "4711", "0-7-4711", "2026-12-04 10:00:00.123456", "1"}
	for column, wantValue := range want {
		got, err := result.GetString(0, column)
		if err != nil {
			t.Fatalf("column %d: %v", column, err)
		}
		if got != wantValue {
			t.Errorf("column %d of the mysql-round-trip row = %q, want %q", column, got, wantValue)
		}
	}
}

func TestMySQLTrackerForeignTable(t *testing.T) {
	ctx := context.Background()
	table := trackerTableName("foreign")
	conn := mysqlTrackerConn(t)
	dropMySQLTableAtEnd(t, conn, table)
	execSQL(t, conn,
		"CREATE TABLE "+table+" (stream INT PRIMARY KEY, note VARCHAR(20) NOT NULL)",
		"INSERT INTO "+table+" VALUES (1, 'keep me')")

	_, err := offsets.OpenMySQL(ctx, &offsets.MySQLSettings{DSN: mysqlTrackerDSN("root", ""), Table: table})
	if err == nil {
		t.Fatalf("OpenMySQL on table %s succeeded, want an error", table)
	}
	for _, want := range []string{
		"table " + table,
		"database " + trackerDatabase,
		"column stream is int",
		"missing columns position, server_id, binlog_file, binlog_pos, gtid_set, captured_at, updated_at",
		"column note is NOT NULL without a default",
		"set SLUICE_OFFSETS_MYSQL_TABLE to a table name that is not in use",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q\nwant it to contain %q", err, want)
		}
	}

	columns, err := conn.Execute("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "+
		"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", trackerDatabase, table)
	if err != nil {
		t.Fatalf("read the columns of %s: %v", table, err)
	}
	var got []string
	for row := range columns.RowNumber() {
		name, _ := columns.GetString(row, 0)
		columnType, _ := columns.GetString(row, 1)
		got = append(got, name+" "+columnType)
	}
	if want := []string{"stream int(11)", "note varchar(20)"}; !slices.Equal(got, want) {
		t.Errorf("columns of %s after the failed open = %q, want %q", table, got, want)
	}

	rows, err := conn.Execute("SELECT stream, note FROM " + table)
	if err != nil {
		t.Fatalf("read the rows of %s: %v", table, err)
	}
	if rows.RowNumber() != 1 {
		t.Fatalf("table %s has %d rows after the failed open, want 1", table, rows.RowNumber())
	}
	stream, _ := rows.GetInt(0, 0)
	note, _ := rows.GetString(0, 1)
	if stream != 1 || note != "keep me" {
		t.Errorf("row of %s after the failed open = (%d, %q), want (1, \"keep me\")", table, stream, note)
	}
}

func TestMySQLTrackerWrongPassword(t *testing.T) {
	ctx := context.Background()
	mysqlTrackerConn(t)

	_, err := offsets.OpenMySQL(ctx, &offsets.MySQLSettings{DSN: mysqlTrackerDSN("sluice", wrongPassword)})
	if err == nil {
		t.Fatal("OpenMySQL with a wrong password succeeded, want an error")
	}
	for _, want := range []string{
		net.JoinHostPort(mysqlHost, mysqlPort),
		"database " + trackerDatabase,
		"as user sluice",
		"the user name or password in SLUICE_OFFSETS_MYSQL_DSN is wrong",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q\nwant it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), wrongPassword) {
		t.Errorf("error = %q, which contains the password", err)
	}
}

func TestMySQLTrackerReconnects(t *testing.T) {
	ctx := context.Background()
	table := trackerTableName("reconnect")
	conn := mysqlTrackerConn(t)
	dropMySQLTableAtEnd(t, conn, table)
	tracker, err := offsets.OpenMySQL(ctx, &offsets.MySQLSettings{DSN: mysqlTrackerDSN("root", ""), Table: table})
	if err != nil {
		t.Fatalf("OpenMySQL: %v", err)
	}
	defer tracker.Close()
	p := offsets.Position{ServerID: 1, Flavor: "mariadb", File: "mariadb-bin.000001", Pos: 100}
	if err := tracker.Save(ctx, "reconnect", p); err != nil {
		t.Fatalf("Save: %v", err)
	}

	// The server closes the tracker's idle connection.
	result, err := conn.Execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", trackerDatabase)
	if err != nil {
		t.Fatalf("list connections: %v", err)
	}
	if result.RowNumber() == 0 {
		t.Fatal("found no connection of the tracker to kill")
	}
	for row := range result.RowNumber() {
		id, _ := result.GetInt(row, 0)
		execSQL(t, conn, fmt.Sprintf("KILL CONNECTION %d", id))
	}

	p.Pos = 200
	if err := tracker.Save(ctx, "reconnect", p); err != nil {
		t.Fatalf("Save after the server closed the connection: %v", err)
	}
	got, err := tracker.Load(ctx, "reconnect")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Pos != 200 {
		t.Errorf("Load = %s, want pos 200", got)
	}
}

func TestPostgresTrackerConformance(t *testing.T) {
	ctx := context.Background()
	table := trackerTableName("positions")
	conn := postgresTrackerConn(t)
	dropPostgresTableAtEnd(t, conn, table)
	t.Setenv("SLUICE_OFFSETS_POSTGRES_DSN", postgresTrackerDSN(postgresPassword))
	t.Setenv("SLUICE_OFFSETS_POSTGRES_TABLE", table)

	trackertest.Run(t, "postgres-", func(t *testing.T) offsets.Tracker {
		tracker, err := offsets.Open(ctx, "postgres")
		if err != nil {
			t.Fatalf("open postgres tracker: %v", err)
		}
		return tracker
	})

	// The columns beside position copy its fields.
	var serverID, binlogPos int64
	var binlogFile, gtidSet, capturedAt string
	var hasUpdatedAt bool
	err := conn.QueryRow(ctx, "SELECT server_id, binlog_file, binlog_pos, gtid_set, "+
		"to_char(captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), updated_at IS NOT NULL FROM "+table+" WHERE stream = $1",
		"postgres-round-trip").Scan(&serverID, &binlogFile, &binlogPos, &gtidSet, &capturedAt, &hasUpdatedAt)
	if err != nil {
		t.Fatalf("read the row of postgres-round-trip: %v", err)
	}
	got := fmt.Sprint(serverID, " ", binlogFile, " ", binlogPos, " ", gtidSet, " ", capturedAt, " ", hasUpdatedAt)
	if want := "7 mysql-bin.000012 4711 0-7-4711 2026-12-04 10:00:00.123456 true"; got != want {
		t.Errorf("row of postgres-round-trip = %q, want %q", got, want)
	}
}

func TestPostgresTrackerForeignTable(t *testing.T) {
	ctx := context.Background()
	table := trackerTableName("foreign")
	conn := postgresTrackerConn(t)
	dropPostgresTableAtEnd(t, conn, table)
	for _, statement := range []string{
		"CREATE TABLE " + table + " (stream integer PRIMARY KEY, note varchar(20) NOT NULL)",
		"INSERT INTO " + table + " VALUES (1, 'keep me')",
	} {
		if _, err := conn.Exec(ctx, statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}

	_, err := offsets.OpenPostgres(ctx, &offsets.PostgresSettings{DSN: postgresTrackerDSN(postgresPassword), Table: table})
	if err == nil {
		t.Fatalf("OpenPostgres on table %s succeeded, want an error", table)
	}
	for _, want := range []string{
		"table " + table,
		"database " + postgresDatabase,
		"column stream is integer",
		"missing columns position, server_id, binlog_file, binlog_pos, gtid_set, captured_at, updated_at",
		"column note is NOT NULL without a default",
		"set SLUICE_OFFSETS_POSTGRES_TABLE to a table name that is not in use",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q\nwant it to contain %q", err, want)
		}
	}

	rows, err := conn.Query(ctx, "SELECT column_name || ' ' || data_type FROM information_schema.columns "+
		"WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position", table)
	if err != nil {
		t.Fatalf("read the columns of %s: %v", table, err)
	}
	columns, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read the columns of %s: %v", table, err)
	}
	if want := []string{"stream integer", "note character varying"}; !slices.Equal(columns, want) {
		t.Errorf("columns of %s after the failed open = %q, want %q", table, columns, want)
	}

	var count int
	var note string
	if err := conn.QueryRow(ctx, "SELECT count(*), min(note) FROM "+table).Scan(&count, &note); err != nil {
		t.Fatalf("read the rows of %s: %v", table, err)
	}
	if count != 1 || note != "keep me" {
		t.Errorf("table %s has %d rows with note %q after the failed open, want 1 row with \"keep me\"", table, count, note)
	}
}

func TestPostgresTrackerWrongPassword(t *testing.T) {
	ctx := context.Background()
	postgresTrackerConn(t)

	_, err := offsets.OpenPostgres(ctx, &offsets.PostgresSettings{DSN: postgresTrackerDSN(wrongPassword)})
	if err == nil {
		t.Fatal("OpenPostgres with a wrong password succeeded, want an error")
	}
	for _, want := range []string{
		net.JoinHostPort(postgresHost, postgresPort),
		"database " + postgresDatabase,
		"as user " + postgresUser,
		"the user name or password in SLUICE_OFFSETS_POSTGRES_DSN is wrong",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q\nwant it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), wrongPassword) {
		t.Errorf("error = %q, which contains the password", err)
	}
}

func TestPostgresTrackerReconnects(t *testing.T) {
	ctx := context.Background()
	table := trackerTableName("reconnect")
	conn := postgresTrackerConn(t)
	dropPostgresTableAtEnd(t, conn, table)
	// The application name identifies the tracker's connections.
	dsn := postgresTrackerDSN(postgresPassword) + "&application_name=" + table
	tracker, err := offsets.OpenPostgres(ctx, &offsets.PostgresSettings{DSN: dsn, Table: table})
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	defer tracker.Close()
	p := offsets.Position{ServerID: 1, Flavor: "mariadb", File: "mariadb-bin.000001", Pos: 100}
	if err := tracker.Save(ctx, "reconnect", p); err != nil {
		t.Fatalf("Save: %v", err)
	}

	// The server closes the tracker's idle connection.
	var terminated int
	err = conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", table).Scan(&terminated)
	if err != nil {
		t.Fatalf("terminate the tracker's connections: %v", err)
	}
	if terminated == 0 {
		t.Fatal("found no connection of the tracker to terminate")
	}

	p.Pos = 200
	if err := tracker.Save(ctx, "reconnect", p); err != nil {
		t.Fatalf("Save after the server closed the connection: %v", err)
	}
	got, err := tracker.Load(ctx, "reconnect")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Pos != 200 {
		t.Errorf("Load = %s, want pos 200", got)
	}
}

func TestSQLTrackerServerDown(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on port 1 of the loopback address.
	opens := []struct {
		tracker string
		open    func() error
	}{
		{"mysql", func() error {
			_, err := offsets.OpenMySQL(ctx, &offsets.MySQLSettings{DSN: "sluice:" + wrongPassword + "@tcp(127.0.0.1:1)/positions"})
			return err
		}},
		{"postgres", func() error {
			dsn := "postgres://sluice:" + wrongPassword + "@127.0.0.1:1/positions?sslmode=disable&connect_timeout=5"
			_, err := offsets.OpenPostgres(ctx, &offsets.PostgresSettings{DSN: dsn})
			return err
		}},
	}
	for _, tt := range opens {
		err := tt.open()
		if err == nil {
			t.Errorf("opening the %s tracker on a closed port succeeded, want an error", tt.tracker)
			continue
		}
		for _, want := range []string{"127.0.0.1:1", "check that the server runs"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s tracker error = %q\nwant it to contain %q", tt.tracker, err, want)
			}
		}
		if strings.Contains(err.Error(), wrongPassword) {
			t.Errorf("%s tracker error = %q, which contains the password", tt.tracker, err)
		}
	}
}
