package offsets

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/jackc/pgx/v5/pgconn"
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

func TestParsePostgresDSN(t *testing.T) {
	config, err := parsePostgresDSN("postgres://sluice:secret@db.example.com:5433/positions?sslmode=disable")
	if err != nil {
		t.Fatalf("parsePostgresDSN: %v", err)
	}
	if config.Host != "db.example.com" {
		t.Errorf("Host = %q, want db.example.com", config.Host)
	}
	if config.Port != 5433 {
		t.Errorf("Port = %d, want 5433", config.Port)
	}
	if config.User != "sluice" {
		t.Errorf("User = %q, want sluice", config.User)
	}
	if config.Password != "secret" {
		t.Errorf("Password = %q, want secret", config.Password)
	}
	if config.Database != "positions" {
		t.Errorf("Database = %q, want positions", config.Database)
	}

	config, err = parsePostgresDSN("host=127.0.0.1 port=5434 user=u password=p dbname=d sslmode=disable")
	if err != nil {
		t.Fatalf("parsePostgresDSN of key=value pairs: %v", err)
	}
	if config.Port != 5434 || config.Database != "d" {
		t.Errorf("key=value pairs parsed as port %d, database %q, want 5434 and d", config.Port, config.Database)
	}
}

func TestParsePostgresDSNErrors(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"", "SLUICE_OFFSETS_POSTGRES_DSN is not set"},
		{"postgres://u:hunter2@db:notaport/d", "SLUICE_OFFSETS_POSTGRES_DSN is invalid"},
		{"postgres://u:hunter2@db:5432/d?sslmode=sometimes", "SLUICE_OFFSETS_POSTGRES_DSN is invalid"},
	}
	for _, tt := range tests {
		_, err := parsePostgresDSN(tt.dsn)
		if err == nil {
			t.Errorf("parsePostgresDSN(%q) succeeded, want an error containing %q", tt.dsn, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parsePostgresDSN(%q) = %q, want it to contain %q", tt.dsn, err, tt.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parsePostgresDSN(%q) = %q, which contains the password", tt.dsn, err)
		}
	}
}

func TestPositionsTableName(t *testing.T) {
	for _, name := range []string{"sluice_positions", "Positions", "_p1", strings.Repeat("t", 63)} {
		got, err := positionsTable(name, mysqlTableVariable)
		if err != nil {
			t.Errorf("positionsTable(%q): %v", name, err)
		} else if got != name {
			t.Errorf("positionsTable(%q) = %q", name, got)
		}
	}

	got, err := positionsTable("", mysqlTableVariable)
	if err != nil || got != DefaultPositionsTable {
		t.Errorf("positionsTable(\"\") = %q, %v; want %q", got, err, DefaultPositionsTable)
	}

	for _, name := range []string{"1positions", "sluice-positions", "db.positions", "p; DROP TABLE x", "`p`", strings.Repeat("t", 64)} {
		_, err := positionsTable(name, postgresTableVariable)
		if err == nil {
			t.Errorf("positionsTable(%q) succeeded, want an error", name)
			continue
		}
		if !strings.Contains(err.Error(), postgresTableVariable) {
			t.Errorf("positionsTable(%q) = %q, want it to name %s", name, err, postgresTableVariable)
		}
	}
}

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

var (
	mysqlPlaceholder    = regexp.MustCompile(`\?`)
	postgresPlaceholder = regexp.MustCompile(`\$\d+`)
)

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

func TestPostgresStatements(t *testing.T) {
	statements := postgresDialect{}.statements("Positions")

	for _, want := range []string{`CREATE TABLE IF NOT EXISTS "Positions" (`, `"stream" text PRIMARY KEY`, `"position" jsonb NOT NULL`} {
		if !strings.Contains(statements.create, want) {
			t.Errorf("create = %s\nwant it to contain %s", statements.create, want)
		}
	}
	for _, want := range []string{`INSERT INTO "Positions" (`, `ON CONFLICT ("stream") DO UPDATE SET`, `"position" = EXCLUDED."position"`} {
		if !strings.Contains(statements.save, want) {
			t.Errorf("save = %s\nwant it to contain %s", statements.save, want)
		}
	}

	args := postgresDialect{}.saveArgs("orders", []byte(`{}`), testPosition())
	placeholders := postgresPlaceholder.FindAllString(statements.save, -1)
	if len(placeholders) != len(args) {
		t.Errorf("save has %d placeholders but saveArgs returns %d arguments", len(placeholders), len(args))
	}
	for i, placeholder := range placeholders {
		if want := fmt.Sprintf("$%d", i+1); placeholder != want {
			t.Errorf("placeholder %d of save is %s, want %s", i+1, placeholder, want)
		}
	}
	if want := `SELECT "position"::text FROM "Positions" WHERE "stream" = $1`; statements.load != want {
		t.Errorf("load = %s, want %s", statements.load, want)
	}
	if want := `DELETE FROM "Positions" WHERE "stream" = $1`; statements.delete != want {
		t.Errorf("delete = %s, want %s", statements.delete, want)
	}
}

