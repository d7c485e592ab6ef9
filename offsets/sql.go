package offsets

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	// NOTE: the driver package registers itself with database/sql as
	// "mysql", so a binary that also links github.com/go-sql-driver/mysql
	// panics at start because that name is registered twice.
	mysqldriver "github.com/go-mysql-org/go-mysql/driver"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

func init() {
	Register("mysql", func(ctx context.Context, settings *MySQLSettings) (Tracker, error) {
		tracker, err := OpenMySQL(ctx, settings)
		if err != nil {
			return nil, err
		}
		return tracker, nil
	})
	Register("postgres", func(ctx context.Context, settings *PostgresSettings) (Tracker, error) {
		tracker, err := OpenPostgres(ctx, settings)
		if err != nil {
			return nil, err
		}
		return tracker, nil
	})
}

// DefaultPositionsTable is the table that the SQL trackers use unless their
// settings name another.
const DefaultPositionsTable = "sluice_positions"

// MySQLSettings configures the mysql tracker, which keeps positions in a
// table of a MySQL or MariaDB database.
type MySQLSettings struct {
	DSN   string `envconfig:"SLUICE_OFFSETS_MYSQL_DSN" desc:"MySQL or MariaDB database of the positions table, as user:password@tcp(host:port)/database; the port defaults to 3306"`
	Table string `envconfig:"SLUICE_OFFSETS_MYSQL_TABLE" default:"sluice_positions" desc:"table with one row per stream, created when missing"`
}

// PostgresSettings configures the postgres tracker, which keeps positions
// in a table of a PostgreSQL database.
type PostgresSettings struct {
	DSN   string `envconfig:"SLUICE_OFFSETS_POSTGRES_DSN" desc:"PostgreSQL database of the positions table, as postgres://user:password@host:port/database?sslmode=verify-full or as libpq key=value pairs"`
	Table string `envconfig:"SLUICE_OFFSETS_POSTGRES_TABLE" default:"sluice_positions" desc:"table with one row per stream, created when missing in the first schema of the search path"`
}

const (
	mysqlDSNVariable      = "SLUICE_OFFSETS_MYSQL_DSN"
	mysqlTableVariable    = "SLUICE_OFFSETS_MYSQL_TABLE"
	postgresDSNVariable   = "SLUICE_OFFSETS_POSTGRES_DSN"
	postgresTableVariable = "SLUICE_OFFSETS_POSTGRES_TABLE"

	mysqlDSNForm    = "user:password@tcp(host:port)/database"
	postgresDSNForm = "postgres://user:password@host:port/database"
)

// SQLTracker keeps each stream's position in one row of a table in MySQL,
// MariaDB or PostgreSQL. Each save is a single upsert statement that
// commits on its own, so a saved position is as durable as a commit on the
// server. With InnoDB's innodb_flush_log_at_trx_commit=1 and PostgreSQL's
// synchronous_commit=on (both defaults) it is on disk when Save returns.
//
// Many streams can share one table. The tracker creates the table when it
// is missing, and rejects a table of that name whose columns do not fit,
// without changing it.
type SQLTracker struct {
	db      *sql.DB
	dialect sqlDialect
	table   string
	// server names the product, address and database for messages. It never
	// contains the password.
	server     string
	user       string
	statements sqlStatements
}

var _ Tracker = (*SQLTracker)(nil)

// OpenMySQL connects to the database named by settings, creates the
// positions table when it is missing and checks its columns.
func OpenMySQL(ctx context.Context, settings *MySQLSettings) (*SQLTracker, error) {
	dsn, err := parseMySQLDSN(settings.DSN)
	if err != nil {
		return nil, fmt.Errorf("mysql tracker: %w", err)
	}
	table, err := positionsTable(settings.Table, mysqlTableVariable)
	if err != nil {
		return nil, fmt.Errorf("mysql tracker: %w", err)
	}
	db := sql.OpenDB(mysqldriver.Connector{Addr: dsn.addr, User: dsn.user, Password: dsn.password, DB: dsn.database})
	tracker := &SQLTracker{
		db:      db,
		dialect: mysqlDialect{},
		table:   table,
		server:  fmt.Sprintf("MySQL %s, database %s", dsn.addr, dsn.database),
		user:    dsn.user,
	}
	return tracker.open(ctx)
}

