package source

import (
	"io"
	"log/slog"
)

// slogDiscard returns a logger that drops go-mysql's own log lines; sluice
// reports what matters through its errors and zerolog.
func slogDiscard() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
