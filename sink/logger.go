package sink

import (
	"fmt"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaLogger passes franz-go's warnings and errors, such as a broker that
// cannot be reached while the client retries, to zerolog. franz-go's info
// and debug lines describe each request and stay out of sluice's log.
type kafkaLogger struct {
	log zerolog.Logger
}

func (l kafkaLogger) Level() kgo.LogLevel {
	return kgo.LogLevelWarn
}

func (l kafkaLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	event := l.log.Warn()
	if level == kgo.LogLevelError {
		event = l.log.Error()
	}
	for i := 0; i+1 < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		if err, ok := keyvals[i+1].(error); ok {
			event = event.Str(key, err.Error())
		} else {
			event = event.Interface(key, keyvals[i+1])
		}
	}
	event.Msg(msg)
}
