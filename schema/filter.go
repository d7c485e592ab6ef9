package schema

import (
	"fmt"
	"regexp"
	"strings"
)

// systemDatabases are the server's own databases, never captured.
var systemDatabases = map[string]bool{
	"mysql": true, "sys": true, "information_schema": true, "performance_schema": true,
}

// Filter chooses the databases, tables and columns to capture. Each rule is
// a list of regular expressions that must match the whole name: a database
// name, "db.table", or "db.table.column". An empty include list includes
// everything; exclusions win over inclusions.
type Filter struct {
	IncludeDatabases []*regexp.Regexp
	ExcludeDatabases []*regexp.Regexp
	IncludeTables    []*regexp.Regexp
	ExcludeTables    []*regexp.Regexp
	ExcludeColumns   []*regexp.Regexp
	HashColumns      []*regexp.Regexp
}

// CompilePatterns compiles a list of regular expressions, each anchored to
// match a whole name. variable names the setting in error messages.
func CompilePatterns(variable string, patterns []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s: invalid regular expression %q: %v", variable, p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func matchAny(patterns []*regexp.Regexp, name string) bool {
	for _, re := range patterns {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// CapturesDatabase reports whether any table of db may be captured.
func (f *Filter) CapturesDatabase(db string) bool {
	if db == "" || systemDatabases[strings.ToLower(db)] {
		return false
	}
	if len(f.IncludeDatabases) > 0 && !matchAny(f.IncludeDatabases, db) {
		return false
	}
	return !matchAny(f.ExcludeDatabases, db)
}

// CapturesTable reports whether changes of db.table are captured.
func (f *Filter) CapturesTable(db, table string) bool {
	if !f.CapturesDatabase(db) {
		return false
	}
	name := db + "." + table
	if len(f.IncludeTables) > 0 && !matchAny(f.IncludeTables, name) {
		return false
	}
	return !matchAny(f.ExcludeTables, name)
}

// ColumnTreatment is the filter's rule for one column's values.
type ColumnTreatment int

const (
	ColumnKept ColumnTreatment = iota
	// ColumnExcluded columns are left out of before and after. Keys keep
	// them.
	ColumnExcluded
	// ColumnHashed columns carry a salted SHA-256 of the value instead.
	ColumnHashed
)

// Column returns the treatment of db.table.column.
func (f *Filter) Column(db, table, column string) ColumnTreatment {
	name := db + "." + table + "." + column
	switch {
	case matchAny(f.ExcludeColumns, name):
		return ColumnExcluded
	case matchAny(f.HashColumns, name):
		return ColumnHashed
	}
	return ColumnKept
}
