package source

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/schema"
)

// history keeps the table descriptions that sluice read from
// information_schema for a server with binlog_row_metadata=MINIMAL, each
// with the binlog position from which it is valid, in a file of JSON
// lines. A description is appended and synced before any record decoded
// with it is produced, so a restart from an older position decodes each
// event with the columns that were valid at its position, even after the
// table has changed.
//
// A DDL statement appends an entry without a description for each table it
// names, or one without a table when its tables are unknown: from there on,
// those tables must be described anew.
type history struct {
	path    string
	entries []historyEntry
}

type historyEntry struct {
	File string `json:"file"`
	Pos  uint32 `json:"pos"`
	// Database and Table are empty for the entry of a DDL statement whose
	// tables are unknown. Described is nil for the entry of a DDL statement.
	Database  string            `json:"db,omitempty"`
	Table     string            `json:"table,omitempty"`
	Described *schema.Described `json:"described,omitempty"`
}

func (e *historyEntry) position() offsets.Position {
	return offsets.Position{File: e.File, Pos: e.Pos}
}

// loadHistory reads the history file at path; a missing file is an empty
// history. An empty path keeps the history in memory only.
func loadHistory(path string) (*history, error) {
	h := &history{path: path}
	if path == "" {
		return h, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open schema history: %w", err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for line := 1; scanner.Scan(); line++ {
		var e historyEntry
		if err := json.Unmarshal(scanner.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("schema history %s line %d: %w; a crash can leave the last line incomplete: remove that line", path, line, err)
		}
		h.entries = append(h.entries, e)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read schema history %s: %w", path, err)
	}
	return h, nil
}

// lookup returns the description of db.table valid at position at, or nil
// when the history has none: never described, or changed by a DDL
// statement since.
func (h *history) lookup(db, table string, at offsets.Position) *schema.Described {
	var newest *historyEntry
	for i := range h.entries {
		e := &h.entries[i]
		if e.Table != "" && (e.Database != db || e.Table != table) {
			continue
		}
		p := e.position()
		if p.Compare(at) > 0 {
			continue
		}
		// At equal positions the later line wins.
		if newest == nil || p.Compare(newest.position()) >= 0 {
			newest = e
		}
	}
	if newest == nil {
		return nil
	}
	return newest.Described // nil for a DDL statement's entry
}

// covers reports whether the history already has entries at or after at:
// a stream read again from an older position must decode with what was
// recorded the first time, not with descriptions of the table as it is
// now.
func (h *history) covers(at offsets.Position) bool {
	for i := range h.entries {
		if h.entries[i].position().Compare(at) >= 0 {
			return true
		}
	}
	return false
}

// append adds an entry and, with a file, writes and syncs it before it
// returns.
func (h *history) append(e historyEntry) error {
	h.entries = append(h.entries, e)
	if h.path == "" {
		return nil
	}
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o750); err != nil {
		return fmt.Errorf("create schema history directory: %w", err)
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open schema history: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write schema history: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync schema history: %w", err)
	}
	return f.Close()
}

// inUse reports whether any table was described, so that DDL statements
// need recording.
func (h *history) inUse() bool {
	return len(h.entries) > 0
}

// positionAt returns the position of file and offset, for lookups.
func positionAt(file string, pos uint32) offsets.Position {
	return offsets.Position{File: file, Pos: pos}
}