func TestPostgresSaveArgs(t *testing.T) {
	args := postgresDialect{}.saveArgs("orders", []byte(`{}`), testPosition())
	capturedAt, ok := args[6].(time.Time)
	if !ok {
		t.Fatalf("captured_at argument is %T, want time.Time", args[6])
	}
	if want := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC); !capturedAt.Equal(want) || capturedAt.Location() != time.UTC {
		t.Errorf("captured_at argument = %v, want %v", capturedAt, want)
	}
	if args[2] != int64(4294967295) || args[4] != int64(4294967295) {
		t.Errorf("server_id and binlog_pos arguments = %v and %v, want 4294967295 as int64", args[2], args[4])
	}
}

// positionsShape returns the shape of a table that the trackers can use.
func positionsShape() tableShape {
	shape := tableShape{exists: true, streamUnique: true, columns: map[string]columnShape{}}
	for _, column := range requiredColumns {
		shape.columns[column.name] = columnShape{typ: "fitting", kind: column.kinds[0], needsValue: true}
	}
	return shape
}

func TestTableShapeProblems(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *tableShape)
		want   []string
	}{
		{"fitting table", func(*tableShape) {}, nil},
		{"optional extra column", func(s *tableShape) {
			s.columns["note"] = columnShape{typ: "text", kind: kindText}
		}, nil},
		{"missing columns", func(s *tableShape) {
			delete(s.columns, columnPosition)
			delete(s.columns, columnGTIDSet)
		}, []string{"missing columns position, gtid_set"}},
		{"wrong types", func(s *tableShape) {
			s.columns[columnStream] = columnShape{typ: "int(11)", kind: kindNarrowInteger}
			s.columns[columnServerID] = columnShape{typ: "int(11)", kind: kindNarrowInteger}
		}, []string{"column stream is int(11), want a character type", "column server_id is int(11), want an integer type that holds 0 to 4294967295"}},
		{"stream not unique", func(s *tableShape) {
			s.streamUnique = false
		}, []string{"column stream has no primary key or unique index of its own"}},
		{"extra NOT NULL column", func(s *tableShape) {
			s.columns["tenant"] = columnShape{typ: "integer", kind: kindNarrowInteger, needsValue: true}
		}, []string{"column tenant is NOT NULL without a default"}},
		{"extra NOT NULL columns", func(s *tableShape) {
			s.columns["tenant"] = columnShape{typ: "integer", kind: kindNarrowInteger, needsValue: true}
			s.columns["region"] = columnShape{typ: "text", kind: kindText, needsValue: true}
		}, []string{"columns region, tenant are NOT NULL without a default"}},
		{"view", func(s *tableShape) {
			s.notTable = true
		}, []string{"it is a view or another relation, not a table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shape := positionsShape()
			tt.change(&shape)
			problems := shape.problems()
			if len(problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d problems like %q", problems, len(tt.want), tt.want)
			}
			for i, want := range tt.want {
				if !strings.Contains(problems[i], want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, problems[i], want)
				}
			}
		})
	}
}

func TestColumnKinds(t *testing.T) {
	mysqlTests := []struct {
		dataType, columnType string
		want                 columnKind
	}{
		{"varchar", "varchar(255)", kindText},
		{"mediumtext", "mediumtext", kindText},
		{"json", "json", kindJSON},
		{"int", "int(10) unsigned", kindWideInteger},
		{"int", "int(11)", kindNarrowInteger},
		{"bigint", "bigint(20)", kindWideInteger},
		{"datetime", "datetime(6)", kindTimestamp},
		{"blob", "blob", kindOther},
	}
	for _, tt := range mysqlTests {
		if got := mysqlColumnKind(tt.dataType, tt.columnType); got != tt.want {
			t.Errorf("mysqlColumnKind(%q, %q) = %d, want %d", tt.dataType, tt.columnType, got, tt.want)
		}
	}

	postgresTests := []struct {
		baseType string
		want     columnKind
	}{
		{"text", kindText},
		{"character varying", kindText},
		{"jsonb", kindJSON},
		{"bigint", kindWideInteger},
		{"integer", kindNarrowInteger},
		{"timestamp with time zone", kindTimestamp},
		{"bytea", kindOther},
	}
	for _, tt := range postgresTests {
		if got := postgresColumnKind(tt.baseType); got != tt.want {
			t.Errorf("postgresColumnKind(%q) = %d, want %d", tt.baseType, got, tt.want)
		}
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