// OpenPostgres connects to the database named by settings, creates the
// positions table when it is missing and checks its columns.
func OpenPostgres(ctx context.Context, settings *PostgresSettings) (*SQLTracker, error) {
	config, err := parsePostgresDSN(settings.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres tracker: %w", err)
	}
	table, err := positionsTable(settings.Table, postgresTableVariable)
	if err != nil {
		return nil, fmt.Errorf("postgres tracker: %w", err)
	}
	database := config.Database
	if database == "" {
		// PostgreSQL takes the user name when no database is given.
		database = config.User
	}
	tracker := &SQLTracker{
		db:      stdlib.OpenDB(*config),
		dialect: postgresDialect{},
		table:   table,
		server:  fmt.Sprintf("PostgreSQL %s, database %s", net.JoinHostPort(config.Host, strconv.Itoa(int(config.Port))), database),
		user:    config.User,
	}
	return tracker.open(ctx)
}

// open connects, then creates or checks the table. It closes the pool when
// any step fails.
func (t *SQLTracker) open(ctx context.Context) (*SQLTracker, error) {
	t.statements = t.dialect.statements(t.table)
	// One goroutine uses a tracker at a time, so two connections suffice.
	// Idle connections are closed before a server's idle timeout (MySQL's
	// wait_timeout is 8 hours by default) would break them.
	t.db.SetMaxOpenConns(2)
	t.db.SetMaxIdleConns(2)
	t.db.SetConnMaxIdleTime(5 * time.Minute)

	if err := t.db.PingContext(ctx); err != nil {
		t.db.Close()
		return nil, t.connectError(err)
	}
	if err := t.prepareTable(ctx); err != nil {
		t.db.Close()
		return nil, err
	}
	return t, nil
}

func (t *SQLTracker) connectError(err error) error {
	message := fmt.Sprintf("%s tracker: cannot connect to %s, as user %s: %v", t.dialect.name(), t.server, t.user, err)
	if hint := t.dialect.connectHint(err); hint != "" {
		message += "; " + hint
	}
	return &sqlConnectError{message: message, err: err}
}

// sqlConnectError keeps the driver's error for errors.As while its message
// adds the server and a hint.
type sqlConnectError struct {
	message string
	err     error
}

func (e *sqlConnectError) Error() string { return e.message }
func (e *sqlConnectError) Unwrap() error { return e.err }

// prepareTable creates the positions table when it is missing and checks
// that its columns fit. A table that does not fit is never altered.
func (t *SQLTracker) prepareTable(ctx context.Context) error {
	shape, err := t.dialect.describe(ctx, t.db, t.table)
	if err != nil {
		return t.fail("read the columns of", err)
	}
	if !shape.exists {
		if _, createErr := t.db.ExecContext(ctx, t.statements.create); createErr != nil {
			// Another process may have created the table meanwhile, which
			// PostgreSQL reports as an error even with IF NOT EXISTS.
			shape, err = t.dialect.describe(ctx, t.db, t.table)
			if err != nil || !shape.exists {
				return fmt.Errorf("%s tracker: create table %s (%s): %w; grant the user the CREATE privilege, or create the table yourself: %s",
					t.dialect.name(), t.table, t.server, createErr, t.statements.create)
			}
		} else if shape, err = t.dialect.describe(ctx, t.db, t.table); err != nil {
			return t.fail("read the columns of", err)
		}
	}
	if problems := shape.problems(); len(problems) > 0 {
		return fmt.Errorf("%s tracker: table %s (%s) is not a positions table, so sluice leaves it unchanged: %s; set %s to a table name that is not in use, and sluice creates that table",
			t.dialect.name(), t.table, t.server, strings.Join(problems, "; "), t.dialect.tableVariable())
	}
	return nil
}

// fail wraps an error of a statement on the table.
func (t *SQLTracker) fail(action string, err error) error {
	return fmt.Errorf("%s tracker: %s table %s (%s): %w", t.dialect.name(), action, t.table, t.server, err)
}

// run calls op, and once more when op failed because the connection
// broke, for example because the server closed it while it was idle.
// database/sql replaces a broken connection by itself only when the driver
// notices before it sends the statement. Every statement of a tracker has
// the same effect when it runs twice.
func (t *SQLTracker) run(ctx context.Context, op func() error) error {
	err := op()
	if err != nil && ctx.Err() == nil && t.dialect.connectionLost(err) {
		err = op()
	}
	return err
}

