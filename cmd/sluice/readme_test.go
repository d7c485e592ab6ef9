package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeConfigurationTable checks that the README's configuration table
// lists every variable of the worker and of each tracker backend with its
// real default, and no variable that does not exist.
func TestReadmeConfigurationTable(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `SLUICE_") {
			continue
		}
		cells := strings.Split(line, "|")
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		documented[name] = strings.Trim(strings.TrimSpace(cells[2]), "`")
	}

	for _, field := range variableFields() {
		name := field.Tag.Get("envconfig")
		readme, ok := documented[name]
		if !ok {
			t.Errorf("README does not document %s", name)
			continue
		}
		delete(documented, name)
		switch {
		case field.Tag.Get("required") == "true":
			if readme != "required" {
				t.Errorf("README default of %s is %q, want \"required\"", name, readme)
			}
		case name == "SLUICE_STREAM_ID":
			if readme != "topic prefix" {
				t.Errorf("README default of %s is %q, want \"topic prefix\"", name, readme)
			}
		case readme != field.Tag.Get("default"):
			t.Errorf("README default of %s is %q, want %q", name, readme, field.Tag.Get("default"))
		}
	}
	for name := range documented {
		t.Errorf("README documents %s, which sluice does not read", name)
	}
}
