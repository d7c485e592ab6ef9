package offsets

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// validTable allows unquoted identifiers of at most 63 characters, the
// limit of PostgreSQL (MySQL allows 64).
var validTable = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// positionsTable returns the table name of the settings, or the default
// when it is empty.
func positionsTable(table, variable string) (string, error) {
	if table == "" {
		return DefaultPositionsTable, nil
	}
	if !validTable.MatchString(table) {
		return "", fmt.Errorf("%s %q is not a valid table name: use up to 63 letters, digits and underscores, starting with a letter or underscore", variable, table)
	}
	return table, nil
}

// The columns of a positions table. position contains the JSON of
// Position.Marshal, and the other columns copy its fields so that people can
// query them. All times are UTC.
const (
	columnStream     = "stream"
	columnPosition   = "position"
	columnServerID   = "server_id"
	columnBinlogFile = "binlog_file"
	columnBinlogPos  = "binlog_pos"
	columnGTIDSet    = "gtid_set"
	columnCapturedAt = "captured_at"
	columnUpdatedAt  = "updated_at"
)

// columnKind is the family of a column type, as far as the trackers care.
type columnKind int

const (
	kindOther columnKind = iota
	kindText
	kindJSON
	// kindWideInteger holds every uint32.
	kindWideInteger
	// kindNarrowInteger may not hold every uint32.
	kindNarrowInteger
	kindTimestamp
)

// tableShape is the catalog's description of the table that has the
// positions table's name.
type tableShape struct {
	exists bool
	// notTable is set for a view or another relation that is not a table.
	notTable bool
	// columns are keyed by name.
	columns map[string]columnShape
	// streamUnique is set when a unique index covers the stream column
	// alone, as the upsert needs.
	streamUnique bool
}

type columnShape struct {
	// typ is the type as the catalog writes it, for messages.
	typ  string
	kind columnKind
	// needsValue is set for a NOT NULL column without a default, which
	// every INSERT must name.
	needsValue bool
}

// requiredColumn is a column of a positions table and the type families it
// accepts.
type requiredColumn struct {
	name  string
	kinds []columnKind
	// want describes the kinds for messages.
	want string
}

var requiredColumns = []requiredColumn{
	{columnStream, []columnKind{kindText}, "a character type"},
	{columnPosition, []columnKind{kindText, kindJSON}, "a text or JSON type"},
	{columnServerID, []columnKind{kindWideInteger}, "an integer type that holds 0 to 4294967295"},
	{columnBinlogFile, []columnKind{kindText}, "a character type"},
	{columnBinlogPos, []columnKind{kindWideInteger}, "an integer type that holds 0 to 4294967295"},
	{columnGTIDSet, []columnKind{kindText}, "a character type"},
	{columnCapturedAt, []columnKind{kindTimestamp}, "a timestamp type"},
	{columnUpdatedAt, []columnKind{kindTimestamp}, "a timestamp type"},
}

// problems lists how an existing table differs from a positions table, or
// nothing when the trackers can use it.
func (s tableShape) problems() []string {
	var problems, missing []string
	if s.notTable {
		problems = append(problems, "it is a view or another relation, not a table")
	}
	for _, required := range requiredColumns {
		column, ok := s.columns[required.name]
		if !ok {
			missing = append(missing, required.name)
			continue
		}
		if !slices.Contains(required.kinds, column.kind) {
			problems = append(problems, fmt.Sprintf("column %s is %s, want %s", required.name, column.typ, required.want))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing columns "+strings.Join(missing, ", "))
	}
	if _, ok := s.columns[columnStream]; ok && !s.streamUnique {
		problems = append(problems, "column stream has no primary key or unique index of its own")
	}

	var extra []string
	for name, column := range s.columns {
		isRequired := slices.ContainsFunc(requiredColumns, func(r requiredColumn) bool { return r.name == name })
		if column.needsValue && !isRequired {
			extra = append(extra, name)
		}
	}
	switch {
	case len(extra) == 1:
		problems = append(problems, "column "+extra[0]+" is NOT NULL without a default, so sluice cannot insert rows")
	case len(extra) > 1:
		slices.Sort(extra)
		problems = append(problems, "columns "+strings.Join(extra, ", ")+" are NOT NULL without a default, so sluice cannot insert rows")
	}
	return problems
}