// Load returns the saved position of stream, or a zero Position and no
// error when the table has no row for it.
func (t *SQLTracker) Load(ctx context.Context, stream string) (Position, error) {
	if err := checkStreamID(stream); err != nil {
		return Position{}, err
	}
	var data string
	err := t.run(ctx, func() error {
		return t.db.QueryRowContext(ctx, t.statements.load, stream).Scan(&data)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, t.fail(fmt.Sprintf("load the position of stream %q from", stream), err)
	}
	p, err := ParsePosition([]byte(data))
	if err != nil {
		return Position{}, fmt.Errorf("%s tracker: row of stream %q in table %s (%s): %w; delete the row so that sluice resumes from the positions topic",
			t.dialect.name(), stream, t.table, t.server, err)
	}
	if p.Stream != "" && p.Stream != stream {
		return Position{}, fmt.Errorf("%s tracker: row of stream %q in table %s (%s) contains the position of stream %q; delete the row so that sluice resumes from the positions topic",
			t.dialect.name(), stream, t.table, t.server, p.Stream)
	}
	return p, nil
}

// Save upserts the row of stream with p. It returns once the server has
// committed the statement.
func (t *SQLTracker) Save(ctx context.Context, stream string, p Position) error {
	if err := checkStreamID(stream); err != nil {
		return err
	}
	if p.IsZero() || p.Pos == 0 {
		return fmt.Errorf("%w: cannot save %s as the position of stream %q", ErrInvalidPosition, p, stream)
	}
	p.Stream = stream
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	args := t.dialect.saveArgs(stream, data, p)
	err = t.run(ctx, func() error {
		_, err := t.db.ExecContext(ctx, t.statements.save, args...)
		return err
	})
	if err != nil {
		return t.fail(fmt.Sprintf("save the position of stream %q to", stream), err)
	}
	return nil
}

// Delete removes the row of stream.
func (t *SQLTracker) Delete(ctx context.Context, stream string) error {
	if err := checkStreamID(stream); err != nil {
		return err
	}
	err := t.run(ctx, func() error {
		_, err := t.db.ExecContext(ctx, t.statements.delete, stream)
		return err
	})
	if err != nil {
		return t.fail(fmt.Sprintf("delete the position of stream %q from", stream), err)
	}
	return nil
}

// List returns the streams that have a row, sorted by byte order whatever
// the column's collation.
func (t *SQLTracker) List(ctx context.Context) ([]string, error) {
	var streams []string
	err := t.run(ctx, func() error {
		var err error
		streams, err = t.listOnce(ctx)
		return err
	})
	if err != nil {
		return nil, t.fail("list the streams of", err)
	}
	slices.Sort(streams)
	return streams, nil
}

func (t *SQLTracker) listOnce(ctx context.Context) ([]string, error) {
	rows, err := t.db.QueryContext(ctx, t.statements.list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var streams []string
	for rows.Next() {
		var stream string
		if err := rows.Scan(&stream); err != nil {
			return nil, err
		}
		streams = append(streams, stream)
	}
	return streams, rows.Err()
}

// checkStream is the stream id of the row that Check writes and rolls back.
// It contains characters that a stream id cannot have, so it never meets a
// real row.
const checkStream = "(sluice check)"

// Check upserts a test row in a transaction and rolls it back, which needs
// a live connection, the table and the privilege to write it.
func (t *SQLTracker) Check(ctx context.Context) error {
	if err := t.run(ctx, func() error { return t.checkOnce(ctx) }); err != nil {
		return t.fail("write a test row to", err)
	}
	return nil
}

func (t *SQLTracker) checkOnce(ctx context.Context) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // the server drops the test row with the transaction either way

	probe := Position{File: "check.000001", Pos: 4}
	_, err = tx.ExecContext(ctx, t.statements.save, t.dialect.saveArgs(checkStream, []byte("{}"), probe)...)
	return err
}

// Close closes the connections to the server.
func (t *SQLTracker) Close() error {
	return t.db.Close()
}

// maxStreamLength is the length of the stream column that the trackers
// create (VARCHAR(255) in MySQL).
const maxStreamLength = 255

// checkStreamID applies the file tracker's rule for stream ids, so that a
// stream id is valid in every tracker, and the length of the stream column.
func checkStreamID(stream string) error {
	if !validStream.MatchString(stream) || stream == "." || stream == ".." {
		return fmt.Errorf("invalid stream id %q: use letters, digits, '.', '_' and '-'", stream)
	}
	if len(stream) > maxStreamLength {
		return fmt.Errorf("invalid stream id %q: it has %d characters, more than %d", stream, len(stream), maxStreamLength)
	}
	return nil
}

// validTable allows unquoted identifiers of at most 63 characters, the
// limit of PostgreSQL (MySQL allows 64).
var validTable = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// positionsTable returns the table name of the settings, or the default
// when it is empty.
func positionsTable(table, variable string) (string, error) {
	if table == "" {
		return DefaultPositionsTable, nil
	}
	if !validTable.MatchString(table) {
		return "", fmt.Errorf("%s %q is not a valid table name: use up to 63 letters, digits and underscores, starting with a letter or underscore", variable, table)
	}
	return table, nil
}

// mysqlDSN is a parsed SLUICE_OFFSETS_MYSQL_DSN.
type mysqlDSN struct {
	user, password string
	// addr is host:port, or the path of a Unix socket.
	addr     string
	database string
}

// parseMySQLDSN reads user:password@tcp(host:port)/database, the form of
// github.com/go-sql-driver/mysql without parameters. It also accepts
// unix(/path/to/socket) for the address. The password may contain any
// character, because the address starts after the last '@' and the
// database after the last '/'. Errors never quote the DSN, because it
// contains the password.
func parseMySQLDSN(dsn string) (mysqlDSN, error) {
	if dsn == "" {
		return mysqlDSN{}, fmt.Errorf("%s is not set: set it to %s", mysqlDSNVariable, mysqlDSNForm)
	}
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 || strings.ContainsAny(dsn[slash+1:], "@()") {
		return mysqlDSN{}, fmt.Errorf("%s names no database: write it as %s", mysqlDSNVariable, mysqlDSNForm)
	}
	head, database := dsn[:slash], dsn[slash+1:]
	if strings.Contains(database, "?") {
		return mysqlDSN{}, fmt.Errorf("%s has parameters after '?', which the mysql tracker does not support: remove them", mysqlDSNVariable)
	}
	if database == "" {
		return mysqlDSN{}, fmt.Errorf("%s names no database: write it as %s", mysqlDSNVariable, mysqlDSNForm)
	}

	at := strings.LastIndexByte(head, '@')
	if at < 0 {
		return mysqlDSN{}, fmt.Errorf("%s names no user: write it as %s", mysqlDSNVariable, mysqlDSNForm)
	}
	user, password, _ := strings.Cut(head[:at], ":")
	if user == "" {
		return mysqlDSN{}, fmt.Errorf("%s names no user: write it as %s", mysqlDSNVariable, mysqlDSNForm)
	}

	addr, err := parseMySQLAddress(head[at+1:])
	if err != nil {
		return mysqlDSN{}, err
	}
	return mysqlDSN{user: user, password: password, addr: addr, database: database}, nil
}

// parseMySQLAddress reads tcp(host:port), tcp(host) or unix(/path).
func parseMySQLAddress(address string) (string, error) {
	inner, isTCP := strings.CutPrefix(address, "tcp(")
	if !isTCP {
		path, isUnix := strings.CutPrefix(address, "unix(")
		path, closed := strings.CutSuffix(path, ")")
		if !isUnix || !closed || !strings.HasPrefix(path, "/") {
			return "", fmt.Errorf("%s must give the server after the last '@' as tcp(host:port) or unix(/path/to/socket): write it as %s",
				mysqlDSNVariable, mysqlDSNForm)
		}
		return path, nil
	}
	inner, closed := strings.CutSuffix(inner, ")")
	if !closed || inner == "" {
		return "", fmt.Errorf("%s must give the server after the last '@' as tcp(host:port): write it as %s", mysqlDSNVariable, mysqlDSNForm)
	}

	host, port, err := net.SplitHostPort(inner)
	if err != nil {
		// Only a host without a port gets the default port. Anything else
		// with a colon, such as an IPv6 address without brackets, is
		// ambiguous.
		unbracketed := strings.TrimSuffix(strings.TrimPrefix(inner, "["), "]")
		if strings.Contains(unbracketed, ":") && !strings.HasPrefix(inner, "[") {
			return "", fmt.Errorf("%s has an invalid address in tcp(...): write it as tcp(host:port), with an IPv6 address in brackets", mysqlDSNVariable)
		}
		host, port = unbracketed, "3306"
	}
	if number, err := strconv.Atoi(port); err != nil || number < 1 || number > 65535 {
		return "", fmt.Errorf("%s has an invalid port %q in tcp(...): use a number from 1 to 65535", mysqlDSNVariable, port)
	}
	if host == "" {
		return "", fmt.Errorf("%s names no host in tcp(...): write it as %s", mysqlDSNVariable, mysqlDSNForm)
	}
	return net.JoinHostPort(host, port), nil
}

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

// sqlStatements are the statements of one table in one SQL dialect.
type sqlStatements struct {
	create string
	load   string
	// save takes the arguments of sqlDialect.saveArgs.
	save   string
	delete string
	list   string
}

// sqlDialect is the part of a tracker that differs between MySQL and
// PostgreSQL.
type sqlDialect interface {
	// name returns the tracker's SLUICE_OFFSETS_TYPE.
	name() string
	tableVariable() string
	statements(table string) sqlStatements
	// saveArgs returns the arguments of the save statement.
	saveArgs(stream string, data []byte, p Position) []any
	// describe reads the table's type, columns and indexes from the catalog.
	describe(ctx context.Context, db *sql.DB, table string) (tableShape, error)
	// connectHint returns what to do about a connection error, or "".
	connectHint(err error) string
	// connectionLost reports whether a statement failed because its
	// connection broke, so that it may succeed on another connection.
	connectionLost(err error) bool
}

// brokenConnection reports whether err is a network or protocol error that
// means the connection is gone.
func brokenConnection(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn)
}

