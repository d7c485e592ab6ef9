package offsets

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Position is a point in a source server's binlog at which a transaction
// ended: everything before it has been committed to Kafka, and reading can
// resume there without splitting a transaction.
type Position struct {
	// ServerID is the server_id of the source server that wrote the binlog.
	ServerID uint32 `json:"server_id"`
	// Flavor is "mysql" or "mariadb", the syntax of GTIDSet.
	Flavor string `json:"flavor"`
	// File and Pos name the binlog file and the byte offset after the last
	// event of the transaction.
	File string `json:"file"`
	Pos  uint32 `json:"pos"`
	// GTIDSet is the set of transactions executed up to this point, in the
	// server's own text form, or "" when the server writes no GTIDs.
	GTIDSet string `json:"gtid_set,omitempty"`
	// CapturedAt is when sluice read the transaction that ends here.
	CapturedAt time.Time `json:"captured_at"`
	// SkipRowsEvents is non-zero for a position inside a transaction that
	// was too large for one Kafka transaction: File and Pos name the
	// transaction's start, and the transaction's first SkipRowsEvents rows
	// events are already committed.
	SkipRowsEvents int `json:"skip_rows_events,omitempty"`
	// Stream is the stream whose position this is, written by the file
	// tracker so that a file copied from another stream is noticed.
	Stream string `json:"stream,omitempty"`
}

// IsZero reports whether p names no binlog position.
func (p Position) IsZero() bool {
	return p.File == ""
}

// String returns the position as file:pos, followed by the GTID set if any.
func (p Position) String() string {
	if p.IsZero() {
		return "(none)"
	}
	s := p.File + ":" + strconv.FormatUint(uint64(p.Pos), 10)
	if p.SkipRowsEvents > 0 {
		s += "+" + strconv.Itoa(p.SkipRowsEvents) + " rows events"
	}
	if p.GTIDSet != "" {
		s += " gtid=" + p.GTIDSet
	}
	return s
}

// Compare orders two positions of the same server by binlog file and
// offset. It returns -1, 0 or +1. Binlog files compare by the number after
// the last dot, so mysql-bin.1000000 follows mysql-bin.999999.
func (p Position) Compare(q Position) int {
	if c := compareFiles(p.File, q.File); c != 0 {
		return c
	}
	switch {
	case p.Pos < q.Pos:
		return -1
	case p.Pos > q.Pos:
		return 1
	case p.SkipRowsEvents < q.SkipRowsEvents:
		return -1
	case p.SkipRowsEvents > q.SkipRowsEvents:
		return 1
	}
	return 0
}

func compareFiles(a, b string) int {
	na, errA := fileNumber(a)
	nb, errB := fileNumber(b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	switch {
	case na < nb:
		return -1
	case na > nb:
		return 1
	}
	return 0
}

func fileNumber(file string) (uint64, error) {
	dot := strings.LastIndexByte(file, '.')
	if dot < 0 {
		return 0, fmt.Errorf("binlog file name %q has no numeric suffix", file)
	}
	return strconv.ParseUint(file[dot+1:], 10, 64)
}

// Marshal returns the stored form of a position: a JSON object.
func (p Position) Marshal() ([]byte, error) {
	return json.Marshal(p)
}

// ErrInvalidPosition is returned by ParsePosition for a stored position
// that is not a JSON object with a binlog file and offset.
var ErrInvalidPosition = errors.New("invalid stored position")

// ParsePosition reads a position from its stored form.
func ParsePosition(data []byte) (Position, error) {
	var p Position
	if err := json.Unmarshal(data, &p); err != nil {
		return Position{}, fmt.Errorf("%w: %v", ErrInvalidPosition, err)
	}
	if p.File == "" || p.Pos == 0 {
		return Position{}, fmt.Errorf("%w: binlog file or offset missing in %q", ErrInvalidPosition, data)
	}
	if _, err := fileNumber(p.File); err != nil {
		return Position{}, fmt.Errorf("%w: %v", ErrInvalidPosition, err)
	}
	return p, nil
}
