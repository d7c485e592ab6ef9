package offsets

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	// NOTE: the driver package registers itself with database/sql as
	// "mysql", so a binary that also links github.com/go-sql-driver/mysql
	// panics at start because that name is registered twice.
	mysqldriver "github.com/go-mysql-org/go-mysql/driver"
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