// The columns of a positions table. position contains the JSON of
// Position.Marshal, and the other columns copy its fields so that people can
// query them. All times are UTC.
const (
	columnStream     = "stream"
	columnPosition   = "position"
	columnServerID   = "server_id"
	columnBinlogFile = "binlog_file"
	columnBinlogPos  = "binlog_pos"
	columnGTIDSet    = "gtid_set"
	columnCapturedAt = "captured_at"
	columnUpdatedAt  = "updated_at"
)

type mysqlDialect struct{}

func (mysqlDialect) name() string          { return "mysql" }
func (mysqlDialect) tableVariable() string { return mysqlTableVariable }

func mysqlQuote(identifier string) string {
	return "`" + strings.ReplaceAll(identifier, "`", "``") + "`"
}

// statements builds MySQL statements that MariaDB runs too. The upsert
// repeats its values in the UPDATE clause instead of using VALUES(), which
// MySQL 8.0.20 deprecated, or a row alias, which MariaDB lacks.
func (mysqlDialect) statements(table string) sqlStatements {
	q := mysqlQuote
	t := q(table)
	return sqlStatements{
		// The stream column is ASCII with binary collation, so ids that
		// differ only in letter case are different streams, as they are in
		// the file tracker.
		create: "CREATE TABLE IF NOT EXISTS " + t + " (" +
			q(columnStream) + " VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, " +
			q(columnPosition) + " MEDIUMTEXT CHARACTER SET utf8mb4 NOT NULL, " +
			q(columnServerID) + " INT UNSIGNED NOT NULL, " +
			q(columnBinlogFile) + " VARCHAR(512) CHARACTER SET utf8mb4 NOT NULL, " +
			q(columnBinlogPos) + " BIGINT UNSIGNED NOT NULL, " +
			q(columnGTIDSet) + " MEDIUMTEXT CHARACTER SET utf8mb4 NOT NULL, " +
			q(columnCapturedAt) + " DATETIME(6) NULL, " +
			q(columnUpdatedAt) + " DATETIME(6) NOT NULL, " +
			"PRIMARY KEY (" + q(columnStream) + ")" +
			") ENGINE=InnoDB",
		load: "SELECT " + q(columnPosition) + " FROM " + t + " WHERE " + q(columnStream) + " = ?",
		save: "INSERT INTO " + t + " (" +
			q(columnStream) + ", " + q(columnPosition) + ", " + q(columnServerID) + ", " + q(columnBinlogFile) + ", " +
			q(columnBinlogPos) + ", " + q(columnGTIDSet) + ", " + q(columnCapturedAt) + ", " + q(columnUpdatedAt) +
			") VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE " +
			q(columnPosition) + " = ?, " + q(columnServerID) + " = ?, " + q(columnBinlogFile) + " = ?, " +
			q(columnBinlogPos) + " = ?, " + q(columnGTIDSet) + " = ?, " + q(columnCapturedAt) + " = ?, " +
			q(columnUpdatedAt) + " = UTC_TIMESTAMP(6)",
		delete: "DELETE FROM " + t + " WHERE " + q(columnStream) + " = ?",
		list:   "SELECT " + q(columnStream) + " FROM " + t,
	}
}

