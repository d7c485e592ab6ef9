package schema

import (
	"reflect"
	"testing"
)

func TestParseMembers(t *testing.T) {
	cases := []struct {
		columnType string
		want       []string
	}{
		{"enum('small','medium','large')", []string{"small", "medium", "large"}},
		{"set('a','b')", []string{"a", "b"}},
		{"enum('it''s','a,b','')", []string{"it's", "a,b", ""}},
		{"enum('back\\\\slash')", []string{"back\\slash"}},
	}
	for _, tc := range cases {
		got, err := ParseMembers(tc.columnType)
		if err != nil {
			t.Errorf("ParseMembers(%q) error: %v", tc.columnType, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseMembers(%q) = %q, want %q", tc.columnType, got, tc.want)
		}
	}
	for _, bad := range []string{"enum", "enum('a'", "enum(a)", "enum('a' 'b')"} {
		if got, err := ParseMembers(bad); err == nil {
			t.Errorf("ParseMembers(%q) = %q with no error, want an error", bad, got)
		}
	}
}
