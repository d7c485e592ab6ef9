package offsets

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPositionCompare(t *testing.T) {
	at := func(file string, pos uint32) Position { return Position{File: file, Pos: pos} }

	cases := []struct {
		name string
		p, q Position
		want int
	}{
		{"same file lower pos", at("mysql-bin.000001", 4), at("mysql-bin.000001", 120), -1},
		{"same file higher pos", at("mysql-bin.000001", 120), at("mysql-bin.000001", 4), 1},
		{"equal", at("mysql-bin.000007", 1234), at("mysql-bin.000007", 1234), 0},
		{"earlier file higher pos", at("mysql-bin.000001", 999999), at("mysql-bin.000002", 4), -1},
		{"later file lower pos", at("mysql-bin.000002", 4), at("mysql-bin.000001", 999999), 1},
		{"suffix grows a digit", at("mysql-bin.999999", 4), at("mysql-bin.1000000", 4), -1},
		{"suffix grows a digit reversed", at("mysql-bin.1000000", 4), at("mysql-bin.999999", 4), 1},
		{"max pos", at("mysql-bin.000001", 4294967295), at("mysql-bin.000002", 4), -1},
		{"mariadb names", at("mariadb-bin.000010", 4), at("mariadb-bin.000009", 4), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Compare(tc.q); got != tc.want {
				t.Errorf("%v.Compare(%v) = %d; want %d", tc.p, tc.q, got, tc.want)
			}
		})
	}
}

