// Package source reads row changes from a MySQL or MariaDB binlog with
// go-mysql's replication package, as a replica would, and hands them on
// transaction by transaction together with the position where each
// transaction ends.
package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/schema"
)

// Config is how to reach the source server.
type Config struct {
	Host     string
	Port     uint16
	User     string
	Password string
	// ReplicaID is the server_id sluice registers with; it must differ from
	// the ids of the source server and of every other replica.
	ReplicaID uint32
	// Filter chooses the tables and columns to capture.
	Filter *schema.Filter
	// ConnectTimeout bounds each connection attempt.
	ConnectTimeout time.Duration
	// HistoryPath is the file of the schema history, which sluice needs
	// when the server writes binlog_row_metadata=MINIMAL; empty keeps it in
	// memory only.
	HistoryPath string
}

func (c *Config) addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// Server describes the source server as sluice found it at start.
type Server struct {
	Version string
	// Flavor is mysql.MySQLFlavor or mysql.MariaDBFlavor.
	Flavor string
	// ServerID is the source's own server_id.
	ServerID uint32
	// Charsets maps collation ids to their character set names.
	Charsets map[uint64]string
	// RowMetadata is binlog_row_metadata: FULL, or MINIMAL, in which case
	// column names and keys come from information_schema.
	RowMetadata string
}

// Connector returns "mysql" or "mariadb", the name Debezium's connectors
// put in source.connector.
func (s *Server) Connector() string {
	return s.Flavor
}

// connect opens a plain SQL connection to the source.
func connect(ctx context.Context, cfg *Config) (*client.Conn, error) {
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	dialer := &net.Dialer{Timeout: timeout}
	conn, err := client.ConnectWithDialer(ctx, "tcp", cfg.addr(), cfg.User, cfg.Password, "", dialer.DialContext)
	if err != nil {
		return nil, fmt.Errorf("connect to MySQL at %s as %q: %w", cfg.addr(), cfg.User, err)
	}
	return conn, nil
}

// ErrServerSettings is wrapped by the error Inspect returns when the server
// is configured so that sluice cannot capture its changes exactly.
var ErrServerSettings = errors.New("the source server is not configured for row-based change capture")

// Inspect connects to the source, checks the settings and privileges that
// exact row capture needs, and describes the server. A setting or privilege
// that is wrong gives an error wrapping ErrServerSettings that names each
// problem, its current value and the statement that fixes it.
func Inspect(ctx context.Context, cfg *Config) (*Server, error) {
	conn, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	res, err := conn.Execute("SELECT @@version, @@server_id, @@log_bin, @@binlog_format, @@binlog_row_image")
	if err != nil {
		return nil, fmt.Errorf("read server variables: %w", err)
	}
	values := res.Values[0]
	server := &Server{Version: string(values[0].AsString())}
	server.Flavor = mysql.MySQLFlavor
	if strings.Contains(strings.ToLower(server.Version), "mariadb") {
		server.Flavor = mysql.MariaDBFlavor
	}
	server.ServerID = uint32(values[1].AsInt64())

	var problems []string
	if values[2].AsInt64() != 1 {
		problems = append(problems, "log_bin is OFF; the binary log must be on: start the server with log_bin (add `log_bin` under [mysqld]) and a server_id")
	}
	problems = append(problems, checkVariable("binlog_format", string(values[3].AsString()), "ROW")...)
	problems = append(problems, checkVariable("binlog_row_image", string(values[4].AsString()), "FULL")...)

	// MySQL 8 can log a JSON update as a diff against the old document
	// (binlog_row_value_options=PARTIAL_JSON). sluice applies the diffs to
	// the before image, which binlog_row_image=FULL keeps whole.

	// binlog_row_metadata exists from MySQL 8.0.1 and MariaDB 10.5; older
	// servers write what MINIMAL writes.
	server.RowMetadata = "MINIMAL"
	if res, err = conn.Execute("SELECT @@binlog_row_metadata"); err == nil {
		server.RowMetadata = strings.ToUpper(string(res.Values[0][0].AsString()))
	}

	missing, err := missingPrivileges(conn)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("user %q lacks the privilege(s) %s: run GRANT %s ON *.* TO <sluice user>",
			cfg.User, strings.Join(missing, ", "), strings.Join(missing, ", ")))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w at %s:\n  - %s", ErrServerSettings, cfg.addr(), strings.Join(problems, "\n  - "))
	}

	if server.Charsets, err = loadCharsets(conn); err != nil {
		return nil, err
	}
	return server, nil
}

func checkVariable(name, value, want string) []string {
	if strings.EqualFold(value, want) {
		return nil
	}
	return []string{fmt.Sprintf("%s is %s but must be %s: run SET GLOBAL %s = '%s' and add %s=%s under [mysqld] in the server's configuration",
		name, value, want, name, want, name, want)}
}

