package source

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// jsonDiff is one change of a MySQL partial JSON update
// (binlog_row_value_options=PARTIAL_JSON): the binlog logs these instead of
// the whole new document when an UPDATE changes only parts of it.
type jsonDiff struct {
	op    jsonDiffOp
	path  string
	value *jsonValue // nil for jsonRemove
}

// jsonDiffOp values are the operation bytes of MySQL's json_diff.h.
type jsonDiffOp byte

const (
	jsonReplace jsonDiffOp = 0
	jsonInsert  jsonDiffOp = 1
	jsonRemove  jsonDiffOp = 2
)

func (op jsonDiffOp) String() string {
	switch op {
	case jsonReplace:
		return "replace"
	case jsonInsert:
		return "insert"
	case jsonRemove:
		return "remove"
	}
	return "operation " + strconv.Itoa(int(op))
}

// decodeJSONDiffs decodes the diff vector of one column: a sequence of
// diffs, each an operation byte, a length-encoded path and, unless the
// operation removes, a length-encoded JSONB value.
func decodeJSONDiffs(data []byte) ([]jsonDiff, error) {
	var diffs []jsonDiff
	for len(data) > 0 {
		d := jsonDiff{op: jsonDiffOp(data[0])}
		if d.op > jsonRemove {
			return nil, fmt.Errorf("invalid JSON diff operation %d", data[0])
		}
		path, rest, err := lengthEncoded(data[1:])
		if err != nil {
			return nil, fmt.Errorf("JSON diff path: %w", err)
		}
		d.path, data = string(path), rest
		if d.op != jsonRemove {
			var value []byte
			if value, data, err = lengthEncoded(data); err != nil {
				return nil, fmt.Errorf("JSON diff value at %s: %w", d.path, err)
			}
			if d.value, err = decodeJSONB(value); err != nil {
				return nil, fmt.Errorf("JSON diff value at %s: %w", d.path, err)
			}
		}
		diffs = append(diffs, d)
	}
	return diffs, nil
}

// lengthEncoded splits off a MySQL length-encoded string from data.
func lengthEncoded(data []byte) (value, rest []byte, err error) {
	if len(data) == 0 {
		return nil, nil, errJSONBTruncated
	}
	var length, size uint64
	switch first := data[0]; {
	case first < 0xfb:
		length, size = uint64(first), 1
	case first == 0xfc && len(data) >= 3:
		length, size = uint64(data[1])|uint64(data[2])<<8, 3
	case first == 0xfd && len(data) >= 4:
		length, size = uint64(data[1])|uint64(data[2])<<8|uint64(data[3])<<16, 4
	case first == 0xfe && len(data) >= 9:
		for i := 8; i >= 1; i-- {
			length = length<<8 | uint64(data[i])
		}
		size = 9
	default:
		return nil, nil, errJSONBTruncated
	}
	if uint64(len(data))-size < length {
		return nil, nil, errJSONBTruncated
	}
	return data[size : size+length], data[size+length:], nil
}

// pathLeg is one step of a JSON path: an object member or an array cell.
type pathLeg struct {
	key   string
	index int
	array bool
}

// parseJSONPath parses a path as MySQL writes it in a diff: $ followed by
// .key, ."quoted key" and [n] legs.
func parseJSONPath(path string) ([]pathLeg, error) {
	if !strings.HasPrefix(path, "$") {
		return nil, fmt.Errorf("JSON path %q does not start with $", path)
	}
	var legs []pathLeg
	rest := path[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			if strings.HasPrefix(rest, `"`) {
				end := closingQuote(rest)
				if end < 0 {
					return nil, fmt.Errorf("JSON path %q has an unterminated key", path)
				}
				var key string
				if err := json.Unmarshal([]byte(rest[:end+1]), &key); err != nil {
					return nil, fmt.Errorf("JSON path %q: invalid key: %w", path, err)
				}
				legs = append(legs, pathLeg{key: key})
				rest = rest[end+1:]
				continue
			}
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return nil, fmt.Errorf("JSON path %q has an empty key", path)
			}
			legs = append(legs, pathLeg{key: rest[:end]})
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("JSON path %q has an unterminated array index", path)
			}
			index, err := strconv.Atoi(strings.TrimSpace(rest[1:end]))
			if err != nil || index < 0 {
				return nil, fmt.Errorf("JSON path %q: array index %q is not a number", path, rest[1:end])
			}
			legs = append(legs, pathLeg{index: index, array: true})
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("JSON path %q: unexpected %q", path, rest[0])
		}
	}
	return legs, nil
}

// closingQuote returns the index of the quote that ends the JSON string at
// the start of s, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// applyJSONDiffs applies diffs in order to doc, which it changes, and
// returns the new document.
func applyJSONDiffs(doc *jsonValue, diffs []jsonDiff) (*jsonValue, error) {
	for _, d := range diffs {
		legs, err := parseJSONPath(d.path)
		if err != nil {
			return nil, err
		}
		if len(legs) == 0 {
			if d.op != jsonReplace {
				return nil, fmt.Errorf("JSON diff: cannot %s the whole document", d.op)
			}
			doc = d.value
			continue
		}
		parent, err := doc.find(legs[:len(legs)-1])
		if err != nil {
			return nil, fmt.Errorf("JSON diff %s at %s: %w", d.op, d.path, err)
		}
		if err := parent.change(d.op, legs[len(legs)-1], d.value); err != nil {
			return nil, fmt.Errorf("JSON diff %s at %s: %w", d.op, d.path, err)
		}
	}
	return doc, nil
}

// find returns the value that legs lead to from v.
func (v *jsonValue) find(legs []pathLeg) (*jsonValue, error) {
	for _, leg := range legs {
		next, _ := v.child(leg)
		if next == nil {
			return nil, fmt.Errorf("the document has no value at this path")
		}
		v = next
	}
	return v, nil
}

// child returns the member or element of v that leg names and its
// position, or nil.
func (v *jsonValue) child(leg pathLeg) (*jsonValue, int) {
	switch {
	case leg.array && v.kind == jsonArray && leg.index < len(v.items):
		return v.items[leg.index], leg.index
	case !leg.array && v.kind == jsonObject:
		for i, m := range v.members {
			if m.key == leg.key {
				return m.value, i
			}
		}
	}
	return nil, -1
}

// change applies one diff operation to the member or element of v that
// leg names.
func (v *jsonValue) change(op jsonDiffOp, leg pathLeg, value *jsonValue) error {
	existing, at := v.child(leg)
	switch op {
	case jsonReplace:
		if existing == nil {
			return fmt.Errorf("the document has no value to replace")
		}
		if leg.array {
			v.items[at] = value
		} else {
			v.members[at].value = value
		}
	case jsonRemove:
		if existing == nil {
			return fmt.Errorf("the document has no value to remove")
		}
		if leg.array {
			v.items = slices.Delete(v.items, at, at+1)
		} else {
			v.members = slices.Delete(v.members, at, at+1)
		}
	case jsonInsert:
		switch {
		case leg.array && v.kind == jsonArray:
			// As JSON_ARRAY_INSERT: an index past the end appends.
			v.items = slices.Insert(v.items, min(leg.index, len(v.items)), value)
		case !leg.array && v.kind == jsonObject && existing == nil:
			v.members = append(v.members, jsonMember{key: leg.key, value: value})
			v.sortMembers()
		default:
			return fmt.Errorf("the path does not name a new member or an array cell")
		}
	}
	return nil
}
