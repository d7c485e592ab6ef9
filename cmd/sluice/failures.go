package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-cdc/sluice/source"
)

// explain adds the likely cause and the fix to errors whose own text
// does not name the setting behind them.
func (w *worker) explain(err error) error {
	var myErr *mysql.MyError
	switch {
	case errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch):
		return fmt.Errorf("another sluice with SLUICE_STREAM_ID=%s started and took over this stream, so this one stops; "+
			"run one sluice per stream: %w", w.cfg.StreamID, err)
	case errors.As(err, &myErr) && (myErr.Code == 4052 || (myErr.Code == mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG &&
		strings.Contains(myErr.Message, "same server_uuid/server_id"))):
		// 4052 is MariaDB's ER_SLAVE_SAME_ID; MySQL reports the same case
		// as a fatal binlog read error.
		return fmt.Errorf("another replica of the source uses server_id %d; give each sluice and each replica its own "+
			"SLUICE_SERVER_ID: %w", w.cfg.ServerID, err)
	}
	return err
}

// commitBeforeFailure commits the whole source transactions read before a
// fatal error, so that a stream stopping at a bad event still delivers
// everything before it, and its position stops right before that event.
// When the failing transaction had already put records into the open Kafka
// transaction, those cannot be taken out: the Kafka transaction is aborted
// and the whole transactions are read and produced again.
func (w *worker) commitBeforeFailure() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TransactionTimeout)
	defer cancel()
	if !w.uncommitted {
		return w.producer.Abort(ctx)
	}
	if w.producer.Records() == w.recordsAtEnd {
		return w.commit(ctx)
	}

	target := w.pending
	if err := w.producer.Abort(ctx); err != nil {
		return err
	}
	w.pending = w.committed
	w.setUncommitted(false)
	w.log.Info().Str("from", w.committed.String()).Str("to", target.String()).
		Msg("committing the transactions read before the error")

	reader, err := source.NewReader(&w.sourceCfg, w.server, w.committed, w.log)
	if err != nil {
		return err
	}
	defer reader.Close()
	for {
		step, err := reader.Next(ctx)
		if err != nil {
			return fmt.Errorf("read again up to %s: %w", target, err)
		}
		for i := range step.Changes {
			if err := w.produce(&step.Changes[i]); err != nil {
				return err
			}
		}
		if err := w.produceStatement(&step); err != nil {
			return err
		}
		if step.End {
			w.pending = step.Position
			w.setUncommitted(true)
			if step.Position.Compare(target) >= 0 {
				return w.commit(ctx)
			}
		}
	}
}

// backoff returns the wait before retry attempt n: exponential from 250ms,
// capped at 10s, with up to 20 % jitter.
func backoff(n int) time.Duration {
	d := 250 * time.Millisecond << min(n-1, 6)
	d = min(d, 10*time.Second)
	return d - time.Duration(time.Now().UnixNano()%int64(d/5+1))
}

// retryableSourceError decides whether a failure to read the binlog is a
// lost connection worth reconnecting for. Everything else is fatal: bad
// data, access denied, a purged binlog.
func retryableSourceError(err error) bool {
	var myErr *mysql.MyError
	switch {
	case errors.Is(err, source.ErrStatementDML), errors.Is(err, source.ErrPartialRowImage), errors.Is(err, errCommitUncertain):
		return false
	case errors.As(err, &myErr):
		// The server ended the session: it is shutting down, or an operator
		// killed the connection (1927 is MariaDB's ER_CONNECTION_KILLED).
		// Any other server error is a refusal that reconnecting would not
		// change.
		switch myErr.Code {
		case mysql.ER_SERVER_SHUTDOWN, mysql.ER_QUERY_INTERRUPTED, 1927:
			return true
		}
		return false
	case errors.Is(err, mysql.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return unreachable(err)
}

// unreachable reports whether err is a failure to reach a server over the
// network: a refused, reset or timed-out connection, or a name that does
// not resolve. Such a failure may pass once the server is up.
func unreachable(err error) bool {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