// missingPrivileges returns the privileges that streaming the binlog needs
// and that SHOW GRANTS does not list for the current user on *.*. Grants
// that come through roles are not seen; the binlog dump then fails with the
// server's own access-denied error.
func missingPrivileges(conn *client.Conn) ([]string, error) {
	res, err := conn.Execute("SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		return nil, fmt.Errorf("read the user's grants: %w", err)
	}
	granted := map[string]bool{}
	for row := range res.Values {
		grant, _ := res.GetString(row, 0)
		upper := strings.ToUpper(grant)
		on := strings.Index(upper, " ON *.* ")
		if !strings.HasPrefix(upper, "GRANT ") || on < 0 {
			continue
		}
		for _, privilege := range strings.Split(upper[len("GRANT "):on], ",") {
			granted[strings.TrimSpace(privilege)] = true
		}
	}
	if granted["ALL PRIVILEGES"] || granted["ALL"] {
		return nil, nil
	}

	var missing []string
	if !granted["REPLICATION SLAVE"] && !granted["REPLICATION REPLICA"] {
		missing = append(missing, "REPLICATION SLAVE")
	}
	// MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR and shows the
	// new name; either lets sluice read the current binlog position.
	if !granted["REPLICATION CLIENT"] && !granted["BINLOG MONITOR"] && !granted["SUPER"] {
		missing = append(missing, "REPLICATION CLIENT")
	}
	return missing, nil
}

// loadCharsets reads which character set each collation id belongs to.
func loadCharsets(conn *client.Conn) (map[uint64]string, error) {
	charsets := map[uint64]string{}
	queries := []string{
		"SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL",
		// MariaDB 10.10 and later list some collation ids only here.
		"SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY WHERE ID IS NOT NULL",
	}
	for i, query := range queries {
		res, err := conn.Execute(query)
		if err != nil {
			if i > 0 {
				continue // the table or its ID column does not exist on this server
			}
			return nil, fmt.Errorf("read collations: %w", err)
		}
		for row := range res.Values {
			id, _ := res.GetUint(row, 0)
			name, _ := res.GetString(row, 1)
			charsets[id] = name
		}
	}
	return charsets, nil
}