// saveArgs passes captured_at as text, because the go-mysql driver does
// not encode time.Time arguments.
func (mysqlDialect) saveArgs(stream string, data []byte, p Position) []any {
	var capturedAt any
	if !p.CapturedAt.IsZero() {
		capturedAt = p.CapturedAt.UTC().Format("2006-01-02 15:04:05.999999")
	}
	values := []any{string(data), int64(p.ServerID), p.File, int64(p.Pos), p.GTIDSet, capturedAt}
	args := append([]any{stream}, values...)
	return append(args, values...)
}

func (mysqlDialect) describe(ctx context.Context, db *sql.DB, table string) (tableShape, error) {
	shape := tableShape{columns: map[string]columnShape{}}
	var tableType string
	err := db.QueryRowContext(ctx,
		"SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
		table).Scan(&tableType)
	if errors.Is(err, sql.ErrNoRows) {
		return shape, nil
	}
	if err != nil {
		return shape, err
	}
	shape.exists = true
	shape.notTable = tableType != "BASE TABLE"

	rows, err := db.QueryContext(ctx,
		"SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL, EXTRA "+
			"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
		table)
	if err != nil {
		return shape, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, dataType, columnType, extra string
		var notNullWithoutDefault bool
		if err := rows.Scan(&name, &dataType, &columnType, &notNullWithoutDefault, &extra); err != nil {
			return shape, err
		}
		extra = strings.ToLower(extra)
		// Generated and AUTO_INCREMENT columns get their value without an
		// INSERT naming them.
		filled := strings.Contains(extra, "auto_increment") || strings.Contains(extra, "generated") ||
			strings.Contains(extra, "virtual") || strings.Contains(extra, "persistent") || strings.Contains(extra, "stored")
		shape.columns[strings.ToLower(name)] = columnShape{
			typ:        columnType,
			kind:       mysqlColumnKind(strings.ToLower(dataType), strings.ToLower(columnType)),
			needsValue: notNullWithoutDefault && !filled,
		}
	}
	if err := rows.Err(); err != nil {
		return shape, err
	}

	// A unique index on stream alone, on the whole column rather than a
	// prefix, makes ON DUPLICATE KEY UPDATE replace a stream's row.
	var uniqueIndexes int
	err = db.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM (SELECT INDEX_NAME FROM information_schema.STATISTICS "+
			"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 GROUP BY INDEX_NAME "+
			"HAVING COUNT(*) = 1 AND MAX(COLUMN_NAME) = ? AND MAX(SUB_PART) IS NULL) AS stream_indexes",
		table, columnStream).Scan(&uniqueIndexes)
	if err != nil {
		return shape, err
	}
	shape.streamUnique = uniqueIndexes > 0
	return shape, nil
}

