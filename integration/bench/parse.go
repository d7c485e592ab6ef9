package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/offsets"
)

// phaseFigures are one measurement split at the boundary between the load's
// two phases.
type phaseFigures struct {
	singleRows, batchRows int
	singleTime, batchTime time.Duration
}

func (p phaseFigures) totalRows() int           { return p.singleRows + p.batchRows }
func (p phaseFigures) totalTime() time.Duration { return p.singleTime + p.batchTime }

// parseResult is the go-mysql parse-only ceiling.
type parseResult struct {
	phaseFigures
	// singleBytes and batchBytes are the sizes of the events that the
	// server sent for each phase, all databases included. They are smaller
	// than the binlog file bytes, because MariaDB sends ANNOTATE_ROWS events
	// only on request. go-mysql v1.16.0 requests them only when
	// DumpCommandFlag or FillZeroLogPos is set, and neither sluice nor the
	// bench sets them.
	singleBytes, batchBytes int64
	machineBusy             float64
}

// measureParse reads the binlog from the load's start to its end with a
// BinlogSyncer configured as source/reader.go configures sluice's, decoding
// every event and counting the rows of the bench table.
func measureParse(ctx context.Context, s *settings, l *loadResult) (result parseResult, err error) {
	host, portText, err := net.SplitHostPort(s.mysqlAddr)
	if err != nil {
		return result, fmt.Errorf("invalid -mysql %q: %w", s.mysqlAddr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return result, fmt.Errorf("invalid port in -mysql %q: %w", s.mysqlAddr, err)
	}

	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:                uniqueServerID(),
		Flavor:                  mysql.MariaDBFlavor,
		Host:                    host,
		Port:                    uint16(port),
		User:                    s.replUser,
		Password:                s.replPassword,
		TimestampStringLocation: time.UTC,
		HeartbeatPeriod:         time.Second,
		ReadTimeout:             30 * time.Second,
		DisableRetrySync:        true,
		Logger:                  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer syncer.Close()

	ctx, cancel := context.WithTimeout(ctx, s.sluiceTimeout)
	defer cancel()

	cpu := readMachineCPU()
	began := time.Now()
	streamer, err := syncer.StartSync(mysql.Position{Name: l.start.File, Pos: l.start.Pos})
	if err != nil {
		return result, fmt.Errorf("start reading the binlog at %s: %w", l.start, err)
	}

	file := l.start.File
	last := l.start
	inSingle := true
	var rows int
	var bytes int64
	for {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			return result, fmt.Errorf("read the binlog after %s:%d, before reaching %s: %w", last.File, last.Pos, l.end, err)
		}
		header := ev.Header
		// A rotate event ends the old file, so its offset is still one in
		// the old file, and the file changes after it.
		at := offsets.Position{File: file, Pos: header.LogPos}
		switch e := ev.Event.(type) {
		case *replication.RotateEvent:
			file = string(e.NextLogName)
		case *replication.RowsEvent:
			if e.Table != nil && string(e.Table.Schema) == benchDatabase && string(e.Table.Table) == benchTable {
				rows += len(e.Rows)
			}
		}
		// The server starts the dump with the rotate event that names the
		// first file, at offset 0, and that file's format description, which
		// ends before the start position. Neither is part of the load.
		if header.LogPos == 0 || at.Compare(l.start) <= 0 {
			continue
		}
		last = at
		bytes += int64(header.EventSize)

		if inSingle && at.Compare(l.middle) >= 0 {
			result.singleRows, result.singleTime, result.singleBytes = rows, time.Since(began), bytes
			rows, bytes = 0, 0
			inSingle = false
		}
		if !inSingle && at.Compare(l.end) >= 0 {
			result.batchRows, result.batchBytes = rows, bytes
			result.batchTime = time.Since(began) - result.singleTime
			break
		}
	}
	result.machineBusy = readMachineCPU().busySince(cpu)

	if result.singleRows != l.singleRows || result.batchRows != l.batches*l.batchRows {
		return result, fmt.Errorf("decoded %d and %d rows of %s.%s in the two phases, want %d and %d",
			result.singleRows, result.batchRows, benchDatabase, benchTable, l.singleRows, l.batches*l.batchRows)
	}
	return result, nil
}

// uniqueServerID returns a random server_id for a replica connection, far
// above the ids that deploy/local and the integration tests use, because two
// replicas with the same id disconnect each other.
func uniqueServerID() uint32 {
	return 1_000_000_000 + rand.Uint32N(1_000_000_000)
}
