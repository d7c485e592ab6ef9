package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	pingcap "github.com/pingcap/errors"

	"github.com/sluice-cdc/sluice/source"
)

func TestRetryableSourceError(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"bad connection as go-mysql wraps it", pingcap.Wrapf(mysql.ErrBadConn, "io.ReadFull(header) failed. err %v", io.EOF), true},
		{"end of stream", fmt.Errorf("read: %w", io.EOF), true},
		{"connection reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{"connection refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"server shutting down", &mysql.MyError{Code: mysql.ER_SERVER_SHUTDOWN}, true},
		{"connection killed", &mysql.MyError{Code: 1927}, true},
		{"binlog purged", &mysql.MyError{Code: mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG}, false},
		{"access denied", &mysql.MyError{Code: mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR}, false},
		{"statement-format change", fmt.Errorf("at binlog x: %w", source.ErrStatementDML), false},
		{"decoding failure", errors.New("table a.b: column c: unsupported column type 242"), false},
		{"uncertain commit over a lost connection", fmt.Errorf("commit: %w: %w", io.EOF, errCommitUncertain), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryableSourceError(tc.err); got != tc.want {
				t.Errorf("retryableSourceError(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"refused inside a wrapped error", fmt.Errorf("postgres tracker: cannot connect: %w", syscall.ECONNREFUSED), true},
		{"refused among joined errors", errors.Join(errors.New("create container"), &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{"name not resolved", &net.DNSError{Err: "no such host", Name: "tracker-db", IsNotFound: true}, true},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true},
		{"access denied", &mysql.MyError{Code: mysql.ER_ACCESS_DENIED_ERROR}, false},
		{"invalid setting", errors.New("SLUICE_OFFSETS_FILE_MODE \"999\" is not an octal permission"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := unreachable(tc.err); got != tc.want {
				t.Errorf("unreachable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