// mysqlColumnKind classifies a column by information_schema's DATA_TYPE
// and COLUMN_TYPE. MariaDB reports its JSON type as longtext.
func mysqlColumnKind(dataType, columnType string) columnKind {
	switch dataType {
	case "char", "varchar", "text", "mediumtext", "longtext":
		return kindText
	case "json":
		return kindJSON
	case "bigint":
		return kindWideInteger
	case "int", "integer":
		if strings.Contains(columnType, "unsigned") {
			return kindWideInteger
		}
		return kindNarrowInteger
	case "tinyint", "smallint", "mediumint":
		return kindNarrowInteger
	case "datetime", "timestamp":
		return kindTimestamp
	}
	return kindOther
}

func (mysqlDialect) connectHint(err error) string {
	var serverErr *mysql.MyError
	if errors.As(err, &serverErr) {
		switch serverErr.Code {
		case mysql.ER_ACCESS_DENIED_ERROR:
			return "the user name or password in " + mysqlDSNVariable + " is wrong"
		case mysql.ER_DBACCESS_DENIED_ERROR:
			return "grant the user SELECT, INSERT, UPDATE, DELETE and CREATE on the database"
		case mysql.ER_BAD_DB_ERROR:
			return "create the database, or name an existing one in " + mysqlDSNVariable
		}
		return ""
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return "check that the server runs and that " + mysqlDSNVariable + " names its address"
	}
	return ""
}

