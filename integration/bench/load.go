package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-cdc/sluice/offsets"
)

const (
	benchDatabase = "sluice_bench"
	benchTable    = "orders"
)

// The columns give each row an "after" image of 110 to 135 bytes of JSON,
// such as {"id":1,"customer_id":12345,"item":"item-00000001-...",
// "amount":"123.45","created_at":"2026-01-01 00:00:01"}.
const createTable = `CREATE TABLE ` + benchDatabase + `.` + benchTable + ` (
	id BIGINT NOT NULL PRIMARY KEY,
	customer_id INT NOT NULL,
	item VARCHAR(64) NOT NULL,
	amount DECIMAL(10,2) NOT NULL,
	created_at DATETIME NOT NULL
) ENGINE=InnoDB`

// sqlTimeout bounds every read and write on a MariaDB connection of the
// load, so a stuck server fails the run instead of hanging it.
const sqlTimeout = 2 * time.Minute

// loadResult is the outcome of the load: the binlog positions around its
// two phases and how long each phase took.
type loadResult struct {
	serverID uint32
	version  string

	singleRows int
	batches    int
	batchRows  int

	// start is before the first insert, middle between the phases, end
	// after the last insert.
	start, middle, end offsets.Position
	// singleBytes and batchBytes are the binlog file bytes of each phase,
	// all databases included.
	singleBytes, batchBytes int64

	singleTime, batchTime time.Duration
}

func (l *loadResult) rows() int {
	return l.singleRows + l.batches*l.batchRows
}

func (l *loadResult) total() time.Duration {
	return l.singleTime + l.batchTime
}

func connect(ctx context.Context, addr, user, password string) (*client.Conn, error) {
	timeouts := func(c *client.Conn) error {
		c.ReadTimeout, c.WriteTimeout = sqlTimeout, sqlTimeout
		return nil
	}
	conn, err := client.ConnectWithContext(ctx, addr, user, password, "", 10*time.Second, timeouts)
	if err != nil {
		return nil, fmt.Errorf("connect to MariaDB at %s as %q: %w", addr, user, err)
	}
	return conn, nil
}

func execAll(conn *client.Conn, statements ...string) error {
	for _, statement := range statements {
		if _, err := conn.Execute(statement); err != nil {
			return fmt.Errorf("%.80s: %w", statement, err)
		}
	}
	return nil
}

// load recreates the bench database and writes both phases, recording the
// binlog position before, between and after them.
func load(ctx context.Context, s *settings) (result loadResult, err error) {
	result.singleRows, result.batches, result.batchRows = s.singleRows, s.batches, s.batchRows

	conn, err := connect(ctx, s.mysqlAddr, s.rootUser, s.rootPassword)
	if err != nil {
		return result, err
	}
	defer conn.Close()

	res, err := conn.Execute("SELECT @@server_id, @@version")
	if err != nil {
		return result, fmt.Errorf("read server_id: %w", err)
	}
	id, _ := res.GetUint(0, 0)
	result.serverID = uint32(id)
	result.version, _ = res.GetString(0, 1)

	if err := execAll(conn,
		"DROP DATABASE IF EXISTS "+benchDatabase,
		"CREATE DATABASE "+benchDatabase+" CHARACTER SET utf8mb4",
		createTable,
	); err != nil {
		return result, err
	}

	if s.relaxFlush {
		restore, err := relaxFlush(conn)
		if err != nil {
			return result, err
		}
		defer func() {
			err = errors.Join(err, restore())
		}()
	}

	if result.start, err = binlogPosition(conn, result.serverID); err != nil {
		return result, err
	}

	began := time.Now()
	err = insertParallel(ctx, s, s.singleRows, func(conn *client.Conn, i int) error {
		_, err := conn.Execute(insertStatement(int64(i)+1, 1))
		return err
	})
	if err != nil {
		return result, fmt.Errorf("single-row phase: %w", err)
	}
	result.singleTime = time.Since(began)
	if result.middle, err = binlogPosition(conn, result.serverID); err != nil {
		return result, err
	}

	began = time.Now()
	first := int64(s.singleRows) + 1
	err = insertParallel(ctx, s, s.batches, func(conn *client.Conn, i int) error {
		// One INSERT of batchRows rows in autocommit mode is one transaction.
		_, err := conn.Execute(insertStatement(first+int64(i)*int64(s.batchRows), s.batchRows))
		return err
	})
	if err != nil {
		return result, fmt.Errorf("%d-row phase: %w", s.batchRows, err)
	}
	result.batchTime = time.Since(began)
	if result.end, err = binlogPosition(conn, result.serverID); err != nil {
		return result, err
	}

	if result.singleBytes, err = binlogBytes(conn, result.start, result.middle); err != nil {
		return result, err
	}
	if result.batchBytes, err = binlogBytes(conn, result.middle, result.end); err != nil {
		return result, err
	}
	return result, nil
}

