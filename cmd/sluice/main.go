// Command sluice streams row changes from a MySQL or MariaDB binlog into
// Kafka topics inside Kafka transactions. It is configured by SLUICE_*
// environment variables.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/source"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	return runContext(context.Background(), args, os.Stdout, os.Stderr)
}

// runContext runs sluice with args and returns the exit status. The worker
// stops cleanly when ctx is done or on SIGTERM or SIGINT.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "offsets" {
		return offsetsCommand(args[1:], stdout, stderr)
	}
	for _, arg := range args {
		switch arg {
		case "-h", "-help", "--help", "help":
			writeHelp(stdout)
			return exitOK
		case "-version", "--version", "version":
			fmt.Fprintln(stdout, "sluice", version)
			return exitOK
		default:
			fmt.Fprintf(stderr, "sluice: unknown argument %q; sluice is configured by SLUICE_* environment variables, see sluice --help\n", arg)
			return exitConfig
		}
	}

	unknown := unknownVariables(os.Environ())
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		// A misspelled name is a likely cause of the error.
		for _, u := range unknown {
			fmt.Fprintf(stderr, "sluice: warning: %s\n", u)
		}
		return exitConfig
	}
	log := newLogger(cfg, stderr)
	// go-mysql writes some warnings, such as a GTID out of order, to
	// slog's default logger rather than to the one a syncer is given.
	slog.SetDefault(slog.New(zerolog.NewSlogHandler(log.With().Str("component", "go-mysql").Logger())))
	for _, u := range unknown {
		event := log.Warn().Str("variable", u.name)
		if u.suggestion != "" {
			event = event.Str("did_you_mean", u.suggestion)
		}
		event.Msg(u.String())
	}

	filter, err := cfg.filter()
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return exitConfig
	}
	options, err := codec.ParseOptions(cfg.DecimalMode, cfg.TimeMode, cfg.BinaryMode)
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return exitConfig
	}
	options.HashSalt = cfg.HashSalt

	stop, cancel := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer cancel()

	w := &worker{
		cfg:     cfg,
		log:     log.With().Str("component", "worker").Str("stream", cfg.StreamID).Logger(),
		rootLog: log,
		sourceCfg: source.Config{
			Host:           cfg.MySQLHost,
			Port:           cfg.MySQLPort,
			User:           cfg.MySQLUser,
			Password:       cfg.MySQLPassword,
			ReplicaID:      cfg.ServerID,
			Filter:         filter,
			ConnectTimeout: cfg.StartupTimeout,
			HistoryPath:    filepath.Join(cfg.OffsetsDir, cfg.StreamID, "schema-history.jsonl"),
		},
		options:    options,
		operations: cfg.operations(),
		metrics:    newMetrics(cfg.StreamID),
	}
	if cfg.MetricsAddr != "" {
		server, err := serveMetrics(cfg.MetricsAddr, w.metrics, log)
		if err != nil {
			fmt.Fprintf(stderr, "sluice: %v\n", err)
			return exitConfig
		}
		defer server.stop()
		log.Info().Str("addr", server.addr.String()).Msg("serving metrics at /metrics and readiness at /healthz")
	}
	log.Info().Str("version", version).Str("mysql", net.JoinHostPort(cfg.MySQLHost, strconv.Itoa(int(cfg.MySQLPort)))).
		Strs("kafka", cfg.KafkaBrokers).
		Str("stream", cfg.StreamID).Str("offsets_type", cfg.OffsetsType).Msg("sluice starting")
	if cfg.OffsetsType != "kafka" {
		if err := w.openTracker(stop); err != nil {
			fmt.Fprintf(stderr, "sluice: %v\n", err)
			switch {
			case stop.Err() != nil:
				return exitOK
			case unreachable(err):
				return exitFailed
			}
			return exitConfig
		}
		defer func() {
			if err := w.tracker.Close(); err != nil {
				log.Error().Err(err).Str("offsets_type", cfg.OffsetsType).Msg("closing the tracker failed")
			}
		}()
	}
	if err := w.run(stop); err != nil {
		log.Error().Err(err).Msg("sluice stopped on an error")
		return exitFailed
	}
	return exitOK
}

func newLogger(cfg *Config, out io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel) // validated by loadConfig
	zerolog.TimeFieldFormat = time.RFC3339Nano
	console := cfg.LogFormat == "console" || (cfg.LogFormat == "auto" && isTerminal(out))
	if console {
		return zerolog.New(zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05.000"}).Level(level).With().Timestamp().Logger()
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

func printHelp() {
	writeHelp(os.Stdout)
}

func writeHelp(w io.Writer) {
	fmt.Fprint(w, `sluice streams MySQL and MariaDB row changes into Kafka, exactly once.

Usage: sluice [--help | --version]
       sluice offsets list | show | set | delete   (sluice offsets --help)

Configuration comes from these environment variables:

`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	_ = envconfig.Usagef("", &Config{}, tw, `{{range .}}{{usage_key .}}	{{if usage_required .}}(required){{else}}{{usage_default .}}{{end}}	{{usage_description .}}
{{end}}`)
	tw.Flush()
	fmt.Fprint(w, `
Position trackers (SLUICE_OFFSETS_TYPE) and their variables:
`)
	for _, name := range offsets.Types() {
		fmt.Fprintf(w, "\n%s\n", name)
		_ = offsets.Usage(w, name)
	}
	fmt.Fprint(w, `
Exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 on a runtime error,
2 on invalid configuration.
`)
}
