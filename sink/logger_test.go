package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaLoggerFields(t *testing.T) {
	var out bytes.Buffer
	l := kafkaLogger{log: zerolog.New(&out)}
	if l.Level() != kgo.LogLevelWarn {
		t.Errorf("Level() = %v, want warn", l.Level())
	}
	l.Log(kgo.LogLevelError, "unable to open connection to broker", "addr", "127.0.0.1:1", "err", errors.New("connection refused"))

	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", out.String(), err)
	}
	want := map[string]any{
		"level":   "error",
		"message": "unable to open connection to broker",
		"addr":    "127.0.0.1:1",
		"err":     "connection refused",
	}
	for key, value := range want {
		if line[key] != value {
			t.Errorf("log field %s = %v, want %v", key, line[key], value)
		}
	}
}
