package offsets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

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
