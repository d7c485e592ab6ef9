// Command sluice streams row changes from a MySQL or MariaDB binlog into
// Kafka topics inside Kafka transactions. It is configured by SLUICE_*
// environment variables.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
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
	if len(args) > 0 && args[0] == "offsets" {
		return offsetsCommand(args[1:], os.Stdout, os.Stderr)
	}
	for _, arg := range args {
		switch arg {
		case "-h", "-help", "--help", "help":
			printHelp()
			return exitOK
		case "-version", "--version", "version":
			fmt.Println("sluice", version)
			return exitOK
		default:
			fmt.Fprintf(os.Stderr, "sluice: unknown argument %q; sluice is configured by SLUICE_* environment variables, see sluice --help\n", arg)
			return exitConfig
		}
	}

	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice: %v\n", err)
		return exitConfig
	}
	log := newLogger(cfg)

	filter, err := cfg.filter()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice: %v\n", err)
		return exitConfig
	}
	options, err := codec.ParseOptions(cfg.DecimalMode, cfg.TimeMode, cfg.BinaryMode)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice: %v\n", err)
		return exitConfig
	}
	options.HashSalt = cfg.HashSalt

	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
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
	}
	if cfg.OffsetsType != "kafka" {
		if w.tracker, err = offsets.Open(stop, cfg.OffsetsType); err != nil {
			fmt.Fprintf(os.Stderr, "sluice: %v\n", err)
			return exitConfig
		}
		defer func() {
			if err := w.tracker.Close(); err != nil {
				log.Error().Err(err).Str("offsets_type", cfg.OffsetsType).Msg("closing the tracker failed")
			}
		}()
	}
	log.Info().Str("version", version).Str("mysql", w.sourceCfg.Host).Strs("kafka", cfg.KafkaBrokers).
		Str("stream", cfg.StreamID).Str("offsets_type", cfg.OffsetsType).Msg("sluice starting")
	if err := w.run(stop); err != nil {
		log.Error().Err(err).Msg("sluice stopped on an error")
		return exitFailed
	}
	return exitOK
}

func newLogger(cfg *Config) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel) // validated by loadConfig
	zerolog.TimeFieldFormat = time.RFC3339Nano
	console := cfg.LogFormat == "console" || (cfg.LogFormat == "auto" && isatty.IsTerminal(os.Stderr.Fd()))
	if console {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"}).Level(level).With().Timestamp().Logger()
	}
	return zerolog.New(os.Stderr).Level(level).With().Timestamp().Logger()
}

func printHelp() {
	fmt.Print(`sluice streams MySQL and MariaDB row changes into Kafka, exactly once.

Usage: sluice [--help | --version]
       sluice offsets list | show | set | delete   (sluice offsets --help)

Configuration comes from these environment variables:

`)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	_ = envconfig.Usagef("", &Config{}, tw, `{{range .}}{{usage_key .}}	{{if usage_required .}}(required){{else}}{{usage_default .}}{{end}}	{{usage_description .}}
{{end}}`)
	tw.Flush()
	fmt.Print(`
Position trackers (SLUICE_OFFSETS_TYPE) and their variables:
`)
	for _, name := range offsets.Types() {
		fmt.Printf("\n%s\n", name)
		_ = offsets.Usage(os.Stdout, name)
	}
	fmt.Print(`
Exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 on a runtime error,
2 on invalid configuration.
`)
}