// CapturedTables lists the base tables that exist now and that the filter
// captures, as database and table names.
func CapturedTables(ctx context.Context, cfg *Config) ([][2]string, error) {
	conn, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	res, err := conn.Execute("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var tables [][2]string
	for row := range res.Values {
		db, _ := res.GetString(row, 0)
		table, _ := res.GetString(row, 1)
		if cfg.Filter.CapturesTable(db, table) {
			tables = append(tables, [2]string{db, table})
		}
	}
	return tables, nil
}

// CurrentPosition returns the server's binlog position now, with its GTID
// set, as a place to start reading when no position was saved.
func CurrentPosition(ctx context.Context, cfg *Config, server *Server) (offsets.Position, error) {
	conn, err := connect(ctx, cfg)
	if err != nil {
		return offsets.Position{}, err
	}
	defer conn.Close()

	// MySQL 8.2 renamed SHOW MASTER STATUS, and 8.4 removed the old name;
	// MariaDB 10.5 added SHOW BINLOG STATUS and keeps the old name too.
	statements := []string{"SHOW MASTER STATUS"}
	if server.Flavor == mysql.MySQLFlavor {
		statements = []string{"SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"}
	}
	var lastErr error
	for _, statement := range statements {
		res, err := conn.Execute(statement)
		if err != nil {
			lastErr = err
			continue
		}
		if len(res.Values) == 0 {
			return offsets.Position{}, fmt.Errorf("%s returned no row: the binary log is off", statement)
		}
		file, _ := res.GetStringByName(0, "File")
		pos, _ := res.GetUintByName(0, "Position")
		p := offsets.Position{ServerID: server.ServerID, Flavor: server.Flavor, File: file, Pos: uint32(pos), CapturedAt: time.Now().UTC()}
		if server.Flavor == mysql.MySQLFlavor {
			p.GTIDSet, _ = res.GetStringByName(0, "Executed_Gtid_Set")
		} else {
			gtid, err := conn.Execute("SELECT @@gtid_binlog_pos")
			if err != nil {
				return offsets.Position{}, fmt.Errorf("read gtid_binlog_pos: %w", err)
			}
			p.GTIDSet, _ = gtid.GetString(0, 0)
		}
		return p, nil
	}
	return offsets.Position{}, fmt.Errorf("read the current binlog position: %w", lastErr)
}

// HasBinlog reports whether the server still has the binlog file named
// file, as SHOW BINARY LOGS lists them. A file that is gone was purged, and
// reading cannot resume in it.
func HasBinlog(ctx context.Context, cfg *Config, file string) (bool, error) {
	conn, err := connect(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	files, err := binaryLogs(conn)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(files, func(f binaryLog) bool { return f.name == file }), nil
}

// binaryLog is a binlog file that the server has, with its size in bytes.
type binaryLog struct {
	name string
	size uint64
}

// binaryLogs returns the server's binlog files in the order that SHOW
// BINARY LOGS lists them, oldest first.
func binaryLogs(conn *client.Conn) ([]binaryLog, error) {
	res, err := conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("list binlog files (SHOW BINARY LOGS): %w", err)
	}
	files := make([]binaryLog, len(res.Values))
	for i := range res.Values {
		files[i].name, _ = res.GetString(i, 0)
		files[i].size, _ = res.GetUint(i, 1)
	}
	return files, nil
}

// checkGTIDSet checks that the server has executed every transaction of
// gtidSet. A set ahead of the server would make it skip the transactions
// it writes until it catches up.
func checkGTIDSet(conn *client.Conn, cfg *Config, flavor, gtidSet string) error {
	variable := "gtid_executed"
	if flavor == mysql.MariaDBFlavor {
		variable = "gtid_binlog_pos"
	}
	res, err := conn.Execute("SELECT @@GLOBAL." + variable)
	if err != nil {
		return fmt.Errorf("GTID set %q is in %s's form, but the server at %s has no %s (%w): give a GTID set in the server's form, or none",
			gtidSet, flavor, cfg.addr(), variable, err)
	}
	executedText, _ := res.GetString(0, 0)
	executed, err := mysql.ParseGTIDSet(flavor, executedText)
	if err != nil {
		return fmt.Errorf("parse the server's %s %q: %w", variable, executedText, err)
	}
	requested, err := mysql.ParseGTIDSet(flavor, gtidSet)
	if err != nil {
		return fmt.Errorf("GTID set %q is invalid: %w", gtidSet, err)
	}
	if !executed.Contain(requested) {
		return fmt.Errorf("GTID set %q is not contained in the server's %s %q: give a set of transactions that the server has executed",
			gtidSet, variable, executedText)
	}
	return nil
}

// midTransactionEvents are the binlog event types that only occur inside a
// transaction, after the GTID event that starts it, so a Query event is
// never the first. NOTE: seen on MariaDB 10.11, where every transaction
// starts with a Gtid event; on MySQL the rule rests on its Gtid and
// Anonymous_Gtid events, which no server here writes.
var midTransactionEvents = map[string]bool{
	"Query": true, "Table_map": true, "Xid": true, "XA_prepare": true,
	"Annotate_rows": true, "Rows_query": true, "Intvar": true, "Rand": true, "User var": true,
	"Begin_load_query": true, "Execute_load_query": true, "Append_block": true, "Transaction_payload": true,
}

// CheckPosition checks that reading can start at p. The server must still
// have its binlog file, and the offset must start an event outside any
// transaction or be the end of the file. The server must also have
// executed every transaction of p's GTID set. The error names what is
// wrong and the positions that would do.
func CheckPosition(ctx context.Context, cfg *Config, p offsets.Position) error {
	conn, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	if p.GTIDSet != "" {
		if err := checkGTIDSet(conn, cfg, p.Flavor, p.GTIDSet); err != nil {
			return err
		}
	}
	file, pos := p.File, p.Pos

	files, err := binaryLogs(conn)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(files, func(f binaryLog) bool { return f.name == file })
	switch {
	case i < 0 && len(files) == 0:
		return fmt.Errorf("the server at %s has no binlog file %q, nor any other (SHOW BINARY LOGS lists none): "+
			"turn on the binary log with log_bin", cfg.addr(), file)
	case i < 0:
		return fmt.Errorf("the server at %s has no binlog file %q: it has %s to %s (SHOW BINARY LOGS)",
			cfg.addr(), file, files[0].name, files[len(files)-1].name)
	}
	size := files[i].size
	if uint64(pos) > size {
		return fmt.Errorf("offset %d is past the end of %s, which has %d bytes", pos, file, size)
	}
	if uint64(pos) == size {
		return nil // the end of the file, where the next event will be
	}

	res, err := conn.Execute(fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d LIMIT 1", strings.ReplaceAll(file, "'", "''"), pos))
	var serverErr *mysql.MyError
	if errors.As(err, &serverErr) && serverErr.Code == mysql.ER_ERROR_WHEN_EXECUTING_COMMAND {
		return fmt.Errorf("offset %d of %s is not where an event starts: give an offset that SHOW BINLOG EVENTS IN '%s' lists in its Pos column", pos, file, file)
	}
	if err != nil {
		return fmt.Errorf("read the event at %s:%d (SHOW BINLOG EVENTS): %w", file, pos, err)
	}
	if len(res.Values) == 0 {
		return nil
	}
	eventType, _ := res.GetString(0, 2)
	if midTransactionEvents[eventType] || strings.Contains(eventType, "_rows") {
		return fmt.Errorf("offset %d of %s is inside a transaction, at a %s event: give the offset of the transaction's GTID event, "+
			"or of the event after the previous transaction's end, as SHOW BINLOG EVENTS IN '%s' lists them", pos, file, eventType, file)
	}
	return nil
}