// binlogBytes returns the number of binlog file bytes from one position to
// a later one, reading the file sizes from SHOW BINARY LOGS when the two
// positions are in different files.
func binlogBytes(conn *client.Conn, from, to offsets.Position) (int64, error) {
	if from.File == to.File {
		return int64(to.Pos) - int64(from.Pos), nil
	}
	res, err := conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		return 0, fmt.Errorf("SHOW BINARY LOGS: %w", err)
	}
	var total int64
	for row := range res.Values {
		name, _ := res.GetStringByName(row, "Log_name")
		size, _ := res.GetIntByName(row, "File_size")
		file := offsets.Position{File: name}
		switch {
		case name == from.File:
			total += size - int64(from.Pos)
		case name == to.File:
			total += int64(to.Pos)
		case file.Compare(offsets.Position{File: from.File}) > 0 && file.Compare(offsets.Position{File: to.File}) < 0:
			total += size
		}
	}
	return total, nil
}

// relaxFlush lowers the server's durability for a faster load and returns
// the function that restores the old values. The new values are global, so
// they also apply to other sessions of the server until restored.
func relaxFlush(conn *client.Conn) (restore func() error, err error) {
	res, err := conn.Execute("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit, @@GLOBAL.sync_binlog")
	if err != nil {
		return nil, fmt.Errorf("read flush settings: %w", err)
	}
	flushLog, _ := res.GetInt(0, 0)
	syncBinlog, _ := res.GetUint(0, 1)
	if err := execAll(conn,
		"SET GLOBAL innodb_flush_log_at_trx_commit = 2",
		"SET GLOBAL sync_binlog = 0",
	); err != nil {
		return nil, err
	}
	restore = func() error {
		return execAll(conn,
			fmt.Sprintf("SET GLOBAL innodb_flush_log_at_trx_commit = %d", flushLog),
			fmt.Sprintf("SET GLOBAL sync_binlog = %d", syncBinlog),
		)
	}
	return restore, nil
}

// binlogPosition reads the server's current binlog file, offset and GTID
// position.
func binlogPosition(conn *client.Conn, serverID uint32) (offsets.Position, error) {
	res, err := conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		return offsets.Position{}, fmt.Errorf("SHOW MASTER STATUS: %w", err)
	}
	if len(res.Values) == 0 {
		return offsets.Position{}, errors.New("SHOW MASTER STATUS returned no row: the binary log is off")
	}
	file, _ := res.GetStringByName(0, "File")
	pos, _ := res.GetUintByName(0, "Position")
	gtid, err := conn.Execute("SELECT @@gtid_binlog_pos")
	if err != nil {
		return offsets.Position{}, fmt.Errorf("read gtid_binlog_pos: %w", err)
	}
	gtidSet, _ := gtid.GetString(0, 0)
	return offsets.Position{
		ServerID:   serverID,
		Flavor:     "mariadb",
		File:       file,
		Pos:        uint32(pos),
		GTIDSet:    gtidSet,
		CapturedAt: time.Now().UTC(),
	}, nil
}

// insertParallel calls insert for i in [0, n) over s.connections
// connections, each taking every s.connections-th i. It stops at the first
// error or when ctx ends.
func insertParallel(ctx context.Context, s *settings, n int, insert func(conn *client.Conn, i int) error) error {
	workers := min(s.connections, n)
	conns := make([]*client.Conn, 0, workers)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range workers {
		c, err := connect(ctx, s.mysqlAddr, s.rootUser, s.rootPassword)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for w, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if ctx.Err() != nil {
					return
				}
				if err := insert(conn, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// insertStatement returns an INSERT of rows rows with ids first,
// first+1, and so on. Every value derives from the id, so two runs write
// the same data.
func insertStatement(first int64, rows int) string {
	var b strings.Builder
	b.Grow(64 + rows*100)
	b.WriteString("INSERT INTO " + benchDatabase + "." + benchTable + " (id, customer_id, item, amount, created_at) VALUES ")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for id := first; id < first+int64(rows); id++ {
		if id > first {
			b.WriteByte(',')
		}
		mixed := uint64(id) * 0x9E3779B97F4A7C15 // spreads neighbouring ids apart
		fmt.Fprintf(&b, "(%d,%d,'item-%08x-%s',%d.%02d,'%s')",
			id,
			mixed%1_000_000,
			uint32(mixed>>32),
			itemNames[mixed%uint64(len(itemNames))],
			(mixed>>8)%100_000, (mixed>>24)%100,
			base.Add(time.Duration(id)*time.Second).Format(time.DateTime))
	}
	return b.String()
}

var itemNames = []string{
	"blue-widget-large", "red-gadget", "green-sprocket-pack", "steel-bolt-m8",
	"oak-shelf", "paper-towels-12", "usb-c-cable-2m", "ceramic-mug",
}

// dropDatabase removes the bench database.
func dropDatabase(ctx context.Context, s *settings) error {
	conn, err := connect(ctx, s.mysqlAddr, s.rootUser, s.rootPassword)
	if err != nil {
		return err
	}
	defer conn.Close()
	return execAll(conn, "DROP DATABASE IF EXISTS "+benchDatabase)
}