func (mysqlDialect) connectionLost(err error) bool {
	var serverErr *mysql.MyError
	if errors.As(err, &serverErr) {
		// 1053 is ER_SERVER_SHUTDOWN and 1927 MariaDB's ER_CONNECTION_KILLED.
		return serverErr.Code == mysql.ER_SERVER_SHUTDOWN || serverErr.Code == 1927
	}
	return errors.Is(err, mysql.ErrBadConn) || brokenConnection(err)
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

// columnKind is the family of a column type, as far as the trackers care.
type columnKind int

const (
	kindOther columnKind = iota
	kindText
	kindJSON
	// kindWideInteger holds every uint32.
	kindWideInteger
	// kindNarrowInteger may not hold every uint32.
	kindNarrowInteger
	kindTimestamp
)

// tableShape is the catalog's description of the table that has the
// positions table's name.
type tableShape struct {
	exists bool
	// notTable is set for a view or another relation that is not a table.
	notTable bool
	// columns are keyed by name.
	columns map[string]columnShape
	// streamUnique is set when a unique index covers the stream column
	// alone, as the upsert needs.
	streamUnique bool
}

type columnShape struct {
	// typ is the type as the catalog writes it, for messages.
	typ  string
	kind columnKind
	// needsValue is set for a NOT NULL column without a default, which
	// every INSERT must name.
	needsValue bool
}

// requiredColumn is a column of a positions table and the type families it
// accepts.
type requiredColumn struct {
	name  string
	kinds []columnKind
	// want describes the kinds for messages.
	want string
}

var requiredColumns = []requiredColumn{
	{columnStream, []columnKind{kindText}, "a character type"},
	{columnPosition, []columnKind{kindText, kindJSON}, "a text or JSON type"},
	{columnServerID, []columnKind{kindWideInteger}, "an integer type that holds 0 to 4294967295"},
	{columnBinlogFile, []columnKind{kindText}, "a character type"},
	{columnBinlogPos, []columnKind{kindWideInteger}, "an integer type that holds 0 to 4294967295"},
	{columnGTIDSet, []columnKind{kindText}, "a character type"},
	{columnCapturedAt, []columnKind{kindTimestamp}, "a timestamp type"},
	{columnUpdatedAt, []columnKind{kindTimestamp}, "a timestamp type"},
}

// problems lists how an existing table differs from a positions table, or
// nothing when the trackers can use it.
func (s tableShape) problems() []string {
	var problems, missing []string
	if s.notTable {
		problems = append(problems, "it is a view or another relation, not a table")
	}
	for _, required := range requiredColumns {
		column, ok := s.columns[required.name]
		if !ok {
			missing = append(missing, required.name)
			continue
		}
		if !slices.Contains(required.kinds, column.kind) {
			problems = append(problems, fmt.Sprintf("column %s is %s, want %s", required.name, column.typ, required.want))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing columns "+strings.Join(missing, ", "))
	}
	if _, ok := s.columns[columnStream]; ok && !s.streamUnique {
		problems = append(problems, "column stream has no primary key or unique index of its own")
	}

	var extra []string
	for name, column := range s.columns {
		isRequired := slices.ContainsFunc(requiredColumns, func(r requiredColumn) bool { return r.name == name })
		if column.needsValue && !isRequired {
			extra = append(extra, name)
		}
	}
	switch {
	case len(extra) == 1:
		problems = append(problems, "column "+extra[0]+" is NOT NULL without a default, so sluice cannot insert rows")
	case len(extra) > 1:
		slices.Sort(extra)
		problems = append(problems, "columns "+strings.Join(extra, ", ")+" are NOT NULL without a default, so sluice cannot insert rows")
	}
	return problems
}
