package offsets

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

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

var postgresPlaceholder = regexp.MustCompile(`\$\d+`)

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
