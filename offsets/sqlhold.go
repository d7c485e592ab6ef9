package offsets

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

var _ Holder = (*SQLTracker)(nil)

// sqlHoldCheck is how often a hold checks that its connection, and so its
// lock, is still alive.
const sqlHoldCheck = 5 * time.Second

// Hold takes a session lock named after the table and the stream on a
// connection of its own: GET_LOCK in MySQL and MariaDB, an advisory lock in
// PostgreSQL. The server releases it when that connection ends, so a killed
// worker's lock goes with it.
func (t *SQLTracker) Hold(ctx context.Context, stream string) (Hold, error) {
	if err := checkStreamID(stream); err != nil {
		return nil, err
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return nil, t.fail("hold a stream in", err)
	}
	name := sqlLockName(t.table, stream)

	var acquire, release string
	switch t.dialect.(type) {
	case postgresDialect:
		acquire = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"
		release = "SELECT pg_advisory_unlock(hashtextextended($1, 0))"
	default:
		acquire = "SELECT COALESCE(GET_LOCK(?, 0), 0) = 1"
		release = "SELECT RELEASE_LOCK(?)"
	}
	var acquired bool
	if err := conn.QueryRowContext(ctx, acquire, name).Scan(&acquired); err != nil {
		conn.Close()
		return nil, t.fail("hold a stream in", err)
	}
	if !acquired {
		conn.Close()
		return nil, fmt.Errorf("%w: another sluice process holds stream %q (lock %q on %s); "+
			"stop it first, or give this one another SLUICE_STREAM_ID", ErrHeld, stream, name, t.server)
	}

	h := &sqlHold{conn: conn, release: release, name: name, lost: make(chan struct{}), done: make(chan struct{})}
	go h.watch()
	return h, nil
}

// sqlLockName returns a lock name of at most 64 characters, the limit of
// GET_LOCK, for the stream's row in table.
func sqlLockName(table, stream string) string {
	name := "sluice/" + table + "/" + stream
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "sluice/" + hex.EncodeToString(sum[:20])
}

type sqlHold struct {
	conn    *sql.Conn
	release string
	name    string

	lost     chan struct{}
	lostOnce sync.Once
	done     chan struct{}
	stopOnce sync.Once
}

// watch closes lost when the lock's connection fails, because the server
// has then released the lock.
func (h *sqlHold) watch() {
	ticker := time.NewTicker(sqlHoldCheck)
	defer ticker.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-ticker.C:
			ctx, cancel := context.WithTimeout(context.Background(), sqlHoldCheck)
			err := h.conn.PingContext(ctx)
			cancel()
			if err != nil {
				h.lostOnce.Do(func() { close(h.lost) })
				return
			}
		}
	}
}

func (h *sqlHold) Lost() <-chan struct{} { return h.lost }

func (h *sqlHold) Release(ctx context.Context) error {
	var err error
	h.stopOnce.Do(func() {
		close(h.done)
		_, err = h.conn.ExecContext(ctx, h.release, h.name)
		if closeErr := h.conn.Close(); err == nil {
			err = closeErr
		}
	})
	return err
}
