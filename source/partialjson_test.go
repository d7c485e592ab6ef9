package source

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
)

// TestReaderPartialJSONUpdates reads one insert and three partial JSON
// updates of a 2,000-character document, as MySQL 8 logs them with
// binlog_row_value_options=PARTIAL_JSON and binlog_row_image=FULL: the
// before image holds the whole old document and the after image only the
// change. Each record must hold the whole new document, and each before
// the previous after.
func TestReaderPartialJSONUpdates(t *testing.T) {
	table := &kitTable{
		id: 97, database: "shop", name: "jp",
		columns:    []kitColumn{notNull(intColumn("id")), jsonColumn("doc"), varcharColumn("tag", 10)},
		primaryKey: []int{0},
	}
	long := strings.Repeat("x", 2000)
	doc := func(a int16, b string, arr ...int16) jsonb {
		items := make([]jsonb, len(arr))
		for i, v := range arr {
			items[i] = jsonbInt16Value(v)
		}
		return jsonbObject(
			jsonbMember{"a", jsonbInt16Value(a)},
			jsonbMember{"b", jsonbStringValue(b)},
			jsonbMember{"arr", jsonbArray(items...)},
		)
	}
	inserted, first, second := doc(1, long, 1, 2, 3), doc(2, long, 1, 2, 3), doc(2, long, 1, 3)

	file := newBinlogFile("binlog.000070")
	from := offsets.Position{File: file.name, Pos: file.end, GTIDSet: gtidSet("1-9")}
	file.appendTransaction(kitUUID, 10, beginEvent(), tableMapEvent(table),
		writeRowsEvent(table, []any{1, inserted, "t0"}), xidEvent(10))
	// UPDATE jp SET doc = JSON_SET(doc, '$.a', 2)
	file.appendTransaction(kitUUID, 11, beginEvent(), tableMapEvent(table),
		partialUpdateRowsEvent(table, partialRow{
			before: []any{1, inserted, "t0"}, after: []any{1, nil, "t0"},
			diffs: map[int][]partialDiff{1: {{op: diffReplace, path: "$.a", value: jsonbInt16Value(2)}}},
		}), xidEvent(11))
	// UPDATE jp SET doc = JSON_REMOVE(doc, '$.arr[1]'), tag = 't1'
	file.appendTransaction(kitUUID, 12, beginEvent(), tableMapEvent(table),
		partialUpdateRowsEvent(table, partialRow{
			before: []any{1, first, "t0"}, after: []any{1, nil, "t1"},
			diffs: map[int][]partialDiff{1: {{op: diffRemove, path: "$.arr[1]"}}},
		}), xidEvent(12))
	// UPDATE jp SET doc = JSON_REPLACE(doc, '$.b', 'y')
	file.appendTransaction(kitUUID, 13, beginEvent(), tableMapEvent(table),
		partialUpdateRowsEvent(table, partialRow{
			before: []any{1, second, "t1"}, after: []any{1, nil, "t1"},
			diffs: map[int][]partialDiff{1: {{op: diffReplace, path: "$.b", value: jsonbStringValue("y")}}},
		}), xidEvent(13))

	reader := newTestReader(t, from, file)
	var changes []codec.Change
	for range 4 {
		read, _ := readTransaction(t, reader)
		changes = append(changes, read...)
	}
	if len(changes) != 4 {
		t.Fatalf("read %d changes, want 4", len(changes))
	}

	docs := []string{
		`{"a": 1, "b": "` + long + `", "arr": [1, 2, 3]}`,
		`{"a": 2, "b": "` + long + `", "arr": [1, 2, 3]}`,
		`{"a": 2, "b": "` + long + `", "arr": [1, 3]}`,
		`{"a": 2, "b": "y", "arr": [1, 3]}`,
	}
	tags := []string{"t0", "t0", "t1", "t1"}
	encoder := &codec.JSON{Connector: "mysql", Name: "sluice", Version: "test"}
	type image struct {
		ID  int     `json:"id"`
		Doc *string `json:"doc"`
		Tag string  `json:"tag"`
	}
	for i := range changes {
		value, err := encoder.Value(&changes[i], 0)
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		var record struct {
			Op     string `json:"op"`
			Before *image `json:"before"`
			After  *image `json:"after"`
		}
		if err := json.Unmarshal(value, &record); err != nil {
			t.Fatalf("change %d: decode %s: %v", i, value, err)
		}
		wantOp := "u"
		if i == 0 {
			wantOp = "c"
		}
		if record.Op != wantOp {
			t.Errorf("change %d: op %q, want %q", i, record.Op, wantOp)
		}
		if record.After == nil || record.After.Doc == nil {
			t.Fatalf("change %d: after.doc missing in %s", i, value)
		}
		if *record.After.Doc != docs[i] {
			t.Errorf("change %d: after.doc = %.80s…, want %.80s…", i, *record.After.Doc, docs[i])
		}
		if record.After.Tag != tags[i] {
			t.Errorf("change %d: after.tag = %q, want %q", i, record.After.Tag, tags[i])
		}
		if i == 0 {
			continue
		}
		if record.Before == nil || record.Before.Doc == nil || *record.Before.Doc != docs[i-1] {
			t.Errorf("change %d: before.doc is not the previous after.doc", i)
		}
	}
}
