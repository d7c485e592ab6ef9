//go:build integration

package integration

import (
	"context"
	"errors"
	"testing"

	"github.com/sluice-cdc/sluice/offsets"
)

// TestSQLTrackerHoldsStream checks that a SQL tracker's hold on a stream
// keeps a second tracker out until it is released, with MariaDB and with
// PostgreSQL.
func TestSQLTrackerHoldsStream(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"mysql", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			table := trackerTableName("holds")
			if kind == "mysql" {
				conn := mysqlTrackerConn(t)
				dropMySQLTableAtEnd(t, conn, table)
				t.Setenv("SLUICE_OFFSETS_MYSQL_DSN", mysqlTrackerDSN("root", ""))
				t.Setenv("SLUICE_OFFSETS_MYSQL_TABLE", table)
			} else {
				conn := postgresTrackerConn(t)
				dropPostgresTableAtEnd(t, conn, table)
				t.Setenv("SLUICE_OFFSETS_POSTGRES_DSN", postgresTrackerDSN(postgresPassword))
				t.Setenv("SLUICE_OFFSETS_POSTGRES_TABLE", table)
			}
			open := func() offsets.Holder {
				tracker, err := offsets.Open(ctx, kind)
				if err != nil {
					t.Fatalf("open %s tracker: %v", kind, err)
				}
				t.Cleanup(func() { tracker.Close() })
				holder, ok := tracker.(offsets.Holder)
				if !ok {
					t.Fatalf("the %s tracker cannot hold streams", kind)
				}
				return holder
			}
			first, second := open(), open()

			hold, err := first.Hold(ctx, "held-stream")
			if err != nil {
				t.Fatalf("first Hold: %v", err)
			}
			if _, err := second.Hold(ctx, "held-stream"); !errors.Is(err, offsets.ErrHeld) {
				t.Fatalf("second Hold while the first holds: err = %v, want ErrHeld", err)
			}
			other, err := second.Hold(ctx, "other-stream")
			if err != nil {
				t.Fatalf("Hold of another stream: %v", err)
			}
			if err := other.Release(ctx); err != nil {
				t.Errorf("Release of another stream: %v", err)
			}
			select {
			case <-hold.Lost():
				t.Fatal("the hold reports it is lost while its connection is alive")
			default:
			}
			if err := hold.Release(ctx); err != nil {
				t.Fatalf("Release: %v", err)
			}
			again, err := second.Hold(ctx, "held-stream")
			if err != nil {
				t.Fatalf("second Hold after Release: %v", err)
			}
			if err := again.Release(ctx); err != nil {
				t.Errorf("Release: %v", err)
			}
		})
	}
}
