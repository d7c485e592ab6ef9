package offsets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// parsePostgresDSN reads the DSN with pgx, which also takes libpq's
// environment variables (PGHOST, PGPASSWORD, ...) and ~/.pgpass for the
// parts that the DSN leaves out.
func parsePostgresDSN(dsn string) (*pgx.ConnConfig, error) {
	if dsn == "" {
		return nil, fmt.Errorf("%s is not set: set it to %s", postgresDSNVariable, postgresDSNForm)
	}
	config, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx removes passwords from its parse errors as far as it can
		// recognize them in malformed input.
		return nil, fmt.Errorf("%s is invalid: %v; write it as %s", postgresDSNVariable, err, postgresDSNForm)
	}
	return config, nil
}

type postgresDialect struct{}

func (postgresDialect) name() string          { return "postgres" }
func (postgresDialect) tableVariable() string { return postgresTableVariable }

func postgresQuote(identifier string) string {
	return `"` + strings.ReplaceAll(identifier, `"`, `""`) + `"`
}

func (postgresDialect) statements(table string) sqlStatements {
	q := postgresQuote
	t := q(table)
	return sqlStatements{
		create: "CREATE TABLE IF NOT EXISTS " + t + " (" +
			q(columnStream) + " text PRIMARY KEY, " +
			q(columnPosition) + " jsonb NOT NULL, " +
			q(columnServerID) + " bigint NOT NULL, " +
			q(columnBinlogFile) + " text NOT NULL, " +
			q(columnBinlogPos) + " bigint NOT NULL, " +
			q(columnGTIDSet) + " text NOT NULL, " +
			q(columnCapturedAt) + " timestamptz, " +
			q(columnUpdatedAt) + " timestamptz NOT NULL" +
			")",
		// The cast reads json, jsonb and text columns alike.
		load: "SELECT " + q(columnPosition) + "::text FROM " + t + " WHERE " + q(columnStream) + " = $1",
		save: "INSERT INTO " + t + " (" +
			q(columnStream) + ", " + q(columnPosition) + ", " + q(columnServerID) + ", " + q(columnBinlogFile) + ", " +
			q(columnBinlogPos) + ", " + q(columnGTIDSet) + ", " + q(columnCapturedAt) + ", " + q(columnUpdatedAt) +
			") VALUES ($1, $2, $3, $4, $5, $6, $7, now()) ON CONFLICT (" + q(columnStream) + ") DO UPDATE SET " +
			q(columnPosition) + " = EXCLUDED." + q(columnPosition) + ", " +
			q(columnServerID) + " = EXCLUDED." + q(columnServerID) + ", " +
			q(columnBinlogFile) + " = EXCLUDED." + q(columnBinlogFile) + ", " +
			q(columnBinlogPos) + " = EXCLUDED." + q(columnBinlogPos) + ", " +
			q(columnGTIDSet) + " = EXCLUDED." + q(columnGTIDSet) + ", " +
			q(columnCapturedAt) + " = EXCLUDED." + q(columnCapturedAt) + ", " +
			q(columnUpdatedAt) + " = EXCLUDED." + q(columnUpdatedAt),
		delete: "DELETE FROM " + t + " WHERE " + q(columnStream) + " = $1",
		list:   "SELECT " + q(columnStream) + " FROM " + t,
	}
}

func (postgresDialect) saveArgs(stream string, data []byte, p Position) []any {
	var capturedAt any
	if !p.CapturedAt.IsZero() {
		capturedAt = p.CapturedAt.UTC()
	}
	return []any{stream, string(data), int64(p.ServerID), p.File, int64(p.Pos), p.GTIDSet, capturedAt}
}

// describe resolves the table name through the search path, as a query
// does with an unqualified name.
func (postgresDialect) describe(ctx context.Context, db *sql.DB, table string) (tableShape, error) {
	shape := tableShape{columns: map[string]columnShape{}}
	name := postgresQuote(table)
	var kind string
	err := db.QueryRowContext(ctx, "SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)", name).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return shape, nil
	}
	if err != nil {
		return shape, err
	}
	shape.exists = true
	// r is an ordinary table and p a partitioned one.
	shape.notTable = kind != "r" && kind != "p"

	rows, err := db.QueryContext(ctx,
		"SELECT attname, format_type(atttypid, NULL), format_type(atttypid, atttypmod), "+
			"attnotnull AND NOT atthasdef AND attidentity = '' AND attgenerated = '' "+
			"FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
		name)
	if err != nil {
		return shape, err
	}
	defer rows.Close()
	for rows.Next() {
		var column, baseType, fullType string
		var needsValue bool
		if err := rows.Scan(&column, &baseType, &fullType, &needsValue); err != nil {
			return shape, err
		}
		shape.columns[column] = columnShape{typ: fullType, kind: postgresColumnKind(baseType), needsValue: needsValue}
	}
	if err := rows.Err(); err != nil {
		return shape, err
	}

	// ON CONFLICT (stream) needs a unique index on stream alone, without
	// a predicate or an expression.
	err = db.QueryRowContext(ctx,
		"SELECT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "+
			"WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 "+
			"AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = $2)",
		name, columnStream).Scan(&shape.streamUnique)
	return shape, err
}

// postgresColumnKind classifies a column by its type name without
// modifiers, as format_type returns it.
func postgresColumnKind(baseType string) columnKind {
	switch baseType {
	case "text", "character varying", "character":
		return kindText
	case "json", "jsonb":
		return kindJSON
	case "bigint", "numeric":
		return kindWideInteger
	case "integer", "smallint":
		return kindNarrowInteger
	case "timestamp with time zone", "timestamp without time zone":
		return kindTimestamp
	}
	return kindOther
}

func (postgresDialect) connectHint(err error) string {
	var serverErr *pgconn.PgError
	if errors.As(err, &serverErr) {
		switch serverErr.Code {
		case "28P01": // invalid_password
			return "the user name or password in " + postgresDSNVariable + " is wrong"
		case "28000": // invalid_authorization_specification
			return "the server's pg_hba.conf does not let this user log in from here to this database"
		case "3D000": // invalid_catalog_name
			return "create the database, or name an existing one in " + postgresDSNVariable
		}
		return ""
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &netErr) || errors.As(err, &connectErr) {
		return "check that the server runs and that " + postgresDSNVariable + " names its address"
	}
	return ""
}

func (postgresDialect) connectionLost(err error) bool {
	var serverErr *pgconn.PgError
	if errors.As(err, &serverErr) {
		// Class 08 is connection_exception. 57P01 to 57P03 are
		// admin_shutdown, crash_shutdown and cannot_connect_now.
		return strings.HasPrefix(serverErr.Code, "08") || serverErr.Code == "57P01" ||
			serverErr.Code == "57P02" || serverErr.Code == "57P03"
	}
	return pgconn.SafeToRetry(err) || brokenConnection(err)
}
