package offsets

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
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
	n, err := strconv.ParseUint(file[dot+1:], 10, 64)
	if err != nil || strings.ContainsAny(file, "/\\") {
		return 0, fmt.Errorf("binlog file name %q is not a base name with a numeric suffix, such as mysql-bin.000042", file)
	}
	return n, nil
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
	if err := p.Validate(); err != nil {
		return Position{}, err
	}
	return p, nil
}

// Validate checks that p names a binlog file with a numeric suffix and an
// offset, and that its GTID set is valid in its flavor's syntax. Its error
// wraps ErrInvalidPosition.
func (p Position) Validate() error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPosition, err)
	}
	return nil
}

// Check makes the checks of Validate and returns what is wrong without
// calling p a stored position, for a position that a user typed.
func (p Position) Check() error {
	if p.File == "" || p.Pos == 0 {
		return errors.New("binlog file or offset missing")
	}
	if _, err := fileNumber(p.File); err != nil {
		return err
	}
	if p.GTIDSet != "" {
		if _, err := p.gtids(); err != nil {
			return fmt.Errorf("GTID set %q: %w", p.GTIDSet, err)
		}
	}
	return nil
}

func (p Position) gtids() (mysql.GTIDSet, error) {
	switch p.Flavor {
	case mysql.MySQLFlavor, mysql.MariaDBFlavor:
		return mysql.ParseGTIDSet(p.Flavor, p.GTIDSet)
	}
	return nil, fmt.Errorf("flavor %q is not mysql or mariadb", p.Flavor)
}

// CompareGTIDSets compares the GTID sets of p and q as sets: -1 when p's is
// a proper subset of q's, 0 when they are equal, +1 when it is a proper
// superset. comparable is false when neither contains the other, or when
// either position has no GTID set.
func (p Position) CompareGTIDSets(q Position) (order int, comparable bool, err error) {
	if p.GTIDSet == "" || q.GTIDSet == "" {
		return 0, false, nil
	}
	if p.Flavor != q.Flavor {
		return 0, false, fmt.Errorf("cannot compare a %s GTID set with a %s one", p.Flavor, q.Flavor)
	}
	a, err := p.gtids()
	if err != nil {
		return 0, false, err
	}
	b, err := q.gtids()
	if err != nil {
		return 0, false, err
	}
	aHasB, bHasA := a.Contain(b), b.Contain(a)
	switch {
	case aHasB && bHasA:
		return 0, true, nil
	case bHasA:
		return -1, true, nil
	case aHasB:
		return 1, true, nil
	}
	return 0, false, nil
}