func TestPositionString(t *testing.T) {
	cases := []struct {
		name string
		p    Position
		want string
	}{
		{"zero", Position{}, "(none)"},
		{"file and pos", Position{File: "mysql-bin.000003", Pos: 157}, "mysql-bin.000003:157"},
		{
			"with gtid",
			Position{File: "mysql-bin.000003", Pos: 157, GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-20"},
			"mysql-bin.000003:157 gtid=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-20",
		},
		{"max pos", Position{File: "b.000001", Pos: 4294967295}, "b.000001:4294967295"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("String() = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestPositionIsZero(t *testing.T) {
	cases := []struct {
		name string
		p    Position
		want bool
	}{
		{"zero value", Position{}, true},
		{"server only", Position{ServerID: 1, Flavor: "mysql"}, true},
		{"file", Position{File: "mysql-bin.000001", Pos: 4}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.IsZero(); got != tc.want {
				t.Errorf("%+v.IsZero() = %t; want %t", tc.p, got, tc.want)
			}
		})
	}
}

// samePosition reports whether two positions are equal, comparing
// CapturedAt as an instant because a parsed time has its own *time.Location.
func samePosition(p, q Position) bool {
	return p.ServerID == q.ServerID && p.Flavor == q.Flavor && p.File == q.File &&
		p.Pos == q.Pos && p.GTIDSet == q.GTIDSet && p.CapturedAt.Equal(q.CapturedAt)
}

func TestPositionRoundTrip(t *testing.T) {
	captured := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	cases := []struct {
		name string
		p    Position
	}{
		{"no gtid", Position{ServerID: 1, Flavor: "mysql", File: "mysql-bin.000001", Pos: 4, CapturedAt: captured}},
		{"mariadb gtid", Position{ServerID: 2, Flavor: "mariadb", File: "mariadb-bin.000042", Pos: 1024, GTIDSet: "0-1-5,1-2-7", CapturedAt: captured}},
		{
			"mysql gtid",
			Position{
				ServerID: 4294967295, Flavor: "mysql", File: "mysql-bin.1000000", Pos: 4294967295,
				GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-20", CapturedAt: captured,
			},
		},
		{
			"mysql gtid two servers",
			Position{
				ServerID: 3, Flavor: "mysql", File: "binlog.000002", Pos: 197,
				GTIDSet:    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-20,\n4e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7",
				CapturedAt: time.Date(2024, 5, 6, 9, 8, 9, 0, time.FixedZone("CEST", 2*60*60)),
			},
		},
		{"zero time", Position{File: "mysql-bin.000001", Pos: 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.p.Marshal()
			if err != nil {
				t.Fatalf("Marshal error: %v", err)
			}
			got, err := ParsePosition(data)
			if err != nil {
				t.Fatalf("ParsePosition(%s) error: %v", data, err)
			}
			if !samePosition(got, tc.p) {
				t.Errorf("ParsePosition(Marshal(p)) = %+v; want %+v", got, tc.p)
			}
		})
	}
}

func TestPositionMarshalFields(t *testing.T) {
	p := Position{ServerID: 7, Flavor: "mariadb", File: "mariadb-bin.000001", Pos: 330, CapturedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	data, err := p.Marshal()
	if err != nil {
		t.Fatalf("Marshal error: %v", err)
	}
	want := `{"server_id":7,"flavor":"mariadb","file":"mariadb-bin.000001","pos":330,"captured_at":"2024-01-02T03:04:05Z"}`
	if string(data) != want {
		t.Errorf("Marshal = %s; want %s", data, want)
	}
}

func TestParsePositionErrors(t *testing.T) {
	cases := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"garbage", "not json"},
		{"array", `[1,2]`},
		{"null", `null`},
		{"empty object", `{}`},
		{"missing file", `{"pos":4}`},
		{"empty file", `{"file":"","pos":4}`},
		{"pos zero", `{"file":"mysql-bin.000001","pos":0}`},
		{"pos missing", `{"file":"mysql-bin.000001"}`},
		{"pos negative", `{"file":"mysql-bin.000001","pos":-1}`},
		{"pos too large", `{"file":"mysql-bin.000001","pos":4294967296}`},
		{"pos as string", `{"file":"mysql-bin.000001","pos":"4"}`},
		{"no numeric suffix", `{"file":"mysql-bin","pos":4}`},
		{"empty suffix", `{"file":"mysql-bin.","pos":4}`},
		{"letters in suffix", `{"file":"mysql-bin.00a1","pos":4}`},
		{"truncated", `{"file":"mysql-bin.000001","pos":4`},
		{"bad time", `{"file":"mysql-bin.000001","pos":4,"captured_at":"yesterday"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePosition([]byte(tc.data))
			if err == nil {
				t.Fatalf("ParsePosition(%q) = %+v with no error; want an error", tc.data, p)
			}
			if !errors.Is(err, ErrInvalidPosition) {
				t.Errorf("ParsePosition(%q) error %v does not wrap ErrInvalidPosition", tc.data, err)
			}
			if !p.IsZero() {
				t.Errorf("ParsePosition(%q) = %+v on error; want the zero Position", tc.data, p)
			}
		})
	}
}

func FuzzParsePosition(f *testing.F) {
	seeds := []string{
		`{"server_id":1,"flavor":"mysql","file":"mysql-bin.000001","pos":4,"captured_at":"2024-01-02T03:04:05Z"}`,
		`{"file":"mariadb-bin.000042","pos":1024,"gtid_set":"0-1-5,1-2-7"}`,
		`{"file":"b.1","pos":1,"captured_at":"2024-01-02T03:04:05.123+02:00"}`,
		`{"FILE":"b.1","Pos":1}`,
		`{"file":"b.1","pos":1,"file":"c.2"}`,
		`{"file":"b\u00e9.1","pos":1}`,
		`{"file":"b.1","pos":0}`,
		`{}`,
		`nul`,
	}
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePosition(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidPosition) {
				t.Fatalf("ParsePosition(%q) error %v does not wrap ErrInvalidPosition", data, err)
			}
			return
		}
		if p.IsZero() || p.Pos == 0 {
			t.Fatalf("ParsePosition(%q) = %+v; want a file and a nonzero pos", data, p)
		}

		again, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal(%+v) from %q: %v", p, data, err)
		}
		back, err := ParsePosition(again)
		if err != nil {
			t.Fatalf("ParsePosition(%s), re-marshaled from %q: %v", again, data, err)
		}
		if !samePosition(back, p) {
			t.Fatalf("round trip of %q: got %+v; want %+v", data, back, p)
		}
		if back.Compare(p) != 0 {
			t.Errorf("round trip of %q: Compare = %d; want 0", data, back.Compare(p))
		}
	})
}

func TestParsePositionErrorNamesCause(t *testing.T) {
	_, err := ParsePosition([]byte(`{"file":"mysql-bin","pos":4}`))
	if err == nil {
		t.Fatal("ParsePosition with file mysql-bin returned no error")
	}
	if !strings.Contains(err.Error(), `"mysql-bin"`) {
		t.Errorf("error %q does not name the file %q", err, "mysql-bin")
	}
}

func TestPositionRecord(t *testing.T) {
	p := Position{ServerID: 9, Flavor: "mysql", File: "mysql-bin.000012", Pos: 8812, GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-99"}
	record, err := PositionRecord("__sluice_positions", "orders", p)
	if err != nil {
		t.Fatalf("PositionRecord error: %v", err)
	}
	if record.Topic != "__sluice_positions" {
		t.Errorf("Topic = %q; want %q", record.Topic, "__sluice_positions")
	}
	if record.Partition != 0 {
		t.Errorf("Partition = %d; want 0", record.Partition)
	}
	if string(record.Key) != "orders" {
		t.Errorf("Key = %q; want %q", record.Key, "orders")
	}
	got, err := ParsePosition(record.Value)
	if err != nil {
		t.Fatalf("ParsePosition(record value %s) error: %v", record.Value, err)
	}
	if !samePosition(got, p) {
		t.Errorf("record value parses to %+v; want %+v", got, p)
	}
}

func TestCompareGTIDSets(t *testing.T) {
	const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	mysqlAt := func(set string) Position { return Position{Flavor: "mysql", File: "b.000001", Pos: 4, GTIDSet: set} }
	mariaAt := func(set string) Position { return Position{Flavor: "mariadb", File: "b.000001", Pos: 4, GTIDSet: set} }
	tests := []struct {
		name       string
		p, q       Position
		order      int
		comparable bool
	}{
		{"mysql equal", mysqlAt(uuid + ":1-20"), mysqlAt(uuid + ":1-20"), 0, true},
		{"mysql subset", mysqlAt(uuid + ":1-20"), mysqlAt(uuid + ":1-25"), -1, true},
		{"mysql gap filled later", mysqlAt(uuid + ":1-20:25"), mysqlAt(uuid + ":1-25"), -1, true},
		{"mysql superset", mysqlAt(uuid + ":1-25"), mysqlAt(uuid + ":1-20:25"), 1, true},
		{"mysql neither", mysqlAt(uuid + ":1-20:25"), mysqlAt(uuid + ":1-22"), 0, false},
		{"mariadb two domains", mariaAt("0-1-100,1-1-5"), mariaAt("0-1-90,1-1-5"), 1, true},
		{"no set", mysqlAt(""), mysqlAt(uuid + ":1"), 0, false},
	}
	for _, tt := range tests {
		order, comparable, err := tt.p.CompareGTIDSets(tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if order != tt.order || comparable != tt.comparable {
			t.Errorf("%s: CompareGTIDSets = %d, %v; want %d, %v", tt.name, order, comparable, tt.order, tt.comparable)
		}
	}
	if _, _, err := mysqlAt(uuid + ":1").CompareGTIDSets(mariaAt("0-1-1")); err == nil {
		t.Error("comparing a MySQL and a MariaDB GTID set succeeded, want an error")
	}
}

func TestPositionValidate(t *testing.T) {
	valid := []Position{
		{File: "mysql-bin.000001", Pos: 4},
		{Flavor: "mysql", File: "mysql-bin.000001", Pos: 4, GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"},
		{Flavor: "mariadb", File: "mariadb-bin.000001", Pos: 4, GTIDSet: "0-1-5"},
	}
	for _, p := range valid {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%s): %v", p, err)
		}
	}
	invalid := []Position{
		{File: "mysql-bin", Pos: 4},
		{File: "mysql-bin.000001"},
		{Flavor: "mysql", File: "mysql-bin.000001", Pos: 4, GTIDSet: "not a set"},
		{Flavor: "mariadb", File: "mariadb-bin.000001", Pos: 4, GTIDSet: "0-1"},
		{Flavor: "oracle", File: "mysql-bin.000001", Pos: 4, GTIDSet: "0-1-5"},
	}
	for _, p := range invalid {
		if err := p.Validate(); !errors.Is(err, ErrInvalidPosition) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidPosition", p, err)
		}
	}
}
